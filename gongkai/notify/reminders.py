"""The engine of time: reminders before a deadline, on the day, and escalations after it.

Every part registers its deadlines (``gongkai.core.deadlines``). Once a day, on working
days, :func:`scan` asks each source for the deadlines still open around today and works
out each one's **stage** on working days (the calendar with its 调休):

=========  ==========================================================  ==================
stage      from                                                        to
=========  ==========================================================  ==================
before     ``lead`` working days before the last working day ≤ due     the people who act
day        the last working day on or before the due date             the people who act
head       ``REMINDER_ESCALATE_HEAD`` working days after the due date  the unit's head
union      ``REMINDER_ESCALATE_UNION`` working days after it           the union office
=========  ==========================================================  ==================

The stage sent is the latest one reached: a scan that missed a day (the worker was down)
sends that one, not every stage it missed. A :class:`Reminder` row per (kind, key, stage),
unique in the database, is written in the same transaction as the notices, so a restart or
a second worker never sends a stage twice; a deadline met is no longer yielded by its
source, so its reminders stop. Deadlines overdue for longer than the union stage plus
``CATCH_UP`` working days are no longer scanned (a new installation does not flood the
union office with last year's backlog).

Notices go in-app at once and out of the site through the queue, as every notice does
(``notify.outbox``); the unit's chat robots hear ``group`` deadlines before and on the day,
never an escalation (that is for the head or the union office, not the group).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, override

from gongkai.accounts.models import User
from gongkai.core import deadlines as registry
from gongkai.core.bulk import insert
from gongkai.core.deadlines import Deadline
from gongkai.core.queue import after_commit, crontab, lock_task, periodic, task
from gongkai.core.workdays import WorkingCalendar, calendar_for
from gongkai.notify import outbox, tasks
from gongkai.notify.models import Notification, Reminder
from gongkai.org.models import OrgUnit, Role, RoleAssignment

Stage = Reminder.Stage
CATCH_UP = 2  # working days an escalation may still be sent late
MAX_LEAD = 30  # working days: the longest lead a catalog entry may set


@dataclass(frozen=True)
class Planned:
    """A stage of a deadline to send today: to ``people``, and to the unit's robots when
    ``robots``; ``reason`` says why (for the dry run and the log)."""

    deadline: Deadline
    stage: str
    people: frozenset[int]
    robots: bool
    reason: str
    message: str


def lead_of(deadline: Deadline) -> int:
    if deadline.lead is not None:
        return min(deadline.lead, MAX_LEAD)
    by_kind: dict[str, int] = settings.REMINDER_DAYS_BEFORE_BY_KIND
    return by_kind.get(deadline.kind, settings.REMINDER_DAYS_BEFORE)


def stage_dates(deadline: Deadline, cal: WorkingCalendar) -> dict[str, date]:
    """The day each stage of ``deadline`` is reached (stages that do not apply left out)."""
    day = cal.on_or_before(deadline.due)
    dates: dict[str, date] = {}
    lead = lead_of(deadline)
    if lead > 0:
        dates[Stage.BEFORE] = cal.subtract_working_days(day, lead)
    dates[Stage.DAY] = day
    if deadline.escalate:
        dates[Stage.HEAD] = cal.add_working_days(deadline.due, settings.REMINDER_ESCALATE_HEAD)
        dates[Stage.UNION] = cal.add_working_days(deadline.due, settings.REMINDER_ESCALATE_UNION)
    return dates


def current_stage(deadline: Deadline, cal: WorkingCalendar, today: date) -> str | None:
    """The latest stage reached by ``today``; none once the day has passed and nothing
    escalates (a reminder that something closes today is worthless the day after)."""
    reached = [stage for stage, on in stage_dates(deadline, cal).items() if on <= today]
    if not reached or (reached[-1] == Stage.DAY and today > deadline.due):
        return None
    return reached[-1]


def scan_window(cal: WorkingCalendar, today: date) -> tuple[date, date]:
    """The due dates worth asking about today: from the oldest whose union stage may still
    be sent, to the furthest a lead can reach."""
    longest = max(
        [settings.REMINDER_DAYS_BEFORE, MAX_LEAD, *settings.REMINDER_DAYS_BEFORE_BY_KIND.values()]
    )
    back = settings.REMINDER_ESCALATE_UNION + CATCH_UP
    first = cal.subtract_working_days(today, back)
    last = cal.add_working_days(today, longest)
    # A deadline due on a weekend or holiday just after ``last`` is reminded from the last
    # working day before it: include the days up to the next working day.
    return first, cal.on_or_after(last + timedelta(days=1)) - timedelta(days=1)


def nearest_holders(unit_ids: set[int], role: str) -> dict[int, frozenset[int]]:
    """For each unit, the active holders of ``role`` on the unit or, when it has none, on
    its nearest ancestor that has some; one query for the units, one for the holders."""
    units = {u.pk: u for u in OrgUnit.objects.filter(pk__in=unit_ids).only("pk", "path")}
    ancestors = {pk for u in units.values() for pk in u.path_ids}
    found: dict[int, set[int]] = {}
    for unit_id, user_id in RoleAssignment.objects.filter(
        role=role, unit_id__in=ancestors, unit__is_active=True, user__is_active=True
    ).values_list("unit_id", "user_id"):
        found.setdefault(unit_id, set()).add(user_id)
    answer: dict[int, frozenset[int]] = {}
    for pk, unit in units.items():
        for ancestor in reversed(unit.path_ids):
            if ancestor in found:
                answer[pk] = frozenset(found[ancestor])
                break
        else:
            answer[pk] = frozenset()
    return answer


# The notice without its title (a template and its other values) and the reason: the same
# for every deadline of one stage, due date and lead on a given day.
Wording = tuple[str, dict[str, Any], str]


def wording_of(due_on: date, lead: int, stage: str, cal: WorkingCalendar, today: date) -> Wording:
    due = due_on.isoformat()
    if stage == Stage.BEFORE:
        n = cal.working_days_between(today, cal.on_or_before(due_on))
        template = ngettext(
            "Reminder: %(title)s is due on %(due)s, in %(n)d working day.",
            "Reminder: %(title)s is due on %(due)s, in %(n)d working days.",
            n,
        )
        values: dict[str, Any] = {"due": due, "n": n}
        reason = _("due on %(due)s, %(lead)d working days' notice") % {"due": due, "lead": lead}
    elif stage == Stage.DAY:
        template = _("Due today: %(title)s (due on %(due)s).")
        values = {"due": due}
        reason = _("due on %(due)s: the last working day") % {"due": due}
    else:
        n = cal.working_days_between(due_on, today)
        to = _("the unit's head") if stage == Stage.HEAD else _("the union office")
        template = ngettext(
            "Overdue by %(n)d working day: %(title)s (due on %(due)s). Escalated to %(to)s.",
            "Overdue by %(n)d working days: %(title)s (due on %(due)s). Escalated to %(to)s.",
            n,
        )
        values = {"due": due, "n": n, "to": to}
        reason = _("overdue since %(due)s, escalated to %(to)s") % {"due": due, "to": to}
    return template, values, reason


def wording(deadline: Deadline, stage: str, cal: WorkingCalendar, today: date) -> tuple[str, str]:
    """The notice and the reason for the dry run, in the site's language."""
    template, values, reason = wording_of(deadline.due, lead_of(deadline), stage, cal, today)
    return template % (values | {"title": deadline.title}), reason


class Judge:
    """The stage and the wording of a scan day's deadlines, worked out once per due date and
    lead: a scan may judge millions of deadlines (a big company's obligations), which share a
    few dozen due dates, and each stage is a walk over the working-day calendar."""

    def __init__(self, cal: WorkingCalendar, today: date) -> None:
        self.cal, self.today = cal, today
        self._stages: dict[tuple[str, int | None, date, bool], str | None] = {}
        self._words: dict[tuple[str, int | None, date, str], Wording] = {}

    def stage(self, deadline: Deadline) -> str | None:
        """:func:`current_stage` of the deadline."""
        key = (deadline.kind, deadline.lead, deadline.due, deadline.escalate)
        if key not in self._stages:
            self._stages[key] = current_stage(deadline, self.cal, self.today)
        return self._stages[key]

    def wording(self, deadline: Deadline, stage: str) -> tuple[str, str]:
        """:func:`wording` of the deadline at ``stage``."""
        key = (deadline.kind, deadline.lead, deadline.due, stage)
        found = self._words.get(key)
        if found is None:
            found = self._words[key] = wording_of(
                deadline.due, lead_of(deadline), stage, self.cal, self.today
            )
        template, values, reason = found
        return template % (values | {"title": deadline.title}), reason


def plan(today: date) -> Iterator[list[Planned]]:
    """What to send today, in batches (one per source batch): the stage reached and not yet
    sent of every open deadline. Nothing on a day that is not a working day."""
    cal = calendar_for(range(today.year - 1, today.year + 2))
    if not cal.is_working_day(today):
        return
    first, last = scan_window(cal, today)
    judge = Judge(cal, today)
    with override(settings.LANGUAGE_CODE):
        for source in registry.sources():
            for batch in source.open_between(first, last, today=today):
                planned = plan_batch(batch, cal, today, judge=judge)
                if planned:
                    yield planned


def plan_batch(
    batch: list[Deadline], cal: WorkingCalendar, today: date, *, judge: Judge | None = None
) -> list[Planned]:
    judge = judge or Judge(cal, today)
    staged: list[tuple[Deadline, str]] = []
    for deadline in batch:
        stage = judge.stage(deadline)
        if stage is not None:
            staged.append((deadline, stage))
    if not staged:
        return []
    kinds = {d.kind for d, _s in staged}
    sent = set(
        Reminder.objects.filter(kind__in=kinds, key__in=[d.key for d, _s in staged]).values_list(
            "kind", "key", "stage"
        )
    )
    todo = [(d, s) for d, s in staged if (d.kind, d.key, s) not in sent]
    escalating = {d.unit_id for d, s in todo if s in (Stage.HEAD, Stage.UNION)}
    heads = nearest_holders(escalating, Role.UNIT_HEAD) if escalating else {}
    unions = nearest_holders(escalating, Role.UNION_OFFICE) if escalating else {}
    planned = []
    for deadline, stage in todo:
        if stage == Stage.HEAD:
            people = heads.get(deadline.unit_id) or unions.get(deadline.unit_id, frozenset())
        elif stage == Stage.UNION:
            people = unions.get(deadline.unit_id, frozenset())
        else:
            people = deadline.people
        message, reason = judge.wording(deadline, stage)
        planned.append(
            Planned(
                deadline=deadline,
                stage=stage,
                people=people,
                robots=deadline.group
                and not deadline.private
                and stage in (Stage.BEFORE, Stage.DAY),
                reason=reason,
                message=message,
            )
        )
    return planned


def deliver(planned: list[Planned], *, today: date) -> int:
    """Record and send one batch, in one transaction: the reminder rows (unique: a stage
    another worker sent first makes this batch fail and roll back; the next scan skips
    it), the in-app notices, and, after commit, the e-mails and robot posts. Returns the
    number of notices written."""
    wanted = {pk for p in planned for pk in p.people}
    now = timezone.now()
    with transaction.atomic():
        active = set(
            User.objects.filter(pk__in=wanted, is_active=True).values_list("pk", flat=True)
        )
        told = [(p, ident(p), sorted(p.people & active)) for p in planned]
        # Rows as tuples, not model instances (gongkai.core.bulk): at a big company's volume
        # bulk_create's Python side took most of the scan.
        insert(
            Reminder,
            ["kind", "key", "stage", "due_on", "unit", "sent_on", "recipients"],
            [
                (
                    p.deadline.kind,
                    p.deadline.key,
                    p.stage,
                    p.deadline.due,
                    p.deadline.unit_id,
                    today,
                    len(people),
                )
                for p, _key, people in told
            ],
        )
        notes = [
            (pk, p.message[:300], p.deadline.url, now) for p, _key, people in told for pk in people
        ]
        insert(Notification, ["user", "message", "url", "created_at"], notes)
        personal = [
            (key, people, p.message, p.deadline.url, p.deadline.private)
            for p, key, people in told
            if people
        ]
        group = [
            (key, p.deadline.unit_id, p.message, p.deadline.url)
            for p, key, _people in told
            if p.robots
        ]
        after_commit(fan_out_reminders, personal, group)
    return len(notes)


def ident(planned: Planned) -> str:
    """The delivery batch of a reminder: one per (kind, key, stage), as the reminder row."""
    d = planned.deadline
    return hashlib.sha256(f"{d.kind}\x00{d.key}\x00{planned.stage}".encode()).hexdigest()[:32]


@task()
def fan_out_reminders(
    personal: list[tuple[str, list[int], str, str, bool]],
    group: list[tuple[str, int, str, str]],
) -> None:
    """The e-mails and robot posts of one batch of reminders. Each reminder's deliveries are
    written under its own batch key (:func:`ident`), so a retried run creates nothing
    twice."""
    now = timezone.now()
    wanted = {pk for _i, ids, *_r in personal for pk in ids}
    people = {u.pk: u for u in User.objects.filter(pk__in=wanted)}
    for key, ids, message, url, private in personal:
        text = outbox.outbound_text(message, url, private=private)
        users = [people[pk] for pk in ids if pk in people]
        rows = outbox.personal_deliveries(users, text, batch=key, now=now)
        tasks.dispatch(outbox.store(rows, batch=key))
    for key, unit_id, message, url in group:
        text = outbox.outbound_text(message, url, private=False)
        robot_key = f"r{key[1:]}"
        rows = outbox.robot_deliveries(unit_id, text, batch=robot_key)
        tasks.dispatch(outbox.store(rows, batch=robot_key))


def scan(today: date) -> int:
    """Send today's reminders and escalations; the number of notices written."""
    return sum(deliver(batch, today=today) for batch in plan(today))


@periodic(crontab(minute="10"))
@lock_task("notify-reminders")
def reminder_scan() -> None:
    """Hourly: from ``REMINDER_HOUR`` site time on, today's scan (what an earlier run of
    the day sent is not sent again, so later runs only catch what became due)."""
    now = timezone.localtime()
    if now.hour >= settings.REMINDER_HOUR:
        scan(now.date())
