"""The motion (提案) lifecycle: collection period, seconds, the committee, answers, ratings."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from gongkai.audit.models import AuditEvent
from gongkai.congress import motions as m
from gongkai.congress import selectors
from gongkai.congress.models import Motion, MotionSecond, MotionStatus
from gongkai.core.errors import ServiceError
from gongkai.notify.models import Notification
from gongkai.voice.models import Suggestion
from tests.conftest import PERSONAS, Org
from tests.test_congress_support import (
    assigned_motion,
    build_congress,
    seconded_motion,
    submitted_motion,
)

# Service messages are asserted in English (pages choose their language per request).
pytestmark = pytest.mark.usefixtures("english")

S = MotionStatus


def draft(org: Org, c, **kw) -> Motion:
    fields = {"title": "改善食堂伙食", "reasons": "午餐品种单一", "measures": "增加菜品"} | kw
    return m.motion_draft(actor=org["rep"], session=c.session, **fields)


# --- Drafting and the collection period --------------------------------------------------------


def test_rep_drafts_within_the_collection_period(org: Org):
    c = build_congress(org)
    motion = draft(org, c)
    assert motion.status == S.DRAFT
    assert motion.number is None
    assert AuditEvent.objects.filter(action="motion.drafted").count() == 1


@pytest.mark.parametrize("days", [-11, 6])
def test_drafting_outside_the_collection_period_is_refused(org: Org, days: int):
    c = build_congress(org)
    then = timezone.now() + datetime.timedelta(days=days)
    with time_machine.travel(then), pytest.raises(ServiceError, match="collected from"):
        draft(org, c)
    assert not Motion.objects.exists()


def test_a_session_without_collection_refuses_motions(org: Org):
    c = build_congress(org)
    c.session.motions_open_on = c.session.motions_close_on = None
    c.session.save()
    with pytest.raises(ServiceError, match="does not collect"):
        draft(org, c)


@pytest.mark.parametrize("who", [p for p in PERSONAS if p != "rep"] + ["outsider"])
def test_only_representatives_draft(org: Org, who: str):
    c = build_congress(org)
    with pytest.raises(ServiceError):
        m.motion_draft(actor=org[who], session=c.session, title="t", reasons="r", measures="x")
    assert not Motion.objects.exists()


def test_a_flagged_employee_without_a_seat_cannot_draft(org: Org):
    from tests.test_congress_support import representative_user

    c = build_congress(org)
    late = representative_user(org, "rep-late")  # has the role, not on the roster
    with pytest.raises(ServiceError):
        m.motion_draft(actor=late, session=c.session, title="t", reasons="r", measures="x")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", ""),
        ("title", "字" * 201),
        ("reasons", "   "),
        ("measures", ""),
        ("reasons", "x" * 20_001),
    ],
)
def test_bad_motion_text_is_refused(org: Org, field: str, value: str):
    c = build_congress(org)
    with pytest.raises(ServiceError) as error:
        draft(org, c, **{field: value})
    assert error.value.field == field
    assert not Motion.objects.exists()


def test_only_the_proposer_edits_a_draft(org: Org):
    c = build_congress(org)
    motion = draft(org, c)
    with pytest.raises(ServiceError):
        m.motion_update(actor=c.reps[1], motion=motion, title="x", reasons="y", measures="z")
    m.motion_update(actor=org["rep"], motion=motion, title="新标题", reasons="y", measures="z")
    assert Motion.objects.get().title == "新标题"
    m.motion_seek_seconds(actor=org["rep"], motion=motion)
    with pytest.raises(ServiceError):
        m.motion_update(actor=org["rep"], motion=motion, title="x", reasons="y", measures="z")


# --- Seconds -----------------------------------------------------------------------------------


def test_not_enough_seconds_cannot_be_submitted(org: Org):
    c = build_congress(org)
    motion = draft(org, c)
    with pytest.raises(ServiceError, match="0 of the 2"):
        m.motion_submit(actor=org["rep"], motion=motion)
    m.motion_seek_seconds(actor=org["rep"], motion=motion)
    m.motion_second(actor=c.reps[1], motion=motion)
    with pytest.raises(ServiceError, match="1 of the 2"):
        m.motion_submit(actor=org["rep"], motion=motion)
    assert Motion.objects.get().status == S.SEEKING
    m.motion_second(actor=c.reps[2], motion=motion)
    m.motion_submit(actor=org["rep"], motion=motion)
    assert Motion.objects.get().status == S.SUBMITTED


def test_the_number_of_seconds_is_configured_per_term(org: Org):
    c = build_congress(org, seconds=0)
    motion = draft(org, c)
    m.motion_submit(actor=org["rep"], motion=motion)
    assert Motion.objects.get().status == S.SUBMITTED


def test_rep_cannot_second_own_motion(org: Org):
    c = build_congress(org)
    motion = draft(org, c)
    m.motion_seek_seconds(actor=org["rep"], motion=motion)
    with pytest.raises(ServiceError, match="own motion"):
        m.motion_second(actor=org["rep"], motion=motion)
    assert not MotionSecond.objects.exists()


def test_seconding_twice_is_refused(org: Org):
    c = build_congress(org)
    motion = draft(org, c)
    m.motion_seek_seconds(actor=org["rep"], motion=motion)
    m.motion_second(actor=c.reps[1], motion=motion)
    with pytest.raises(ServiceError, match="already seconded"):
        m.motion_second(actor=c.reps[1], motion=motion)
    assert MotionSecond.objects.count() == 1


@pytest.mark.parametrize("who", ["employee", "union", "leader", "depthead", "outsider"])
def test_non_representatives_cannot_second(org: Org, who: str):
    c = build_congress(org)
    motion = draft(org, c)
    m.motion_seek_seconds(actor=org["rep"], motion=motion)
    with pytest.raises(ServiceError):
        m.motion_second(actor=org[who], motion=motion)
    assert not MotionSecond.objects.exists()


def test_a_draft_cannot_be_seconded_before_the_proposer_asks(org: Org):
    c = build_congress(org)
    motion = draft(org, c)
    with pytest.raises(ServiceError, match="not seeking"):
        m.motion_second(actor=c.reps[1], motion=motion)


def test_the_proposer_is_told_of_each_second(org: Org):
    c = build_congress(org)
    seconded_motion(org, c)
    assert Notification.objects.filter(user=org["rep"]).count() == 2


# --- The committee -----------------------------------------------------------------------------


def test_register_gives_consecutive_numbers(org: Org):
    c = build_congress(org)
    first = submitted_motion(org, c, title="一")
    second = submitted_motion(org, c, title="二")
    m.motion_register(actor=org["union"], motion=second)
    m.motion_register(actor=org["union"], motion=first)
    assert Motion.objects.get(pk=second.pk).number == 1
    assert Motion.objects.get(pk=first.pk).number == 2
    with pytest.raises(ServiceError):
        m.motion_register(actor=org["union"], motion=first)


@pytest.mark.parametrize("who", [p for p in PERSONAS if p != "union"])
def test_only_the_committee_registers_merges_declines(org: Org, who: str):
    c = build_congress(org)
    motion = submitted_motion(org, c)
    with pytest.raises(ServiceError):
        m.motion_register(actor=org[who], motion=motion)
    with pytest.raises(ServiceError):
        m.motion_decline(actor=org[who], motion=motion, reasons="不属于职代会范围")
    assert Motion.objects.get().status == S.SUBMITTED
    assert not Suggestion.objects.exists()


def test_a_duplicate_is_merged_into_a_registered_motion(org: Org):
    c = build_congress(org)
    main = submitted_motion(org, c, title="食堂")
    dup = submitted_motion(org, c, title="食堂也要改善")
    with pytest.raises(ServiceError, match="register that one first"):
        m.motion_merge(actor=org["union"], motion=dup, into=main)
    m.motion_register(actor=org["union"], motion=main)
    with pytest.raises(ServiceError):
        m.motion_merge(actor=org["union"], motion=dup, into=dup)
    m.motion_merge(actor=org["union"], motion=dup, into=main)
    dup.refresh_from_db()
    assert dup.status == S.MERGED
    assert dup.merged_into_id == main.pk
    assert dup.number is None


def test_decline_converts_to_a_suggestion_visible_to_the_proposer(org: Org):
    c = build_congress(org)
    motion = submitted_motion(org, c)
    with pytest.raises(ServiceError) as error:
        m.motion_decline(actor=org["union"], motion=motion, reasons="  ")
    assert error.value.field == "reasons"
    m.motion_decline(actor=org["union"], motion=motion, reasons="属于日常管理，转为建议办理")
    motion.refresh_from_db()
    assert motion.status == S.DECLINED
    assert motion.decline_reasons == "属于日常管理，转为建议办理"
    suggestion = Suggestion.objects.get()
    assert motion.suggestion_id == suggestion.pk
    assert suggestion.author_id == org["rep"].pk
    assert suggestion.title == motion.title
    assert suggestion.unit_id == org.company.pk
    assert Notification.objects.filter(user=org["rep"], url__contains=str(motion.pk)).exists()


def test_decline_to_a_chosen_unit(org: Org):
    c = build_congress(org)
    motion = submitted_motion(org, c)
    m.motion_decline(actor=org["union"], motion=motion, reasons="转建议", unit=org.boiler)
    assert Suggestion.objects.get().unit_id == org.boiler.pk
    with pytest.raises(ServiceError):
        other = submitted_motion(org, c, title="二")
        m.motion_decline(actor=org["union"], motion=other, reasons="x", unit=org.other_dept)


def test_assign_requires_a_unit_of_the_company_and_a_future_due_date(org: Org):
    c = build_congress(org)
    motion = submitted_motion(org, c)
    m.motion_register(actor=org["union"], motion=motion)
    today = timezone.localdate()
    with pytest.raises(ServiceError):
        m.motion_assign(actor=org["union"], motion=motion, lead_unit=org.other_dept, due_on=today)
    with pytest.raises(ServiceError, match="past"):
        m.motion_assign(
            actor=org["union"],
            motion=motion,
            lead_unit=org.boiler,
            due_on=today - datetime.timedelta(days=1),
        )
    m.motion_assign(
        actor=org["union"],
        motion=motion,
        lead_unit=org.boiler,
        due_on=today,
        assisting_units=[org.turbine, org.boiler],
    )
    motion.refresh_from_db()
    assert motion.status == S.ASSIGNED
    assert list(motion.assisting_units.all()) == [org.turbine]
    assert Notification.objects.filter(user=org["depthead"]).exists()


# --- Overdue and chasing -----------------------------------------------------------------------


def test_overdue_is_computed_from_dates(org: Org):
    c = build_congress(org)
    motion = assigned_motion(org, c, due_in=3)
    assert not m.is_overdue(motion)
    assert not selectors.tracking(org.company, overdue=True).exists()
    later = timezone.now() + datetime.timedelta(days=4)
    with time_machine.travel(later):
        assert m.is_overdue(motion)
        assert list(selectors.tracking(org.company, overdue=True)) == [motion]
        assert selectors.motion_counts(org.company)["overdue"] == 1


def test_only_overdue_motions_are_chased_and_chasing_is_counted(org: Org):
    c = build_congress(org)
    motion = assigned_motion(org, c, due_in=1)
    with pytest.raises(ServiceError, match="overdue"):
        m.motion_chase(actor=org["union"], motion=motion)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3)):
        with pytest.raises(ServiceError):
            m.motion_chase(actor=org["rep"], motion=motion)
        before = Notification.objects.filter(user=org["depthead"]).count()
        m.motion_chase(actor=org["union"], motion=motion)
        m.motion_chase(actor=org["union"], motion=motion)
    motion.refresh_from_db()
    assert motion.chase_count == 2
    assert Notification.objects.filter(user=org["depthead"]).count() == before + 2
    assert AuditEvent.objects.filter(action="motion.chased").count() == 2


# --- Answer and rating -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["teamlead", "union", "rep", "employee", "leader"])
def test_only_the_lead_unit_answers(org: Org, who: str):
    c = build_congress(org)
    motion = assigned_motion(org, c)
    with pytest.raises(ServiceError):
        m.motion_answer(actor=org[who], motion=motion, measures="措施", result="结果")
    assert Motion.objects.get().status == S.ASSIGNED


def test_answer_then_satisfied_rating_closes(org: Org):
    c = build_congress(org)
    motion = assigned_motion(org, c)
    with pytest.raises(ServiceError) as error:
        m.motion_answer(actor=org["depthead"], motion=motion, measures="", result="结果")
    assert error.value.field == "measures"
    m.motion_answer(actor=org["depthead"], motion=motion, measures="增加两个窗口", result="已完成")
    motion.refresh_from_db()
    assert motion.status == S.ANSWERED
    assert motion.answered_at is not None
    with pytest.raises(ServiceError):
        m.motion_rate(actor=c.reps[1], motion=motion, value="satisfied")
    with pytest.raises(ServiceError):
        m.motion_rate(actor=org["rep"], motion=motion, value="ecstatic")
    m.motion_rate(actor=org["rep"], motion=motion, value="satisfied")
    motion.refresh_from_db()
    assert (motion.status, motion.rating) == (S.CLOSED, "satisfied")


def test_dissatisfied_sends_back_once(org: Org):
    c = build_congress(org)
    motion = assigned_motion(org, c)
    m.motion_answer(actor=org["depthead"], motion=motion, measures="研究中", result="暂无")
    m.motion_rate(actor=org["rep"], motion=motion, value="dissatisfied")
    motion.refresh_from_db()
    assert motion.status == S.SENT_BACK
    assert motion.sent_back_at is not None
    assert motion.due_on >= timezone.localdate() + datetime.timedelta(days=m.SENT_BACK_DAYS)
    m.motion_answer(actor=org["depthead"], motion=motion, measures="增加窗口", result="已完成")
    m.motion_rate(actor=org["rep"], motion=motion, value="dissatisfied")
    motion.refresh_from_db()
    assert motion.status == S.CLOSED  # not sent back a second time
    assert motion.rating == "dissatisfied"
    assert motion.first_rating == "dissatisfied"


def test_rating_before_an_answer_is_refused(org: Org):
    c = build_congress(org)
    motion = assigned_motion(org, c)
    with pytest.raises(ServiceError):
        m.motion_rate(actor=org["rep"], motion=motion, value="satisfied")


def test_a_stale_step_changes_nothing(org: Org):
    c = build_congress(org)
    motion = submitted_motion(org, c)
    stale = Motion.objects.get(pk=motion.pk)
    m.motion_register(actor=org["union"], motion=motion)
    with pytest.raises(ServiceError, match="now"):
        m.motion_decline(actor=org["union"], motion=stale, reasons="x")
    assert Motion.objects.get().status == S.REGISTERED
    assert not Suggestion.objects.exists()


# --- Handling statistics -----------------------------------------------------------------------


def test_handling_stats_per_lead_unit(org: Org):
    c = build_congress(org)
    on_time = assigned_motion(org, c, due_in=5)
    m.motion_answer(actor=org["depthead"], motion=on_time, measures="a", result="b")
    m.motion_rate(actor=org["rep"], motion=on_time, value="satisfied")
    late = assigned_motion(org, c, due_in=1)
    overdue = assigned_motion(org, c, due_in=1)
    assert overdue.pk != late.pk
    today = timezone.localdate()
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3)):
        m.motion_answer(actor=org["depthead"], motion=late, measures="a", result="b")
        stats = selectors.handling_stats([org.company.path], today, today)
        by_unit = selectors.handling_stats([org.company, org.turbine], today, today)
        exact = selectors.handling_stats([org.company], today, today, subtree=False)
    (boiler,) = stats.values()
    assert boiler.unit == org.boiler
    assert boiler.registered == boiler.received == 3
    assert (boiler.answered_on_time, boiler.answered_late, boiler.overdue_open) == (1, 1, 1)
    assert boiler.ratings == {"satisfied": 1}
    # Keyed by the given units: the company's subtree holds the boiler's motions.
    assert by_unit[org.company.pk].registered == 3
    assert by_unit[org.turbine.pk].registered == 0
    assert exact[org.company.pk].registered == 0
    assert selectors.handling_stats([org.turbine.path], today, today) == {}
    last_year = today.replace(year=today.year - 1)
    yesterday = today - datetime.timedelta(days=1)
    assert selectors.handling_stats([org.company.path], last_year, yesterday) == {}
