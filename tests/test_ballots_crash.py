"""A real server (gunicorn) killed with SIGKILL in the middle of a burst of ballots: every
participation row has its ballot and every acknowledged ballot is stored; after a restart
every voter can still vote exactly once. Slow (a fresh database and a server) but included.

Runs on the database the suite runs on: a temporary SQLite file, or (with DATABASE_URL set to
PostgreSQL) a separate database ``gongkai_ballots_crash`` on the same server.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
from pathlib import Path

from django.db import connection

from bench import bench_ballots as hall

VOTERS = 300
CADRES = 3
CONNECTIONS = 20
KILL_AFTER = 60  # acknowledged ballots before the kill


def database_url(workdir: Path) -> str:
    if connection.vendor != "postgresql":
        return f"sqlite:///{workdir / 'crash.sqlite3'}"
    import psycopg

    server = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as db:
        db.execute("DROP DATABASE IF EXISTS gongkai_ballots_crash WITH (FORCE)")
        db.execute("CREATE DATABASE gongkai_ballots_crash")
    return f"{server}/gongkai_ballots_crash"


def fire(port: int, poll: int, items: list[int], sessions: list[str], stop_after: int | None):
    """Send every ballot from CONNECTIONS threads → (acknowledged voters, answered voters)."""
    path = f"/congress/votes/{poll}/cast/"
    done = f"/congress/votes/{poll}/cast/done/"
    acknowledged: set[int] = set()
    lock = threading.Lock()
    cursor = iter(range(len(sessions)))
    enough = threading.Event()

    def client() -> None:
        while True:
            with lock:
                voter = next(cursor, None)
            if voter is None:
                return
            try:
                status, location = hall.post(
                    port, path, sessions[voter], hall.ballot_body(items, voter), timeout=20
                )
            except OSError:
                continue  # the server died under this request
            if status == 302 and location.endswith(done):
                with lock:
                    acknowledged.add(voter)
                    if stop_after is not None and len(acknowledged) >= stop_after:
                        enough.set()

    threads = [threading.Thread(target=client) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    return threads, acknowledged, enough


def test_sigkill_mid_burst_loses_nothing_and_links_nothing(tmp_path):
    workdir = Path(tempfile.mkdtemp(dir=tmp_path))
    env = hall.environment(database_url(workdir), workdir)
    prepared = hall.child("prepare", env, str(VOTERS), str(CADRES))
    poll = int(prepared["poll"])
    items = [int(x) for x in prepared["items"]]
    sessions = [str(s) for s in prepared["sessions"]]
    try:
        with hall.gunicorn(env, workers=2) as (port, pgid):
            threads, acknowledged, enough = fire(port, poll, items, sessions, KILL_AFTER)
            assert enough.wait(timeout=30), "the burst did not get going"
            os.killpg(pgid, signal.SIGKILL)  # the whole server: master and workers, no cleanup
            for thread in threads:
                thread.join(timeout=30)
        killed_state = hall.child("verify", env, str(poll), "open")
        participations = killed_state["participations"]
        assert killed_state["pending"] == participations  # never one without the other
        assert len(acknowledged) >= KILL_AFTER
        assert participations >= len(acknowledged)  # every acknowledged ballot is stored
        # At most the requests in flight at the kill were committed but not acknowledged.
        assert participations - len(acknowledged) <= CONNECTIONS
        assert participations < VOTERS  # the kill really was mid-burst

        # Restart: everyone sends their ballot (again); each voter is counted exactly once.
        time.sleep(0.5)
        with hall.gunicorn(env, workers=2) as (port, _pgid):
            threads, acknowledged, _ = fire(port, poll, items, sessions, None)
            for thread in threads:
                thread.join(timeout=60)
        assert len(acknowledged) == VOTERS
        final = hall.child("verify", env, str(poll), "open")
        assert final["participations"] == final["pending"] == VOTERS
    finally:
        if connection.vendor == "postgresql":
            import psycopg

            server = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
            with psycopg.connect(f"{server}/postgres", autocommit=True) as db:
                db.execute("DROP DATABASE IF EXISTS gongkai_ballots_crash WITH (FORCE)")
