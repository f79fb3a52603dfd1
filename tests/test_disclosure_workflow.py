"""The level-by-level workflow: each step allowed and forbidden per role, revisions,
withdrawal, attestations, races, notifications and the audit trail."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from gongkai.audit.models import AuditEvent
from gongkai.core.errors import ServiceError
from gongkai.disclosure.models import CatalogEntry, Disclosure, DisclosureStatus, Revision
from gongkai.disclosure.services import (
    Transition,
    attestation_file,
    available_transitions,
    disclosure_create,
    disclosure_transition,
    disclosure_update,
    may_transition,
)
from gongkai.notify.models import Notification
from gongkai.org.models import Role
from gongkai.org.services import role_grant
from tests.conftest import PERSONAS
from tests.factories import UserFactory, published_disclosure

S = DisclosureStatus


@pytest.fixture
def officer(org):
    user = UserFactory(employee_no="officer", unit=org.boiler_team)
    role_grant(actor=None, user=user, role=Role.TEAM_OFFICER, unit=org.boiler_team)
    return user


def draft(unit, author, entry="team-bonus", period="2026-10", **kw):
    return disclosure_create(
        actor=author,
        unit=unit,
        entry=CatalogEntry.objects.get(code=entry),
        title=kw.pop("title", "十月班组奖金分配"),
        procedure=kw.pop("procedure", "<p>班组民主评议</p>"),
        result=kw.pop("result", "<p>人均 3,200 元</p>"),
        period=period,
        **kw,
    )


def step(disclosure, actor, transition, reason=""):
    return disclosure_transition(
        actor=actor, disclosure=disclosure, transition=transition, reason=reason
    )


# --- who may take which step ----------------------------------------------------------------

STEP_MATRIX = {
    # transition on a team item: personas allowed (the officer authored it)
    Transition.SUBMIT: {"union", "depthead", "teamlead"},
    # Submitted: the team's level, whose head is there; the department waits its turn.
    Transition.APPROVE: {"teamlead"},
    Transition.PUBLISH: {"union", "depthead", "teamlead"},
    Transition.WITHDRAW: {"union", "depthead", "teamlead"},
    Transition.CORRECT: {"union", "depthead", "teamlead"},
}
STATE_FOR = {
    Transition.SUBMIT: S.DRAFT,
    Transition.APPROVE: S.SUBMITTED,
    Transition.PUBLISH: S.APPROVED,
    Transition.WITHDRAW: S.PUBLISHED,
    Transition.CORRECT: S.PUBLISHED,
}


@pytest.mark.parametrize("transition", list(STEP_MATRIX))
@pytest.mark.parametrize("who", PERSONAS)
def test_step_matrix_on_a_team_item(org, officer, who, transition):
    d = draft(org.boiler_team, officer)
    Disclosure.objects.filter(pk=d.pk).update(status=STATE_FOR[transition])
    d.refresh_from_db()
    allowed = who in STEP_MATRIX[transition]
    assert may_transition(org[who], d, transition) is allowed
    if not allowed:
        with pytest.raises(ServiceError):
            step(d, org[who], transition, reason="理由")
        assert Disclosure.objects.get(pk=d.pk).status == STATE_FOR[transition]


def test_the_author_may_not_approve_their_own_item(org):
    d = draft(org.boiler_team, org["teamlead"])
    step(d, org["teamlead"], Transition.SUBMIT)
    assert Transition.APPROVE not in available_transitions(org["teamlead"], d)
    with pytest.raises(ServiceError):
        step(d, org["teamlead"], Transition.APPROVE)
    # The team has nobody else to approve: the department's head acts for it, explicitly.
    with pytest.raises(ServiceError) as error:
        step(d, org["depthead"], Transition.APPROVE)
    assert error.value.field == "acting_for"
    disclosure_transition(
        actor=org["depthead"],
        disclosure=d,
        transition=Transition.APPROVE,
        acting_for="班长是本事项的起草人",
    )
    d = Disclosure.objects.get(pk=d.pk)
    assert d.status == S.HEAD_APPROVED
    d = step(d, org["depthead"], Transition.APPROVE)  # then the department's own level
    assert d.status == S.APPROVED


def test_company_items_need_the_leadership_group_too(org):
    d = draft(org.company, org["union"], entry="vehicles", period="2026-Q3")
    head = UserFactory(unit=org.company)
    role_grant(actor=None, user=head, role=Role.UNIT_HEAD, unit=org.company)
    step(d, org["union"], Transition.SUBMIT)
    d = step(d, head, Transition.APPROVE)
    assert d.status == S.HEAD_APPROVED
    assert not may_transition(org["union"], d, Transition.PUBLISH)
    for who in set(PERSONAS) - {"leader"}:
        assert not may_transition(org[who], d, Transition.ENDORSE), who
    d = step(d, org["leader"], Transition.ENDORSE)
    assert d.status == S.APPROVED
    d = step(d, org["union"], Transition.PUBLISH)
    assert d.is_published and d.published_revision.number == 1


def test_full_path_creates_revision_and_audit_trail(org, officer):
    d = draft(org.boiler_team, officer)
    step(d, officer, Transition.SUBMIT)
    step(d, org["teamlead"], Transition.APPROVE)
    step(d, org["depthead"], Transition.APPROVE)
    d = step(d, officer, Transition.PUBLISH)
    assert d.status == S.PUBLISHED and d.first_published_at is not None
    assert Revision.objects.filter(disclosure=d).count() == 1
    actions = list(
        AuditEvent.objects.filter(target_id=str(d.pk), target_type="disclosure.disclosure")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "disclosure.created",
        "disclosure.submit",
        "disclosure.approve",
        "disclosure.approve",
        "disclosure.publish",
    ]


def test_rejection_returns_it_to_the_author_with_the_reason(org, officer):
    d = draft(org.boiler_team, officer)
    step(d, officer, Transition.SUBMIT)
    with pytest.raises(ServiceError):
        step(d, org["teamlead"], Transition.REJECT, reason="  ")
    d = step(d, org["teamlead"], Transition.REJECT, reason="缺少评议记录")
    assert d.status == S.DRAFT and d.rejection_reason == "缺少评议记录"
    note = Notification.objects.get(user=officer)
    assert "缺少评议记录" in note.message
    disclosure_update(actor=officer, disclosure=d, procedure="<p>补充评议记录</p>")
    d = step(d, officer, Transition.SUBMIT)
    assert d.rejection_reason == ""


def test_submitting_notifies_the_first_level_only(org, officer):
    d = draft(org.boiler_team, officer)
    step(d, officer, Transition.SUBMIT)
    notified = set(Notification.objects.values_list("user__employee_no", flat=True))
    assert notified == {"teamlead"}


def test_submit_requires_procedure_and_result(org, officer):
    d = draft(org.boiler_team, officer, procedure="", result="<p>结果</p>")
    with pytest.raises(ServiceError) as error:
        step(d, officer, Transition.SUBMIT)
    assert error.value.field == "procedure"
    assert Disclosure.objects.get(pk=d.pk).status == S.DRAFT


@pytest.fixture
def second_teamlead(org):
    user = UserFactory(employee_no="teamlead2", unit=org.boiler_team)
    role_grant(actor=None, user=user, role=Role.UNIT_HEAD, unit=org.boiler_team)
    return user


def test_two_approvals_racing_cannot_both_succeed(org, officer, second_teamlead):
    d = draft(org.boiler_team, officer)
    step(d, officer, Transition.SUBMIT)
    first = Disclosure.objects.get(pk=d.pk)
    second = Disclosure.objects.get(pk=d.pk)
    step(first, org["teamlead"], Transition.APPROVE)
    with pytest.raises(ServiceError):
        step(second, second_teamlead, Transition.APPROVE)
    assert AuditEvent.objects.filter(action="disclosure.approve").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_in_real_transactions(org, officer, second_teamlead):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent transactions: PostgreSQL (SQLite serialises writers)")
    import threading

    from django.db import connections

    d = draft(org.boiler_team, officer)
    step(d, officer, Transition.SUBMIT)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    people = {"teamlead": org["teamlead"], "teamlead2": second_teamlead}  # the team's two heads

    def approve(who):
        try:
            barrier.wait()
            step(Disclosure.objects.get(pk=d.pk), people[who], Transition.APPROVE)
            outcomes.append("ok")
        except ServiceError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(w,)) for w in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert AuditEvent.objects.filter(action="disclosure.approve").count() == 1


# --- published records never change in place ----------------------------------------------


def test_published_disclosure_is_never_edited_in_place(org):
    d = published_disclosure(unit=org.boiler_team, entry_code="team-bonus", period="2026-10")
    with pytest.raises(ServiceError):
        disclosure_update(actor=org["union"], disclosure=d, title="改过的标题")
    revision = d.published_revision
    revision.title = "偷偷改"
    with pytest.raises(ValueError):
        revision.save()
    with pytest.raises(ValueError):
        revision.delete()


def test_correction_is_a_new_revision_with_a_public_reason(org):
    d = published_disclosure(
        unit=org.boiler_team,
        entry_code="team-bonus",
        period="2026-10",
        result="<p>人均 3,200 元</p>",
    )
    teamlead, depthead = org["teamlead"], org["depthead"]
    with pytest.raises(ServiceError):
        step(d, teamlead, Transition.CORRECT)  # a reason is required
    d = step(d, teamlead, Transition.CORRECT, reason="人均金额笔误")
    assert d.status == S.DRAFT
    assert d.published_revision.number == 1  # still shown while the correction is reviewed
    disclosure_update(actor=teamlead, disclosure=d, result="<p>人均 3,230 元</p>")
    step(d, teamlead, Transition.SUBMIT)
    step(d, teamlead, Transition.APPROVE)
    step(d, depthead, Transition.APPROVE)
    d = step(d, teamlead, Transition.PUBLISH)
    numbers = list(d.revisions.order_by("number").values_list("number", "reason", "result"))
    assert numbers == [(1, "", "<p>人均 3,200 元</p>"), (2, "人均金额笔误", "<p>人均 3,230 元</p>")]
    first = d.revisions.get(number=1)
    assert d.first_published_at == first.published_at


def test_withdrawal_needs_a_reason_and_leaves_a_tombstone(org):
    d = published_disclosure(unit=org.boiler, entry_code="materials", period="2026-Q3")
    with pytest.raises(ServiceError):
        step(d, org["depthead"], Transition.WITHDRAW, reason="")
    for who in ("employee", "rep", "teamlead", "leader", "supervisor"):
        with pytest.raises(ServiceError):
            step(d, org[who], Transition.WITHDRAW, reason="无")
    d = step(d, org["depthead"], Transition.WITHDRAW, reason="数据口径错误，重新核算后公开")
    assert d.status == S.WITHDRAWN and d.withdrawn_at is not None
    assert not d.is_published
    assert d.revisions.count() == 1  # the record of what was published stays


# --- periods and attestations ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "period", "field"),
    [
        ("team-bonus", "2026-Q3", "period"),  # monthly entry, quarterly period
        ("team-bonus", "2026-13", "period"),
        ("team-bonus", "二〇二六年", "period"),
        ("team-bonus", "2099-01", "period"),  # not begun
        ("entertainment", "2026-Q3", "entry"),  # departments and the company, not teams
    ],
)
def test_bad_periods_and_entries_are_refused(org, officer, entry, period, field):
    with pytest.raises(ServiceError) as error:
        draft(org.boiler_team, officer, entry=entry, period=period)
    assert error.value.field == field
    assert not Disclosure.objects.exists()


def test_event_entries_need_an_event_date(org):
    with pytest.raises(ServiceError) as error:
        draft(org.company, org["union"], entry="recruitment", period="")
    assert error.value.field == "event_date"
    d = draft(
        org.company, org["union"], entry="recruitment", period="", event_date=date(2026, 9, 1)
    )
    assert d.period == "" and d.event_date == date(2026, 9, 1)
    assert d.scope == "public"  # the catalog's default scope for recruitment


def test_nothing_to_report_counts_as_published_once(org, officer):
    entry = CatalogEntry.objects.get(code="team-materials")
    with pytest.raises(ServiceError):
        attestation_file(
            actor=officer, unit=org.boiler_team, entry=entry, period="2026-Q3", reason=" "
        )
    d = attestation_file(
        actor=officer,
        unit=org.boiler_team,
        entry=entry,
        period="2026-Q3",
        reason="本季度未领用材料",
    )
    assert d.is_nil and d.is_published and d.author == officer
    with pytest.raises(ServiceError):
        attestation_file(
            actor=officer, unit=org.boiler_team, entry=entry, period="2026-Q3", reason="再来一次"
        )
    with pytest.raises(ServiceError):
        attestation_file(
            actor=org["employee"], unit=org.boiler_team, entry=entry, period="2026-Q2", reason="无"
        )


def test_employees_cannot_draft(org):
    for who in ("employee", "rep", "leader", "supervisor", "discipline"):
        with pytest.raises(ServiceError):
            draft(org.boiler_team, org[who])
    assert not Disclosure.objects.exists()


def test_rich_text_is_sanitised(org, officer):
    d = draft(
        org.boiler_team,
        officer,
        procedure='<p onclick="x()">评议<script>alert(1)</script><a href="javascript:x">链</a></p>',
    )
    assert "script" not in d.procedure and "onclick" not in d.procedure
    assert "javascript" not in d.procedure and "评议" in d.procedure


def test_the_database_refuses_to_change_a_published_revision(org):
    from django.db import DatabaseError, transaction

    d = published_disclosure(unit=org.boiler_team, entry_code="team-bonus", period="2026-10")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE disclosure_revision SET title = %s WHERE disclosure_id = %s", ["偷偷改", d.pk]
        )
    assert Revision.objects.get(disclosure=d).title == d.title
