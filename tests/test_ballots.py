"""Secret ballots: setting up, quorum, eligibility, casting, closing, counting, publishing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.audit.models import AuditEvent
from gongkai.ballots import permissions as policy
from gongkai.ballots.models import (
    Elector,
    Participation,
    PendingBallot,
    Poll,
    PollKind,
    PollStatus,
    SealedBallot,
)
from gongkai.ballots.selectors import evaluation_results, has_voted, turnout
from gongkai.ballots.services import (
    AlreadyVoted,
    CadreSpec,
    GroupSpec,
    ballot_cast,
    poll_close,
    poll_create,
    poll_open,
    poll_publish,
    poll_recount,
    poll_update,
)
from gongkai.core.errors import ServiceError
from gongkai.disclosure.models import DisclosureStatus
from tests.conftest import PERSONAS, Org
from tests.factories import UserFactory

# Service messages are asserted in English (pages choose their language per request).
pytestmark = pytest.mark.usefixtures("english")


@dataclass
class Hall:
    session: object
    reps: list[User]  # all representatives; the first ``present`` are checked in
    present: list[User]


def make_hall(org: Org, *, total: int = 6, present: int = 5, with_rep: bool = True) -> Hall:
    """A term with ``total`` representatives (the ``rep`` persona first) and an open session
    where the first ``present`` have checked in."""
    from gongkai.congress.models import Attendance, Representative, Session, Term

    term = Term.objects.create(
        company=org.company, number=1, starts_on=date(2024, 1, 1), ends_on=date(2028, 12, 31)
    )
    users = [org["rep"]] if with_rep else []
    while len(users) < total:
        users.append(UserFactory(unit=org.boiler_team))
    reps = [
        Representative.objects.create(term=term, user=u, elected_on=date(2024, 1, 1)) for u in users
    ]
    session = Session.objects.create(
        term=term,
        number=1,
        title="第一届第三次职工代表大会",
        held_on=date(2026, 3, 1),
        status="open",
    )
    for rep in reps[:present]:
        Attendance.objects.create(session=session, representative=rep, checked_in_at=timezone.now())
    return Hall(session=session, reps=users, present=users[:present])


def resolution(org: Org, hall: Hall, **kwargs) -> Poll:
    return poll_create(
        actor=org["union"],
        company=org.company,
        kind=PollKind.RESOLUTION,
        title="关于2026年工资调整方案的表决",
        session=hall.session,
        items=kwargs.pop("items", ["工资调整方案", "福利分配方案"]),
        **kwargs,
    )


def cadres(org: Org, n: int = 4) -> list[User]:
    return [UserFactory(unit=org.boiler, name=f"干部{i}", position="副主任") for i in range(n)]


def evaluation(org: Org, hall: Hall, people: list[User], **kwargs) -> Poll:
    return poll_create(
        actor=org["union"],
        company=org.company,
        kind=PollKind.EVALUATION,
        title="2026年度中层干部民主评议",
        session=hall.session,
        cadres=[CadreSpec(user=u) for u in people],
        **kwargs,
    )


def item_keys(poll: Poll) -> list[str]:
    return [str(pk) for pk in poll.items.values_list("pk", flat=True)]


def all_same(poll: Poll, value: str) -> dict[str, str]:
    return dict.fromkeys(item_keys(poll), value)


def boxed(pending: PendingBallot) -> dict[str, str]:
    """The choices in a pending ballot's box (only the application's key opens it)."""
    from gongkai.ballots.boxes import open_ballot

    return open_ballot(pending.poll_id, bytes(pending.box))[1]


def state(poll: Poll) -> tuple[int, int, int, str]:
    return (
        Participation.objects.filter(poll=poll).count(),
        PendingBallot.objects.filter(poll=poll).count(),
        SealedBallot.objects.filter(poll=poll).count(),
        Poll.objects.get(pk=poll.pk).status,
    )


# --- Setting up and opening -----------------------------------------------------------------


def test_union_office_sets_up_a_resolution_and_others_cannot(org: Org):
    hall = make_hall(org)
    poll = resolution(org, hall)
    assert poll.status == PollStatus.DRAFT
    assert list(poll.items.values_list("title", flat=True)) == ["工资调整方案", "福利分配方案"]
    assert AuditEvent.objects.filter(action="ballots.created", target_id=str(poll.pk)).exists()
    for login in PERSONAS:
        if login == "union":
            continue
        with pytest.raises(ServiceError):
            poll_create(
                actor=org[login],
                company=org.company,
                kind=PollKind.RESOLUTION,
                title="x",
                session=hall.session,
                items=["a"],
            )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "长" * 201}, "title"),
        ({"items": []}, "items"),
        ({"items": ["  ", ""]}, "items"),
        ({"items": ["x" * 301]}, "items"),
    ],
)
def test_bad_resolution_setup_is_refused_and_nothing_is_saved(org: Org, kwargs, field):
    hall = make_hall(org)
    base = {"title": "表决", "items": ["方案"]} | kwargs
    with pytest.raises(ServiceError) as error:
        poll_create(
            actor=org["union"],
            company=org.company,
            kind=PollKind.RESOLUTION,
            session=hall.session,
            **base,
        )
    assert error.value.field == field
    assert not Poll.objects.exists()


def test_evaluation_setup_refuses_duplicates_and_bad_groups(org: Org):
    hall = make_hall(org)
    people = cadres(org, 2)
    with pytest.raises(ServiceError):
        evaluation(org, hall, [people[0], people[0]])
    with pytest.raises(ServiceError):  # no default group
        evaluation(org, hall, people, groups=[GroupSpec(name="领导", weight=Decimal("0.5"))])
    with pytest.raises(ServiceError):  # a person in two groups
        evaluation(
            org,
            hall,
            people,
            groups=[
                GroupSpec(name="领导", weight=Decimal("0.5"), members=[org["leader"]]),
                GroupSpec(
                    name="代表", weight=Decimal("0.5"), members=[org["leader"]], is_default=True
                ),
            ],
        )
    assert not Poll.objects.exists()


def test_a_resolution_needs_a_session(org: Org):
    with pytest.raises(ServiceError):
        poll_create(
            actor=org["union"],
            company=org.company,
            kind=PollKind.RESOLUTION,
            title="表决",
            unit=org.company,
            items=["方案"],
        )


def test_draft_can_be_edited_but_not_after_opening(org: Org):
    hall = make_hall(org)
    poll = resolution(org, hall)
    poll_update(
        actor=org["union"], poll=poll, title="新标题", session=hall.session, items=["只有一项"]
    )
    poll.refresh_from_db()
    assert poll.title == "新标题" and poll.items.count() == 1
    poll_open(actor=org["union"], poll=poll)
    with pytest.raises(ServiceError):
        poll_update(actor=org["union"], poll=poll, title="再改", session=hall.session, items=["x"])
    assert Poll.objects.get(pk=poll.pk).title == "新标题"


def test_opening_snapshots_the_representatives_present(org: Org):
    hall = make_hall(org, total=6, present=5)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall))
    assert poll.status == PollStatus.OPEN
    assert set(Elector.objects.filter(poll=poll).values_list("user_id", flat=True)) == {
        u.pk for u in hall.present
    }
    assert (poll.electorate_size, poll.present_count, poll.total_count) == (5, 5, 6)
    assert AuditEvent.objects.filter(action="ballots.opened").count() == 1


@pytest.mark.parametrize(("present", "opens"), [(4, False), (5, True), (6, True)])
def test_opening_needs_more_than_two_thirds_present(org: Org, present, opens):
    hall = make_hall(org, total=6, present=present)  # 4 of 6 is exactly two thirds
    poll = resolution(org, hall)
    if opens:
        poll_open(actor=org["union"], poll=poll)
        assert Poll.objects.get(pk=poll.pk).status == PollStatus.OPEN
    else:
        with pytest.raises(ServiceError) as error:
            poll_open(actor=org["union"], poll=poll)
        assert "4" in error.value.message and "6" in error.value.message
        assert Poll.objects.get(pk=poll.pk).status == PollStatus.DRAFT
        assert not Elector.objects.exists()


def test_only_the_union_office_opens(org: Org):
    hall = make_hall(org)
    poll = resolution(org, hall)
    for login in ("leader", "supervisor", "rep", "depthead", "employee", "outsider"):
        with pytest.raises(ServiceError):
            poll_open(actor=org[login], poll=poll)
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.DRAFT


def test_mass_evaluation_electorate_is_the_active_employees_of_the_subtree(org: Org):
    people = cadres(org, 2)
    gone = UserFactory(unit=org.boiler_team, is_active=False)
    poll = poll_create(
        actor=org["union"],
        company=org.company,
        kind=PollKind.EVALUATION,
        title="锅炉分场年终群众评议",
        unit=org.boiler,
        cadres=[CadreSpec(user=u) for u in people],
    )
    poll_open(actor=org["union"], poll=poll)
    expected = set(
        User.objects.filter(is_active=True, unit__path__startswith=org.boiler.path).values_list(
            "pk", flat=True
        )
    )
    electors = set(Elector.objects.filter(poll=poll).values_list("user_id", flat=True))
    assert electors == expected
    assert gone.pk not in electors and org["turbine_worker"].pk not in electors
    assert org["employee"].pk in electors


# --- Casting --------------------------------------------------------------------------------


def test_a_representative_present_casts_once(org: Org):
    hall = make_hall(org)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall))
    ballot_cast(actor=org["rep"], poll=poll, choices=all_same(poll, "for"))
    assert state(poll) == (1, 1, 0, PollStatus.OPEN)
    assert has_voted(org["rep"], poll)
    assert turnout(poll).voted == 1
    with pytest.raises(AlreadyVoted):
        ballot_cast(actor=org["rep"], poll=poll, choices=all_same(poll, "for"))
    with pytest.raises(AlreadyVoted):
        ballot_cast(actor=org["rep"], poll=poll, choices=all_same(poll, "against"))
    assert state(poll) == (1, 1, 0, PollStatus.OPEN)
    assert boxed(PendingBallot.objects.get(poll=poll)) == all_same(poll, "for")


def test_casting_is_not_audited(org: Org):
    hall = make_hall(org)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall))
    before = AuditEvent.objects.count()
    ballot_cast(actor=org["rep"], poll=poll, choices=all_same(poll, "for"))
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("who", ["employee", "union", "leader", "supervisor", "outsider", "absent"])
def test_someone_not_eligible_cannot_cast(org: Org, who):
    hall = make_hall(org, total=6, present=5)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall))
    voter = hall.reps[5] if who == "absent" else org[who]
    with pytest.raises(ServiceError) as error:
        ballot_cast(actor=voter, poll=poll, choices=all_same(poll, "for"))
    assert "eligible" in error.value.message
    assert state(poll) == (0, 0, 0, PollStatus.OPEN)


def test_a_ballot_for_a_draft_or_closed_vote_is_refused(org: Org):
    hall = make_hall(org)
    poll = resolution(org, hall)
    with pytest.raises(ServiceError):
        ballot_cast(actor=org["rep"], poll=poll, choices=all_same(poll, "for"))
    poll_open(actor=org["union"], poll=poll)
    poll_close(actor=org["union"], poll=poll)
    with pytest.raises(ServiceError) as error:
        ballot_cast(actor=org["rep"], poll=poll, choices=all_same(poll, "for"))
    assert "not open" in error.value.message
    assert state(poll) == (0, 0, 0, PollStatus.CLOSED)


@pytest.mark.parametrize(
    "choices",
    [
        {},
        {"first": "for"},  # incomplete
        {"first": "for", "second": "maybe"},  # off the scale
        {"first": "for", "second": "excellent"},  # a grade on a resolution
        {"first": "for", "second": "for", "999999": "for"},  # an unknown item
    ],
)
def test_bad_resolution_ballots_change_nothing(org: Org, choices):
    hall = make_hall(org)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall))
    first, second = item_keys(poll)
    ballot = {{"first": first, "second": second}.get(k, k): v for k, v in choices.items()}
    with pytest.raises(ServiceError):
        ballot_cast(actor=org["rep"], poll=poll, choices=ballot)
    assert state(poll) == (0, 0, 0, PollStatus.OPEN)
    # ...and the voter can still cast a good ballot afterwards.
    ballot_cast(actor=org["rep"], poll=poll, choices=all_same(poll, "abstain"))
    assert state(poll) == (1, 1, 0, PollStatus.OPEN)


def test_evaluation_ballot_must_grade_everyone_and_respect_the_quota(org: Org):
    hall = make_hall(org)
    people = cadres(org, 4)
    poll = poll_open(
        actor=org["union"], poll=evaluation(org, hall, people, excellent_quota_percent=50)
    )
    keys = item_keys(poll)
    with pytest.raises(ServiceError) as error:  # incomplete
        ballot_cast(actor=org["rep"], poll=poll, choices={k: "competent" for k in keys[:3]})
    assert "every person" in error.value.message
    with pytest.raises(ServiceError) as error:  # 3 of 4 excellent > 50%
        ballot_cast(
            actor=org["rep"],
            poll=poll,
            choices=dict(zip(keys, ["excellent"] * 3 + ["competent"], strict=True)),
        )
    assert "At most 2" in error.value.message
    with pytest.raises(ServiceError):  # off the scale
        ballot_cast(actor=org["rep"], poll=poll, choices=dict.fromkeys(keys, "great"))
    assert state(poll) == (0, 0, 0, PollStatus.OPEN)
    ballot_cast(
        actor=org["rep"],
        poll=poll,
        choices=dict(zip(keys, ["excellent", "excellent", "unknown", "incompetent"], strict=True)),
    )
    assert state(poll) == (1, 1, 0, PollStatus.OPEN)


# --- Closing and counting -------------------------------------------------------------------


def cast_all(poll: Poll, voters: list[User], ballots: list[dict[str, str]]) -> None:
    for voter, choices in zip(voters, ballots, strict=True):
        ballot_cast(actor=voter, poll=poll, choices=choices)


def test_close_seals_counts_and_cannot_be_repeated_or_undone(org: Org):
    hall = make_hall(org, total=6, present=5)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall))
    a, b = item_keys(poll)
    cast_all(
        poll,
        hall.present[:4],
        [
            {a: "for", b: "for"},
            {a: "for", b: "against"},
            {a: "for", b: "abstain"},
            {a: "against", b: "for"},
        ],
    )
    poll = poll_close(actor=org["union"], poll=poll)
    assert state(poll) == (4, 0, 4, PollStatus.CLOSED)
    result = poll.result
    assert result["ballots"] == 4 and (result["present"], result["total"]) == (5, 6)
    first, second = result["items"]
    assert first["counts"] == {"for": 3, "against": 1, "abstain": 0}
    assert first["for_pct_present"] == "60.00" and first["for_pct_total"] == "50.00"
    assert first["passed"] is False  # 3 of 6 is not more than half of all representatives
    assert second["counts"] == {"for": 2, "against": 1, "abstain": 1}
    with pytest.raises(ServiceError):
        poll_close(actor=org["union"], poll=poll)
    with pytest.raises(ServiceError):
        poll_open(actor=org["union"], poll=poll)
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.CLOSED
    assert AuditEvent.objects.filter(action="ballots.closed").count() == 1


def test_majority_of_present_is_configurable(org: Org):
    hall = make_hall(org, total=6, present=5)
    poll = poll_open(
        actor=org["union"], poll=resolution(org, hall, items=["方案"], majority="present")
    )
    cast_all(poll, hall.present[:3], [all_same(poll, "for")] * 3)
    poll = poll_close(actor=org["union"], poll=poll)
    assert poll.result["items"][0]["passed"] is True  # 3 of 5 present


def test_only_the_union_office_closes(org: Org):
    hall = make_hall(org)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall))
    for login in ("leader", "supervisor", "rep", "outsider"):
        with pytest.raises(ServiceError):
            poll_close(actor=org[login], poll=poll)
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.OPEN


def test_evaluation_result_rates_flags_and_weighted_score(org: Org):
    hall = make_hall(org, total=6, present=6)
    people = cadres(org, 2)
    leaders = hall.present[:2]
    poll = evaluation(
        org,
        hall,
        people,
        incompetent_threshold_percent=30,
        groups=[
            GroupSpec(name="领导", weight=Decimal("0.4"), members=leaders),
            GroupSpec(name="职工代表", weight=Decimal("0.6"), is_default=True),
        ],
    )
    poll = poll_open(actor=org["union"], poll=poll)
    x, y = item_keys(poll)
    cast_all(
        poll,
        hall.present,
        [
            {x: "excellent", y: "incompetent"},  # leader
            {x: "competent", y: "basic"},  # leader
            {x: "competent", y: "incompetent"},
            {x: "basic", y: "unknown"},
            {x: "unknown", y: "competent"},
            {x: "excellent", y: "competent"},
        ],
    )
    result = poll_close(actor=org["union"], poll=poll).result
    rx, ry = result["items"]
    assert rx["counts"] == {
        "excellent": 2,
        "competent": 2,
        "basic": 1,
        "incompetent": 0,
        "unknown": 1,
    }
    assert rx["known"] == 5 and rx["good_rate"] == "80.00"
    assert rx["pct"]["basic"] == "20.00" and rx["flag"] is False
    # leaders average (100+80)/2 = 90; representatives (80+60+100)/3 = 80; 0.4×90 + 0.6×80
    assert rx["weighted_score"] == "84.00"
    assert ry["known"] == 5 and ry["incompetent_rate"] == "40.00" and ry["flag"] is True
    assert ry["good_rate"] == "40.00"
    # leaders (0+60)/2 = 30; representatives (0+80+80)/3 = 53.33; 0.4×30 + 0.6×53.33 = 44.00
    assert ry["weighted_score"] == "44.00"
    assert result["withheld"] is False


def test_results_withheld_below_the_minimum(org: Org):
    hall = make_hall(org)
    poll = poll_open(actor=org["union"], poll=evaluation(org, hall, cadres(org, 1), min_ballots=3))
    cast_all(poll, hall.present[:2], [all_same(poll, "competent")] * 2)
    poll = poll_close(actor=org["union"], poll=poll)
    assert poll.result["withheld"] is True
    poll = poll_publish(actor=org["union"], poll=poll)
    revision = poll.disclosure.published_revision
    assert revision.table is None and "3" in revision.result


def test_recount_equals_the_stored_result_and_detects_tampering(org: Org):
    hall = make_hall(org)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall))
    cast_all(poll, hall.present[:3], [all_same(poll, "for")] * 3)
    with pytest.raises(ServiceError):  # not before close
        poll_recount(actor=org["supervisor"], poll=poll)
    poll = poll_close(actor=org["union"], poll=poll)
    for login in ("union", "leader", "rep", "employee"):
        with pytest.raises(ServiceError):
            poll_recount(actor=org[login], poll=poll)
    recount = poll_recount(actor=org["supervisor"], poll=poll)
    assert recount.equal and recount.recounted["ballots"] == 3
    assert AuditEvent.objects.filter(action="ballots.recounted").count() == 1
    ballot = SealedBallot.objects.filter(poll=poll).first()
    ballot.choices = all_same(poll, "against")
    ballot.save()
    assert not poll_recount(actor=org["supervisor"], poll=poll).equal


def test_publish_creates_a_published_disclosure_with_turnout(org: Org):
    hall = make_hall(org, total=6, present=5)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall))
    cast_all(poll, hall.present, [all_same(poll, "for")] * 5)
    with pytest.raises(ServiceError):  # not before close
        poll_publish(actor=org["union"], poll=poll)
    poll = poll_close(actor=org["union"], poll=poll)
    with pytest.raises(ServiceError):
        poll_publish(actor=org["supervisor"], poll=poll)
    poll = poll_publish(actor=org["union"], poll=poll)
    assert poll.status == PollStatus.PUBLISHED
    disclosure = poll.disclosure
    assert disclosure.status == DisclosureStatus.PUBLISHED
    assert disclosure.entry.code == "resolutions" and disclosure.unit == org.company
    revision = disclosure.published_revision
    assert "5" in revision.result and "6" in revision.result
    assert revision.table["rows"][0][1:4] == ["5", "0", "0"]
    with pytest.raises(ServiceError):
        poll_publish(actor=org["union"], poll=poll)
    with pytest.raises(ServiceError):
        poll_close(actor=org["union"], poll=poll)


def test_evaluation_results_selector_for_the_assessment(org: Org):
    hall = make_hall(org)
    people = cadres(org, 2)
    poll = poll_open(actor=org["union"], poll=evaluation(org, hall, people))
    cast_all(poll, hall.present, [all_same(poll, "competent")] * 5)
    poll = poll_close(actor=org["union"], poll=poll)
    year = timezone.localtime(poll.closed_at).year  # Shanghai's year, not UTC's
    assert evaluation_results(year, [org.company.path]) == []  # not published
    poll_publish(actor=org["union"], poll=poll)
    rows = evaluation_results(year, [org.boiler.path])
    assert {r.user_id for r in rows} == {u.pk for u in people}
    assert all(r.good_rate == Decimal("100.00") and r.ballots == 5 for r in rows)
    assert evaluation_results(poll.closed_at.year, [org.turbine.path]) == []
    assert evaluation_results(poll.closed_at.year - 1, [org.company.path]) == []


# --- Policy: role × action ------------------------------------------------------------------

# (status, persona) → may see results
RESULTS_MATRIX = {
    PollStatus.DRAFT: set(),
    PollStatus.OPEN: set(),
    PollStatus.CLOSED: {"union", "supervisor"},
    PollStatus.PUBLISHED: {*PERSONAS, "turbine_worker"},  # every employee of the company
}


def advance(org: Org, poll: Poll, status: str) -> Poll:
    if status == PollStatus.DRAFT:
        return poll
    poll = poll_open(actor=org["union"], poll=poll)
    if status == PollStatus.OPEN:
        return poll
    poll = poll_close(actor=org["union"], poll=poll)
    if status == PollStatus.CLOSED:
        return poll
    return poll_publish(actor=org["union"], poll=poll)


@pytest.mark.parametrize("status", list(RESULTS_MATRIX))
def test_results_visible_to_no_one_before_close(org: Org, status):
    hall = make_hall(org)
    poll = advance(org, resolution(org, hall), status)
    for login in (*PERSONAS, "outsider", "turbine_worker"):
        expected = login in RESULTS_MATRIX[status]
        assert policy.may_see_results(org[login], poll) is expected, (status, login)


@pytest.mark.parametrize("status", list(RESULTS_MATRIX))
def test_role_action_matrix(org: Org, status):
    hall = make_hall(org)
    poll = advance(org, resolution(org, hall), status)
    for login in (*PERSONAS, "outsider"):
        user = org[login]
        assert policy.may_manage(user, poll) is (login == "union")
        assert policy.may_recount(user, poll) is (
            login == "supervisor" and status in (PollStatus.CLOSED, PollStatus.PUBLISHED)
        )
        assert policy.may_cast(user, poll) is (login == "rep" and status == PollStatus.OPEN)
