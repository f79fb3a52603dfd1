"""The catalog as the article describes it: the "four threes" (四个三), the extended items,
the congress items and the team items (班务公开). Loaded by a data migration; the union
office edits it afterwards (each edit adds a rule, never rewriting the old one)."""

from __future__ import annotations

from datetime import date
from typing import Any

C, D, T = "company", "department", "team"
SINCE = date(2020, 1, 1)

# (category code, category name, order, [(entry code, name, unit kinds, frequency,
#   deadline days, scope)])
CATALOG: list[tuple[str, str, int, list[tuple[str, str, list[str], str, int, str]]]] = [
    (
        "sanzhao",
        "三招",
        1,
        [
            ("recruitment", "招聘", [C], "per_event", 5, "public"),
            ("tendering", "招标", [C, D], "per_event", 5, "public"),
            ("hiring", "招工", [C], "per_event", 5, "public"),
        ],
    ),
    (
        "sanfei",
        "三费",
        2,
        [
            ("entertainment", "业务招待费", [C, D], "quarterly", 15, "internal"),
            ("materials", "材料费", [D], "quarterly", 15, "internal"),
            ("vehicles", "车辆使用费", [C], "quarterly", 15, "internal"),
        ],
    ),
    (
        "sanping",
        "三评",
        3,
        [
            ("titles", "评定职称", [C], "yearly", 30, "internal"),
            ("cadre-evaluation", "评议干部", [C], "yearly", 30, "internal"),
            ("model-workers", "评选先进", [C, D], "yearly", 30, "internal"),
        ],
    ),
    (
        "sanfen",
        "三分",
        4,
        [
            ("pay", "薪酬分配", [D], "monthly", 10, "internal"),
            ("welfare", "福利分配", [C], "quarterly", 15, "internal"),
            ("housing", "住房分配", [C], "per_event", 10, "internal"),
        ],
    ),
    (
        "extended",
        "延伸公开",
        5,
        [
            ("director-performance", "职工董事监事履职情况", [C], "yearly", 30, "internal"),
            ("patrols", "职工代表巡视情况", [C], "half_yearly", 20, "internal"),
            ("collective-contract", "集体合同监督检查情况", [C], "yearly", 30, "internal"),
            ("labour-protection", "劳动保护监督检查情况", [C, D], "half_yearly", 20, "internal"),
        ],
    ),
    (
        "congress",
        "职代会事项",
        6,
        [
            ("annual-goals", "年度目标", [C], "yearly", 60, "internal"),
            ("financial-report", "财务报告", [C], "yearly", 60, "internal"),
            ("integrity", "党风廉政建设", [C], "yearly", 60, "internal"),
            ("entertainment-use", "业务招待费使用情况", [C], "yearly", 60, "internal"),
        ],
    ),
    (
        "team",
        "班务公开",
        7,
        [
            ("team-bonus", "班组奖金分配", [T], "monthly", 10, "internal"),
            ("attendance", "考勤与加班", [T], "monthly", 10, "internal"),
            ("team-materials", "材料领用", [T], "quarterly", 15, "internal"),
            ("safety-performance", "安全绩效", [T], "monthly", 10, "internal"),
            ("team-awards", "评先评优", [T], "yearly", 30, "internal"),
        ],
    ),
    (
        "democratic",
        "民主管理",
        8,
        [
            ("cadre-appointment", "干部任前公示", [C, D], "per_event", 5, "internal"),
            ("meeting-decisions", "会议纪要与决定", [C, D, T], "per_event", 10, "internal"),
            ("resolutions", "职代会表决结果", [C], "per_event", 5, "internal"),
            ("evaluation-results", "民主评议结果", [C, D], "per_event", 10, "internal"),
            ("inspection-circular", "监督检查通报", [C], "per_event", 10, "internal"),
            ("assessment-ranking", "考核评价排名", [C], "per_event", 10, "internal"),
            ("patrol-report", "职工代表巡视报告", [C, D, T], "per_event", 10, "internal"),
        ],
    ),
]


def load_catalog(category_model: Any, entry_model: Any, rule_model: Any) -> None:
    """Create what is missing; never touches what exists (safe to run twice)."""
    for cat_code, cat_name, cat_order, entries in CATALOG:
        category, _ = category_model.objects.get_or_create(
            code=cat_code, defaults={"name": cat_name, "order": cat_order}
        )
        for order, (code, name, kinds, frequency, days, scope) in enumerate(entries, start=1):
            entry, created = entry_model.objects.get_or_create(
                code=code, defaults={"name": name, "category": category, "order": order}
            )
            if created:
                rule_model.objects.create(
                    entry=entry,
                    effective_from=SINCE,
                    unit_kinds=kinds,
                    frequency=frequency,
                    deadline_days=days,
                    default_scope=scope,
                    requires_procedure=True,
                    requires_result=True,
                    reason="",
                )
