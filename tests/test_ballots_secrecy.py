"""Ballot secrecy and integrity: racing duplicates, and every way we know to re-link a ballot
to its voter after the vote closes (xmin/ctid on PostgreSQL, rowid on SQLite, ids, time
columns, the audit log, log lines)."""

from __future__ import annotations

import itertools
import logging
import threading

import pytest
from django.db import connection, connections, models

from gongkai.audit.models import AuditEvent
from gongkai.ballots.models import Participation, PendingBallot, Poll, SealedBallot
from gongkai.ballots.services import AlreadyVoted, ballot_cast, poll_close, poll_open
from gongkai.core.errors import ServiceError
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


def test_before_close_the_physical_order_still_links_ballots_to_voters(voted):
    """What the security notes admit: while a vote is open, someone with raw access to the
    database can re-link (this is why the ballots are sealed at close)."""
    poll, truth = voted
    assert order_attack(physical_column(), poll, truth) == N


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
    # Before close: every voter's participation row shares its xmin with exactly one ballot.
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
    assert len(participation_xmins) == 1 and len(ballot_xmins) == 1
    joined = raw(
        "SELECT p.user_id, b.choices FROM ballots_participation p JOIN ballots_sealedballot b "
        "ON p.xmin::text = b.xmin::text WHERE p.poll_id = %s",
        [poll.pk],
    )
    # Every voter joins every ballot (N × N), which tells nothing about who cast which.
    assert len(joined) in (0, N * N)


def test_no_time_column_or_voter_column_on_ballots():
    for model in (PendingBallot, SealedBallot):
        names = {f.name for f in model._meta.get_fields()}
        assert names == {"id", "poll", "group", "choices"}
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
