"""The demo company's calendar: every date the demo seeders use is derived here from the day
the demo is loaded, so the demo tells the same story on any day of the year (1 January, the
last day of June, 1 July, 31 December, 29 February …).

The story, for a demo loaded on ``today``:
- **last year is complete**: disclosures from 1 January last year (or earlier, see below) to
  today, last year's congress session, evaluation and resolution, last year's survey, and
  the published rankings of last year's second half and of the whole year;
- **two supervision rounds**: the two latest half-years that ended at least
  ``ROUND_SETTLED_DAYS`` days ago, so that the later round's inspection, its findings, their
  (overdue) deadlines and the reports on them all lie in the past;
- **units** answer for the periods from the start of the history (entered from the paper
  boards); the teams outside the boiler department joined the system about a quarter ago
  (``teams_joined``) and answer only from then on;
- **today**: the open congress session held today, an open vote, an open survey, an open
  publicity window, suggestions and motions waiting for someone;
- **the reminders of the day** (:class:`ReminderDays`): on the day the demo is loaded, or on
  the next working day when it is loaded on a rest day (the reminder engine sends nothing on
  rest days), the team lead is reminded of something due in three working days, the boiler
  department's head and the union office are told of what is overdue by one and by three
  working days, and the representatives of the open vote that it closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from gongkai.core.periods import Period, PeriodKind
from gongkai.core.workdays import WorkingCalendar, calendar_for

# Days after a half-year ends by which its inspection round has run its course: inspected
# on day 12, findings due on day 40, reports on days 45-50, one sent back on day 48.
ROUND_SETTLED_DAYS = 61
# The teams outside the boiler department publish for about the last quarter.
RECENT_TEAMS_DAYS = 75


@dataclass(frozen=True)
class DemoCalendar:
    today: date

    @property
    def this_year(self) -> int:
        return self.today.year

    @property
    def last_year(self) -> int:
        return self.today.year - 1

    @property
    def rounds(self) -> tuple[Period, Period]:
        """The half-years of the demo's two inspection rounds, the earlier first."""
        settled = self.today - timedelta(days=ROUND_SETTLED_DAYS)
        later = Period.containing(settled, PeriodKind.HALF)
        if later.end >= settled:
            later = later.previous()
        return later.previous(), later

    @property
    def teams_joined(self) -> date:
        """The day the teams outside the boiler department joined the system (the first of
        the month about a quarter ago): they answer for the periods that begin from then on,
        and the demo publishes theirs for the last quarter only."""
        joined = self.today - timedelta(days=RECENT_TEAMS_DAYS)
        return date(joined.year, joined.month, 1)

    @property
    def history_start(self) -> date:
        """The first day of the demo's disclosure history: it covers last year and both
        inspection rounds."""
        return min(date(self.last_year, 1, 1), self.rounds[0].start)


def demo_calendar(today: date | None = None) -> DemoCalendar:
    """The calendar of a demo loaded today (the date in Asia/Shanghai, not the server's UTC
    date)."""
    return DemoCalendar(today or timezone.localdate())


def at_day(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock (Asia/Shanghai) on ``day``, but never later than now: a step the
    demo dates "today at 16:00" happens now when the demo is loaded at 00:30."""
    moment = datetime.combine(day, time(hour, 0), tzinfo=timezone.get_current_timezone())
    return min(moment, timezone.now())


@dataclass(frozen=True)
class ReminderDays:
    """The dates of the demo's deadlines, on working days, so that the reminder engine
    (``gongkai.notify.reminders``) acts on them on :attr:`scan_on` whatever the day the demo
    is loaded: its stages are counted in working days of the calendar (weekends, holidays
    and their 调休), with the engine's settings (how many working days before a deadline it
    reminds, after how many it escalates)."""

    today: date
    calendar: WorkingCalendar

    @property
    def scan_on(self) -> date:
        """The day the demo's reminders go: today, or the next working day when the demo is
        loaded on a rest day (nothing is sent on rest days)."""
        return self.calendar.on_or_after(self.today)

    def lead(self, kind: str) -> int:
        """The working days before a deadline of ``kind`` that its first reminder goes."""
        by_kind: dict[str, int] = settings.REMINDER_DAYS_BEFORE_BY_KIND
        return by_kind.get(kind, settings.REMINDER_DAYS_BEFORE)

    def reminded(self, kind: str, *, later: int = 0) -> date:
        """A due date whose first reminder goes on :attr:`scan_on` (``later``: that many
        working days after it): the lead of ``kind`` in working days after that day."""
        return self.calendar.add_working_days(self.scan_on, self.lead(kind) + later)

    @property
    def head_overdue(self) -> date:
        """A due date escalated to the unit's head on :attr:`scan_on` (one working day
        overdue with the default settings)."""
        return self.calendar.subtract_working_days(self.scan_on, settings.REMINDER_ESCALATE_HEAD)

    @property
    def union_overdue(self) -> date:
        """A due date escalated to the union office on :attr:`scan_on` (three working days
        overdue with the default settings)."""
        return self.calendar.subtract_working_days(self.scan_on, settings.REMINDER_ESCALATE_UNION)


def reminder_days(today: date | None = None) -> ReminderDays:
    """The demo's reminder dates for a demo loaded on ``today`` (one query: the calendar of
    the years around it)."""
    today = today or timezone.localdate()
    return ReminderDays(today, calendar_for(range(today.year - 1, today.year + 2)))
