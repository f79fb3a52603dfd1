"""Small leaks: the health check names no database, refusals log no traceback, and the Atom
feeds escape titles exactly once."""

from __future__ import annotations

import html
import logging
from datetime import date
from xml.etree import ElementTree

import pytest
from django.conf import settings
from django.db import connection
from django.db.utils import OperationalError
from django.test import Client
from django.urls import reverse

from gongkai.disclosure.models import DisclosureStatus
from gongkai.disclosure.services import Transition, disclosure_transition
from gongkai.org.models import UnitKind
from tests.conftest import Org
from tests.factories import make_unit, published_disclosure

# --- (a) /healthz: up or down, nothing else ------------------------------------------------


@pytest.mark.parametrize("who", [None, "employee", "union"])
def test_healthz_says_only_ok(org: Org, who: str | None):
    client = Client()
    if who:
        client.force_login(org[who])
    response = client.get(reverse("core:healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    body = response.content.decode().lower()
    for word in ("sqlite", "postgres", "vendor", "database", "engine", connection.vendor):
        assert word not in body
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_answers_head_for_monitors(db):
    response = Client().head(reverse("core:healthz"))
    assert response.status_code == 200
    assert response.content == b""


def test_healthz_is_503_without_a_database_and_says_nothing_more(db, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise OperationalError("could not connect to server at 10.0.0.5:5432")

    client = Client()
    with monkeypatch.context() as patched:
        patched.setattr(connection, "cursor", broken)
        response = client.get(reverse("core:healthz"))
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert b"10.0.0.5" not in response.content
    # The operator learns it from the log (without the connection string).
    assert any("database" in r.getMessage() for r in caplog.records)


# --- (b) Refusals are logged as one line, without a traceback --------------------------------


def refusal_records(caplog: pytest.LogCaptureFixture, status: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "status_code", None) == status]


def test_a_refused_request_logs_no_traceback(org: Org, client: Client, caplog):
    client.force_login(org["employee"])
    with caplog.at_level(logging.INFO):
        response = client.get(reverse("audit:event_list"))  # PermissionDenied in the view
    assert response.status_code == 403
    records = refusal_records(caplog, 403)
    assert records, "the refusal is still logged"
    for record in records:
        assert record.exc_info is None and not record.exc_text
        assert "/audit/" in record.getMessage()
    assert "Traceback" not in caplog.text
    assert "PermissionDenied" not in caplog.text


def test_a_bad_request_logs_no_traceback(org: Org, client: Client, caplog):
    client.force_login(org["employee"])
    with caplog.at_level(logging.INFO):
        response = client.get("/org/people/%00/")  # BadRequest from RefuseNulMiddleware
    assert response.status_code == 400
    assert refusal_records(caplog, 400)
    assert "Traceback" not in caplog.text


def test_the_console_handler_drops_tracebacks_of_refusals_but_not_of_errors():
    """The handler's filter also covers the django.security.* loggers below django.security."""
    (console,) = (h for h in logging.getLogger().handlers if h.get_name() == "console")
    formatter = console.formatter or logging.Formatter()
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        exc_info = sys.exc_info()
    for status, traceback_kept in ((403, False), (400, False), (500, True)):
        record = logging.LogRecord(
            "django.security.DisallowedHost", logging.ERROR, __file__, 1, "x", None, exc_info
        )
        record.status_code = status
        assert console.filter(record)
        assert ("Traceback" in formatter.format(record)) is traceback_kept, status


def test_the_logging_settings_keep_the_filter():
    assert settings.LOGGING["loggers"]["django.request"]["filters"] == ["refusals"]
    assert "refusals" in settings.LOGGING["handlers"]["console"]["filters"]


# --- (c) Atom feeds: escaped exactly once ----------------------------------------------------

ATOM = "{http://www.w3.org/2005/Atom}"
UNIT_NAME = "R&D <研发> \"中心\" & 'x'"
TITLE = "R&D 费用 <2026> & \"季度\" 'Q3' &amp; literal"
RESULT = "<p>R&amp;D 共计 &lt;1,234&gt; 元 &amp; 税</p>"


def parsed(response) -> ElementTree.Element:
    assert response.status_code == 200
    return ElementTree.fromstring(response.content)  # noqa: S314 - our own feed, in a test


def test_feed_titles_are_escaped_once(org: Org, client: Client):
    unit = make_unit(UNIT_NAME, UnitKind.TEAM, org.boiler, code="rd-boiler-rnd")
    item = published_disclosure(
        unit=unit, entry_code="team-bonus", period="2026-10", title=TITLE, result=RESULT
    )
    client.force_login(org["union"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    feed = parsed(client.get(reverse("boards:feed", args=[unit.code])))
    assert feed.findtext(f"{ATOM}title") == f"Board of {UNIT_NAME}"
    assert UNIT_NAME in (feed.findtext(f"{ATOM}subtitle") or "")
    entries = {e.findtext(f"{ATOM}title"): e for e in feed.iter(f"{ATOM}entry")}
    assert TITLE in entries, list(entries)
    entry = entries[TITLE]
    assert UNIT_NAME in {c.get("term") for c in entry.iter(f"{ATOM}category")}
    # The summary is type="html": its text is HTML, which a reader decodes once more.
    summary = entry.find(f"{ATOM}summary")
    assert summary is not None and summary.get("type") == "html"
    assert "R&D 共计 <1,234> 元 & 税" in html.unescape(summary.text or "")

    reason = "撤回 R&D <原因> & 'x'"
    item = disclosure_transition(
        actor=org["union"], disclosure=item, transition=Transition.WITHDRAW, reason=reason
    )
    assert item.status == DisclosureStatus.WITHDRAWN
    feed = parsed(client.get(reverse("boards:feed", args=[unit.code])))
    titles = [e.findtext(f"{ATOM}title") for e in feed.iter(f"{ATOM}entry")]
    assert f"Withdrawn: {TITLE}" in titles
    summaries = [e.findtext(f"{ATOM}summary") or "" for e in feed.iter(f"{ATOM}entry")]
    assert any(reason in html.unescape(s) for s in summaries)


def test_public_feed_titles_are_escaped_once(org: Org, client: Client):
    title = '招聘 R&D <工程师> & "助理"'
    published_disclosure(
        unit=org.company, entry_code="recruitment", event_date=date(2026, 10, 8), title=title
    )
    feed = parsed(client.get(reverse("public:feed")))
    assert title in [e.findtext(f"{ATOM}title") for e in feed.iter(f"{ATOM}entry")]
