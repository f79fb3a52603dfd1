"""Publicity windows (公示), objections (异议), findings, outcomes and the working-day calendar:
the calendar arithmetic, the services and the policy."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from gongkai.accounts.models import User
from gongkai.audit.models import AuditEvent
from gongkai.core import workdays as cal
from gongkai.core.errors import ServiceError
from gongkai.core.holidays import load_year
from gongkai.core.models import CalendarDay, DayKind
from gongkai.disclosure.models import Disclosure
from gongkai.notify.models import Notification
from gongkai.org.models import OrgUnit, UnitKind
from gongkai.policy.rules import Action, can
from gongkai.publicity import permissions as policy
from gongkai.publicity.models import (
    Finding,
    Objection,
    ObjectionEvidence,
    Outcome,
    Publicity,
    PublicityKind,
    WindowState,
)
from gongkai.publicity.selectors import finding_due, objection_stats
from gongkai.publicity.services import (
    calendar_day_add,
    calendar_day_remove,
    objection_file,
    objection_finding_record,
    publicity_open,
    publicity_outcome_publish,
)
from tests.conftest import PERSONAS, Org
from tests.factories import published_disclosure

TZ = ZoneInfo("Asia/Shanghai")
PDF_BYTES = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"
FACTS = "拟任人选在2025年安全考核中有违章记录，与公示材料不符。"


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def holidays_2026(db):
    """The 2026 arrangement from the data migration (a transactional test's flush empties
    it, so load it again when missing)."""
    load_year(CalendarDay, 2026)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


def cadre_item(unit: OrgUnit, when: date = date(2026, 9, 28), **kwargs) -> Disclosure:
    """A published cadre pre-appointment disclosure of ``unit``, published on ``when``."""
    if unit.kind == UnitKind.TEAM:  # teams publish no cadre appointments: a bonus item
        kwargs = {"entry_code": "team-bonus", "period": "2026-08", **kwargs}
    else:
        kwargs = {"entry_code": "cadre-appointment", "event_date": when, **kwargs}
    with time_machine.travel(at(when, 9), tick=False):
        return published_disclosure(
            unit=unit,
            title="拟任锅炉分场副主任人选任前公示",
            procedure="<p>经民主推荐、组织考察，党委会研究决定。</p>",
            result="<p>拟任人选：王某某，现任锅炉运行一班班长。</p>",
            **kwargs,
        )


def window(
    org: Org,
    *,
    starts_on: date = date(2026, 9, 28),
    ends_on: date | None = None,
    kind: str = PublicityKind.CADRE,
    unit: OrgUnit | None = None,
) -> Publicity:
    """A publicity window opened by the boiler department head on the day it starts."""
    disclosure = cadre_item(unit or org.boiler, starts_on)
    return publicity_open(
        actor=org["depthead"],
        disclosure=disclosure,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        at=at(starts_on),
    )


def file_on(publicity: Publicity, user: User, *, anonymous: bool = False, day=None) -> Objection:
    return objection_file(
        actor=user,
        publicity=publicity,
        text=FACTS,
        anonymous=anonymous,
        at=at(day or publicity.starts_on),
    )


def pdf(name: str = "证据.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


# --- The calendar -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 1, 1), False),  # New Year's Day, a Thursday
        (date(2026, 1, 2), False),
        (date(2026, 1, 4), True),  # Sunday worked (调休)
        (date(2026, 1, 5), True),  # an ordinary Monday
        (date(2026, 1, 10), False),  # an ordinary Saturday
        (date(2026, 2, 14), True),  # Saturday before the Spring Festival, worked
        (date(2026, 2, 16), False),  # Spring Festival
        (date(2026, 2, 23), False),
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday after, worked
        (date(2026, 4, 6), False),  # Qingming, Monday off
        (date(2026, 5, 5), False),
        (date(2026, 5, 9), True),
        (date(2026, 6, 19), False),
        (date(2026, 9, 20), True),  # Sunday worked before National Day
        (date(2026, 9, 25), False),  # Mid-Autumn
        (date(2026, 10, 7), False),
        (date(2026, 10, 10), True),  # Saturday worked after National Day
        (date(2026, 10, 11), False),
    ],
)
def test_working_days_follow_the_2026_arrangement(day, working, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert cal.is_working_day(day) is working


def test_the_2026_arrangement_is_complete():
    days = CalendarDay.objects.filter(day__year=2026)
    # 3 + 9 + 3 + 5 + 3 + 3 + 7 days off; 1 + 2 + 1 + 2 Saturdays and Sundays worked
    assert days.filter(kind=DayKind.HOLIDAY).count() == 33
    assert sorted(days.filter(kind=DayKind.WORKDAY).values_list("day", flat=True)) == [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ]
    assert all(
        d.weekday() >= 5 for d in days.filter(kind=DayKind.WORKDAY).values_list("day", flat=True)
    )


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 11, 23), 0, date(2026, 11, 23)),
        (date(2026, 11, 20), 1, date(2026, 11, 23)),  # Friday + 1 → Monday
        (date(2026, 11, 21), 1, date(2026, 11, 23)),  # from a Saturday
        (date(2026, 11, 23), 5, date(2026, 11, 30)),  # a plain week
        (date(2026, 9, 30), 1, date(2026, 10, 8)),  # over National Day
        (date(2026, 9, 30), 3, date(2026, 10, 10)),  # …onto the Saturday worked
        (date(2026, 9, 18), 1, date(2026, 9, 20)),  # onto the Sunday worked
        (date(2026, 9, 28), 5, date(2026, 10, 10)),
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # Friday → the Saturday worked
        (date(2026, 2, 14), 1, date(2026, 2, 24)),  # over the Spring Festival
        (date(2026, 12, 30), 2, date(2027, 1, 1)),  # no 2027 arrangement: weekdays only
    ],
)
def test_add_working_days(start, n, expected, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert cal.add_working_days(start, n) == expected


def test_year_boundary_uses_the_next_years_exceptions(django_assert_num_queries):
    CalendarDay.objects.create(day=date(2027, 1, 1), kind=DayKind.HOLIDAY, name="元旦")
    with django_assert_num_queries(1):
        assert cal.add_working_days(date(2026, 12, 30), 2) == date(2027, 1, 4)
    with django_assert_num_queries(1):
        assert cal.working_days_between(date(2026, 12, 30), date(2027, 1, 4)) == 2
    assert cal.working_days_between(date(2026, 12, 31), date(2027, 1, 3)) == 0


def test_working_days_between_counts_after_a_up_to_b(django_assert_num_queries):
    assert cal.working_days_between(date(2026, 11, 23), date(2026, 11, 30)) == 5
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert cal.working_days_between(date(2026, 1, 1), date(2026, 12, 31)) == 248
    with django_assert_num_queries(0):
        assert cal.working_days_between(date(2026, 5, 5), date(2026, 5, 5)) == 0
        assert cal.working_days_between(date(2026, 5, 6), date(2026, 5, 5)) == 0


def test_add_and_between_are_each_others_inverse():
    calendar = cal.calendar_for([2026, 2027])
    start = date(2026, 1, 1)
    for offset in range(0, 365, 3):
        s = start + timedelta(days=offset)
        for n in range(0, 12):
            end = calendar.add_working_days(s, n)
            assert calendar.working_days_between(s, end) == n
            assert n == 0 or calendar.is_working_day(end)


def test_negative_counts_and_unloaded_years_are_refused():
    with pytest.raises(ValueError):
        cal.add_working_days(date(2026, 1, 1), -1)
    with pytest.raises(ValueError):
        cal.calendar_for([2026]).is_working_day(date(2025, 12, 31))


def test_the_union_office_adds_and_removes_calendar_days_audited(org: Org):
    union = org["union"]
    day = calendar_day_add(actor=union, day=date(2027, 1, 1), kind=DayKind.HOLIDAY, name="元旦")
    assert not cal.is_working_day(date(2027, 1, 1))
    event = AuditEvent.objects.get(action="calendar.day_added")
    assert event.actor == union and event.after["day"] == "2027-01-01"
    calendar_day_remove(actor=union, entry=day)
    assert cal.is_working_day(date(2027, 1, 1))
    assert AuditEvent.objects.filter(action="calendar.day_removed").count() == 1


@pytest.mark.parametrize("who", [p for p in PERSONAS if p != "union"])
def test_only_the_union_office_changes_the_calendar(org: Org, who):
    with pytest.raises(ServiceError):
        calendar_day_add(actor=org[who], day=date(2027, 1, 1), kind=DayKind.HOLIDAY)
    with pytest.raises(ServiceError):
        calendar_day_remove(actor=org[who], entry=CalendarDay.objects.first())
    assert not CalendarDay.objects.filter(day__year=2027).exists()
    assert CalendarDay.objects.filter(day__year=2026).count() == 39


def test_calendar_bad_input_is_refused_and_changes_nothing(org: Org):
    union = org["union"]
    with pytest.raises(ServiceError, match="weekday"):
        calendar_day_add(actor=union, day=date(2027, 1, 6), kind=DayKind.WORKDAY)
    with pytest.raises(ServiceError, match="already on the calendar"):
        calendar_day_add(actor=union, day=date(2026, 10, 1), kind=DayKind.HOLIDAY)
    with pytest.raises(ServiceError):
        calendar_day_add(actor=union, day=date(2027, 1, 1), kind="festival")
    with pytest.raises(ServiceError, match="too long"):
        calendar_day_add(actor=union, day=date(2027, 1, 1), kind=DayKind.HOLIDAY, name="节" * 61)
    assert not CalendarDay.objects.filter(day__year=2027).exists()
    assert not AuditEvent.objects.filter(action__startswith="calendar.").exists()


# --- Opening a window -------------------------------------------------------------------------


def test_cadre_publicity_ends_five_working_days_after_it_starts(org: Org):
    publicity = window(org, starts_on=date(2026, 9, 28))
    # 29, 30 Sept; 1–7 Oct off; 8, 9 Oct; Saturday 10 Oct worked
    assert publicity.ends_on == date(2026, 10, 10)
    event = AuditEvent.objects.get(action="publicity.opened")
    assert event.actor == org["depthead"] and event.after["ends_on"] == "2026-10-10"


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (date(2026, 9, 27), WindowState.UPCOMING),
        (date(2026, 9, 28), WindowState.OPEN),
        (date(2026, 10, 3), WindowState.OPEN),
        (date(2026, 10, 10), WindowState.OPEN),
        (date(2026, 10, 11), WindowState.CLOSED),
    ],
)
def test_open_or_closed_is_derived_from_the_dates(org: Org, today, state):
    publicity = window(org, starts_on=date(2026, 9, 28))
    assert publicity.state_on(today) == state


def test_general_publicity_needs_its_last_day(org: Org):
    disclosure = cadre_item(org.boiler)
    kwargs = {
        "actor": org["depthead"],
        "disclosure": disclosure,
        "kind": PublicityKind.GENERAL,
        "starts_on": date(2026, 9, 28),
        "at": at(date(2026, 9, 28)),
    }
    with pytest.raises(ServiceError, match="last day") as error:
        publicity_open(**kwargs)
    assert error.value.field == "ends_on"
    publicity = publicity_open(**kwargs, ends_on=date(2026, 9, 29))
    assert publicity.ends_on == date(2026, 9, 29)


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "message"),
    [
        (date(2026, 9, 27), None, "past"),
        (date(2026, 12, 1), None, "within 60 days"),
        (date(2026, 9, 28), date(2026, 9, 27), "before it starts"),
        (date(2026, 9, 28), date(2026, 10, 9), "at least 5 working days"),
        (date(2026, 9, 28), date(2027, 1, 28), "at most 90 days"),
    ],
)
def test_bad_window_dates_are_refused(org: Org, starts_on, ends_on, message):
    disclosure = cadre_item(org.boiler)
    with pytest.raises(ServiceError, match=message):
        publicity_open(
            actor=org["depthead"],
            disclosure=disclosure,
            kind=PublicityKind.CADRE,
            starts_on=starts_on,
            ends_on=ends_on,
            at=at(date(2026, 9, 28)),
        )
    assert not Publicity.objects.exists()
    assert not AuditEvent.objects.filter(action="publicity.opened").exists()


def test_one_window_at_a_time_until_its_outcome_is_published(org: Org):
    publicity = window(org)
    with pytest.raises(ServiceError, match="already has a publicity window"):
        publicity_open(
            actor=org["depthead"],
            disclosure=publicity.disclosure,
            kind=PublicityKind.CADRE,
            starts_on=date(2026, 9, 29),
            at=at(date(2026, 9, 29)),
        )
    publicity_outcome_publish(
        actor=org["depthead"],
        publicity=publicity,
        outcome=Outcome.NO_OBJECTION,
        text="",
        at=at(date(2026, 10, 12)),
    )
    again = publicity_open(
        actor=org["depthead"],
        disclosure=publicity.disclosure,
        kind=PublicityKind.GENERAL,
        starts_on=date(2026, 10, 12),
        ends_on=date(2026, 10, 16),
        at=at(date(2026, 10, 12)),
    )
    assert again.pk != publicity.pk


def test_only_published_disclosures_get_a_window(org: Org):
    from gongkai.disclosure.services import Transition, disclosure_transition

    disclosure = cadre_item(org.boiler)
    disclosure_transition(
        actor=org["union"], disclosure=disclosure, transition=Transition.WITHDRAW, reason="撤回"
    )
    with pytest.raises(ServiceError, match="Only a published disclosure"):
        publicity_open(
            actor=org["depthead"],
            disclosure=disclosure,
            kind=PublicityKind.CADRE,
            starts_on=date(2026, 9, 28),
            at=at(date(2026, 9, 28)),
        )


# Who may open a window on a department's item: its head, the union office, its officers.
OPENERS = {"union", "depthead"}


@pytest.mark.parametrize("who", PERSONAS)
def test_who_may_open_a_window_on_a_department_item(org: Org, who):
    disclosure = cadre_item(org.boiler)
    assert policy.can_open_publicity(org[who], disclosure) is (who in OPENERS)
    if who in OPENERS:
        publicity_open(
            actor=org[who],
            disclosure=disclosure,
            kind=PublicityKind.CADRE,
            starts_on=date(2026, 9, 28),
            at=at(date(2026, 9, 28)),
        )
        assert Publicity.objects.count() == 1
    else:
        with pytest.raises(ServiceError, match="may not open"):
            publicity_open(
                actor=org[who],
                disclosure=disclosure,
                kind=PublicityKind.CADRE,
                starts_on=date(2026, 9, 28),
                at=at(date(2026, 9, 28)),
            )
        assert not Publicity.objects.exists()


def test_a_team_head_opens_windows_on_the_team_item_only(org: Org):
    team_item = cadre_item(org.boiler)  # a department item: not the team head's
    assert not policy.can_open_publicity(org["teamlead"], team_item)
    from tests.factories import published_disclosure as publish

    with time_machine.travel(at(date(2026, 9, 28), 9), tick=False):
        team = publish(unit=org.boiler_team, entry_code="team-bonus", period="2026-08")
    assert policy.can_open_publicity(org["teamlead"], team)


# --- Objections -------------------------------------------------------------------------------


def test_an_objection_is_stored_with_its_date_and_the_supervision_group_is_told(org: Org):
    publicity = window(org)
    objection = file_on(publicity, org["employee"], day=date(2026, 10, 8))
    assert objection.filed_on == date(2026, 10, 8)
    assert objection.filed_by == org["employee"] and not objection.anonymous
    event = AuditEvent.objects.get(action="objection.filed")
    assert event.actor == org["employee"]
    note = Notification.objects.get(user=org["supervisor"])
    assert note.url == f"/publicity/{publicity.pk}/"
    assert org["employee"].name not in note.message


@pytest.mark.parametrize(
    ("today", "message"),
    [
        (date(2026, 9, 27), "opens on"),
        (date(2026, 10, 11), "closed on"),
        (date(2026, 12, 1), "closed on"),
    ],
)
def test_objections_outside_the_window_are_refused_and_nothing_is_stored(org: Org, today, message):
    publicity = window(org)
    with (
        time_machine.travel(at(today), tick=False),
        pytest.raises(ServiceError, match=message) as error,
    ):
        objection_file(
            actor=org["employee"],
            publicity=publicity,
            text=FACTS,
            anonymous=True,
            uploads=[pdf()],
        )
    if message == "closed on":
        assert "Oct. 10, 2026" in error.value.message
    assert not Objection.objects.exists()
    assert not ObjectionEvidence.objects.exists()
    assert not AuditEvent.objects.filter(action="objection.filed").exists()
    assert not Notification.objects.filter(user=org["supervisor"]).exists()


def test_objections_are_accepted_on_the_first_and_last_day_by_the_real_clock(org: Org):
    publicity = window(org)
    for day in (date(2026, 9, 28), date(2026, 10, 10)):
        with time_machine.travel(at(day, 23), tick=False):
            objection_file(actor=org["rep"], publicity=publicity, text=FACTS, anonymous=False)
    assert list(Objection.objects.values_list("filed_on", flat=True)) == [
        date(2026, 9, 28),
        date(2026, 10, 10),
    ]


def test_an_anonymous_objection_leaves_no_filer_in_the_audit_log_or_notifications(org: Org):
    publicity = window(org)
    objection = file_on(publicity, org["employee"], anonymous=True)
    assert objection.filed_by == org["employee"]  # kept for the supervision group
    event = AuditEvent.objects.get(action="objection.filed")
    assert event.actor is None and event.actor_label == "system"
    assert "employee" not in str(event.after) and "employee" not in event.target_label
    for note in Notification.objects.all():
        assert org["employee"].name not in note.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least 10 characters"),
        ("   太短   ", "at least 10 characters"),
        ("很" * 5001, "too long"),
    ],
)
def test_bad_objection_text_is_refused(org: Org, text, message):
    publicity = window(org)
    with pytest.raises(ServiceError, match=message) as error:
        objection_file(
            actor=org["employee"],
            publicity=publicity,
            text=text,
            anonymous=False,
            at=at(publicity.starts_on),
        )
    assert error.value.field == "text"
    assert not Objection.objects.exists()


def test_evidence_files_are_sniffed_and_a_bad_one_stores_nothing(org: Org):
    publicity = window(org)
    exe = SimpleUploadedFile("证据.pdf", b"MZ\x90\x00" + b"\x00" * 100)
    with pytest.raises(ServiceError, match="not accepted") as error:
        objection_file(
            actor=org["employee"],
            publicity=publicity,
            text=FACTS,
            anonymous=False,
            uploads=[pdf(), exe],
            at=at(publicity.starts_on),
        )
    assert error.value.field == "evidence"
    assert not Objection.objects.exists() and not ObjectionEvidence.objects.exists()
    objection = objection_file(
        actor=org["employee"],
        publicity=publicity,
        text=FACTS,
        anonymous=False,
        uploads=[pdf("../../考勤表.pdf")],
        at=at(publicity.starts_on),
    )
    evidence = objection.evidence.get()
    assert evidence.original_name == "考勤表.pdf"
    assert evidence.content_type == "application/pdf"
    with evidence.file.open("rb") as handle:
        assert handle.read() == PDF_BYTES


def test_images_as_evidence_lose_their_metadata(org: Org):
    from tests.test_attachments import jpeg_with_gps_and_orientation

    publicity = window(org)
    objection = objection_file(
        actor=org["employee"],
        publicity=publicity,
        text=FACTS,
        anonymous=True,
        uploads=[SimpleUploadedFile("现场.jpg", jpeg_with_gps_and_orientation())],
        at=at(publicity.starts_on),
    )
    evidence = objection.evidence.get()
    from PIL import Image

    with evidence.file.open("rb") as handle, Image.open(handle) as image:
        assert not image.getexif()
        assert "exif" not in image.info


def test_too_many_evidence_files_are_refused(org: Org):
    publicity = window(org)
    with pytest.raises(ServiceError, match="at most 5 files"):
        objection_file(
            actor=org["employee"],
            publicity=publicity,
            text=FACTS,
            anonymous=False,
            uploads=[pdf() for _ in range(6)],
            at=at(publicity.starts_on),
        )
    assert not Objection.objects.exists()


# Who may file on a department's internal item: whoever may read it in the company.
FILERS = {"union", "leader", "supervisor", "discipline", "depthead", "teamlead", "rep", "employee"}


@pytest.mark.parametrize("who", [*PERSONAS, "turbine_worker", "outsider"])
def test_who_may_file_an_objection(org: Org, who):
    publicity = window(org)
    allowed = who in FILERS
    assert policy.can_file_objection(org[who], publicity) is allowed
    if allowed:
        file_on(publicity, org[who])
        assert Objection.objects.count() == 1
    else:
        with pytest.raises(ServiceError, match="may not file"):
            file_on(publicity, org[who])
        assert not Objection.objects.exists()


# --- Findings ---------------------------------------------------------------------------------


def test_the_supervision_group_records_a_finding_once_audited_and_the_filer_is_told(org: Org):
    publicity = window(org)
    objection = file_on(publicity, org["employee"], anonymous=True)
    recorded = objection_finding_record(
        actor=org["supervisor"],
        objection=objection,
        finding=Finding.UNFOUNDED,
        text="经核查，违章记录已于2025年6月撤销。",
        at=at(date(2026, 10, 12)),
    )
    assert recorded.finding == Finding.UNFOUNDED
    assert recorded.finding_recorded_by == org["supervisor"]
    event = AuditEvent.objects.get(action="objection.finding_recorded")
    assert event.actor == org["supervisor"] and event.after["finding"] == "unfounded"
    assert Notification.objects.filter(user=org["employee"]).count() == 1
    with pytest.raises(ServiceError, match="already recorded"):
        objection_finding_record(
            actor=org["supervisor"], objection=objection, finding=Finding.FOUNDED, text="改"
        )
    objection.refresh_from_db()
    assert objection.finding == Finding.UNFOUNDED


@pytest.mark.parametrize(("finding", "text"), [("maybe", "说明"), (Finding.FOUNDED, "  ")])
def test_bad_findings_are_refused(org: Org, finding, text):
    objection = file_on(window(org), org["employee"])
    with pytest.raises(ServiceError):
        objection_finding_record(
            actor=org["supervisor"], objection=objection, finding=finding, text=text
        )
    objection.refresh_from_db()
    assert objection.finding is None and objection.finding_recorded_at is None


@pytest.mark.parametrize("who", PERSONAS)
def test_only_the_supervision_group_reviews_objections(org: Org, who):
    publicity = window(org)
    objection = file_on(publicity, org["rep"])
    allowed = who == "supervisor"
    assert policy.can_review_objections(org[who], publicity) is allowed
    assert policy.can_see_filer(org[who], objection) is (allowed or who == "rep")
    if allowed:
        objection_finding_record(
            actor=org[who], objection=objection, finding=Finding.PARTLY, text="部分属实。"
        )
    else:
        with pytest.raises(ServiceError, match="may not record"):
            objection_finding_record(
                actor=org[who], objection=objection, finding=Finding.PARTLY, text="部分属实。"
            )
        objection.refresh_from_db()
        assert objection.finding is None


# --- Outcome ----------------------------------------------------------------------------------


def test_the_outcome_waits_for_the_window_to_close_and_for_every_finding(org: Org):
    publicity = window(org)
    objection = file_on(publicity, org["employee"])
    args = {"actor": org["depthead"], "publicity": publicity, "outcome": Outcome.UNFOUNDED}
    with pytest.raises(ServiceError, match="open until"):
        publicity_outcome_publish(**args, text="经核查不属实。", at=at(date(2026, 10, 10)))
    with pytest.raises(ServiceError, match="1 objection"):
        publicity_outcome_publish(**args, text="经核查不属实。", at=at(date(2026, 10, 12)))
    publicity.refresh_from_db()
    assert publicity.outcome is None
    objection_finding_record(
        actor=org["supervisor"], objection=objection, finding=Finding.UNFOUNDED, text="不属实。"
    )
    with pytest.raises(ServiceError, match="Objections were filed"):
        publicity_outcome_publish(
            **{**args, "outcome": Outcome.NO_OBJECTION}, text="", at=at(date(2026, 10, 12))
        )
    with pytest.raises(ServiceError, match="Explain"):
        publicity_outcome_publish(**args, text=" ", at=at(date(2026, 10, 12)))
    done = publicity_outcome_publish(
        **args, text="经核查不属实，按程序任命。", at=at(date(2026, 10, 12))
    )
    assert done.outcome == Outcome.UNFOUNDED and done.outcome_published_by == org["depthead"]
    event = AuditEvent.objects.get(action="publicity.outcome_published")
    assert event.after == {
        "outcome": "unfounded",
        "text": "经核查不属实，按程序任命。",
        "objections": 1,
    }
    with pytest.raises(ServiceError, match="already published"):
        publicity_outcome_publish(**args, text="再次", at=at(date(2026, 10, 13)))


def test_without_objections_the_outcome_is_no_objection(org: Org):
    publicity = window(org)
    args = {"actor": org["union"], "publicity": publicity, "at": at(date(2026, 10, 11))}
    with pytest.raises(ServiceError, match="No objection was filed"):
        publicity_outcome_publish(**args, outcome=Outcome.UNFOUNDED, text="不属实")
    with pytest.raises(ServiceError, match="Choose the outcome"):
        publicity_outcome_publish(**args, outcome="approved", text="")
    done = publicity_outcome_publish(**args, outcome=Outcome.NO_OBJECTION, text="")
    assert done.outcome == Outcome.NO_OBJECTION


@pytest.mark.parametrize("who", PERSONAS)
def test_who_may_publish_the_outcome(org: Org, who):
    publicity = window(org)
    allowed = who in OPENERS
    assert policy.can_publish_outcome(org[who], publicity) is allowed
    call = {
        "actor": org[who],
        "publicity": publicity,
        "outcome": Outcome.NO_OBJECTION,
        "text": "",
        "at": at(date(2026, 10, 12)),
    }
    if allowed:
        assert publicity_outcome_publish(**call).outcome == Outcome.NO_OBJECTION
    else:
        with pytest.raises(ServiceError, match="may not publish"):
            publicity_outcome_publish(**call)
        publicity.refresh_from_db()
        assert publicity.outcome is None


# --- Policy table rows ------------------------------------------------------------------------

POLICY_MATRIX: list[tuple[Action, str, set[str]]] = [
    (Action.PUBLICITY_OPEN, "boiler", {"union", "depthead"}),
    (Action.PUBLICITY_OPEN, "boiler_team", {"union", "depthead", "teamlead"}),
    (Action.PUBLICITY_OPEN, "turbine", {"union"}),
    (Action.PUBLICITY_OPEN, "other_company", set()),
    (Action.OBJECTION_FILE, "boiler", set(PERSONAS)),
    (Action.OBJECTION_FILE, "other_company", set()),
    (Action.OBJECTION_REVIEW, "boiler", {"supervisor"}),
    (Action.OBJECTION_REVIEW, "other_company", set()),
    (Action.CALENDAR_MANAGE, "company", {"union"}),
]
CASES = [(a, u, w, w in allowed) for a, u, allowed in POLICY_MATRIX for w in PERSONAS]


@pytest.mark.parametrize(
    ("action", "unit", "who", "allowed"), CASES, ids=[f"{a.value}@{u}-{w}" for a, u, w, _ in CASES]
)
def test_policy_matrix(org: Org, action, unit, who, allowed):
    assert can(org[who], action, getattr(org, unit)) is allowed


# --- Statistics for the supervision part ------------------------------------------------------


def test_finding_due_is_five_working_days_after_the_window(org: Org):
    assert finding_due(date(2026, 9, 30)) == date(2026, 10, 13)  # 8, 9, 10, 12, 13 Oct
    assert finding_due(date(2026, 11, 20)) == date(2026, 11, 27)


def test_objection_stats_per_unit(org: Org, django_assert_num_queries):
    boiler = window(org, starts_on=date(2026, 9, 28))  # ends 10 Oct; findings due 16 Oct
    team = window(org, starts_on=date(2026, 11, 2), unit=org.boiler_team)  # ends 9 Nov, due 16
    on_time = file_on(boiler, org["employee"])
    late = file_on(boiler, org["rep"], anonymous=True)
    file_on(boiler, org["teamlead"], day=date(2026, 10, 9))  # never found: missing
    objection_finding_record(
        actor=org["supervisor"],
        objection=on_time,
        finding=Finding.FOUNDED,
        text="属实。",
        at=at(date(2026, 10, 16), 23),
    )
    objection_finding_record(
        actor=org["supervisor"],
        objection=late,
        finding=Finding.UNFOUNDED,
        text="不属实。",
        at=at(date(2026, 10, 17), 9),
    )
    file_on(team, org["employee"])  # no finding, still within time on 12 Nov
    with django_assert_num_queries(2):
        stats = objection_stats(
            [org.company.path], date(2026, 9, 1), date(2026, 11, 30), today=date(2026, 11, 12)
        )
    assert set(stats) == {org.boiler.pk, org.boiler_team.pk}
    b = stats[org.boiler.pk]
    assert (b.filed, b.on_time, b.late, b.missing, b.pending) == (3, 1, 1, 1, 0)
    t = stats[org.boiler_team.pk]
    assert (t.filed, t.on_time, t.late, t.missing, t.pending) == (1, 0, 0, 0, 1)
    later = objection_stats(
        [org.company.path], date(2026, 9, 1), date(2026, 11, 30), today=date(2026, 11, 17)
    )
    assert later[org.boiler_team.pk].missing == 1
    # Only the units asked for, and only objections filed in the range.
    assert set(objection_stats([org.boiler_team.path], date(2026, 9, 1), date(2026, 12, 31))) == {
        org.boiler_team.pk
    }
    assert objection_stats([org.turbine.path], date(2026, 9, 1), date(2026, 12, 31)) == {}
    assert objection_stats([org.company.path], date(2026, 11, 10), date(2026, 11, 30)) == {}


# --- The database refuses changes below the services ------------------------------------------


def test_the_database_refuses_to_rewrite_an_objection_or_its_finding(org: Org):
    from django.db import DatabaseError, transaction

    objection = file_on(window(org), org["employee"], anonymous=True)
    with pytest.raises(DatabaseError), transaction.atomic():
        Objection.objects.filter(pk=objection.pk).update(anonymous=False)
    with pytest.raises(DatabaseError), transaction.atomic():
        Objection.objects.filter(pk=objection.pk).update(text="改写")
    objection_finding_record(
        actor=org["supervisor"], objection=objection, finding=Finding.FOUNDED, text="属实"
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        Objection.objects.filter(pk=objection.pk).update(finding=Finding.UNFOUNDED)
    objection.refresh_from_db()
    assert objection.anonymous and objection.text == FACTS
    assert objection.finding == Finding.FOUNDED


def test_the_database_refuses_to_move_a_window_or_rewrite_its_outcome(org: Org):
    from django.db import DatabaseError, transaction

    publicity = window(org)
    with pytest.raises(DatabaseError), transaction.atomic():
        Publicity.objects.filter(pk=publicity.pk).update(ends_on=date(2026, 12, 31))
    publicity_outcome_publish(
        actor=org["union"],
        publicity=publicity,
        outcome=Outcome.NO_OBJECTION,
        text="",
        at=at(date(2026, 10, 12)),
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        Publicity.objects.filter(pk=publicity.pk).update(outcome=Outcome.WITHDRAWN)
    publicity.refresh_from_db()
    assert publicity.outcome == Outcome.NO_OBJECTION and publicity.ends_on == date(2026, 10, 10)
