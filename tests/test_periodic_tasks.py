"""The periodic tasks that replaced work once done in a GET request or by a management command
someone had to put in a timer: sealing ended surveys, finishing votes whose sealing failed,
releasing held reports, rebuilding the search index, checking the ledger. Each does its job,
runs on its schedule (crontab, UTC), changes nothing when run a second time, and raises when
it fails, so the queue records the failure. A GET on an ended survey writes nothing."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from huey.signals import SIGNAL_ERROR

from gongkai.audit.models import AuditEvent
from gongkai.core import holding
from gongkai.core.ballotbox import BallotBox
from gongkai.core.queue import HUEY
from gongkai.surveys import services as survey_services
from gongkai.surveys.models import Answer, BoxedAnswer, Survey, SurveyStatus
from gongkai.surveys.tasks import seal_ended
from tests.conftest import Org
from tests.test_surveys import answers_for, make_survey, staff

pytestmark = pytest.mark.usefixtures("english")

ANSWERING_DAY = "2026-11-24 10:00 +0800"  # make_survey: from 24 November to 1 December


def naive_utc(text: str) -> datetime:
    """A moment as Huey's scheduler passes it to a schedule (naive UTC)."""
    return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)


def runs_at(task: Any, moment: datetime) -> bool:
    """Whether Huey's scheduler, checking at ``moment``, enqueues the periodic ``task``."""
    return bool(task.task_class().validate_datetime(moment))


def writes(queries: CaptureQueriesContext) -> list[str]:
    """The statements that change data."""
    verbs = ("INSERT", "UPDATE", "DELETE", "REPLACE", "TRUNCATE")
    return [
        q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(verbs)
    ]


@pytest.fixture
def failures() -> Iterator[list[tuple[str, BaseException | None]]]:
    """(task name, exception) of every task that raised, as the queue's failure hook sees it."""
    caught: list[tuple[str, BaseException | None]] = []

    def on_error(signal: str, task: Any, exc: BaseException | None = None, *args: Any) -> None:
        caught.append((task.name, exc))

    HUEY.signal(SIGNAL_ERROR)(on_error)
    yield caught
    HUEY.disconnect_signal(on_error, SIGNAL_ERROR)


# --- Surveys ------------------------------------------------------------------------------


def answered_survey(o: Org, prefix: str, *, text: str = "食堂饭菜要改进") -> Survey:
    """A survey of 24 November – 1 December answered by five employees."""
    with time_machine.travel(ANSWERING_DAY):
        survey = make_survey(o)
        for user in staff(o.boiler_team, 5, prefix):
            survey_services.survey_answer(
                actor=user, survey=survey, answers=answers_for(survey, text=text)
            )
    return survey


def survey_state(survey: Survey) -> tuple:
    return (
        Survey.objects.filter(pk=survey.pk).values().get(),
        sorted(BoxedAnswer.objects.filter(survey=survey).values_list("pk", flat=True)),
        list(Answer.objects.filter(survey=survey).order_by("pk").values_list()),
        AuditEvent.objects.count(),
    )


def test_pages_of_an_ended_survey_write_nothing_and_say_when_it_will_be_sealed(
    org: Org, login, client
):
    survey = answered_survey(org, "E")
    before = survey_state(survey)
    pages = {
        "detail": reverse("surveys:detail", args=[survey.pk]),
        "results": reverse("surveys:results", args=[survey.pk]),
        "manage": reverse("surveys:manage", args=[survey.pk]),
        "index": reverse("surveys:index"),
    }
    xlsx = reverse("surveys:results_xlsx", args=[survey.pk])
    with time_machine.travel("2026-12-02 09:03 +0800", tick=False):
        for who in ("union", "supervisor", "employee"):
            login(org[who])
            with CaptureQueriesContext(connection) as queries:
                seen = {name: client.get(url) for name, url in pages.items()}
                refused = client.get(xlsx)
            assert queries.captured_queries and writes(queries) == [], who
            assert survey_state(survey) == before, who
            assert refused.status_code in (403, 404)  # nothing to download before the seal
            assert seen["detail"].status_code == seen["index"].status_code == 200
            detail = seen["detail"].content.decode()
            # ended, waiting for the sealing task, which runs every 10 minutes: next at 09:10
            assert "survey-sealing" in detail and "09:10" in detail
            assert "survey-answer" not in detail  # no more answers
        # the results readers see the response rate only, and when the results will come
        results = seen_by(org, login, client, "supervisor", pages["results"])
        assert "survey-sealing" in results and "09:10" in results
        assert "chart-questions" not in results and "食堂饭菜要改进" not in results
        manage = seen_by(org, login, client, "union", pages["manage"])
        assert "survey-sealing" in manage and "09:10" in manage
    assert survey_state(survey) == before
    assert not AuditEvent.objects.filter(action="survey.closed").exists()


def seen_by(org: Org, login, client, who: str, url: str) -> str:
    login(org[who])
    page = client.get(url)
    assert page.status_code == 200
    return page.content.decode()


def test_the_task_seals_every_ended_survey_once_and_the_results_then_show(
    org: Org, login, client, failures
):
    ended = answered_survey(org, "E")
    with time_machine.travel(ANSWERING_DAY):
        running = make_survey(org, ends_on=date(2026, 12, 5))
        survey_services.survey_answer(
            actor=org["employee"], survey=running, answers=answers_for(running)
        )
    with time_machine.travel("2026-12-02 00:10 +0800", tick=False):
        seal_ended()  # as the scheduler enqueues it (tests: run at once)
        ended.refresh_from_db()
        assert ended.status == SurveyStatus.CLOSED and ended.closed_on == date(2026, 12, 2)
        assert not BoxedAnswer.objects.filter(survey=ended).exists()
        assert Answer.objects.filter(survey=ended).count() == 5 * 3
        # a survey still running is left alone
        running.refresh_from_db()
        assert running.status == SurveyStatus.OPEN
        assert BoxedAnswer.objects.filter(survey=running).count() == 3
        event = AuditEvent.objects.get(action="survey.closed")
        assert event.actor is None and event.after["answers"] == 15
        # a second run changes nothing
        before = survey_state(ended), survey_state(running)
        with CaptureQueriesContext(connection) as queries:
            seal_ended()
        assert writes(queries) == []
        assert (survey_state(ended), survey_state(running)) == before
        results = seen_by(
            org, login, client, "supervisor", reverse("surveys:results", args=[ended.pk])
        )
    assert "chart-questions" in results and "食堂饭菜要改进" in results
    assert "survey-sealing" not in results
    assert failures == []


def test_the_sealing_task_runs_every_ten_minutes():
    assert runs_at(seal_ended, naive_utc("2026-12-02 00:00 +0800"))
    assert runs_at(seal_ended, naive_utc("2026-12-02 09:10 +0800"))
    assert runs_at(seal_ended, naive_utc("2026-12-02 09:50:59 +0800"))
    assert not runs_at(seal_ended, naive_utc("2026-12-02 09:03 +0800"))
    assert not runs_at(seal_ended, naive_utc("2026-12-02 09:11 +0800"))
    assert survey_services.next_sealing_run(
        datetime.fromisoformat("2026-12-02 09:03 +0800")
    ) == datetime.fromisoformat("2026-12-02 09:10 +0800")
    assert survey_services.next_sealing_run(
        datetime.fromisoformat("2026-12-02 09:10 +0800")
    ) == datetime.fromisoformat("2026-12-02 09:20 +0800")


def test_a_survey_that_cannot_be_sealed_fails_the_task_and_the_others_are_sealed(
    org: Org, monkeypatch, failures
):
    broken = answered_survey(org, "B")
    fine = answered_survey(org, "F")
    original = BallotBox.seal

    def seal(box: BallotBox, owner_id: int, build: Any, *, what: str) -> None:
        if box is survey_services.BOX and owner_id == broken.pk:
            raise holding.HoldingError(f"{what} failed: OperationalError")
        original(box, owner_id, build, what=what)

    monkeypatch.setattr(BallotBox, "seal", seal)
    with time_machine.travel("2026-12-02 00:10 +0800"):
        seal_ended()
        [(name, error)] = failures
        assert name == "seal_ended" and isinstance(error, survey_services.SealingFailed)
        assert f"survey {broken.pk}" in str(error) and f"survey {fine.pk}" not in str(error)
        broken.refresh_from_db()
        fine.refresh_from_db()
        assert broken.status == SurveyStatus.OPEN  # nothing changed: its box is intact
        assert BoxedAnswer.objects.filter(survey=broken).count() == 15
        assert fine.status == SurveyStatus.CLOSED
        # the next run, once sealing works again
        monkeypatch.setattr(BallotBox, "seal", original)
        seal_ended()
    broken.refresh_from_db()
    assert broken.status == SurveyStatus.CLOSED and len(failures) == 1


# --- Ballots ------------------------------------------------------------------------------


def ballots_busy(busy_box: BallotBox) -> Any:
    """BallotBox.seal failing for ``busy_box`` (as when its holding table cannot be locked)."""
    original = BallotBox.seal

    def seal(box: BallotBox, owner_id: int, build: Any, *, what: str) -> None:
        if box is busy_box:
            raise holding.HoldingError(f"{what} failed: OperationalError")
        original(box, owner_id, build, what=what)

    return seal


def closed_but_not_sealed(org: Org, monkeypatch) -> Any:
    """A vote of five ballots, closed, whose sealing failed (the holding table was busy)."""
    from gongkai.ballots import boxes
    from gongkai.ballots.services import SealingFailed, ballot_cast, poll_close, poll_open
    from tests.test_ballots import all_same, make_hall, resolution

    hall = make_hall(org, total=6, present=5)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall))
    for voter in hall.present:
        ballot_cast(actor=voter, poll=poll, choices=all_same(poll, "for"))

    with monkeypatch.context() as patched:
        patched.setattr(BallotBox, "seal", ballots_busy(boxes.BOX))
        with pytest.raises(SealingFailed):
            poll_close(actor=org["union"], poll=poll)
    poll.refresh_from_db()
    assert poll.status == "closed" and poll.result is None
    return poll


def ballots_state(poll: Any) -> tuple:
    from gongkai.ballots.models import PendingBallot, Poll, Receipt, SealedBallot

    return (
        Poll.objects.filter(pk=poll.pk).values().get(),
        list(SealedBallot.objects.filter(poll=poll).order_by("pk").values_list()),
        list(Receipt.objects.filter(poll=poll).order_by("pk").values_list()),
        PendingBallot.objects.filter(poll=poll).count(),
        AuditEvent.objects.count(),
    )


# Transactional: SQLite's write-ahead log can be checkpointed only outside a transaction, as
# the worker runs it (inside a test's transaction the task would rightly report it busy).
@pytest.mark.django_db(transaction=True)
def test_the_ballots_task_finishes_a_vote_whose_sealing_failed_once(
    org: Org, monkeypatch, failures
):
    from gongkai.ballots.tasks import seal_unfinished

    poll = closed_but_not_sealed(org, monkeypatch)
    seal_unfinished()
    poll.refresh_from_db()
    assert poll.result is not None and poll.result["ballots"] == 5
    before = ballots_state(poll)
    assert before[3] == 0  # no box left
    with CaptureQueriesContext(connection) as queries:
        seal_unfinished()
    assert writes(queries) == [] and ballots_state(poll) == before
    assert failures == []
    out = StringIO()
    call_command("ballots_seal", stdout=out)  # the command runs the same thing now
    assert "Sealed and counted 0 votes; none left." in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_vote_that_still_cannot_be_sealed_fails_the_task(org: Org, monkeypatch, failures):
    from django.core.management import CommandError

    from gongkai.ballots import boxes
    from gongkai.ballots.tasks import SealingIncomplete, seal_unfinished

    poll = closed_but_not_sealed(org, monkeypatch)
    monkeypatch.setattr(BallotBox, "seal", ballots_busy(boxes.BOX))
    seal_unfinished()
    [(name, error)] = failures
    assert name == "seal_unfinished" and isinstance(error, SealingIncomplete)
    assert "still failing" in str(error) and str(poll.pk) in str(error)
    with pytest.raises(CommandError, match="still failing"):
        call_command("ballots_seal")
    poll.refresh_from_db()
    assert poll.result is None


def test_the_ballots_task_runs_every_five_minutes():
    from gongkai.ballots.tasks import seal_unfinished

    assert runs_at(seal_unfinished, naive_utc("2026-12-02 09:05 +0800"))
    assert runs_at(seal_unfinished, naive_utc("2026-12-02 10:00 +0800"))
    assert not runs_at(seal_unfinished, naive_utc("2026-12-02 09:07 +0800"))


# --- Reporting ------------------------------------------------------------------------------

SUBJECT = "食堂采购虚报"
BODY = "二〇二六年十月食堂采购单价高于市场价三成。"


def reporting_state() -> tuple:
    from gongkai.reporting.models import HeldSubmission, Report, SpentToken

    return (
        list(Report.objects.order_by("pk").values_list()),
        sorted(HeldSubmission.objects.values_list("pk", flat=True)),
        sorted(SpentToken.objects.values_list("digest", flat=True)),
    )


@pytest.mark.django_db(transaction=True)
def test_the_release_task_releases_what_is_due_in_one_transaction_once(
    org: Org, settings, failures, caplog
):
    from gongkai.reporting.models import HeldSubmission, Report
    from gongkai.reporting.services import report_submit
    from gongkai.reporting.tasks import release_due

    settings.REPORTING_RELEASE_SECONDS = 3600
    caplog.set_level(logging.DEBUG)
    report_submit(company=org.company, subject=SUBJECT, body=BODY)
    report_submit(company=org.company, subject="第二件", body=BODY)
    due = HeldSubmission.objects.order_by("release_after").first().release_after
    assert runs_at(release_due, due.astimezone(UTC).replace(tzinfo=None))
    with time_machine.travel(due - timedelta(seconds=1), tick=False):
        release_due()  # not due yet: nothing moves
    assert not Report.objects.exists() and HeldSubmission.objects.count() == 2
    with time_machine.travel(due + timedelta(seconds=20), tick=False):
        release_due()
        assert {r.subject for r in Report.objects.all()} == {SUBJECT, "第二件"}
        assert not HeldSubmission.objects.exists()
        before = reporting_state()
        with CaptureQueriesContext(connection) as queries:
            release_due()
    assert writes(queries) == [] and reporting_state() == before
    if connection.vendor == "postgresql":  # both reports written by one transaction
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(DISTINCT xmin::text) FROM reporting_report")
            assert cursor.fetchone()[0] == 1
    assert failures == []
    # the task logs nothing about what it released, not even how many
    for record in caplog.records:
        if record.name.startswith(("gongkai", "huey")):
            text = record.getMessage()
            assert SUBJECT not in text and BODY not in text and "Released" not in text


@pytest.mark.django_db(transaction=True)
def test_a_failed_release_fails_the_task_without_a_word_of_the_report(
    org: Org, settings, monkeypatch, failures, caplog
):
    from gongkai.reporting import release
    from gongkai.reporting.models import HeldSubmission, Report
    from gongkai.reporting.services import report_submit
    from gongkai.reporting.tasks import ReleaseIncomplete, release_due

    settings.HOLDING_ATTEMPTS = 2
    settings.HOLDING_RETRY_PAUSE_SECONDS = 0
    caplog.set_level(logging.DEBUG)
    report_submit(company=org.company, subject=SUBJECT, body=BODY)
    due = HeldSubmission.objects.get().release_after
    real = release.release

    def failing(**kwargs: Any) -> Any:
        raise DatabaseError(f'duplicate key value: body "{BODY}"')  # an error quoting content

    monkeypatch.setattr(release, "release", failing)
    with time_machine.travel(due, tick=True):
        release_due()
        [(name, error)] = failures
        assert name == "release_due" and isinstance(error, ReleaseIncomplete)
        assert "The release failed" in str(error) and "DatabaseError" in str(error)
        assert BODY not in str(error) and SUBJECT not in str(error)
        assert error.__cause__ is None and error.__suppress_context__
        assert caplog.records  # the failure was logged …
        assert BODY not in caplog.text and SUBJECT not in caplog.text  # … without content
        assert HeldSubmission.objects.count() == 1 and not Report.objects.exists()
        # the next window's run releases what this one left
        monkeypatch.setattr(release, "release", real)
        release_due()
    assert Report.objects.get().subject == SUBJECT and len(failures) == 1


@pytest.mark.parametrize(
    ("seconds", "fires", "quiet"),
    [
        # the default hour: the hourly crontab, minute 0 UTC
        (3600, ["10:00:00", "10:00:59", "23:00:30"], ["09:59:59", "10:01:00", "10:30:00"]),
        # a quarter of an hour: at :00, :15, :30, :45
        (900, ["10:15:00", "10:45:40"], ["10:14:59", "10:16:00", "10:20:00"]),
        # a day: midnight UTC (windows are aligned on the epoch)
        (86400, ["00:00:10"], ["10:00:00", "23:59:59"]),
        # 90 seconds: starts at 10:00:00, 10:01:30, 10:03:00 …; a check fires when a start
        # lies in the minute before it
        (90, ["10:00:30", "10:01:59"], ["10:01:00", "10:02:59"]),
        # released at once: every minute
        (0, ["10:00:00", "10:07:13"], []),
    ],
)
def test_the_release_runs_at_the_start_of_every_window(settings, seconds, fires, quiet):
    from gongkai.reporting.tasks import release_due

    settings.REPORTING_RELEASE_SECONDS = seconds
    for at in fires:
        assert runs_at(release_due, datetime.fromisoformat(f"2026-12-02T{at}")), at
    for at in quiet:
        assert not runs_at(release_due, datetime.fromisoformat(f"2026-12-02T{at}")), at


@pytest.mark.parametrize("seconds", [90, 600, 900, 3600, 7200, 86400])
@pytest.mark.parametrize("offset", [0, 17, 59])
def test_checks_a_minute_apart_meet_every_window_start_exactly_once(settings, seconds, offset):
    from gongkai.reporting.tasks import release_due

    settings.REPORTING_RELEASE_SECONDS = seconds
    start = datetime(2026, 12, 2, tzinfo=UTC).replace(tzinfo=None) + timedelta(seconds=offset)
    checks = [start + timedelta(minutes=m) for m in range(2 * 24 * 60)]
    fired = [c for c in checks if runs_at(release_due, c)]
    # the checks cover (first − 60 s, last]: every window start in it is met once
    covered = (checks[-1] - checks[0]).total_seconds() + 60
    assert len(fired) in (int(covered // seconds), int(covered // seconds) + 1)
    for earlier, later in itertools.pairwise(fired):
        assert (later - earlier).total_seconds() >= seconds - 60


# --- Search ---------------------------------------------------------------------------------


def search_state() -> list[tuple]:
    from gongkai.search.models import SearchDocument

    return list(
        SearchDocument.objects.order_by("pk").values_list(
            "pk", "disclosure_id", "revision_id", "title", "version"
        )
    )


@pytest.fixture
def indexed(org: Org) -> dict[str, Any]:
    """Three published items, one withdrawn, one draft."""
    from gongkai.disclosure.models import CatalogEntry
    from gongkai.disclosure.services import Transition, disclosure_create, disclosure_transition
    from gongkai.org.models import Role
    from tests.factories import person_with, published_disclosure

    items = {
        "tender": published_disclosure(
            unit=org.company,
            entry_code="tendering",
            title="锅炉检修招标结果公示",
            result="<p>中标单位：华电检修公司。</p>",
            event_date=date(2026, 10, 1),
        ),
        "fees": published_disclosure(unit=org.boiler, title="锅炉分场业务招待费"),
        "turbine": published_disclosure(unit=org.turbine, title="汽机分场业务招待费"),
        "gone": published_disclosure(
            unit=org.turbine,
            title="将被撤回的招标公告",
            entry_code="tendering",
            event_date=date(2026, 10, 2),
        ),
    }
    disclosure_transition(
        actor=org["union"], disclosure=items["gone"], transition=Transition.WITHDRAW, reason="重复"
    )
    items["draft"] = disclosure_create(
        actor=person_with(Role.DEPT_OFFICER, org.boiler),
        unit=org.boiler,
        entry=CatalogEntry.objects.get(code="tendering"),
        title="草稿招标公告",
        procedure="<p>草稿</p>",
        result="<p>草稿</p>",
        event_date=date(2026, 10, 3),
    )
    return items


def stray_document(disclosure: Any, title: str) -> None:
    """A document the index must not hold (for a withdrawn item or a draft), written the way
    the index writes its documents."""
    from gongkai.disclosure.models import Revision
    from gongkai.search.backends import backend
    from gongkai.search.services import build_document
    from gongkai.search.sources import Indexed

    revision = Revision.objects.filter(disclosure=disclosure).order_by("-pk").first() or (
        Revision.objects.order_by("pk").first()
    )
    engine = backend()
    document, tokens = build_document(
        Indexed(
            disclosure=disclosure,
            revision=revision,
            unit=disclosure.unit,
            scope="internal",
            title=title,
            body="",
            entry_name=disclosure.entry.name,
            published_at=revision.published_at,
        ),
        engine,
    )
    document.save()
    engine.added([(document, tokens)])


def test_reindex_brings_the_index_up_to_date_in_batches_and_a_second_run_writes_nothing(
    org: Org, indexed, monkeypatch
):
    from gongkai.search import tasks
    from gongkai.search.models import SearchDocument
    from gongkai.search.selectors import search_disclosures

    def found(query: str) -> set[int]:
        return {r.disclosure_id for r in search_disclosures(org["union"], query).results}

    assert found("招标") == {indexed["tender"].pk}
    good = search_state()
    # the damage a rebuild repairs: a document missing, one stale, two that must not be there
    SearchDocument.objects.filter(disclosure=indexed["fees"]).delete()
    stray_document(indexed["gone"], "将被撤回的招标公告")
    stray_document(indexed["draft"], "草稿招标公告")
    assert SearchDocument.objects.filter(disclosure=indexed["gone"]).exists()
    assert SearchDocument.objects.filter(disclosure=indexed["draft"]).exists()
    assert found("业务招待费") == {indexed["turbine"].pk}
    monkeypatch.setattr(tasks, "BATCH", 2)  # several batches, each its own transaction

    tasks.reindex()  # as the command enqueues it (tests: run at once)
    assert found("招标") == {indexed["tender"].pk}
    assert found("业务招待费") == {indexed["turbine"].pk, indexed["fees"].pk}
    after = search_state()
    assert [row[1:] for row in after if row[1] != indexed["fees"].pk] == [
        row[1:] for row in good if row[1] != indexed["fees"].pk
    ]
    # what was right is kept as it was (same rows), only the missing one is new
    assert {row[0] for row in good} - {row[0] for row in after} == {
        row[0] for row in good if row[1] == indexed["fees"].pk
    }
    events = AuditEvent.objects.filter(action="search.reindexed").count()
    assert events == 1

    with CaptureQueriesContext(connection) as queries:
        outcome = tasks.reindex_all()
    assert writes(queries) == []
    assert (outcome.documents, outcome.written, outcome.removed) == (3, 0, 0)
    assert search_state() == after
    assert AuditEvent.objects.filter(action="search.reindexed").count() == events


def test_a_stale_document_is_replaced(org: Org, indexed):
    from gongkai.search import tasks
    from gongkai.search.models import SearchDocument

    # a document indexed before the unit was renamed
    SearchDocument.objects.filter(disclosure=indexed["tender"]).update(unit_name="旧名称")
    outcome = tasks.reindex_all()
    assert (outcome.written, outcome.removed) == (1, 0)
    assert SearchDocument.objects.get(disclosure=indexed["tender"]).unit_name == org.company.name


def test_the_command_queues_the_rebuild_or_runs_it_now(org: Org, indexed):
    from gongkai.search.models import SearchDocument

    SearchDocument.objects.filter(disclosure=indexed["fees"]).delete()
    out = StringIO()
    call_command("search_reindex", stdout=out)
    assert "queued" in out.getvalue()
    assert SearchDocument.objects.filter(disclosure=indexed["fees"]).exists()  # tests: at once
    SearchDocument.objects.filter(disclosure=indexed["fees"]).delete()
    out = StringIO()
    call_command("search_reindex", "--now", stdout=out)
    assert "Indexed 3 published disclosures" in out.getvalue()
    assert SearchDocument.objects.filter(disclosure=indexed["fees"]).exists()


def test_documents_of_an_older_tokenizer_are_rebuilt(org: Org, indexed):
    from gongkai.search import tasks
    from gongkai.search.models import SearchDocument
    from gongkai.search.selectors import search_disclosures
    from gongkai.search.tokens import VERSION

    SearchDocument.objects.filter(disclosure=indexed["tender"]).update(version="0/old")
    outcome = tasks.reindex_all()
    # SQLite cannot delete FTS5 rows of another tokenizer: rebuilt in one transaction;
    # PostgreSQL replaces the one document
    assert outcome.full == (connection.vendor == "sqlite")
    assert set(SearchDocument.objects.values_list("version", flat=True)) == {VERSION}
    results = search_disclosures(org["union"], "招标").results
    assert [r.disclosure_id for r in results] == [indexed["tender"].pk]
    again = tasks.reindex_all()
    assert not again.changed


# --- Ledger ---------------------------------------------------------------------------------


def test_the_daily_ledger_check_passes_on_an_intact_chain_and_writes_nothing(org: Org, failures):
    from gongkai.ledger.models import LedgerEntry
    from gongkai.ledger.tasks import verify_daily
    from tests.factories import published_disclosure

    published_disclosure(unit=org.boiler, title="锅炉分场业务招待费")
    assert LedgerEntry.objects.exists()
    for _run in range(2):
        with CaptureQueriesContext(connection) as queries:
            verify_daily()
        assert writes(queries) == []
    assert failures == []


def test_the_daily_ledger_check_raises_naming_what_no_longer_matches(org: Org, failures):
    from gongkai.core.immutable import triggers_suspended
    from gongkai.disclosure.models import Revision
    from gongkai.ledger.tasks import LedgerBroken, verify, verify_daily
    from tests.factories import published_disclosure

    item = published_disclosure(unit=org.boiler, title="锅炉分场业务招待费")
    revision = Revision.objects.get(disclosure=item)
    with triggers_suspended(connection, "disclosure_revision"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE disclosure_revision SET result = %s WHERE id = %s",
            ["<p>共计 99.00 元</p>", revision.pk],
        )
    verify_daily()
    verify_daily()  # the next day: still wrong, still raised
    assert [name for name, _error in failures] == ["verify_daily", "verify_daily"]
    error = failures[0][1]
    assert isinstance(error, LedgerBroken)
    message = str(error)
    assert "锅炉分场业务招待费" in message and f"revision {revision.pk}" in message
    assert "1" in message.splitlines()[0]
    with pytest.raises(LedgerBroken):
        verify()


def test_the_ledger_failure_names_the_first_problems_and_says_where_the_rest_are():
    from gongkai.ledger.models import ProblemKind
    from gongkai.ledger.tasks import SHOWN, failure_message
    from gongkai.ledger.verification import Problem

    problems = [
        Problem(kind=ProblemKind.ENTRY_MISSING, detail=f"entry {n}", sequence=n)
        for n in range(1, 9)
    ]
    lines = failure_message(problems).splitlines()
    assert len(lines) == 1 + SHOWN + 1
    assert "#1" in lines[1] and "#5" in lines[SHOWN] and "verify_ledger" in lines[-1]
    assert "3" in lines[-1]


def test_the_ledger_check_runs_daily_at_a_quiet_hour():
    from gongkai.ledger.tasks import verify_daily

    assert runs_at(verify_daily, naive_utc("2026-12-03 02:30 +0800"))
    assert not runs_at(verify_daily, naive_utc("2026-12-03 14:30 +0800"))
    assert not runs_at(verify_daily, naive_utc("2026-12-03 02:31 +0800"))
