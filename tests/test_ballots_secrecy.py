"""Ballot secrecy and integrity: racing duplicates, and every way we know to re-link a ballot
to its voter after the vote closes (xmin/ctid on PostgreSQL, rowid on SQLite, ids, time
columns, the audit log, log lines)."""

from __future__ import annotations

import io
import itertools
import logging
import threading

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections, models

from gongkai.audit.models import AuditEvent
from gongkai.ballots.models import Participation, PendingBallot, Poll, SealedBallot
from gongkai.ballots.services import AlreadyVoted, ballot_cast, poll_close, poll_open
from gongkai.core.errors import ServiceError
from tests import pageinspect
from tests.conftest import Org
from tests.test_ballots import all_same, item_keys, make_hall, resolution, state

N = 12


def distinct_ballots(poll: Poll, n: int) -> list[dict[str, str]]:
    """``n`` different resolution ballots, so each one identifies its voter for the test."""
    keys = item_keys(poll)
    combos = itertools.islice(itertools.product(["for", "against", "abstain"], repeat=len(keys)), n)
    return [dict(zip(keys, combo, strict=True)) for combo in combos]


def canonical(choices: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(choices.items()))


@pytest.fixture
def voted(org: Org):
    """A closed resolution with N representatives who each cast a different ballot; returns
    (poll, {user id: the ballot they cast})."""
    hall = make_hall(org, total=N, present=N)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall, items=["一", "二", "三", "四"]))
    truth = {}
    for voter, choices in zip(hall.present, distinct_ballots(poll, N), strict=True):
        ballot_cast(actor=voter, poll=poll, choices=choices)
        truth[voter.pk] = canonical(choices)
    return poll, truth


def recovered(pairs: list[tuple[int, tuple]], truth: dict[int, tuple]) -> int:
    """How many voters an attack's (user id, ballot) pairs got right."""
    return sum(1 for user_id, ballot in pairs if truth.get(user_id) == ballot)


def raw(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def order_attack(column: str, poll: Poll, truth: dict[int, tuple]) -> int:
    """Sort participation rows and ballots by the same hidden/physical column and zip them."""
    voters = raw(
        f"SELECT user_id FROM ballots_participation WHERE poll_id = %s ORDER BY {column}",  # noqa: S608
        [poll.pk],
    )
    table = "ballots_sealedballot" if poll.status != "open" else "ballots_pendingballot"
    ballots = raw(
        f"SELECT choices FROM {table} WHERE poll_id = %s ORDER BY {column}",  # noqa: S608
        [poll.pk],
    )
    import json

    pairs = [
        (v[0], canonical(b[0] if isinstance(b[0], dict) else json.loads(b[0])))
        for v, b in zip(voters, ballots, strict=True)
    ]
    return recovered(pairs, truth)


def physical_column() -> str:
    return "ctid" if connection.vendor == "postgresql" else "rowid"


def test_before_close_the_voters_own_rows_hold_no_readable_choice(voted):
    """While a vote is open, the voter's transaction has written two rows: "has voted" and the
    pending ballot. Their physical order (ctid, rowid) and, on PostgreSQL, their xmin still
    pair them — but the pending row is a sealed box: no choice and no group can be read from
    it, and every box of the poll has the same length."""
    poll, _truth = voted
    column = physical_column()
    voters = raw(
        f"SELECT user_id FROM ballots_participation WHERE poll_id = %s ORDER BY {column}",  # noqa: S608
        [poll.pk],
    )
    held = raw(
        f"SELECT box FROM ballots_pendingballot WHERE poll_id = %s ORDER BY {column}",  # noqa: S608
        [poll.pk],
    )
    assert len(voters) == len(held) == N  # the pairing is there...
    contents = [bytes(row[0]) for row in held]
    assert len({len(c) for c in contents}) == 1  # ...but every box is as long as the others
    for content in contents:
        for word in (b'"for"', b"against", b"abstain", b'"c":{', b'{"g":'):
            assert word not in content
    assert not SealedBallot.objects.filter(poll=poll).exists()


def test_the_same_ballot_twice_gives_two_different_boxes(org: Org):
    hall = make_hall(org, total=3, present=3)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall))
    for voter in hall.present[:2]:
        ballot_cast(actor=voter, poll=poll, choices=all_same(poll, "for"))
    first, second = (bytes(b) for b in PendingBallot.objects.values_list("box", flat=True))
    assert first != second and len(first) == len(second)


def test_after_close_physical_order_does_not_link(org, voted):
    poll, truth = voted
    poll = poll_close(actor=org["union"], poll=poll)
    assert PendingBallot.objects.filter(poll=poll).count() == 0
    assert order_attack(physical_column(), poll, truth) < N // 2


def test_after_close_ids_do_not_link(org, voted):
    poll, truth = voted
    poll = poll_close(actor=org["union"], poll=poll)
    assert order_attack("id", poll, truth) < N // 2


def test_after_close_xmin_does_not_link(org, voted):
    if connection.vendor != "postgresql":
        pytest.skip("xmin is PostgreSQL's")
    poll, _truth = voted
    # Before close: every voter's participation row shares its xmin with exactly one box.
    xmins = raw("SELECT xmin::text FROM ballots_participation WHERE poll_id = %s", [poll.pk])
    assert len(set(xmins)) == N
    poll = poll_close(actor=org["union"], poll=poll)
    participation_xmins = {
        r[0]
        for r in raw("SELECT xmin::text FROM ballots_participation WHERE poll_id = %s", [poll.pk])
    }
    ballot_xmins = {
        r[0]
        for r in raw("SELECT xmin::text FROM ballots_sealedballot WHERE poll_id = %s", [poll.pk])
    }
    # Every ballot carries the one xmin of the sealing transaction, which is no voter's.
    assert len(participation_xmins) == N and len(ballot_xmins) == 1
    assert not participation_xmins & ballot_xmins
    joined = raw(
        "SELECT p.user_id, b.choices FROM ballots_participation p JOIN ballots_sealedballot b "
        "ON p.xmin::text = b.xmin::text WHERE p.poll_id = %s",
        [poll.pk],
    )
    assert joined == []


def test_no_time_column_or_voter_column_on_ballots():
    assert {f.name for f in PendingBallot._meta.get_fields()} == {"id", "poll", "box"}
    assert {f.name for f in SealedBallot._meta.get_fields()} == {"id", "poll", "group", "choices"}
    for model in (Participation, PendingBallot, SealedBallot):
        assert not any(
            isinstance(f, models.DateField | models.DateTimeField) for f in model._meta.get_fields()
        )
        assert not any(isinstance(f, models.AutoField) for f in model._meta.get_fields())


def test_audit_log_never_records_a_cast_or_a_choice(org, voted):
    poll, _truth = voted
    poll_close(actor=org["union"], poll=poll)
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert not [a for a in actions if a.startswith("ballots.") and "cast" in a]
    ballot_events = AuditEvent.objects.filter(action__startswith="ballots.")
    assert set(ballot_events.values_list("action", flat=True)) == {
        "ballots.created",
        "ballots.opened",
        "ballots.closed",
    }
    for event in ballot_events:
        text = f"{event.before} {event.after} {event.target_label}"
        assert "against" not in text and "abstain" not in text
        assert event.target_type == "ballots.poll"


def test_log_lines_carry_no_choice(org, caplog, client, login):
    caplog.set_level(logging.DEBUG)
    hall = make_hall(org, total=3, present=3)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall, items=["一"]))
    key = item_keys(poll)[0]
    login(org["rep"])
    client.post(f"/congress/votes/{poll.pk}/cast/", {f"item-{key}": "against", "confirm": "1"})
    assert Participation.objects.filter(poll=poll, user=org["rep"]).exists()
    poll_close(actor=org["union"], poll=poll)
    for record in caplog.records:
        message = record.getMessage()
        assert "against" not in message, message


# --- Racing duplicates ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_ten_copies_of_the_same_ballot_racing_count_once(org):
    if connection.vendor != "postgresql":
        pytest.skip(
            "real concurrent transactions: PostgreSQL (the SQLite test database is in "
            "memory; the server tests race ballots on a SQLite file)"
        )
    hall = make_hall(org, total=3, present=3)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall))
    choices = all_same(poll, "for")
    barrier = threading.Barrier(10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def cast() -> None:
        try:
            barrier.wait()
            ballot_cast(actor=org["rep"], poll=poll, choices=choices)
            result = "cast"
        except AlreadyVoted:
            result = "already"
        except ServiceError as error:  # pragma: no cover - would fail the assertion below
            result = f"error: {error.message}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=cast) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already"] * 9 + ["cast"]
    assert state(poll)[:2] == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_a_close_racing_with_casts_loses_no_ballot(org):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent transactions: PostgreSQL")
    hall = make_hall(org, total=8, present=8)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall))
    barrier = threading.Barrier(len(hall.present) + 1)
    acknowledged: list[int] = []
    lock = threading.Lock()

    def cast(voter) -> None:
        try:
            barrier.wait()
            ballot_cast(actor=voter, poll=poll, choices=all_same(poll, "for"))
            with lock:
                acknowledged.append(voter.pk)
        except ServiceError:
            pass
        finally:
            connections.close_all()

    def close() -> None:
        try:
            barrier.wait()
            poll_close(actor=org["union"], poll=poll)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=cast, args=(v,)) for v in hall.present]
    threads.append(threading.Thread(target=close))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    closed = Poll.objects.get(pk=poll.pk)
    participations, pending, sealed, status = state(closed)
    assert status == "closed" and pending == 0
    assert participations == sealed == len(acknowledged) == closed.result["ballots"]


# --- Every row version on PostgreSQL's pages (pageinspect) ---------------------------------
#
# What the attacker of the security issue read: the table files themselves, dead row versions
# included, with their transaction ids. These tests read them the same way, at each moment:
# right after casting, after the close, and after a close whose sealing failed and was retried.

CHOICE_WORDS = (b'"for"', b"against", b"abstain", b'"c":{')


def cast_signed_in(org: Org, poll: Poll, voters, ballots) -> None:
    """Each voter signs in (a session row, their user row written) and casts on the page."""
    from django.test import Client

    from tests.factories import PASSWORD

    for voter, choices in zip(voters, ballots, strict=True):
        client = Client()
        assert (
            client.post(
                "/accounts/login/", {"username": voter.employee_no, "password": PASSWORD}
            ).status_code
            == 302
        )
        fields = {f"item-{key}": value for key, value in choices.items()}
        response = client.post(f"/congress/votes/{poll.pk}/cast/", {**fields, "confirm": "1"})
        assert response.status_code == 302, response.content[:300]


def assert_boxes_only(poll: Poll, expected: int) -> None:
    """The holding table's pages: ``expected`` boxes, none with a readable choice."""
    held = [v for v in pageinspect.all_versions("ballots_pendingballot") if v.has_data]
    assert len(held) == expected
    for version in held:
        for word in CHOICE_WORDS:
            assert word not in version.data
    assert not pageinspect.all_versions("ballots_sealedballot")


def assert_unlinkable_after_sealing(poll: Poll, voters: int) -> int:
    """After sealing: no row version of a box is left anywhere on the holding table's pages;
    every ballot row version carries one transaction id, shared by all, which appears on no
    page of the person tables (as writer, deleter or locker) and on no row of the poll, the
    audit log or the participation. Returns that transaction id."""
    assert pageinspect.all_versions("ballots_pendingballot") == []
    ballots = pageinspect.all_versions("ballots_sealedballot")
    assert len(ballots) == voters
    assert all(v.has_data and not v.xmax for v in ballots)  # live, never deleted or updated
    sealers = {v.xmin for v in ballots}
    assert len(sealers) == 1
    (sealer,) = sealers
    assert sealer not in pageinspect.stamps(pageinspect.PERSON_TABLES)
    for table in ("ballots_poll", "audit_auditevent", "ballots_participation"):
        assert sealer not in {v.xmin for v in pageinspect.all_versions(table)}, table
    return sealer


@pytest.mark.django_db(transaction=True)
def test_no_row_version_links_a_ballot_to_a_voter_after_casting_and_after_close(org):
    pageinspect.enable()
    hall = make_hall(org, total=N, present=N)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall, items=["一", "二", "三"]))
    ballots = distinct_ballots(poll, N)
    cast_signed_in(org, poll, hall.present, ballots)

    # Right after casting: the voter's transaction wrote "has voted" and a box. The box shares
    # the voter's transaction id (the admitted pairing) but holds no readable choice.
    assert_boxes_only(poll, N)
    voter_stamps = pageinspect.stamps(["ballots_participation"])
    held = [v for v in pageinspect.all_versions("ballots_pendingballot") if v.has_data]
    assert {v.xmin for v in held} <= voter_stamps

    # Closing (the union office's page): close, then seal in a transaction of its own.
    from django.test import Client

    union = Client()
    union.force_login(org["union"])
    assert union.post(f"/congress/votes/{poll.pk}/close/").status_code == 302
    poll.refresh_from_db()
    assert poll.status == "closed" and poll.result["ballots"] == N
    sealer = assert_unlinkable_after_sealing(poll, N)
    closer = AuditEvent.objects.get(action="ballots.closed")
    closer_xmin = raw("SELECT xmin::text FROM audit_auditevent WHERE id = %s", [closer.pk])
    assert int(closer_xmin[0][0]) != sealer  # the seal is not the close's transaction
    # And what was cast is what was counted.
    counted = sorted(canonical(c) for c in SealedBallot.objects.values_list("choices", flat=True))
    assert counted == sorted(canonical(b) for b in ballots)


@pytest.mark.django_db(transaction=True)
def test_a_failed_seal_is_logged_shown_and_retried_and_links_nothing_meanwhile(
    org, settings, caplog
):
    import psycopg
    from django.core.management import CommandError, call_command
    from django.test import Client

    from gongkai.ballots.services import SealingFailed

    pageinspect.enable()
    settings.HOLDING_LOCK_TIMEOUT_MS = 200
    settings.HOLDING_ATTEMPTS = 2
    settings.HOLDING_RETRY_PAUSE_SECONDS = 0
    caplog.set_level(logging.WARNING)
    hall = make_hall(org, total=6, present=6)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall))
    ballots = distinct_ballots(poll, 6)
    cast_signed_in(org, poll, hall.present, ballots)

    # Something holds the holding table (a backup running, a long report): the seal cannot
    # take it.
    params = connection.get_connection_params()
    blocker = psycopg.connect(
        **{k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")}
    )
    blocker.execute("SELECT count(*) FROM ballots_pendingballot").fetchone()
    try:
        with pytest.raises(SealingFailed):
            poll_close(actor=org["union"], poll=poll)
        poll.refresh_from_db()
        assert poll.status == "closed" and poll.result is None  # closed; nobody can vote
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors and "Sealing the ballots of vote" in errors[0].getMessage()
        assert "55P03" in errors[0].getMessage()  # lock_not_available
        assert sum("attempt 1 of 2" in r.getMessage() for r in caplog.records) == 1
        for record in caplog.records:
            assert "against" not in record.getMessage()
        # Meanwhile: still only boxes, nothing readable next to the voters' stamps.
        assert_boxes_only(poll, 6)
        # Shown to the union office, with the button that tries again; not publishable.
        union = Client()
        union.force_login(org["union"])
        union.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
        page = union.get(f"/congress/votes/{poll.pk}/").content.decode()
        assert "could not be sealed and counted yet" in page
        assert f"/congress/votes/{poll.pk}/close/" in page
        assert f"/congress/votes/{poll.pk}/publish/" not in page
        with pytest.raises(CommandError, match="still failing"):
            call_command("ballots_seal")
    finally:
        blocker.close()

    # The periodic command (or the button) retries once the table is free.
    out = io.StringIO()
    call_command("ballots_seal", stdout=out)
    assert "Sealed and counted 1 votes" in out.getvalue()
    poll.refresh_from_db()
    assert poll.result["ballots"] == 6
    assert_unlinkable_after_sealing(poll, 6)
    assert "none left" in _run_quiet("ballots_seal")


def _run_quiet(name: str) -> str:
    from django.core.management import call_command

    out = io.StringIO()
    call_command(name, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_an_old_snapshot_that_would_stop_vacuum_does_not_stop_the_seal(org):
    """The failure of the old scrub: VACUUM cannot remove row versions that a transaction
    still open might see. TRUNCATE does not wait for them: with such a transaction open, no
    box survives the close."""
    import psycopg

    pageinspect.enable()
    hall = make_hall(org, total=5, present=5)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall))
    for voter, choices in zip(hall.present, distinct_ballots(poll, 5), strict=True):
        ballot_cast(actor=voter, poll=poll, choices=choices)
    params = connection.get_connection_params()
    reader = psycopg.connect(
        **{k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")}
    )
    try:
        reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        reader.execute("SELECT count(*) FROM ballots_poll").fetchone()  # holds the horizon
        poll_close(actor=org["union"], poll=poll)
        assert_unlinkable_after_sealing(poll, 5)
        # For contrast, what VACUUM would have left: delete and vacuum a copy of the boxes.
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE gk_vacuum_probe AS SELECT * FROM ballots_sealedballot")
            cursor.execute("DELETE FROM gk_vacuum_probe")
            cursor.execute("VACUUM gk_vacuum_probe")
        dead = [v for v in pageinspect.versions("gk_vacuum_probe") if v.has_data]
        assert len(dead) == 5  # kept for the old snapshot: readable, with their stamps
    finally:
        reader.close()
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS gk_vacuum_probe")


def test_closing_one_vote_keeps_the_boxes_of_another_open_one(org: Org):
    """The holding table is emptied as a whole (TRUNCATE); the boxes of a vote still open are
    written back (on PostgreSQL stamped with the sealing transaction, no longer the voters'),
    and counted when that vote closes."""
    hall = make_hall(org, total=4, present=4)
    first = poll_open(actor=org["union"], poll=resolution(org, hall, items=["一"]))
    second = poll_open(actor=org["union"], poll=resolution(org, hall, items=["二"]))
    for voter in hall.present:
        ballot_cast(actor=voter, poll=first, choices=all_same(first, "for"))
        ballot_cast(actor=voter, poll=second, choices=all_same(second, "against"))
    postgresql = connection.vendor == "postgresql"
    voters_xmins = (
        {r[0] for r in raw("SELECT xmin::text FROM ballots_participation", [])}
        if postgresql
        else set()
    )
    first = poll_close(actor=org["union"], poll=first)
    assert first.result["items"][0]["counts"]["for"] == 4
    assert PendingBallot.objects.filter(poll=second).count() == 4
    if postgresql:
        kept = {r[0] for r in raw("SELECT xmin::text FROM ballots_pendingballot", [])}
        sealed = {r[0] for r in raw("SELECT xmin::text FROM ballots_sealedballot", [])}
        assert kept == sealed and not kept & voters_xmins
    second = poll_close(actor=org["union"], poll=second)
    assert second.result["items"][0]["counts"]["against"] == 4
    assert not PendingBallot.objects.exists()
