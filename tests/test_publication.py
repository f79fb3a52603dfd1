"""Every path by which something reaches a unit's board goes through the one publish service
(gongkai.disclosure.services.publish) and leaves the same four records: the revision, the
audit event, the ledger entry and the search document."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from gongkai.assessment.services import ranking_publish, scheme_create
from gongkai.audit.models import AuditEvent
from gongkai.ballots.models import PollKind
from gongkai.ballots.services import ballot_cast, poll_close, poll_create, poll_open, poll_publish
from gongkai.congress import records
from gongkai.congress.models import Attendance, MeetingKind, Representative, Session, Term
from gongkai.disclosure.models import CatalogEntry, Disclosure, DisclosureStatus
from gongkai.disclosure.services import (
    Transition,
    attestation_file,
    disclosure_transition,
)
from gongkai.ledger.models import LedgerEntry, RecordType
from gongkai.ledger.verification import ledger_verify
from gongkai.org.models import Role
from gongkai.org.services import role_grant
from gongkai.search.models import SearchDocument
from gongkai.supervision.circulars import circular_draft, circular_issue
from gongkai.supervision.models import Answer, Severity
from gongkai.supervision.services import (
    finding_record,
    inspection_record,
    round_close,
    round_open,
)
from tests.conftest import Org
from tests.factories import UserFactory, approve_through, published_disclosure

SH = ZoneInfo("Asia/Shanghai")


def approve_and_publish(org: Org, disclosure: Disclosure, *, author_login: str) -> Disclosure:
    """Take a submitted disclosure through every approval of its chain (and the leadership's
    endorsement for a company) to publication, as the workflow does for any item."""
    approve_through(disclosure)
    return disclosure_transition(
        actor=org[author_login], disclosure=disclosure, transition=Transition.PUBLISH
    )


def via_workflow(org: Org) -> Disclosure:
    return published_disclosure(unit=org.boiler)


def via_attestation(org: Org) -> Disclosure:
    return attestation_file(
        actor=org["teamlead"],
        unit=org.boiler_team,
        entry=CatalogEntry.objects.get(code="attendance"),
        reason="本月无加班",
        period=f"{timezone.localdate():%Y-%m}",
    )


def via_ballot_result(org: Org) -> Disclosure:
    term = Term.objects.create(
        company=org.company, number=1, starts_on=date(2024, 1, 1), ends_on=date(2028, 12, 31)
    )
    voters = [org["rep"], *(UserFactory(unit=org.boiler_team) for _ in range(2))]
    session = Session.objects.create(
        term=term,
        number=1,
        title="第一届第三次职工代表大会",
        held_on=date(2026, 3, 1),
        status="open",
    )
    for user in voters:
        rep = Representative.objects.create(term=term, user=user, elected_on=date(2024, 1, 1))
        Attendance.objects.create(session=session, representative=rep, checked_in_at=timezone.now())
    poll = poll_create(
        actor=org["union"],
        company=org.company,
        kind=PollKind.RESOLUTION,
        title="关于2026年工资调整方案的表决",
        session=session,
        items=["工资调整方案"],
    )
    poll = poll_open(actor=org["union"], poll=poll)
    keys = [str(pk) for pk in poll.items.values_list("pk", flat=True)]
    for user in voters:
        ballot_cast(actor=user, poll=poll, choices=dict.fromkeys(keys, "for"))
    poll = poll_close(actor=org["union"], poll=poll)
    return poll_publish(actor=org["union"], poll=poll).disclosure


def via_circular(org: Org) -> Disclosure:
    today = timezone.localdate()
    round = round_open(
        actor=org["supervisor"],
        company=org.company,
        title="2026年上半年司务公开监督检查",
        period_start=today - timedelta(days=150),
        period_end=today,
        departments=[org.boiler, org.turbine],
    )
    for inspected in round.departments.all():
        inspection_record(
            actor=org["supervisor"],
            inspected=inspected,
            inspected_on=today,
            self_report="<p>本半年按目录公开各类事项。</p>",
            representative_notes="职工代表反映材料费公开不够详细。",
            answers={item.pk: (Answer.MET, "") for item in round.checklist.all()},
        )
    finding_record(
        actor=org["supervisor"],
        inspected=round.departments.get(department=org.boiler),
        text="锅炉分场公开栏十月未更新，材料费未按月公开。",
        severity=Severity.MAJOR,
        due_on=today + timedelta(days=30),
    )
    round = round_close(actor=org["supervisor"], round=round)
    circular = circular_draft(actor=org["supervisor"], round=round)
    return circular_issue(actor=org["supervisor"], circular=circular).disclosure


def via_ranking(org: Org) -> Disclosure:
    scheme_create(
        actor=org["supervisor"],
        company=org.company,
        weights={
            "satisfaction_board": 30,
            "satisfaction_suggestions": 10,
            "satisfaction_survey": 10,
            "satisfaction_evaluation": 10,
            "disclosure_on_time": 20,
            "inspection": 10,
            "handling": 10,
        },
        effective_from=date(2026, 1, 1),
    )
    with time_machine.travel(datetime(2026, 7, 20, 9, tzinfo=SH), tick=False):
        ranking = ranking_publish(actor=org["supervisor"], company=org.company, period="2026-H1")
    return Disclosure.objects.get(pk=ranking.disclosure_id)


def via_meeting_minutes(org: Org) -> Disclosure:
    meeting = records.meeting_record(
        actor=org["teamlead"],
        unit=org.boiler_team,
        kind=MeetingKind.TEAM_DEMOCRATIC,
        title="班组民主管理会",
        held_on=timezone.localdate(),
        minutes="讨论了奖金分配",
        decisions="按考核分配",
        concerns_employees=True,
    )
    disclosure = records.meeting_publish(actor=org["teamlead"], meeting=meeting)
    return approve_and_publish(org, disclosure, author_login="teamlead")


def via_director_report(org: Org) -> Disclosure:
    director = UserFactory(employee_no="director", name="职工董事", unit=org.union_dept)
    role_grant(actor=None, user=director, role=Role.EMPLOYEE_DIRECTOR, unit=org.company)
    report = records.director_report_write(
        actor=director,
        company=org.company,
        year=timezone.localdate().year - 1,
        title="履职报告",
        text="参加董事会六次",
    )
    disclosure = records.director_report_publish(actor=org["union"], report=report)
    return approve_and_publish(org, disclosure, author_login="union")


PATHS: dict[str, Callable[[Org], Disclosure]] = {
    "workflow": via_workflow,
    "attestation": via_attestation,
    "ballot result": via_ballot_result,
    "circular": via_circular,
    "ranking": via_ranking,
    "meeting minutes": via_meeting_minutes,
    "director report": via_director_report,
}


@pytest.mark.parametrize("path", PATHS)
def test_every_path_leaves_revision_audit_event_ledger_entry_and_search_document(
    org: Org, path: str
):
    disclosure = Disclosure.objects.get(pk=PATHS[path](org).pk)
    assert disclosure.status == DisclosureStatus.PUBLISHED
    revision = disclosure.published_revision
    assert revision is not None and revision.number == 1
    assert disclosure.revisions.count() == 1
    assert disclosure.first_published_at == revision.published_at

    action, event = (
        ("disclosure.attested", "attest")
        if disclosure.is_nil
        else ("disclosure.publish", "publish")
    )
    audit = AuditEvent.objects.get(
        action=action, target_type="disclosure.disclosure", target_id=str(disclosure.pk)
    )
    assert audit.after["status"] == DisclosureStatus.PUBLISHED
    assert audit.scope_path == disclosure.unit.path

    ledger = LedgerEntry.objects.get(disclosure=disclosure)
    assert (ledger.record_type, ledger.record_id, ledger.event) == (
        RecordType.REVISION,
        revision.pk,
        event,
    )
    assert ledger_verify() == []

    document = SearchDocument.objects.get(disclosure=disclosure)
    assert document.revision_id == revision.pk and document.title == revision.title


def test_the_ranking_now_has_a_publication_event_too(org: Org):
    """The ranking used to write only its own event; its disclosure now has the publication
    event every other path writes, and the ranking's own event is still there."""
    disclosure = via_ranking(org)
    assert AuditEvent.objects.filter(action="assessment.ranking_published").count() == 1
    event = AuditEvent.objects.get(action="disclosure.publish", target_id=str(disclosure.pk))
    assert event.before == {"status": ""}
    assert event.after == {"status": DisclosureStatus.PUBLISHED, "source": "ranking"}


def test_workflow_publication_event_is_unchanged(org: Org):
    disclosure = via_workflow(org)
    event = AuditEvent.objects.get(action="disclosure.publish", target_id=str(disclosure.pk))
    assert event.before == {"status": DisclosureStatus.APPROVED}
    assert event.after == {"status": DisclosureStatus.PUBLISHED}
