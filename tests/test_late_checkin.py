"""A representative who checks in after a vote opened (issue 13, item 18): the vote's page
tells them why they cannot vote in it and what to do, instead of a bare 404; they still
cannot cast a ballot, and people outside the session still get the 404."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from gongkai.ballots.models import Participation, Poll, PollKind
from gongkai.ballots.services import poll_close, poll_create, poll_open
from gongkai.congress import services
from tests.conftest import Org
from tests.test_congress_support import Congress, build_congress


@pytest.fixture
def hall(org: Org) -> tuple[Congress, Poll]:
    """rep2–rep4 checked in (the quorum), a resolution opened; ``rep`` not checked in yet."""
    c = build_congress(org)
    for rep in c.reps[1:]:
        services.attendance_check_in(actor=rep, session=c.session)
    poll = poll_create(
        actor=org["union"],
        company=org.company,
        kind=PollKind.RESOLUTION,
        title="关于职工福利费使用办法的表决",
        session=c.session,
        items=["同意《职工福利费使用办法》"],
    )
    return c, poll_open(actor=org["union"], poll=poll)


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_a_late_check_in_gets_a_page_that_says_why_and_what_to_do(org: Org, client, hall):
    c, poll = hall
    english(client).force_login(org["rep"])
    checked = client.post(reverse("congress:check_in", args=[c.session.pk]), follow=True)
    assert "You are checked in" in checked.content.decode()
    assert poll.title in checked.content.decode()  # warned about the vote already open
    response = client.get(reverse("ballots:detail", args=[poll.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "You are not in the electorate of this vote" in page
    assert "after this vote opened at" in page
    assert "every vote opened from now on includes you" in page
    assert reverse("ballots:vote", args=[poll.pk]) not in page  # no "vote now"
    # The next vote opened includes them.
    nxt = poll_open(
        actor=org["union"],
        poll=poll_create(
            actor=org["union"],
            company=org.company,
            kind=PollKind.RESOLUTION,
            title="第二项表决",
            session=c.session,
            items=["同意"],
        ),
    )
    page = client.get(reverse("ballots:detail", args=[nxt.pk])).content.decode()
    assert reverse("ballots:vote", args=[nxt.pk]) in page
    assert "not in the electorate" not in page


def test_a_representative_not_checked_in_is_told_to_check_in(org: Org, client, hall):
    c, poll = hall
    english(client).force_login(org["rep"])
    response = client.get(reverse("ballots:detail", args=[poll.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "You have not checked in at this session" in page
    assert reverse("congress:session_detail", args=[c.session.pk]) in page


def test_a_late_representative_still_cannot_cast(org: Org, client, hall):
    c, poll = hall
    services.attendance_check_in(actor=org["rep"], session=c.session)
    client.force_login(org["rep"])
    vote = client.get(reverse("ballots:vote", args=[poll.pk]))
    assert vote.status_code == 302 and vote["Location"] == reverse("ballots:detail", args=[poll.pk])
    key = str(poll.items.get().pk)
    cast = client.post(
        reverse("ballots:cast", args=[poll.pk]), {f"item-{key}": "for", "confirm": "1"}
    )
    assert cast.status_code == 302
    assert not Participation.objects.filter(poll=poll, user=org["rep"]).exists()


def test_after_the_close_the_page_says_so_without_the_what_to_do(org: Org, client, hall):
    c, poll = hall
    services.attendance_check_in(actor=org["rep"], session=c.session)
    poll_close(actor=org["union"], poll=poll)
    english(client).force_login(org["rep"])
    page = client.get(reverse("ballots:detail", args=[poll.pk])).content.decode()
    assert "after this vote opened at" in page and "What to do" not in page


@pytest.mark.parametrize("who", ["employee", "leader", "outsider"])
def test_people_who_are_not_representatives_still_get_the_404(org: Org, client, hall, who):
    _c, poll = hall
    client.force_login(org[who])
    assert client.get(reverse("ballots:detail", args=[poll.pk])).status_code == 404
    assert client.get(reverse("ballots:vote", args=[poll.pk])).status_code == 404
