"""The synthetic data of the search benchmark (bench_search.py): a company, 1,000,000
published disclosures of Chinese text generated the same way on every run, and their bulk load
into SQLite (with the FTS5 rows) and PostgreSQL (COPY, with the tsvectors), tokenized once
with the app's own tokenizer. Runs inside a Django child process of bench_search."""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def names(text: str) -> list[str]:
    return text.split()


ROWS = int(os.environ.get("BENCH_SEARCH_ROWS", "1000000"))
BATCH = 20_000
SEED = 20261124
START = datetime(2017, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=5)  # one publication every five minutes: 1M take 9.5 years
DEPARTMENTS = [
    "锅炉分场", "汽机分场", "电气分场", "化学分场", "燃料分场", "热控分场",
    "检修分场", "安监部", "生产技术部", "财务部", "人力资源部", "综合办公室",
]  # fmt: skip
TEAMS = ["运行一班", "运行二班", "运行三班", "运行四班", "检修班"]
WORDS = names(
    "公开 职工 招标 投标 中标 采购 合同 审批 公示 工会 分配 住房 薪酬 福利 奖金 绩效 考核 "
    "安全 检修 运行 锅炉 汽机 电气 材料 费用 业务招待费 车辆使用费 材料费 招聘 招工 评定 职称 "
    "评议 干部 先进 民主 管理 监督 检查 整改 通报 满意度 测评 意见 建议 处理 情况 结果 程序 "
    "制度 规定 办法 实施 部门 班组 公司 分场 季度 年度 月份 金额 人民币 共计 其中 按照 根据 "
    "经过 研究 决定 同意 名单 如下 附件 详见 有关 要求 标准 执行 落实 完成 计划 目标 任务 设备 "
    "备件 维修 费 劳动保护 集体合同 巡视 提案 代表 大会 审议 通过 党风廉政 财务报告 年度目标"
)
COMMON = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也"
    "能下过说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实"
    "加都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样"
    "与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很"
    "情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流"
    "路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队"
    "南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改"
    "清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确"
)
SENTENCES = 50_000
RARE = "蓝田玉璧"  # in one disclosure of 40,000: 25 of 1M
RARE_EVERY = 40_000
PHRASE = "经职工代表大会审议通过"  # in one disclosure of 100


def log(message: str) -> None:
    print(f"  [{os.environ.get('DATABASE_URL', '')[:10]}] {message}", file=sys.stderr, flush=True)


@dataclass
class Org:
    units: list[Any]
    outsider_unit: Any
    employee: Any
    outsider: Any
    author: Any
    entries: dict[str, list[tuple[int, str]]]  # unit kind → [(entry id, entry name)]


def make_org() -> Org:
    from gongkai.accounts.models import User
    from gongkai.disclosure.models import CatalogEntry
    from gongkai.org.models import UnitKind
    from gongkai.org.services import unit_create

    company = unit_create(
        actor=None, code="bench", name="基准热电有限责任公司", kind=UnitKind.COMPANY
    )
    units = [company]
    for d, name in enumerate(DEPARTMENTS):
        department = unit_create(
            actor=None, code=f"bench-{d}", name=name, kind=UnitKind.DEPARTMENT, parent=company
        )
        units.append(department)
        for t, team in enumerate(TEAMS):
            units.append(
                unit_create(
                    actor=None,
                    code=f"bench-{d}-{t}",
                    name=f"{name}{team}",
                    kind=UnitKind.TEAM,
                    parent=department,
                )
            )
    other = unit_create(actor=None, code="small", name="小公司", kind=UnitKind.COMPANY)
    other_dept = unit_create(
        actor=None, code="small-fin", name="小公司财务部", kind=UnitKind.DEPARTMENT, parent=other
    )
    employee = User.objects.create_user("bench-employee", name="职工", unit=units[2])
    outsider = User.objects.create_user("bench-outsider", name="外单位职工", unit=other_dept)
    author = User.objects.create_user("bench-author", name="公开专员", unit=company)
    entries: dict[str, list[tuple[int, str]]] = {k: [] for k in UnitKind.values}
    for entry in CatalogEntry.objects.prefetch_related("rules"):
        rule = entry.rules.order_by("-effective_from").first()
        for kind in rule.unit_kinds if rule else []:
            entries[kind].append((entry.pk, entry.name))
    return Org(units, other_dept, employee, outsider, author, entries)


def existing_org() -> Org:
    """The org that ``setup`` created (measure runs in a process of its own)."""
    from gongkai.accounts.models import User
    from gongkai.org.models import OrgUnit

    def user(number: str) -> Any:
        return User.objects.select_related("unit").get(employee_no=number)

    units = list(OrgUnit.objects.filter(code__startswith="bench").order_by("pk"))
    return Org(
        units=units,
        outsider_unit=OrgUnit.objects.get(code="small-fin"),
        employee=user("bench-employee"),
        outsider=user("bench-outsider"),
        author=user("bench-author"),
        entries={},
    )


def sentence(rng: random.Random, weights: list[float]) -> str:
    parts = []
    for _ in range(rng.randint(4, 9)):
        if rng.random() < 0.55:
            parts.append(rng.choices(WORDS, cum_weights=weights)[0])
        else:
            parts.append("".join(rng.choices(COMMON, k=rng.randint(1, 3))))
    if rng.random() < 0.2:
        parts.append(f"共计{rng.randint(1, 999_999):,}元")
    return "".join(parts) + rng.choice("，。；")


def documents(org: Org) -> Iterator[dict[str, Any]]:
    """The synthetic disclosures, the same on every run and engine."""
    weights, total = [], 0.0
    for rank in range(len(WORDS)):
        total += 1 / (rank + 1) ** 0.8
        weights.append(total)
    rng = random.Random(SEED)
    # Bodies are drawn from a pool of sentences (3 to 8 of 50,000): generating each sentence
    # afresh took longer than indexing it.
    pool = [sentence(rng, weights) for _ in range(SENTENCES)]
    for i in range(ROWS):
        unit = org.outsider_unit if i % 1000 == 999 else rng.choice(org.units)
        entry_id, entry_name = rng.choice(org.entries[unit.kind])
        body = "".join(rng.choices(pool, k=rng.randint(3, 8)))
        if i % 100 == 7:
            body = body[:40] + PHRASE + "。" + body[40:]
        if i % RARE_EVERY == 123:
            body = RARE + "，" + body
        at = START + STEP * i
        yield {
            "id": i + 1,
            "unit": unit,
            "entry_id": entry_id,
            "entry_name": entry_name,
            "title": f"{unit.name}{at.year}年{entry_name}公开（第{i % 97 + 1}期）",
            "body": body,
            "public": rng.random() < 0.15,
            "at": at,
            "period": f"{at.year}",
        }


def bulk_load(org: Org, *, postgres_url: str) -> dict[str, Any]:
    """Generate and tokenize each disclosure once; write it to SQLite and, when given, to
    PostgreSQL (whose GIN index is dropped here and built by the ``measure`` step)."""
    from django.db import connection, transaction

    from gongkai.search.backends import GIN_INDEX

    pg = None
    if postgres_url:
        import psycopg

        pg = psycopg.connect(postgres_url)
        pg.execute(f"DROP INDEX {GIN_INDEX}")
        pg.commit()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")
    clock = {"generate": 0.0, "sqlite": 0.0, "postgresql": 0.0}
    chars = 0
    batch: list[tuple[Any, ...]] = []

    def flush() -> None:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            for index, table in enumerate(TABLES):
                sqlite_write(cursor, table, [row[index] for row in batch])
            cursor.executemany(
                "INSERT INTO search_fts(rowid, grams, chars, words, access) "
                "VALUES (%s, %s, %s, %s, %s)",
                [row[3] for row in batch],
            )
        clock["sqlite"] += time.perf_counter() - started
        if pg is not None:
            started = time.perf_counter()
            with pg.transaction(), pg.cursor() as cursor:
                for index, table in zip((0, 1, 4), TABLES, strict=True):
                    postgres_write(cursor, table, [row[index] for row in batch])
            clock["postgresql"] += time.perf_counter() - started
        batch.clear()

    started = time.perf_counter()
    for document in documents(org):
        chars += len(document["title"]) + len(document["body"])
        batch.append(table_rows(document, org, postgres=pg is not None))
        if len(batch) == BATCH:
            clock["generate"] += time.perf_counter() - started
            flush()
            if document["id"] % 200_000 == 0:
                log(f"{document['id']:,} rows; {clock}")
            started = time.perf_counter()
    clock["generate"] += time.perf_counter() - started
    if batch:
        flush()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
        cursor.execute("ANALYZE")
    indexed = time.perf_counter() - started
    if pg is not None:
        with pg.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {ROWS})")
        pg.commit()
        pg.close()
    log(f"loaded: {clock}, FTS5 optimised in {indexed:.0f} s")
    return {
        "avg_chars": round(chars / ROWS),
        "build": {
            "generate_seconds": clock["generate"],
            "load_seconds": clock["sqlite"],
            "index_seconds": indexed,
            "size": database_size(),
        },
        "pg": {"generate_seconds": clock["generate"], "load_seconds": clock["postgresql"]},
    }


def postgres_index() -> float:
    """Build the GIN index the load dropped, and the planner's statistics."""
    from django.db import connection

    from gongkai.search.backends import GIN_INDEX

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute(f"CREATE INDEX {GIN_INDEX} ON search_searchdocument USING gin (vector)")
        cursor.execute("VACUUM ANALYZE")
    seconds = time.perf_counter() - started
    log(f"GIN index and VACUUM ANALYZE in {seconds:.0f} s")
    return seconds


TABLES = ("disclosure_disclosure", "disclosure_revision", "search_searchdocument")


def table_rows(d: dict[str, Any], org: Org, *, postgres: bool) -> tuple[Any, ...]:
    """The rows of one published disclosure: the disclosure (its working copy's text left
    empty: search reads only the index), revision 1, the search document, its FTS5 row and
    (for PostgreSQL) the search document with its tsvector."""
    from gongkai.search.backends import fts_columns, tsvector_literal
    from gongkai.search.tokens import VERSION, index_tokens

    unit, at, pk = d["unit"], d["at"], d["id"]
    scope = "public" if d["public"] else "internal"
    disclosure = {
        "id": pk, "created_at": at, "updated_at": at, "unit_id": unit.pk,
        "entry_id": d["entry_id"], "period": d["period"], "event_date": None, "is_nil": False,
        "title": d["title"], "procedure": "", "result": "", "table": None, "scope": scope,
        "status": "published", "author_id": org.author.pk, "rejection_reason": "",
        "correction_reason": "", "submitted_at": at, "first_published_at": at,
        "published_revision_id": pk, "withdrawn_at": None, "withdrawal_reason": "",
        "review_round": 1, "approvals": 1,
    }  # fmt: skip
    revision = {
        "id": pk, "disclosure_id": pk, "number": 1, "title": d["title"], "procedure": "",
        "result": "", "table": None, "scope": scope, "reason": "", "published_at": at,
        "published_by_id": org.author.pk,
    }  # fmt: skip
    tokens = index_tokens(
        title=d["title"], body=d["body"], unit_name=unit.name, entry_name=d["entry_name"],
        public=d["public"], unit_id=unit.pk, unit_path=unit.path,
    )  # fmt: skip
    document = {
        "id": pk, "disclosure_id": pk, "revision_id": pk, "unit_id": unit.pk, "scope": scope,
        "unit_path": unit.path, "title": d["title"], "body": d["body"], "unit_name": unit.name,
        "entry_name": d["entry_name"], "published_at": at, "version": VERSION, "chunks": 1,
        "vector": None,
    }  # fmt: skip
    with_vector = None
    if postgres:
        vector, chunks = tsvector_literal(tokens)
        with_vector = document | {"vector": vector, "chunks": chunks}
    return disclosure, revision, document, (pk, *fts_columns(tokens)), with_vector


def sqlite_write(cursor: Any, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    cursor.executemany(
        f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608
        [[row[c] for c in columns] for row in rows],
    )


def postgres_write(cursor: Any, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def database_size() -> str:
    from django.conf import settings
    from django.db import connection

    from gongkai.search.backends import GIN_INDEX

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_database_size(current_database()), "
                "pg_total_relation_size('search_searchdocument'), "
                f"pg_relation_size('{GIN_INDEX}')"
            )
            total, table, gin = cursor.fetchone()
            return (
                f"database {total / 2**30:.1f} GiB, of which the search documents with their "
                f"tsvectors {table / 2**30:.1f} GiB and the GIN index {gin / 2**20:.0f} MiB"
            )
    path = Path(settings.DATABASES["default"]["NAME"])
    return f"database file {path.stat().st_size / 2**30:.1f} GiB, FTS5 index included"
