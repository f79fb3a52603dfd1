"""The congress structure: terms, delegations, roster, sessions, attendance and quorum."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from gongkai.audit.models import AuditEvent
from gongkai.congress import selectors, services
from gongkai.congress.models import Attendance, Representative, SessionStatus
from gongkai.congress.selectors import Quorum
from gongkai.core.errors import ServiceError
from gongkai.policy.rules import Action, can
from tests.conftest import PERSONAS, Org
from tests.test_congress_support import build_congress, representative_user

# Service messages are asserted in English (pages choose their language per request).
pytestmark = pytest.mark.usefixtures("english")

# --- Policy: role × action -------------------------------------------------------------------

POLICY_MATRIX: list[tuple[Action, str, set[str]]] = [
    (Action.CONGRESS_VIEW, "company", set(PERSONAS)),
    (Action.CONGRESS_VIEW, "other_company", set()),
    (Action.CONGRESS_MANAGE, "company", {"union"}),
    (Action.CONGRESS_MANAGE, "other_company", set()),
    (Action.MOTION_PROPOSE, "company", {"rep"}),
    (Action.MOTION_HANDLE, "company", {"union"}),
    (Action.MOTION_ANSWER, "boiler", {"depthead"}),
    (Action.MOTION_ANSWER, "boiler_team", {"depthead", "teamlead"}),
    (Action.MOTION_ANSWER, "turbine", set()),
    (Action.PATROL_RECORD, "company", {"rep", "union"}),
    (Action.MEETING_RECORD, "boiler", {"union", "depthead"}),
    (Action.MEETING_RECORD, "boiler_team", {"union", "depthead", "teamlead"}),
    (Action.DIRECTOR_REPORT, "company", set()),
]
CASES = [(a, u, w, w in allowed) for a, u, allowed in POLICY_MATRIX for w in PERSONAS]


@pytest.mark.parametrize(
    ("action", "unit", "who", "allowed"), CASES, ids=[f"{a.value}@{u}-{w}" for a, u, w, _ in CASES]
)
def test_congress_policy_matrix(org: Org, action: Action, unit: str, who: str, allowed: bool):
    assert can(org[who], action, getattr(org, unit)) is allowed


# --- Quorum arithmetic -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("present", "total", "reached"),
    [
        (0, 0, False),
        (2, 3, False),  # exactly two thirds is NOT enough
        (3, 3, True),
        (20, 30, False),
        (21, 30, True),
        (66, 100, False),
        (67, 100, True),
        (334, 500, True),
        (333, 500, False),
        (1, 1, True),
    ],
)
def test_quorum_needs_more_than_two_thirds(present: int, total: int, reached: bool):
    assert Quorum.of(present, total).reached is reached


def test_quorum_needed_is_the_smallest_count_that_reaches_it():
    for total in range(1, 60):
        q = Quorum.of(0, total)
        assert Quorum.of(q.needed, total).reached
        assert not Quorum.of(q.needed - 1, total).reached


# --- Roster ------------------------------------------------------------------------------------


def test_roster_seeded_from_flagged_representatives_into_department_delegations(org: Org):
    c = build_congress(org)
    reps = {r.user.employee_no: r for r in Representative.objects.select_related("delegation")}
    assert set(reps) == {"rep", "rep2", "rep3", "rep4"}
    assert reps["rep"].delegation.name == "锅炉代表团"  # rep is in the boiler team
    assert reps["rep3"].delegation.name == "汽机代表团"
    assert selectors.current_term(org.company) == c.term
    assert selectors.is_representative(org["rep"], c.term)
    assert not selectors.is_representative(org["employee"], c.term)
    added = AuditEvent.objects.filter(action="congress.representative_added")
    assert added.count() == 4
    # Seeding again adds nobody.
    assert services.roster_seed(actor=org["union"], term=c.term) == []


def test_roster_changes_are_audited(org: Org):
    c = build_congress(org)
    union = org["union"]
    rep = Representative.objects.get(term=c.term, user=org["rep"])
    turbine = c.term.delegations.get(name="汽机代表团")
    services.representative_move(actor=union, representative=rep, delegation=turbine)
    services.representative_leave(actor=union, representative=rep, reason="调离")
    assert not selectors.is_representative(org["rep"], c.term)
    with pytest.raises(ServiceError):
        services.representative_leave(actor=union, representative=rep)
    services.representative_add(actor=union, term=c.term, user=org["rep"], delegation=None)
    assert selectors.is_representative(org["rep"], c.term)
    actions = list(
        AuditEvent.objects.filter(action__startswith="congress.representative")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-3:] == [
        "congress.representative_moved",
        "congress.representative_left",
        "congress.representative_added",
    ]


@pytest.mark.parametrize("who", ["rep", "leader", "depthead", "employee", "supervisor"])
def test_only_the_union_office_manages_the_roster(org: Org, who: str):
    c = build_congress(org)
    with pytest.raises(ServiceError):
        services.representative_add(actor=org[who], term=c.term, user=org["employee"])
    with pytest.raises(ServiceError):
        services.delegation_create(actor=org[who], term=c.term, name="x")
    with pytest.raises(ServiceError):
        services.session_create(
            actor=org[who], term=c.term, number=9, title="x", held_on=c.session.held_on
        )
    assert not Representative.objects.filter(user=org["employee"]).exists()


def test_an_outsider_cannot_be_seated(org: Org):
    c = build_congress(org)
    with pytest.raises(ServiceError):
        services.representative_add(actor=org["union"], term=c.term, user=org["outsider"])
    with pytest.raises(ServiceError, match="already"):
        services.representative_add(actor=org["union"], term=c.term, user=org["rep"])


def test_term_bad_input(org: Org):
    union = org["union"]
    today = timezone.localdate()
    with pytest.raises(ServiceError):
        services.term_create(
            actor=union, company=org.company, number=1, starts_on=today, ends_on=today
        )
    with pytest.raises(ServiceError):
        services.term_create(
            actor=union,
            company=org.boiler,
            number=1,
            starts_on=today,
            ends_on=today.replace(year=today.year + 3),
        )
    with pytest.raises(ServiceError):
        services.term_create(
            actor=org["outsider"],
            company=org.company,
            number=1,
            starts_on=today,
            ends_on=today.replace(year=today.year + 3),
        )
    c = build_congress(org)
    with pytest.raises(ServiceError, match="overlap"):
        services.term_create(
            actor=union,
            company=org.company,
            number=6,
            starts_on=c.term.ends_on,
            ends_on=c.term.ends_on + datetime.timedelta(days=900),
        )


def test_session_bad_input(org: Org):
    c = build_congress(org)
    union = org["union"]
    today = timezone.localdate()
    with pytest.raises(ServiceError, match="within the term"):
        services.session_create(
            actor=union,
            term=c.term,
            number=3,
            title="x",
            held_on=c.term.ends_on.replace(year=c.term.ends_on.year + 1),
        )
    with pytest.raises(ServiceError):
        services.session_create(
            actor=union,
            term=c.term,
            number=3,
            title="x",
            held_on=today,
            motions_open_on=today,
            motions_close_on=today - datetime.timedelta(days=1),
        )
    with pytest.raises(ServiceError):
        services.session_create(actor=union, term=c.term, number=3, title="  ", held_on=today)
    with pytest.raises(ServiceError, match="number"):
        services.session_create(actor=union, term=c.term, number=2, title="dup", held_on=today)


def test_session_cannot_be_closed_twice_or_reopened(org: Org):
    c = build_congress(org)
    union = org["union"]
    services.session_set_status(actor=union, session=c.session, step="close")
    with pytest.raises(ServiceError):
        services.session_set_status(actor=union, session=c.session, step="close")
    with pytest.raises(ServiceError):
        services.session_set_status(actor=union, session=c.session, step="open")
    c.session.refresh_from_db()
    assert c.session.status == SessionStatus.CLOSED


# --- Attendance --------------------------------------------------------------------------------


def test_self_check_in_on_the_day(org: Org):
    c = build_congress(org)
    services.attendance_check_in(actor=org["rep"], session=c.session)
    a = Attendance.objects.get()
    assert a.checked_in_by is None  # self check-in
    assert selectors.present_user_ids(c.session) == {org["rep"].pk}
    q = selectors.session_quorum(c.session)
    assert (q.present, q.total, q.reached) == (1, 4, False)
    with pytest.raises(ServiceError, match="already"):
        services.attendance_check_in(actor=org["rep"], session=c.session)
    assert Attendance.objects.count() == 1


@pytest.mark.parametrize("who", ["employee", "union", "leader", "outsider", "depthead"])
def test_non_representatives_cannot_check_in(org: Org, who: str):
    c = build_congress(org)
    with pytest.raises(ServiceError):
        services.attendance_check_in(actor=org[who], session=c.session)
    assert not Attendance.objects.exists()


def test_check_in_only_on_the_day_of_an_open_session(org: Org):
    c = build_congress(org)
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    with time_machine.travel(tomorrow), pytest.raises(ServiceError, match="day"):
        services.attendance_check_in(actor=org["rep"], session=c.session)
    services.session_set_status(actor=org["union"], session=c.session, step="close")
    c.session.refresh_from_db()
    with pytest.raises(ServiceError, match="open"):
        services.attendance_check_in(actor=org["rep"], session=c.session)
    assert not Attendance.objects.exists()


def test_a_representative_who_left_cannot_check_in_and_is_not_counted(org: Org):
    c = build_congress(org)
    services.attendance_check_in(actor=c.reps[1], session=c.session)
    rep = Representative.objects.get(term=c.term, user=c.reps[1])
    services.representative_leave(actor=org["union"], representative=rep)
    q = selectors.session_quorum(c.session)
    assert (q.present, q.total) == (0, 3)
    with pytest.raises(ServiceError):
        services.attendance_check_in(actor=c.reps[1], session=c.session)


def test_union_office_records_attendance_and_quorum_follows(org: Org):
    c = build_congress(org)
    seats = {r.user_id: r.pk for r in Representative.objects.filter(term=c.term)}
    ids = {seats[u.pk] for u in c.reps[:2]}
    assert services.attendance_record(actor=org["union"], session=c.session, present=ids) == (2, 0)
    q = selectors.session_quorum(c.session)
    assert (q.present, q.total, q.reached) == (2, 4, False)
    ids |= {seats[c.reps[2].pk]}
    services.attendance_record(actor=org["union"], session=c.session, present=ids)
    q = selectors.session_quorum(c.session)
    assert (q.present, q.total, q.reached) == (3, 4, True)
    assert all(a.checked_in_by == org["union"] for a in Attendance.objects.all())
    # Unticking removes a check-in.
    services.attendance_record(actor=org["union"], session=c.session, present=set())
    assert selectors.session_quorum(c.session).present == 0


def test_attendance_record_refuses_strangers_and_others(org: Org):
    c = build_congress(org)
    with pytest.raises(ServiceError):
        services.attendance_record(actor=org["union"], session=c.session, present={999_999})
    seat = Representative.objects.filter(term=c.term).first()
    for who in ("rep", "leader", "supervisor", "outsider"):
        with pytest.raises(ServiceError):
            services.attendance_record(actor=org[who], session=c.session, present={seat.pk})
    assert not Attendance.objects.exists()


def test_exactly_two_thirds_present_is_not_a_quorum(org: Org):
    c = build_congress(org, extra_reps=2)  # 3 representatives
    for user in c.reps[:2]:
        services.attendance_check_in(actor=user, session=c.session)
    q = selectors.session_quorum(c.session)
    assert (q.present, q.total, q.reached) == (2, 3, False)
    services.attendance_check_in(actor=c.reps[2], session=c.session)
    assert selectors.session_quorum(c.session).reached


def test_representative_user_helper_flags_role(org: Org):
    user = representative_user(org, "rep9")
    assert can(user, Action.MOTION_PROPOSE, org.company)
