"""A GET changes nothing: every URL pattern of the access matrix, opened by anonymous and by
each demo login, on a database with work waiting for the background tasks, executes no
INSERT, UPDATE or DELETE (nor any other statement that changes data or schema) but the few
writes listed in :data:`ALLOWED`, each with its reason.

Why: slow or scheduled work runs in the queue (gongkai.core.queue), never in a request; a
page that did it when someone happened to open it (releasing held reports, sealing ended
surveys) did it at a moment an observer could see, raced with the task, and made a safe
method unsafe. The matrix (tests/test_access_matrix.py, tests/matrix/) lists every URL pattern
with the objects it needs; this test reuses it, so a new page is checked as soon as it joins
the matrix.

Objects a row's URL builder creates are made before the requests are counted. What the
database holds besides (:func:`pending_work`): a report sent online whose release window
has ended, an ended survey not yet sealed, unread notices for everyone: what a page that
does a task's work, or marks things as seen, would write.

Not on the list because no GET writes them: the session (signing in is a POST; here each
person is signed in before the count starts, and no page changes the session on a GET),
``last_login`` (written by the login POST only), the rate limits (gongkai.core.limits keeps
its counters in a store of its own, never this database: the reporter's pages and the login
page count there). Not seen here: statements on another connection than Django's default one,
and in other processes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import Org
from tests.matrix.helpers import ANON, WHO
from tests.test_access_matrix import MATRIX

# --- Reading the SQL (SQLite and PostgreSQL) -------------------------------------------------

# A name as either database writes it: "quoted", or bare; schema-qualified or not.
_NAME = r'(?:"(?:[^"]|"")+"|[\w$]+)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[\w$]+))?'
_TARGET = {
    "INSERT": rf"INSERT\s+(?:OR\s+\w+\s+)?INTO\s+({_NAME})",
    "REPLACE": rf"REPLACE\s+INTO\s+({_NAME})",
    "UPDATE": rf"UPDATE\s+(?:OR\s+\w+\s+)?(?:ONLY\s+)?({_NAME})",
    "DELETE": rf"DELETE\s+FROM\s+(?:ONLY\s+)?({_NAME})",
    "TRUNCATE": rf"TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?({_NAME})",
    "MERGE": rf"MERGE\s+INTO\s+({_NAME})",
    "CREATE": rf"CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:TEMP|TEMPORARY|UNIQUE|UNLOGGED)\s+)*\w+\s+"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?({_NAME})",
    "DROP": rf"DROP\s+\w+\s+(?:IF\s+EXISTS\s+)?({_NAME})",
    "ALTER": rf"ALTER\s+\w+\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?({_NAME})",
}
_VERB = re.compile(r"\b(" + "|".join(_TARGET) + r")\b", re.IGNORECASE)
_COMMENT = re.compile(r"^\s*(?:--[^\n]*\n|/\*.*?\*/)", re.DOTALL)


def _unquote(name: str) -> str:
    last = re.split(r'\s*\.\s*(?=(?:"|[\w$]))', name)[-1]
    if last.startswith('"'):
        return last[1:-1].replace('""', '"')
    return last.lower()


def write_of(sql: str) -> tuple[str, str] | None:
    """``(verb, table)`` when ``sql`` changes data or schema, else None. Reads the first
    keyword (after comments); a ``WITH`` query writes when its body or a data-modifying CTE
    does (PostgreSQL). ``SELECT … FOR UPDATE``, savepoints and PRAGMAs are not writes."""
    text = sql
    while match := _COMMENT.match(text):
        text = text[match.end() :]
    text = text.lstrip()
    first = re.match(r"\w+", text)
    if first is None:
        return None
    keyword = first.group(0).upper()
    if keyword == "WITH":
        found = next(
            (
                m
                for m in _VERB.finditer(text)
                if m.group(1).upper() in ("INSERT", "UPDATE", "DELETE", "MERGE")
                and re.match(_TARGET[m.group(1).upper()], text[m.start() :], re.IGNORECASE)
            ),
            None,
        )
        if found is None:
            return None
        keyword, text = found.group(1).upper(), text[found.start() :]
    if keyword not in _TARGET:
        return None
    target = re.match(_TARGET[keyword], text, re.IGNORECASE)
    return keyword, _unquote(target.group(1)) if target else "?"


# --- What a GET may write, by design ---------------------------------------------------------


@dataclass(frozen=True)
class Allowed:
    verbs: frozenset[str]
    table: str
    pages: frozenset[str]  # URL names; empty: any page
    why: str


ALLOWED: tuple[Allowed, ...] = (
    # The reader's own read receipt (已阅): opening a published item is what the receipt
    # records, so the page that shows the item writes it. One row per person and item,
    # ``INSERT … ON CONFLICT DO NOTHING`` (SQLite: ``INSERT OR IGNORE``), so a reload writes
    # nothing new; no audit event, no notice, nothing another person's page depends on but
    # the unit's "read by n of m" count. Not scheduled work: it is this request's own fact.
    # (A "mark as read" button would record clicks, not reading.)
    Allowed(
        verbs=frozenset({"INSERT"}),
        table="disclosure_readreceipt",
        pages=frozenset({"disclosure:detail"}),
        why="the reader's own read receipt, once per item",
    ),
)


def allowed(name: str, verb: str, table: str) -> bool:
    return any(
        verb in a.verbs and table == a.table and (not a.pages or name in a.pages) for a in ALLOWED
    )


# --- The database the pages are opened on ----------------------------------------------------


def pending_work(o: Org) -> None:
    """What the background tasks have still to do, as a page that did their work would
    find it: a report sent online whose release window has ended (for release_due), an
    ended survey with answers not yet sealed (for seal_ended), and an unread notice for
    every person (what a page that marks things as seen would write)."""
    from gongkai.notify.services import notify
    from gongkai.reporting import release
    from gongkai.reporting.services import report_submit
    from gongkai.surveys.services import survey_answer
    from tests.test_surveys import answers_for, make_survey

    now = timezone.now()
    with time_machine.travel(now - timedelta(seconds=2 * release.window_seconds() + 60)):
        report_submit(company=o.company, subject="材料费报销疑点", body="十月报销单据重复。")
    started = timezone.localdate(now) - timedelta(days=10)
    zone = timezone.get_default_timezone()
    with time_machine.travel(datetime.combine(started, time(10), tzinfo=zone)):
        survey = make_survey(o, starts_on=started, ends_on=started + timedelta(days=3))
        for who in ("employee", "rep", "teamlead"):
            survey_answer(actor=o[who], survey=survey, answers=answers_for(survey, text="好"))
    notify(users=o.users.values(), message="一条未读的通知", url="/notifications/")


# --- The test --------------------------------------------------------------------------------

ROWS = [(name, i) for name, rows in MATRIX.items() for i in range(len(rows))]


@pytest.mark.parametrize(("name", "index"), ROWS, ids=[f"{n}[{i}]" for n, i in ROWS])
def test_a_get_writes_nothing(org: Org, name: str, index: int):
    url_for, expected = MATRIX[name][index]
    pending_work(org)
    url = url_for(org)  # the row's objects, made before anything is counted
    found: list[str] = []
    for who in WHO:
        client = Client()
        if who != ANON:
            client.force_login(org[who])
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == expected[who], (name, who, response.status_code)
        for query in queries.captured_queries:
            write = write_of(query["sql"])
            if write is not None and not allowed(name, *write):
                found.append(f"{who}: {write[0]} {write[1]}: {query['sql'][:200]}")
    assert not found, f"GET {url} ({name}) wrote:\n" + "\n".join(found)


def test_every_allowed_write_names_pages_of_the_matrix():
    for entry in ALLOWED:
        assert entry.why and entry.verbs and entry.table
        assert entry.pages <= set(MATRIX), entry.pages - set(MATRIX)


# --- The SQL reader, on what each database is sent ---------------------------------------------


@pytest.mark.parametrize(
    ("sql", "write"),
    [
        # SQLite, as Django writes it
        ('INSERT INTO "reporting_report" ("id", "subject") VALUES (\'a\', \'b\')', "INSERT"),
        ('INSERT OR IGNORE INTO "reporting_spenttoken" ("digest") VALUES (\'d\')', "INSERT"),
        ('UPDATE "accounts_user" SET "last_login" = \'2026-12-01\' WHERE "id" = 1', "UPDATE"),
        ('DELETE FROM "django_session" WHERE "session_key" IN (\'k\')', "DELETE"),
        ("REPLACE INTO reporting_spenttoken VALUES ('d', '2026-12-01')", "REPLACE"),
        # PostgreSQL, as Django and raw SQL write it
        (
            'INSERT INTO "disclosure_readreceipt" ("disclosure_id", "user_id") VALUES (1, 2) '
            "ON CONFLICT DO NOTHING",
            "INSERT",
        ),
        ('TRUNCATE "reporting_heldsubmission"', "TRUNCATE"),
        ("truncate table only public.reporting_heldsubmission", "TRUNCATE"),
        ('UPDATE ONLY "public"."reporting_heldsubmission" SET box = NULL', "UPDATE"),
        (
            'WITH gone AS (DELETE FROM "reporting_heldsubmission" RETURNING *) '
            "SELECT count(*) FROM gone",
            "DELETE",
        ),
        ("/* a comment */\n  delete from reporting_heldsubmission", "DELETE"),
        ("-- a comment\nCREATE TEMP TABLE reporting_heldsubmission_keep (id int)", "CREATE"),
    ],
)
def test_the_sql_reader_finds_each_write_and_its_table(sql: str, write: str):
    found = write_of(sql)
    assert found is not None and found[0] == write
    assert found[1].endswith(
        (
            "reporting_report",
            "reporting_spenttoken",
            "accounts_user",
            "django_session",
            "disclosure_readreceipt",
            "reporting_heldsubmission",
            "reporting_heldsubmission_keep",
        )
    )


@pytest.mark.parametrize(
    "sql",
    [
        'SELECT "reporting_report"."updated_on" FROM "reporting_report" WHERE "subject" = '
        "'UPDATE DELETE FROM x'",
        'SELECT "accounts_user"."id" FROM "accounts_user" WHERE "id" = 1 FOR UPDATE',
        "WITH t AS (SELECT 1 AS updated) SELECT * FROM t",
        'SAVEPOINT "s140_x1"',
        'RELEASE SAVEPOINT "s140_x1"',
        'ROLLBACK TO SAVEPOINT "s140_x1"',
        "PRAGMA wal_checkpoint(TRUNCATE)",
        "BEGIN",
        "",
    ],
)
def test_the_sql_reader_leaves_reads_alone(sql: str):
    assert write_of(sql) is None


def test_the_sql_reader_names_the_table_without_quotes_or_schema():
    assert write_of('INSERT INTO "core_job" ("id") VALUES (1)') == ("INSERT", "core_job")
    assert write_of('DELETE FROM "public"."core_job"') == ("DELETE", "core_job")
    assert write_of("update Core_Job set done = 1") == ("UPDATE", "core_job")
