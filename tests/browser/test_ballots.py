"""A representative casts a ballot on a phone: one tap per choice, review, cast, done."""

from __future__ import annotations

import pytest

from gongkai.ballots.models import Participation, PendingBallot
from gongkai.ballots.services import poll_open
from tests.browser.test_shell import log_in
from tests.test_ballots import make_hall, resolution

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_casts_a_ballot_on_a_phone(org, live_server, phone):
    hall = make_hall(org, total=3, present=3)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall))
    log_in(phone, live_server.url, "rep")
    phone.wait_for_url(f"{live_server.url}/")
    phone.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    phone.goto(f"{live_server.url}/congress/votes/{poll.pk}/vote/")
    # Big targets: each choice is a full-width third of the ballot, at least 44 px high.
    first_for = phone.locator("label.choice-for").first
    box = first_for.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 90
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    first_for.tap()
    phone.locator("label.choice-against").nth(1).tap()
    phone.get_by_role("button", name="Review my ballot").click()
    review = phone.locator("ol.review").inner_text()
    assert "For" in review and "Against" in review
    assert Participation.objects.count() == 0
    # "Change" goes back with the choices kept; then review again and cast.
    phone.get_by_role("button", name="Change").click()
    assert phone.locator("input[value=against]:checked").count() == 1
    phone.get_by_role("button", name="Review my ballot").click()
    phone.get_by_role("button", name="Cast my ballot").click()
    phone.wait_for_url(f"{live_server.url}/congress/votes/{poll.pk}/cast/done/")
    assert "Your ballot is cast" in phone.locator("h1").inner_text()
    assert "Against" not in phone.locator("main").inner_text()  # no receipt
    assert Participation.objects.count() == PendingBallot.objects.count() == 1
