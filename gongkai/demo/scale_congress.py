"""Suggestions and the workers' congress of a company of the group (gongkai.demo.scale).

* **Suggestions**: about one per twenty employees over the year, sent to the company, its
  departments and teams, in every state of the handling (submitted, accepted, declined,
  assigned — some overdue —, answered, reopened, closed and rated), each with its timeline.
  Entered as history rows, as the demo company's past motions are (the services' checks
  are about "now"); nothing here is published or secret.
* **The congress**: a term (through the congress services), one delegation per department,
  the representatives seated from their role (``roster_seed``); the spring plenary session
  with its motions in every state; and the year-end session, at which the representatives
  present grade 10–20 cadres in the democratic evaluation, cast through
  ``ballots.services.ballot_cast`` (the sealed ballot box keeps every ballot unlinkable to
  its voter), closed, sealed, counted and published through the ballots services (the
  result reaches the company's board through the one publish path).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.ballots.models import Grade, PollKind
from gongkai.ballots.services import (
    CadreSpec,
    ballot_cast,
    poll_close,
    poll_create,
    poll_open,
    poll_publish,
)
from gongkai.congress import services as congress
from gongkai.congress.models import (
    Attendance,
    Motion,
    MotionSecond,
    MotionStatus,
    Representative,
    Session,
)
from gongkai.core.satisfaction import Satisfaction
from gongkai.demo.calendar import at_day
from gongkai.demo.scale import Company, ScaleSpec
from gongkai.voice.models import StepKind, Suggestion, SuggestionStep
from gongkai.voice.models import SuggestionStatus as S

# (state, weight) of the year's suggestions
STATES = [
    (S.SUBMITTED, 8),
    (S.ACCEPTED, 10),
    (S.DECLINED, 7),
    (S.ASSIGNED, 20),
    (S.ANSWERED, 15),
    (S.REOPENED, 3),
    (S.CLOSED, 37),
]
TOPICS = [
    (
        "production_safety",
        "关于{unit}现场照明改造的建议",
        "夜班巡检时部分区域照度不足，存在安全隐患。",
    ),
    (
        "working_conditions",
        "关于{unit}休息室空调维修的建议",
        "休息室空调制冷效果差，影响倒班职工休息。",
    ),
    ("pay_welfare", "关于{unit}夜班补贴标准的建议", "夜班补贴标准多年未调整，建议按物价水平调整。"),
    ("management", "关于{unit}交接班记录电子化的建议", "纸质记录查找不便，建议使用电子台账。"),
    ("disclosure_work", "关于{unit}公开栏更新及时性的建议", "部分事项公开滞后，建议明确更新时限。"),
    ("other", "关于{unit}职工书屋增订书刊的建议", "书屋书刊较旧，建议增订技术类期刊。"),
]
MOTION_STATES = [
    (MotionStatus.SEEKING, 1),
    (MotionStatus.SUBMITTED, 1),
    (MotionStatus.REGISTERED, 2),
    (MotionStatus.DECLINED, 1),
    (MotionStatus.ASSIGNED, 3),
    (MotionStatus.ANSWERED, 2),
    (MotionStatus.CLOSED, 4),
]
GRADES = [Grade.EXCELLENT, Grade.COMPETENT, Grade.BASIC, Grade.INCOMPETENT]
EXCELLENT_QUOTA = 30  # percent of the cadres a ballot may grade excellent


def moment(day: date, rng: random.Random) -> datetime:
    tz = timezone.get_current_timezone()
    return datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=tz)


def seed_company(company: Company, spec: ScaleSpec, rng: random.Random) -> dict[str, int]:
    suggestions = seed_suggestions(company, spec, rng)
    counts = seed_congress(company, spec, rng)
    return {"suggestions": suggestions, **counts}


def seed_suggestions(company: Company, spec: ScaleSpec, rng: random.Random) -> int:
    """The company's year of suggestions, each with its timeline."""
    today = spec.today
    span = (today - spec.start).days
    units = [company.unit, *company.departments, *company.teams]
    parents = {d.pk: d for d in company.departments}
    states = [s for s, _w in STATES]
    weights = [w for _s, w in STATES]
    rows: list[tuple[Suggestion, list[SuggestionStep]]] = []
    for _ in range(max(len(company.people) // 20, 30)):
        author = rng.choice(company.people)
        unit = rng.choice(units)
        category, title, body = rng.choice(TOPICS)
        status = rng.choices(states, weights)[0]
        day = spec.start + timedelta(days=rng.randint(0, span))
        submitted = moment(day, rng)
        # The responsible unit: a team's department, or the unit itself.
        responsible = parents.get(unit.parent_id or 0, unit)
        handler = company.heads.get(responsible.pk, company.head)
        s = Suggestion(
            unit=unit,
            author=author,
            name_hidden=rng.random() < 0.15,
            category=category,
            title=title.format(unit=unit.name)[:100],
            body=body,
            status=status,
            submitted_at=submitted,
        )
        steps = [SuggestionStep(kind=StepKind.SUBMIT, at=submitted, actor=author, unit=unit)]
        accepted = submitted + timedelta(days=rng.randint(1, 3))
        if status == S.DECLINED:
            s.decline_reason = "属于个人诉求，已转相关部门个别答复。"
            steps.append(
                SuggestionStep(
                    kind=StepKind.DECLINE,
                    at=min(accepted, timezone.now()),
                    actor=company.union,
                    unit=company.unit,
                    text=s.decline_reason,
                )
            )
        elif status != S.SUBMITTED:
            steps.append(
                SuggestionStep(
                    kind=StepKind.ACCEPT,
                    at=min(accepted, timezone.now()),
                    actor=company.union,
                    unit=company.unit,
                )
            )
        if status in (S.ASSIGNED, S.ANSWERED, S.REOPENED, S.CLOSED):
            assigned = accepted + timedelta(hours=2)
            # Most answer within their 15 days; some assigned ones are overdue today.
            s.responsible_unit = responsible
            s.due_on = min(day + timedelta(days=15), today + timedelta(days=15))
            steps.append(
                SuggestionStep(
                    kind=StepKind.ASSIGN,
                    at=min(assigned, timezone.now()),
                    actor=company.union,
                    unit=responsible,
                    due_on=s.due_on,
                )
            )
        if status in (S.ANSWERED, S.REOPENED, S.CLOSED) and s.due_on is not None:
            answered = min(
                accepted + timedelta(days=rng.randint(2, 20)),
                timezone.now() - timedelta(hours=1),
            )
            s.answer = f"{responsible.name}已研究，将于下月内落实。"
            s.action_taken = "已列入本单位整改计划。"
            s.answered_at = answered
            steps.append(
                SuggestionStep(
                    kind=StepKind.ANSWER,
                    at=answered,
                    actor=handler,
                    unit=responsible,
                    text=s.answer,
                    action_taken=s.action_taken,
                    due_on=s.due_on,
                )
            )
            if status in (S.REOPENED, S.CLOSED):
                rated = min(answered + timedelta(days=rng.randint(1, 5)), timezone.now())
                rating = (
                    Satisfaction.DISSATISFIED
                    if status == S.REOPENED
                    else rng.choices(Satisfaction.values, [65, 27, 8])[0]
                )
                s.rating, s.closed_at = rating, rated if status == S.CLOSED else None
                if rating == Satisfaction.DISSATISFIED:
                    s.rating_reason = "答复未解决实际问题。"
                s.reopened = status == S.REOPENED
                steps.append(
                    SuggestionStep(
                        kind=StepKind.RATE, at=rated, actor=author, unit=unit, rating=rating
                    )
                )
        rows.append((s, steps))
    made = Suggestion.objects.bulk_create([s for s, _steps in rows], batch_size=1000)
    all_steps: list[SuggestionStep] = []
    for suggestion, (_s, steps) in zip(made, rows, strict=True):
        for step in steps:
            step.suggestion = suggestion
        all_steps += steps
    SuggestionStep.objects.bulk_create(all_steps, batch_size=1000)
    return len(made)


def seed_congress(company: Company, spec: ScaleSpec, rng: random.Random) -> dict[str, int]:
    """The term, the spring session with its motions, the year-end session's evaluation."""
    union, today = company.union, spec.today
    term = congress.term_create(
        actor=union,
        company=company.unit,
        number=3,
        starts_on=date(today.year - 2, 3, 1),
        ends_on=date(today.year + 3, 2, 28),
    )
    for dept in company.departments:
        congress.delegation_create(actor=union, term=term, name=f"{dept.name}代表团", unit=dept)
    seats = congress.roster_seed(actor=None, term=term)
    spring = min(spec.start + timedelta(days=80), today - timedelta(days=40))
    plenary = congress.session_create(
        actor=union,
        term=term,
        number=1,
        title=f"第三届职工代表大会第{today.year - term.starts_on.year}次会议",
        held_on=spring,
        motions_open_on=spring - timedelta(days=30),
        motions_close_on=spring - timedelta(days=7),
        agenda="一、审议总经理工作报告\n二、审议财务工作报告\n三、提案工作",
    )
    attend(plenary, seats, union, rng)
    motions = seed_motions(plenary, company, spec, rng)
    congress.session_set_status(actor=union, session=plenary, step="close")
    year_end = congress.session_create(
        actor=union,
        term=term,
        number=2,
        title=f"{today.year}年度职工代表大会（年终民主评议）",
        held_on=today - timedelta(days=3),
        agenda="一、年度工作总结\n二、民主评议中层干部",
    )
    present = attend(year_end, seats, union, rng)
    ballots = seed_evaluation(year_end, company, present, spec, rng)
    congress.session_set_status(actor=union, session=year_end, step="close")
    return {"representatives": len(seats), "motions": motions, "ballots": ballots}


def attend(
    session: Session, seats: list[Representative], union: User, rng: random.Random
) -> list[int]:
    """Open the session and check in about nine representatives in ten (well above the two
    thirds a vote needs); the user ids present."""
    congress.session_set_status(actor=union, session=session, step="open")
    present = rng.sample(seats, k=max(len(seats) * 9 // 10, 1))
    start = at_day(session.held_on, 8)
    Attendance.objects.bulk_create(
        Attendance(
            session=session,
            representative=seat,
            checked_in_at=start + timedelta(minutes=rng.randrange(50)),
            checked_in_by=union,
        )
        for seat in present
    )
    return sorted(seat.user_id for seat in present)


def seed_motions(session: Session, company: Company, spec: ScaleSpec, rng: random.Random) -> int:
    """Motions of the spring session, one per five or six representatives, in every state."""
    reps = company.representatives
    states = [s for s, _w in MOTION_STATES]
    weights = [w for _s, w in MOTION_STATES]
    held = session.held_on
    number = 0
    count = max(len(reps) // 6, 6)
    for i in range(count):
        status = rng.choices(states, weights)[0]
        proposer = rng.choice(reps)
        lead = rng.choice(company.departments)
        _category, title, body = rng.choice(TOPICS)
        created = at_day(held - timedelta(days=25 - i % 15), 9)
        motion = Motion.objects.create(
            session=session,
            proposer=proposer,
            title=title.format(unit=lead.name).replace("建议", "提案"),
            reasons=body,
            measures="建议列入年度计划，明确责任部门和完成时限。",
            status=status,
        )
        changes: dict[str, object] = {"created_at": created, "updated_at": created}
        seconders = rng.sample([u for u in reps if u.pk != proposer.pk], k=2)
        seconds = 1 if status == MotionStatus.SEEKING else 2
        MotionSecond.objects.bulk_create(
            [MotionSecond(motion=motion, user=u) for u in seconders[:seconds]]
        )
        if status != MotionStatus.SEEKING:
            changes["submitted_at"] = created + timedelta(days=1)
        if status == MotionStatus.DECLINED:
            changes["decline_reasons"] = "属于个人岗位诉求，不符合提案立案条件。"
        if status in (
            MotionStatus.REGISTERED,
            MotionStatus.ASSIGNED,
            MotionStatus.ANSWERED,
            MotionStatus.CLOSED,
        ):
            number += 1
            changes |= {"number": number, "registered_at": at_day(held + timedelta(days=5))}
        if status in (MotionStatus.ASSIGNED, MotionStatus.ANSWERED, MotionStatus.CLOSED):
            assigned = held + timedelta(days=7)
            changes |= {
                "lead_unit": lead,
                "assigned_at": at_day(assigned),
                "due_on": assigned + timedelta(days=60),
            }
            if status != MotionStatus.ASSIGNED:
                answered = at_day(assigned + timedelta(days=rng.randint(20, 55)))
                changes |= {
                    "answer_measures": f"{lead.name}已研究落实。",
                    "answer_result": "已完成并经职工代表验收。",
                    "answered_at": answered,
                    "first_answered_at": answered,
                    "answered_by": company.heads[lead.pk],
                }
            if status == MotionStatus.CLOSED:
                rating = rng.choices(Satisfaction.values, [70, 25, 5])[0]
                rated = answered + timedelta(days=5)
                changes |= {"rating": rating, "first_rating": rating, "rated_at": rated}
        Motion.objects.filter(pk=motion.pk).update(**changes)
    return count


def seed_evaluation(
    session: Session,
    company: Company,
    present: list[int],
    spec: ScaleSpec,
    rng: random.Random,
) -> int:
    """The year-end democratic evaluation of 10–20 cadres (the company's head and its
    department heads) by the representatives present: opened, cast, closed (sealed and
    counted) and published, each through the ballots services."""
    union = company.union
    cadres = [company.head, *(company.heads[d.pk] for d in company.departments)]
    cadres = cadres[: min(len(cadres), rng.randint(10, 20))]
    opened = at_day(session.held_on, 9)
    poll = poll_create(
        actor=union,
        company=company.unit,
        kind=PollKind.EVALUATION,
        title=f"{spec.today.year}年度中层干部民主评议",
        session=session,
        cadres=[CadreSpec(user=u, position=u.position or "部门负责人") for u in cadres],
        excellent_quota_percent=EXCELLENT_QUOTA,
        min_ballots=5,
    )
    poll = poll_open(actor=union, poll=poll, at=opened)
    keys = [str(pk) for pk in poll.items.order_by("pk").values_list("pk", flat=True)]
    leaning = {k: rng.choice([0, 0, 1, 1, 1, 2]) for k in keys}
    leaning[keys[-1]] = 3  # one cadre poorly regarded
    quota = len(keys) * EXCELLENT_QUOTA // 100
    for uid in present:
        choices: dict[str, str] = {}
        for key in keys:
            roll = rng.random()
            if roll < 0.06:
                choices[key] = Grade.UNKNOWN
                continue
            shift = 0 if roll < 0.6 else rng.choice([-1, 1])
            choices[key] = GRADES[max(0, min(3, leaning[key] + shift))]
        excellent = [k for k, v in choices.items() if v == Grade.EXCELLENT]
        for key in excellent[quota:]:
            choices[key] = Grade.COMPETENT
        ballot_cast(actor=User(pk=uid), poll=poll, choices=choices)
    poll_close(actor=union, poll=poll, at=opened + timedelta(hours=1))
    poll_publish(actor=union, poll=poll, at=opened + timedelta(hours=3))
    return len(present)
