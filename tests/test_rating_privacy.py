"""Satisfaction ratings are private: nobody but the rater learns which rating a person gave.

Everyone else sees counts. The audit event says that a disclosure was rated (and how many
ratings it has), never by whom, with which value or comment; events written before that rule
are shown without the actor and without their data, and the "who" filter does not find them.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from gongkai.audit.models import AuditEvent
from gongkai.audit.services import record_event
from gongkai.core.satisfaction import Satisfaction
from gongkai.disclosure.models import Rating
from tests.conftest import Org
from tests.factories import UserFactory, published_disclosure
from tests.test_hostile_input import built, first_rows

RATER_NAME = "评分人甲乙丙"
RATER_NO = "R20260424"
COMMENT = "COMMENT-只有评分人自己知道"
READERS = ("union", "supervisor", "leader", "depthead", "teamlead")


@pytest.fixture
def rated(org: Org):
    """A published team item that a fresh employee (who did nothing else) rated
    "dissatisfied" with a comment, through the page."""
    item = published_disclosure(
        unit=org.boiler_team, entry_code="team-bonus", period="2026-09", title="评分用的公开"
    )
    rater = UserFactory(employee_no=RATER_NO, name=RATER_NAME, unit=org.boiler_team)
    client = Client()
    client.force_login(rater)
    response = client.post(
        reverse("boards:rate", args=[item.pk]),
        {"value": Satisfaction.DISSATISFIED, "comment": COMMENT},
    )
    assert response.status_code == 302
    assert Rating.objects.get(user=rater, disclosure=item).value == Satisfaction.DISSATISFIED
    return item, rater


def body_text(response) -> str:
    """The text of a page, or of every part of a zipped download (.xlsx, .docx) or a PDF."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return " ".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    if content[:5] == b"%PDF-":
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            pages = PdfReader(io.BytesIO(content)).pages
            return " ".join(page.extract_text() or "" for page in pages)
        except PdfReadError:  # the test attachments are stubs, not whole PDFs
            pass
    return content.decode("utf-8", "replace")


def events_shown(response) -> str:
    """The audit page's table of events (the filter form above it repeats the query)."""
    assert response.status_code == 200
    body = response.content.decode()
    return body.split('<table class="audit">', 1)[1] if '<table class="audit">' in body else ""


def test_the_audit_event_records_that_a_rating_happened_not_who_or_what(org: Org, rated):
    item, _rater = rated
    (event,) = AuditEvent.objects.filter(action="disclosure.rated")
    assert event.actor_id is None
    assert event.target_id == str(item.pk)
    assert event.before is None and event.after == {"ratings": 1}
    stored = f"{event.actor_label} {event.target_label} {event.before} {event.after}"
    for secret in (RATER_NAME, RATER_NO, COMMENT, Satisfaction.DISSATISFIED, "value"):
        assert secret not in stored


@pytest.mark.parametrize("who", ["union", "supervisor"])
def test_the_audit_page_shows_the_rating_but_not_the_rater(org: Org, rated, who: str):
    client = Client()
    client.force_login(org[who])
    url = reverse("audit:event_list")
    page = client.get(url, {"action": "disclosure.rated"})
    assert page.status_code == 200
    assert page.context["page"].paginator.count == 1
    body = page.content.decode()
    assert "满意度评价：1" in body
    for query in ({}, {"action": "disclosure.rated"}, {"q": RATER_NAME}, {"q": RATER_NO}):
        listed = events_shown(client.get(url, query))  # the filter form repeats the query
        for secret in (RATER_NAME, RATER_NO, COMMENT):
            assert secret not in listed, (query, secret)
    for query in ({"q": RATER_NAME}, {"q": RATER_NO}):
        assert client.get(url, query).context["page"].paginator.count == 0


def test_events_from_before_the_rule_hide_the_rater_and_the_rating(org: Org, rated):
    """An event written the old way (actor, value, comment) is still in the append-only log;
    the page shows it without them, and the "who" filter does not find it."""
    item, rater = rated
    record_event(
        actor=rater,
        action="disclosure.rated",
        target=item,
        unit=item.unit,
        after={"value": Satisfaction.DISSATISFIED, "comment": COMMENT},
    )
    client = Client()
    client.force_login(org["union"])
    url = reverse("audit:event_list")
    page = client.get(url, {"action": "disclosure.rated"})
    assert page.context["page"].paginator.count == 2
    body = events_shown(page)
    for secret in (RATER_NAME, RATER_NO, COMMENT, Satisfaction.DISSATISFIED):
        assert secret not in body
    assert client.get(url, {"q": RATER_NAME}).context["page"].paginator.count == 0


def test_only_the_rater_sees_their_rating_on_the_disclosure_page(org: Org, rated):
    item, rater = rated
    own = Client()
    own.force_login(rater)
    body = own.get(reverse("disclosure:detail", args=[item.pk])).content.decode()
    assert COMMENT in body
    for who in READERS:
        client = Client()
        client.force_login(org[who])
        response = client.get(reverse("disclosure:detail", args=[item.pk]))
        assert response.status_code == 200
        body = response.content.decode()
        assert COMMENT not in body and RATER_NAME not in body, who


def test_boards_feeds_and_exports_show_counts_only(
    org: Org, rated, django_capture_on_commit_callbacks
):
    item, _rater = rated
    year = item.first_published_at.year
    urls = [
        reverse("boards:board", args=[org.boiler_team.code]),
        reverse("boards:board", args=[org.company.code]),
        reverse("boards:feed", args=[org.boiler_team.code]),
        reverse("assessment:compliance"),
        reverse("assessment:compliance_export"),
        reverse("assessment:report", args=[year]),
        reverse("assessment:report_pdf", args=[year]),
        reverse("notifications:list"),
        reverse("search:results") + "?q=评分",
    ]
    for who in READERS:
        client = Client()
        client.force_login(org[who])
        for url in urls:
            with django_capture_on_commit_callbacks(execute=True):
                response = client.get(url)
                if "pdf" in url:  # a document: its page's button starts a job
                    response = client.post(url)
            if response.status_code == 302 and response.url.startswith("/jobs/"):
                response = client.get(response.url + "download/")  # a document made by a job
            if response.status_code != 200:
                continue
            text = body_text(response)
            for secret in (RATER_NAME, RATER_NO, COMMENT):
                assert secret not in text, (who, url, secret)


def test_no_page_anyone_else_can_open_shows_the_comment(org: Org, rated):
    """Every URL pattern (the access matrix's first rows), as the union office and the
    supervision group: the rating's comment is nowhere."""
    clients = {}
    for who in ("union", "supervisor"):
        clients[who] = Client(raise_request_exception=False)
    for _name, url_for, _expected in first_rows():
        with built(org, url_for) as url:
            for who, client in clients.items():
                client.force_login(org[who])
                with transaction.atomic():
                    response = client.get(url)
                    text = body_text(response) if response.status_code == 200 else ""
                    transaction.set_rollback(True)
                assert COMMENT not in text, (who, url)
