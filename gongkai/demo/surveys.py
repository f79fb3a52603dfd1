"""Demo data of this app, loaded by ``seed_demo`` after the org and disclosures.

* Last year's company-wide satisfaction survey on disclosure work: finished, answered by
  about three quarters of the employees, closed and sealed, so the results page has charts.
  Its answers are entered as a record of a past survey (the way paper questionnaires would
  be): the participations and the sealed ballot box are written directly, then sealed by the
  real ``survey_seal`` (shuffle into the final table, box emptied). Its results are
  published: every employee (the "employee" login too) reads its figures.
* This year's survey, open now: the "employee" login can answer it; about a third of the
  company has already answered through the real ``survey_answer`` service. It closes a few
  working days after the day the demo's reminders go, so those who have not answered are
  reminded two working days later (``reminders --dry-run --date`` shows it).

Deterministic content (a fixed random seed); only the sealed rows' order is random, by design.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.satisfaction import Satisfaction
from gongkai.demo.calendar import reminder_days
from gongkai.org.models import OrgUnit
from gongkai.surveys import services
from gongkai.surveys.deadlines import KIND as SURVEY
from gongkai.surveys.models import (
    BoxedAnswer,
    Participation,
    QuestionKind,
    Survey,
    SurveyStatus,
)

COMPANY_CODE = "rd"
# This year's survey closes this many working days after a deadline reminded on the day the
# demo's reminders go (ReminderDays.scan_on): its own reminder goes that much later.
CLOSES_LATER = 2
QUESTIONS = [
    (QuestionKind.RATING, "公开内容是否全面，应公开的事项是否都已公开"),
    (QuestionKind.RATING, "公开是否及时，是否在规定时限内公开"),
    (QuestionKind.RATING, "公开内容是否真实、准确，数据是否清楚"),
    (QuestionKind.RATING, "公开形式是否便于职工查看（公开栏、网站、手机）"),
    (QuestionKind.RATING, "职工提出的意见建议是否得到及时答复和落实"),
    (QuestionKind.TEXT, "您对厂务公开工作还有哪些意见和建议？"),
]
SUGGESTIONS = [
    "希望班组奖金分配明细公开得更细一些。",
    "公开栏的内容更新太慢，建议每月固定时间更新。",
    "手机上查看很方便，希望增加消息提醒。",
    "业务招待费公开后能不能附上审批人。",
    "建议把职代会提案的办理结果也放到公开栏。",
    "考勤公开很及时，点赞。",
    "物资采购的价格希望能公开比价情况。",
    "有些表格字太小，手机上看不清。",
    "希望评先评优的过程也能公开投票结果。",
    "建议增加意见箱的回复时限。",
    "公开内容总体不错，继续保持。",
    "夜班职工看公开栏不方便，网站很好用。",
]
# each department's leaning: weights of (satisfied, basic, dissatisfied)
LEANING = {
    "rd-run": (6, 3, 1),
    "rd-boiler": (5, 4, 1),
    "rd-turbine": (7, 2, 1),
    "rd-fuel": (3, 4, 3),
    "rd-maintenance": (4, 4, 2),
    "rd-finance": (8, 2, 0),
}
DEFAULT_LEANING = (6, 3, 1)
VALUES = [Satisfaction.SATISFIED, Satisfaction.BASIC, Satisfaction.DISSATISFIED]


def _leaning(unit: OrgUnit, by_id: dict[int, OrgUnit]) -> tuple[int, int, int]:
    for pk in unit.path_ids:
        code = by_id[pk].code if pk in by_id else ""
        if code in LEANING:
            return LEANING[code]
    return DEFAULT_LEANING


def _answers(rng: random.Random, survey: Survey, weights: tuple[int, int, int]) -> dict[str, str]:
    data: dict[str, str] = {}
    for q in survey.questions.order_by("order"):
        if q.kind == QuestionKind.RATING:
            data[f"q{q.pk}"] = rng.choices(VALUES, weights=weights)[0]
        else:
            data[f"q{q.pk}"] = rng.choice(SUGGESTIONS) if rng.random() < 0.2 else ""
    return data


def _build(
    union: User, company: OrgUnit, title: str, starts, ends, *, results_published: bool = False
) -> Survey:
    survey = services.survey_create(
        actor=union,
        title=title,
        intro=(
            "为了解职工对厂务公开工作的评价，工会开展本次满意度测评。测评不记名，"
            "系统只记录您是否已参加，不记录您的选择；人数少于5人的单位不单独显示结果。"
        ),
        unit=company,
        starts_on=starts,
        ends_on=ends,
        results_published=results_published,
    )
    for kind, text in QUESTIONS:
        services.question_add(actor=union, survey=survey, kind=kind, text=text)
    return survey


@transaction.atomic
def seed() -> dict[str, int]:
    """Load the demo records; return counts for the command's summary line."""
    rng = random.Random(20251215)  # noqa: S311 - demo data, not security
    company = OrgUnit.objects.get(code=COMPANY_CODE)
    union = User.objects.get(employee_no="union")
    units = {u.pk: u for u in OrgUnit.objects.filter(path__startswith=company.path)}
    employees = list(
        User.objects.filter(is_active=True, unit__path__startswith=company.path)
        .select_related("unit")
        .order_by("employee_no")
    )
    today = timezone.localdate()

    # Last year's survey: entered as the record of a finished one, then sealed.
    year = today.year - 1
    past = _build(
        union,
        company,
        f"{year}年度厂务公开工作满意度测评",
        date(year, 12, 1),
        date(year, 12, 15),
        results_published=True,  # every employee reads its figures (never an answer)
    )
    Survey.objects.filter(pk=past.pk).update(status=SurveyStatus.OPEN)
    past.status = SurveyStatus.OPEN
    services.snapshot_roster(past)  # the roster at the (past) opening
    record_event(actor=union, action="survey.opened", target=past, unit=company)
    participations: list[Participation] = []
    boxed: list[BoxedAnswer] = []
    questions = list(past.questions.order_by("order"))
    for user in employees:
        if user.employee_no == "employee" or rng.random() > 0.78:
            continue
        assert user.unit is not None  # noqa: S101 - filtered on the unit's path
        participations.append(Participation(survey=past, user=user, unit=user.unit))
        answers = _answers(rng, past, _leaning(user.unit, units))
        for q in questions:
            value = answers[f"q{q.pk}"]
            content, length = services.answer_box(
                q,
                user.unit.pk,
                value if q.kind == QuestionKind.RATING else "",
                "" if q.kind == QuestionKind.RATING else value,
            )
            boxed.append(
                BoxedAnswer(survey=past, box=services.BOX.seal_box(past.pk, content, length))
            )
    Participation.objects.bulk_create(participations)
    BoxedAnswer.objects.bulk_create(boxed, batch_size=1000)
    services.survey_seal(actor=union, survey=past)

    # This year's survey: open now, answered by about a third through the real service. It
    # closes a few working days after the day the reminders go: those who have not answered
    # are reminded two working days after that day.
    current = _build(
        union,
        company,
        f"{today.year}年度厂务公开工作满意度测评",
        max(today - timedelta(days=3), date(today.year, 1, 1)),  # this year's, even on 1 January
        reminder_days(today).reminded(SURVEY, later=CLOSES_LATER),
    )
    services.survey_open(actor=union, survey=current)
    answered = 0
    for user in employees:
        if user.employee_no in {"employee", "union"} or rng.random() > 0.33:
            continue
        assert user.unit is not None  # noqa: S101
        services.survey_answer(
            actor=user, survey=current, answers=_answers(rng, current, _leaning(user.unit, units))
        )
        answered += 1
    return {"surveys": 2, "survey answers": len(participations) + answered}
