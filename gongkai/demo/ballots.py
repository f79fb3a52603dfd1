"""Demo data of this app, loaded by ``seed_demo`` after the org, disclosures and congress.

* last year's democratic evaluation of 10 cadres at last year's session: ballots cast by the
  representatives present, closed (sealed, counted) and published;
* a closed and published resolution of that session;
* an OPEN resolution in the current open session, in which the ``rep`` login can vote,
  planned to close three working days after the day the reminders go
  (``ReminderDays.scan_on``), so that the electors who have not voted, ``rep`` among them,
  are reminded that day;
  one more representative checks in after it opened (the union office's sign-in sheet shows
  the late time; that representative's vote page explains why they cannot vote in it);
* every ballot cast has its receipt code: the closed votes' pages list the codes of their
  counted ballots.

Builds on the congress demo's term and sessions (found by status and date); when they are
missing it creates a minimal term and sessions itself, so this part also works alone.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.ballots.deadlines import KIND as VOTE
from gongkai.ballots.models import Grade, Poll, PollKind
from gongkai.ballots.services import (
    CadreSpec,
    ballot_cast,
    poll_close,
    poll_create,
    poll_open,
    poll_publish,
)
from gongkai.congress.models import Attendance, Representative, Session, SessionStatus, Term
from gongkai.congress.selectors import current_term, present_user_ids, session_quorum
from gongkai.congress.services import attendance_check_in
from gongkai.core.errors import ServiceError
from gongkai.demo.calendar import at_day, reminder_days
from gongkai.org.models import OrgUnit, Role, RoleAssignment

COMPANY_CODE = "rd"


def demo_term(company: OrgUnit) -> Term:
    term = current_term(company)
    if term is not None:
        return term
    today = timezone.localdate()
    term = Term.objects.create(
        company=company,
        number=1,
        starts_on=date(today.year - 2, 1, 1),
        ends_on=date(today.year + 2, 12, 31),
    )
    holders = (
        RoleAssignment.objects.filter(unit=company, role=Role.REPRESENTATIVE)
        .order_by("user__employee_no")
        .values_list("user_id", flat=True)
    )
    Representative.objects.bulk_create(
        Representative(term=term, user_id=uid, elected_on=term.starts_on) for uid in holders
    )
    return term


def session_where(term: Term, *, past: bool) -> Session:
    today = timezone.localdate()
    sessions = Session.objects.filter(term=term, kind="plenary")
    if past:
        found = sessions.filter(held_on__lt=today, status=SessionStatus.CLOSED).first()
    else:
        found = sessions.filter(status=SessionStatus.OPEN).first()
    if found is not None:
        return found
    number = (sessions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    return Session.objects.create(
        term=term,
        number=number,
        title=f"第一届职工代表大会第{number}次会议",
        held_on=date(today.year - 1, 3, 15) if past else today,
        status=SessionStatus.CLOSED if past else SessionStatus.OPEN,
    )


def ensure_quorum(session: Session, rng: random.Random, *, include: list[int]) -> list[int]:
    """Check in representatives until more than two thirds are present (when the congress
    demo has not recorded attendance); return the user ids present."""

    quorum = session_quorum(session)
    if not quorum.reached:
        seats = list(
            Representative.objects.filter(term=session.term, is_active=True)
            .exclude(attendances__session=session)
            .order_by("pk")
        )
        rng.shuffle(seats)
        seats.sort(key=lambda s: s.user_id not in include)  # the demo logins first
        need = quorum.total * 9 // 10 - quorum.present
        checked_in = at_day(session.held_on, 8)
        Attendance.objects.bulk_create(
            Attendance(session=session, representative=s, checked_in_at=checked_in)
            for s in seats[: max(need, 0)]
        )
    return sorted(present_user_ids(session))


def seed() -> dict[str, int]:
    """Load the demo records; return counts for the command's summary line."""
    rng = random.Random(20260505)  # noqa: S311 - demo data, not security
    company = OrgUnit.objects.filter(code=COMPANY_CODE).first()
    if company is None:
        return {}
    union = User.objects.get(employee_no="union")
    rep = User.objects.get(employee_no="rep")
    term = demo_term(company)
    last = session_where(term, past=True)
    current = session_where(term, past=False)
    counts = {"votes": 0, "ballots": 0}

    # Last year's evaluation of 10 cadres, then a resolution, both closed and published.
    voters = ensure_quorum(last, rng, include=[rep.pk])
    cadres = list(
        User.objects.filter(unit__path__startswith=company.path, is_active=True)
        .exclude(pk__in=voters)
        .exclude(employee_no__in=["union", "rep", "employee", "supervisor", "discipline"])
        .exclude(position="")
        .order_by("employee_no")[:10]
    )
    opened = at_day(last.held_on, 9)
    people = [CadreSpec(user=u, position=u.position) for u in cadres]
    evaluation = poll_create(
        actor=union,
        company=company,
        kind=PollKind.EVALUATION,
        title=f"{last.held_on.year}年度中层干部民主评议",
        session=last,
        cadres=people,
        excellent_quota_percent=50,
        min_ballots=5,
    )
    evaluation = poll_open(actor=union, poll=evaluation, at=opened)
    keys = [str(pk) for pk in evaluation.items.values_list("pk", flat=True)]
    # Each cadre has a reputation; one of them is poorly regarded (flagged).
    leaning = {k: rng.choice([0, 0, 1, 1, 2]) for k in keys}
    leaning[keys[-1]] = 3
    grades = [Grade.EXCELLENT, Grade.COMPETENT, Grade.BASIC, Grade.INCOMPETENT]
    for uid in voters:
        voter = User(pk=uid)
        choices: dict[str, str] = {}
        for key in keys:
            roll = rng.random()
            if roll < 0.08:
                choices[key] = Grade.UNKNOWN
            else:
                shift = 0 if roll < 0.6 else rng.choice([-1, 1])
                choices[key] = grades[max(0, min(3, leaning[key] + shift))]
        excellent = [k for k, v in choices.items() if v == Grade.EXCELLENT]
        for key in excellent[len(keys) // 2 :]:  # respect the 50% quota
            choices[key] = Grade.COMPETENT
        ballot_cast(actor=voter, poll=evaluation, choices=choices)
        counts["ballots"] += 1
    poll_close(actor=union, poll=evaluation, at=opened + timedelta(hours=1))
    poll_publish(actor=union, poll=evaluation, at=opened + timedelta(hours=3))

    resolution = poll_create(
        actor=union,
        company=company,
        kind=PollKind.RESOLUTION,
        title=f"{last.held_on.year}年职代会决议表决",
        session=last,
        items=["行政工作报告", "财务预决算报告", "集体合同修订草案", "职工福利分配方案"],
    )
    resolution = poll_open(actor=union, poll=resolution, at=opened + timedelta(hours=2))
    keys = [str(pk) for pk in resolution.items.values_list("pk", flat=True)]
    for uid in voters:
        choices = {
            k: rng.choices(["for", "against", "abstain"], weights=[85, 6, 9])[0] for k in keys
        }
        ballot_cast(actor=User(pk=uid), poll=resolution, choices=choices)
        counts["ballots"] += 1
    poll_close(actor=union, poll=resolution, at=opened + timedelta(hours=2, minutes=20))
    poll_publish(actor=union, poll=resolution, at=opened + timedelta(hours=4))

    # The current session: an open resolution that ``rep`` can vote in.
    ensure_quorum(current, rng, include=[rep.pk])
    live = poll_create(
        actor=union,
        company=company,
        kind=PollKind.RESOLUTION,
        title=f"关于{timezone.localdate().year}年工资调整方案的表决",
        session=current,
        items=["工资调整方案", "职工疗休养安排"],
        # Its electors who have not voted are reminded on the day the reminders go.
        closes_on=reminder_days().reminded(VOTE),
    )
    poll_open(actor=union, poll=live)
    others = [uid for uid in ensure_quorum(current, rng, include=[]) if uid != rep.pk]
    keys = [str(pk) for pk in live.items.values_list("pk", flat=True)]
    for uid in others[: len(others) // 3]:  # a third have voted already; rep has not
        ballot_cast(
            actor=User(pk=uid),
            poll=live,
            choices={k: rng.choice(["for", "for", "abstain"]) for k in keys},
        )
        counts["ballots"] += 1
    late_check_in(current)
    counts["votes"] = Poll.objects.count()
    return counts


def late_check_in(session: Session) -> None:
    """One representative neither present nor on leave checks in after the vote opened: not
    in its electorate (the vote's page tells them why and what to do)."""
    seat = (
        Representative.objects.filter(term=session.term, is_active=True)
        .exclude(attendances__session=session)
        .exclude(leaves__session=session)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if seat is None:
        return
    try:
        attendance_check_in(actor=seat.user, session=session)
    except ServiceError:
        return  # not the session's day any more (a demo loaded just before midnight)
