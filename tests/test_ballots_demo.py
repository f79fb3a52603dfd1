"""The ballots demo: last year's published evaluation and resolution, an open vote for rep."""

from __future__ import annotations

import pytest

from gongkai.accounts.models import User
from gongkai.ballots import permissions as policy
from gongkai.ballots.models import Participation, PendingBallot, Poll, PollKind, PollStatus
from gongkai.ballots.services import poll_recount
from gongkai.demo import ballots as demo
from gongkai.demo.org import seed_org
from tests.conftest import ensure_catalog


@pytest.mark.django_db
def test_demo_votes():
    ensure_catalog()
    seed_org()
    counts = demo.seed()
    assert counts["votes"] == 3 and counts["ballots"] > 0
    evaluation = Poll.objects.get(kind=PollKind.EVALUATION)
    assert evaluation.status == PollStatus.PUBLISHED and evaluation.items.count() == 10
    assert evaluation.disclosure.published_revision is not None
    assert any(row["flag"] for row in evaluation.result["items"])
    assert PendingBallot.objects.filter(poll=evaluation).count() == 0
    supervisor = User.objects.get(employee_no="supervisor")
    assert poll_recount(actor=supervisor, poll=evaluation).equal
    live = Poll.objects.get(status=PollStatus.OPEN)
    rep = User.objects.get(employee_no="rep")
    assert policy.may_cast(rep, live)
    assert not Participation.objects.filter(poll=live, user=rep).exists()
    assert Participation.objects.filter(poll=live).exists()


@pytest.mark.django_db
def test_demo_receipts_and_a_late_check_in():
    from gongkai.ballots.selectors import outside_electorate, receipt_codes
    from gongkai.congress.models import Attendance

    ensure_catalog()
    seed_org()
    demo.seed()
    for poll in Poll.objects.filter(status=PollStatus.PUBLISHED):
        assert len(receipt_codes(poll)) == poll.result["ballots"] > 0
    live = Poll.objects.get(status=PollStatus.OPEN)
    assert receipt_codes(live) == []
    late = Attendance.objects.filter(session=live.session, checked_in_at__gt=live.opened_at)
    assert late.count() == 1
    user = late.get().representative.user
    assert not policy.may_cast(user, live) and policy.may_view(user, live)
    outside = outside_electorate(user, live)
    assert outside is not None and outside.late
