"""The ballot pages as a voter and the union office use them."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from gongkai.ballots.models import Participation, PendingBallot, Poll, PollStatus, SealedBallot
from gongkai.ballots.services import ballot_cast, poll_close, poll_open
from tests.conftest import Org
from tests.test_ballots import (
    all_same,
    boxed,
    cadres,
    evaluation,
    item_keys,
    make_hall,
    resolution,
)


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def open_vote(org: Org) -> Poll:
    hall = make_hall(org, total=3, present=3)
    return poll_open(actor=org["union"], poll=resolution(org, hall))


def fields(poll: Poll, value: str) -> dict[str, str]:
    return {f"item-{k}": value for k in item_keys(poll)}


def test_vote_review_cast_done(org: Org, client, english, open_vote):
    poll = open_vote
    client.force_login(org["rep"])
    page = client.get(reverse("ballots:vote", args=[poll.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('type="radio"') == 6 and "<script>" not in html
    review = client.post(reverse("ballots:confirm", args=[poll.pk]), fields(poll, "against"))
    assert review.status_code == 200
    assert "Cast my ballot" in review.content.decode() and "Against" in review.content.decode()
    assert Participation.objects.count() == 0  # nothing is stored before "cast"
    cast = client.post(
        reverse("ballots:cast", args=[poll.pk]), {**fields(poll, "against"), "confirm": "1"}
    )
    assert cast.status_code == 302 and cast["Location"] == reverse("ballots:done", args=[poll.pk])
    done = client.get(cast["Location"])
    body = done.content.decode()
    assert "Your ballot is cast" in body
    assert "Against" not in body and "against" not in body  # no receipt of the choice
    assert (Participation.objects.count(), PendingBallot.objects.count()) == (1, 1)
    status = client.get(reverse("ballots:my_status", args=[poll.pk])).content.decode()
    assert "Your ballot is recorded" in status and "Against" not in status


def test_change_on_the_review_page_keeps_the_choices(org: Org, client, open_vote):
    poll = open_vote
    client.force_login(org["rep"])
    response = client.post(reverse("ballots:vote", args=[poll.pk]), fields(poll, "abstain"))
    assert response.status_code == 200
    assert response.content.decode().count('value="abstain" checked') == 2
    assert Participation.objects.count() == 0


def test_an_incomplete_ballot_is_shown_again_with_a_message(org: Org, client, english, open_vote):
    poll = open_vote
    client.force_login(org["rep"])
    first = item_keys(poll)[0]
    response = client.post(reverse("ballots:confirm", args=[poll.pk]), {f"item-{first}": "for"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "on every item" in html and 'value="for" checked' in html
    response = client.post(
        reverse("ballots:cast", args=[poll.pk]), {f"item-{first}": "for", "confirm": "1"}
    )
    assert response.status_code == 400
    assert Participation.objects.count() == 0


def test_sending_the_ballot_twice_gives_the_same_answer_and_changes_nothing(
    org: Org, client, english, open_vote
):
    poll = open_vote
    client.force_login(org["rep"])
    url = reverse("ballots:cast", args=[poll.pk])
    first = client.post(url, {**fields(poll, "for"), "confirm": "1"})
    second = client.post(url, {**fields(poll, "against"), "confirm": "1"}, follow=True)
    assert first["Location"] == second.redirect_chain[-1][0]
    assert "already voted" in second.content.decode()
    assert boxed(PendingBallot.objects.get()) == all_same(poll, "for")


def test_someone_not_eligible_cannot_cast_by_posting(org: Org, client, open_vote):
    poll = open_vote
    for login in ("employee", "union", "leader"):
        client.force_login(org[login])
        response = client.post(
            reverse("ballots:cast", args=[poll.pk]), {**fields(poll, "for"), "confirm": "1"}
        )
        assert response.status_code in (302, 404)
    assert Participation.objects.count() == PendingBallot.objects.count() == 0


def test_turnout_fragment_shows_turnout_not_results(org: Org, client, open_vote):
    poll = open_vote
    ballot_cast(actor=org["rep"], poll=poll, choices=all_same(poll, "against"))
    client.force_login(org["union"])
    response = client.get(reverse("ballots:turnout", args=[poll.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and "<strong>1</strong> / 3" in html
    assert "against" not in html.lower() and "反对" not in html
    detail = client.get(reverse("ballots:detail", args=[poll.pk])).content.decode()
    assert 'hx-trigger="every 3s"' in detail
    assert client.get(reverse("ballots:results", args=[poll.pk])).status_code == 403


def test_close_with_confirmation_then_results_and_recount(org: Org, client, english, open_vote):
    poll = open_vote
    ballot_cast(actor=org["rep"], poll=poll, choices=all_same(poll, "for"))
    client.force_login(org["union"])
    confirm = client.get(reverse("ballots:close", args=[poll.pk]))
    assert confirm.status_code == 200 and Poll.objects.get(pk=poll.pk).status == "open"
    client.post(reverse("ballots:close", args=[poll.pk]))
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.CLOSED
    again = client.post(reverse("ballots:close", args=[poll.pk]), follow=True)
    assert "not open" in again.content.decode()
    results = client.get(reverse("ballots:results", args=[poll.pk])).content.decode()
    assert "Passed" in results or "Not passed" in results
    client.force_login(org["supervisor"])
    page = client.post(reverse("ballots:recount", args=[poll.pk])).content.decode()
    assert "Equal" in page and "MISMATCH" not in page
    ballot = SealedBallot.objects.get()
    ballot.choices = all_same(poll, "against")
    ballot.save()
    page = client.post(reverse("ballots:recount", args=[poll.pk])).content.decode()
    assert "MISMATCH" in page


def test_publish_puts_the_result_on_the_board(org: Org, client, open_vote):
    poll = open_vote
    ballot_cast(actor=org["rep"], poll=poll, choices=all_same(poll, "for"))
    poll_close(actor=org["union"], poll=poll)
    client.force_login(org["union"])
    client.post(reverse("ballots:publish", args=[poll.pk]))
    poll.refresh_from_db()
    assert poll.status == PollStatus.PUBLISHED and poll.disclosure is not None
    client.force_login(org["employee"])
    assert client.get(reverse("ballots:results", args=[poll.pk])).status_code == 200
    assert client.get(reverse("disclosure:detail", args=[poll.disclosure.pk])).status_code == 200


def test_the_published_result_is_in_the_sites_language_whatever_the_publisher_reads(
    org: Org, client, open_vote
):
    """The board is Chinese for everyone: a union officer reading English publishes it in
    Chinese too (as circulars and rankings are)."""
    poll = open_vote
    ballot_cast(actor=org["rep"], poll=poll, choices=all_same(poll, "for"))
    poll_close(actor=org["union"], poll=poll)
    client.force_login(org["union"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.post(reverse("ballots:publish", args=[poll.pk]))
    poll.refresh_from_db()
    published = poll.disclosure.published_revision
    assert "表决结果" in published.title and "Voting results" not in published.title
    assert "无记名" in published.procedure or "投票" in published.procedure


def test_union_office_creates_an_evaluation_through_the_form(org: Org, client):
    hall = make_hall(org, total=3, present=3)
    people = cadres(org, 2)
    client.force_login(org["union"])
    response = client.post(
        reverse("ballots:new", args=["evaluation"]),
        {
            "title": "中层干部民主评议",
            "session": hall.session.pk,
            "cadres": "\n".join(f"{u.employee_no} 副主任" for u in people),
            "min_ballots": "1",
            "incompetent_threshold_percent": "30",
            "groups": f"领导 | 0.4 | {org['leader'].employee_no}\n代表 | 0.6 | *",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    poll = Poll.objects.get()
    assert poll.items.count() == 2 and poll.groups.count() == 2
    bad = client.post(
        reverse("ballots:new", args=["evaluation"]),
        {
            "title": "x",
            "session": hall.session.pk,
            "cadres": "NOSUCH",
            "min_ballots": "1",
            "incompetent_threshold_percent": "30",
        },
    )
    assert bad.status_code == 400 and Poll.objects.count() == 1
    assert "NOSUCH" in bad.content.decode()


def test_evaluation_ballot_page_has_five_big_choices_per_person(org: Org, client):
    hall = make_hall(org, total=3, present=3)
    poll = poll_open(actor=org["union"], poll=evaluation(org, hall, cadres(org, 3)))
    client.force_login(org["rep"])
    html = client.get(reverse("ballots:vote", args=[poll.pk])).content.decode()
    assert html.count('type="radio"') == 15
    assert "ballots/ballots.css" in html


def test_casting_costs_a_handful_of_queries(
    org: Org, client, open_vote, django_assert_max_num_queries
):
    """The hot path of a hall: session, user, poll, lock, elector, items, two inserts."""
    poll = open_vote
    client.force_login(org["rep"])
    url = reverse("ballots:cast", args=[poll.pk])
    with django_assert_max_num_queries(12):
        response = client.post(url, {**fields(poll, "for"), "confirm": "1"})
    assert response.status_code == 302


def closed_with_results(org: Org, kind: str) -> Poll:
    hall = make_hall(org, total=3, present=3)
    poll = resolution(org, hall) if kind == "resolution" else evaluation(org, hall, cadres(org, 2))
    poll = poll_open(actor=org["union"], poll=poll)
    value = "for" if kind == "resolution" else "competent"
    ballot_cast(actor=org["rep"], poll=poll, choices=all_same(poll, value))
    return poll_close(actor=org["union"], poll=poll)


@pytest.mark.parametrize(
    ("kind", "title", "other"),
    [
        ("resolution", "Voting results", "Evaluation results"),
        ("evaluation", "Evaluation results", "Voting results"),
    ],
)
def test_results_are_titled_by_the_kind_of_vote(org: Org, client, english, kind, title, other):
    poll = closed_with_results(org, kind)
    client.force_login(org["union"])
    for url in (
        reverse("ballots:results", args=[poll.pk]),
        reverse("ballots:detail", args=[poll.pk]),
    ):
        page = client.get(url).content.decode()
        assert title in page and other not in page


@pytest.mark.parametrize(
    ("kind", "title", "other"),
    [("resolution", "表决结果", "测评结果"), ("evaluation", "测评结果", "表决结果")],
)
def test_results_are_titled_for_their_kind_in_chinese(org: Org, client, kind, title, other):
    """表决结果 for a resolution (表决), never 测评结果 (evaluation results); and the reverse."""
    poll = closed_with_results(org, kind)
    client.force_login(org["union"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(reverse("ballots:results", args=[poll.pk])).content.decode()
    assert title in page and other not in page
