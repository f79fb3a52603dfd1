"""A congress hall votes: 2,000 representatives cast an evaluation ballot of 20 cadres each
from 200 concurrent connections against gunicorn on loopback, on SQLite and PostgreSQL.

Everything Django runs in child processes (``python -m bench.bench_ballots prepare|verify``)
with the local settings on a fresh database, so the benchmark never touches the developer's
database:

1. ``prepare``: migrate, create a company, 2,000 representatives (all checked in at an open
   session), 20 cadres, the evaluation (opened through the service: quorum, electorate
   snapshot), a signed-in session per representative written directly to the session table
   (login is not measured), one for the union office and one for a board reader.
2. The burst: gunicorn (sync workers) on a free port; 200 client threads, each with its own
   connection per request, POST every representative's ballot once (the "cast my ballot"
   form with its CSRF token). Every answer must be the redirect to "your ballot is cast".
   Meanwhile 4 other threads load a board page; the same 4 threads load it before the burst
   (idle) for the same time: the ratio is the board's share of throughput kept.
3. Every ballot is sent again: every answer must again be the redirect (the "already voted"
   path), and the database must not change.
4. The union office closes the vote over HTTP and asks for the results page: the time from
   the close request to the results page is measured.
5. ``verify``: participation rows = sealed ballots = the stored result's count = 2,000, no
   pending ballot left, the supervision group's recount equals the stored result.

Baseline for the burst: the same clients GETting the bare health check (``/healthz``), which
measures the server and client machinery alone.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench import Measurement
from bench.harness import (
    PG_SERVER,
    child_json,
    environment,
    gunicorn,
    on_sqlite_and_postgres,
    pg_fresh,
)

VOTERS = 2_000
CADRES = 20
CONNECTIONS = 200
BOARD_THREADS = 4
WORKERS = int(os.environ.get("BALLOTS_WORKERS", "4"))
# The deployment README recommends: the proxy sends /congress/votes/<id>/cast/ to its own
# gunicorn pool. The bench runs that second pool for everything else, with this many workers.
OTHER_WORKERS = int(os.environ.get("BALLOTS_OTHER_WORKERS", "2"))
TARGET_BURST = 10.0  # seconds for the whole burst (the target)
CSRF = "b" * 32  # a CSRF secret shared by every simulated phone (cookie and form field)
PG_DATABASE = "gongkai_bench_ballots"
GRADES = ["excellent", "competent", "competent", "basic", "unknown", "incompetent"]


# --- The parent: orchestration ------------------------------------------------------------------


def child(command: str, env: dict[str, str], *args: str) -> dict[str, object]:
    return child_json("bench_ballots", env, command, *args)


def ballot_body(items: list[int], voter: int) -> bytes:
    """The review page's form: each cadre's grade (the quota is not set in the bench)."""
    from urllib.parse import urlencode

    fields = {f"item-{pk}": GRADES[(voter + i) % len(GRADES)] for i, pk in enumerate(items)}
    fields |= {"confirm": "1", "csrfmiddlewaretoken": CSRF}
    return urlencode(fields).encode()


def post(port: int, path: str, session: str, body: bytes, timeout: float = 60) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(
            "POST",
            path,
            body=body,
            headers={
                "Cookie": f"sessionid={session}; csrftoken={CSRF}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Host": f"127.0.0.1:{port}",
            },
        )
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Location") or ""
    finally:
        conn.close()


def get(port: int, path: str, session: str, timeout: float = 60) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Cookie": f"sessionid={session}"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def burst(
    port: int, poll: int, items: list[int], sessions: list[str], connections: int
) -> dict[str, object]:
    """Every voter's ballot once, ``connections`` at a time → latencies and failures."""
    path = f"/congress/votes/{poll}/cast/"
    done = f"/congress/votes/{poll}/cast/done/"
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    cursor = iter(range(len(sessions)))

    def client() -> None:
        while True:
            with lock:
                voter = next(cursor, None)
            if voter is None:
                return
            body = ballot_body(items, voter)
            started = time.perf_counter()
            try:
                status, location = post(port, path, sessions[voter], body)
                ok = status == 302 and location.endswith(done)
                reason = f"{status} {location}"
            except (OSError, http.client.HTTPException) as error:
                ok, reason = False, repr(error)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if not ok:
                    failures.append(reason)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "seconds": time.perf_counter() - started,
        "latencies": latencies,
        "failures": failures,
    }


def board_load(port: int, path: str, session: str, stop: threading.Event) -> list[int]:
    """BOARD_THREADS clients loading the board until ``stop`` → [requests, errors]."""
    counts = [0, 0]
    lock = threading.Lock()

    def client() -> None:
        while not stop.is_set():
            try:
                status, _ = get(port, path, session)
                ok = status == 200
            except (OSError, http.client.HTTPException):
                ok = False
            with lock:
                counts[0 if ok else 1] += 1

    threads = [threading.Thread(target=client) for _ in range(BOARD_THREADS)]
    for thread in threads:
        thread.start()
    stop.wait()
    for thread in threads:
        thread.join()
    return counts


def pctl(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def one_run(label: str, database_url: str, workdir: Path) -> dict[str, object]:
    env = environment(database_url, workdir, "config.settings.local", CONN_MAX_AGE="60")
    print(f"  {label}: preparing {VOTERS:,} representatives", flush=True)
    prepared = child("prepare", env, str(VOTERS), str(CADRES))
    poll = int(prepared["poll"])  # type: ignore[call-overload]
    items = [int(x) for x in prepared["items"]]  # type: ignore[attr-defined]
    sessions = [str(s) for s in prepared["sessions"]]  # type: ignore[attr-defined]
    board = f"/boards/{prepared['board']}/"
    reader = str(prepared["reader"])
    union = str(prepared["union"])
    with gunicorn(env, WORKERS) as (port, _), gunicorn(env, OTHER_WORKERS) as (other, _):
        for _ in range(3):  # warm every worker
            get(port, board, reader)
            get(port, "/healthz", reader)
            get(other, board, reader)
        # Baseline: the same number of requests to the health check, same concurrency.
        base = burst_get(port, "/healthz", reader, len(sessions), CONNECTIONS)

        def board_rate(target: int, during: Callable[[], object] | None = None) -> float:
            """Board requests per second on ``target``: for 4 s idle, or while ``during``
            runs (the ballot burst) on the casting pool."""
            stop = threading.Event()
            box: dict[str, list[int]] = {}
            loader = threading.Thread(
                target=lambda: box.setdefault("c", board_load(target, board, reader, stop))
            )
            started = time.perf_counter()
            loader.start()
            if during is None:
                time.sleep(4.0)
            else:
                outcome["value"] = during()
            stop.set()
            loader.join()
            errors.append(box["c"][1])
            return box["c"][0] / (time.perf_counter() - started)

        outcome: dict[str, object] = {}
        errors: list[int] = []
        idle_rate = board_rate(port)
        other_idle_rate = board_rate(other)
        print(f"  {label}: burst (board on its own pool)", flush=True)
        routed_rate = board_rate(other, lambda: burst(port, poll, items, sessions, CONNECTIONS))
        result = outcome["value"]
        before = child("verify", env, str(poll), "open")
        print(f"  {label}: re-sending every ballot (board on the same pool)", flush=True)
        busy_rate = board_rate(port, lambda: burst(port, poll, items, sessions, CONNECTIONS))
        again = outcome["value"]
        after = child("verify", env, str(poll), "open")
        started = time.perf_counter()
        status, _ = post(
            port, f"/congress/votes/{poll}/close/", union, f"csrfmiddlewaretoken={CSRF}".encode()
        )
        page_status, page = get(port, f"/congress/votes/{poll}/results/", union)
        close_to_results = time.perf_counter() - started
        results_ok = status == 302 and page_status == 200 and b"table" in page
    final = child("verify", env, str(poll), "closed")
    return {
        "burst": result,
        "again": again,
        "base": base,
        "before": before,
        "after": after,
        "final": final,
        "close_to_results": close_to_results,
        "results_ok": results_ok,
        "idle_rate": idle_rate,
        "busy_rate": busy_rate,
        "other_idle_rate": other_idle_rate,
        "routed_rate": routed_rate,
        "board_errors": sum(errors),
    }


def burst_get(port: int, path: str, session: str, n: int, connections: int) -> float:
    lock = threading.Lock()
    cursor = iter(range(n))
    errors = [0]

    def client() -> None:
        while True:
            with lock:
                if next(cursor, None) is None:
                    return
            try:
                status, _ = get(port, path, session)
                if status != 200:
                    errors[0] += 1
            except (OSError, http.client.HTTPException):
                errors[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def check(run: dict[str, object]) -> list[str]:
    """Integrity problems of one run (empty when all is well)."""
    problems = []
    burst_ = run["burst"]
    again = run["again"]
    assert isinstance(burst_, dict) and isinstance(again, dict)
    if burst_["failures"]:
        problems.append(f"{len(burst_['failures'])} failed casts, e.g. {burst_['failures'][:3]}")
    if again["failures"]:
        problems.append(f"{len(again['failures'])} failed re-sends, e.g. {again['failures'][:3]}")
    if run["before"] != run["after"]:
        problems.append(f"re-sending changed the database: {run['before']} → {run['after']}")
    final = run["final"]
    assert isinstance(final, dict)
    expected = {"participations": VOTERS, "pending": 0, "sealed": VOTERS, "result": VOTERS}
    if {k: final[k] for k in expected} != expected or not final["recount_equal"]:
        problems.append(f"final state {final}")
    if not run["results_ok"]:
        problems.append("results page did not answer after closing")
    if run["board_errors"]:
        problems.append(f"{run['board_errors']} board errors")
    return problems


RUNS = int(os.environ.get("BALLOTS_RUNS", "3"))


def repeated(label: str, url: str, workdir: Path) -> list[tuple[str, list[dict[str, object]]]]:
    """RUNS complete runs, each on a freshly prepared database: a new SQLite file each, or the
    PostgreSQL database ``url`` dropped and created again."""
    results = []
    for i in range(RUNS):
        if label == "SQLite":
            url = f"sqlite:///{workdir / f'ballots-{i}.sqlite3'}"
        elif i and not pg_fresh(url):
            raise RuntimeError(f"could not re-create {url}")
        results.append(one_run(label, url, workdir))
    return [(label, results)]


def run() -> list[Measurement]:
    runs = dict(on_sqlite_and_postgres("ballots", f"{PG_SERVER}/{PG_DATABASE}", repeated))
    measurements = []
    medians: dict[str, dict[str, object]] = {}
    for label, results in runs.items():
        ordered = sorted(results, key=lambda r: float(r["burst"]["seconds"]))  # type: ignore[index]
        result = ordered[len(ordered) // 2]  # the median run gives the detailed notes
        medians[label] = result
        burst_ = result["burst"]
        assert isinstance(burst_, dict)
        latencies = burst_["latencies"]
        problems = [p for r in results for p in check(r)]
        unchanged = all(r["before"] == r["after"] for r in results)
        notes = {
            "throughput (median run)": f"{VOTERS / burst_['seconds']:.0f} ballots/s",
            "p50 (median run)": ms(statistics.median(latencies)),
            "p99 (median run)": ms(pctl(latencies, 0.99)),
            "slowest request (median run)": ms(max(latencies)),
            "errors / lost / doubled (every run)": "none" if not problems else "; ".join(problems),
            "re-sending all 2,000 (every run)": "nothing changed" if unchanged else "CHANGED",
            "close → results page (each run)": ", ".join(
                ms(float(r["close_to_results"]))  # type: ignore[arg-type]
                for r in results
            ),
            "board, own pool (cast/ routed to its own gunicorn, as the README recommends): "
            "during the burst vs idle (median run)": (
                f"{result['routed_rate']:.1f} vs {result['other_idle_rate']:.1f} req/s "
                f"({float(result['routed_rate']) / float(result['other_idle_rate']):.2f}; "  # type: ignore[arg-type]
                "target ≥ 0.33)"
            ),
            "board, same pool as the casts: during the re-sent burst vs idle (median run)": (
                f"{result['busy_rate']:.1f} vs {result['idle_rate']:.1f} req/s "
                f"({float(result['busy_rate']) / float(result['idle_rate']):.2f})"  # type: ignore[arg-type]
            ),
            "gunicorn": (
                f"{WORKERS} sync workers for the casts, {OTHER_WORKERS} for everything else, "
                f"{CONNECTIONS} client connections"
            ),
        }
        measurements.append(
            Measurement(
                title=f"2,000 evaluation ballots (20 cadres each), {label}",
                what=(
                    f"{VOTERS:,} representatives POST their ballot (the 'cast my ballot' form) "
                    f"from {CONNECTIONS} concurrent connections to gunicorn on loopback; wall "
                    "time of the whole burst, every answer checked; each run on a freshly "
                    "prepared database."
                ),
                samples=[float(r["burst"]["seconds"]) for r in results],  # type: ignore[index]
                baseline=f"{VOTERS:,} GETs of /healthz from the same {CONNECTIONS} connections",
                baseline_samples=[float(r["base"]) for r in results],  # type: ignore[arg-type]
                target_seconds=TARGET_BURST,
                notes=notes,
            )
        )
    if "PostgreSQL" in runs and "SQLite" in runs:
        sqlite_s = statistics.median(float(r["burst"]["seconds"]) for r in runs["SQLite"])  # type: ignore[index]
        pg_s = statistics.median(float(r["burst"]["seconds"]) for r in runs["PostgreSQL"])  # type: ignore[index]
        sqlite_b = statistics.median(float(r["base"]) for r in runs["SQLite"])  # type: ignore[arg-type]
        pg_b = statistics.median(float(r["base"]) for r in runs["PostgreSQL"])  # type: ignore[arg-type]
        measurements[0].notes["SQLite / PostgreSQL (medians)"] = (
            f"{sqlite_s / pg_s:.2f}× wall time (target ≤ 1.2×); "
            f"{(sqlite_s / sqlite_b) / (pg_s / pg_b):.2f}× after dividing each by its own "
            "baseline"
        )
    return measurements


# --- The children: Django inside -----------------------------------------------------------------


def prepare(voters: int, cadres: int) -> dict[str, object]:
    import datetime as dt

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session as DjangoSession
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from gongkai.accounts.models import User
    from gongkai.ballots.models import PollKind
    from gongkai.ballots.services import CadreSpec, poll_create, poll_open
    from gongkai.congress.models import Attendance, Representative, Term
    from gongkai.congress.models import Session as CongressSession
    from gongkai.org.models import Role, UnitKind
    from gongkai.org.services import role_grant, unit_create

    call_command("migrate", verbosity=0, interactive=False)
    with transaction.atomic():
        company = unit_create(actor=None, code="bench", name="基准热电", kind=UnitKind.COMPANY)
        dept = unit_create(
            actor=None,
            code="bench-boiler",
            name="锅炉分场",
            kind=UnitKind.DEPARTMENT,
            parent=company,
        )
        union = User.objects.create_user(
            "union",
            "bench-password-1",
            name="工会",
            unit=company,
        )
        role_grant(actor=None, user=union, role=Role.UNION_OFFICE, unit=company)
        reader = User.objects.create_user(
            "reader",
            "bench-password-1",
            name="读者",
            unit=dept,
        )
        people = User.objects.bulk_create(
            User(employee_no=f"C{i:03d}", name=f"干部{i}", unit=dept, position="副主任")
            for i in range(cadres)
        )
        reps = User.objects.bulk_create(
            User(employee_no=f"R{i:05d}", name=f"代表{i}", unit=dept, password="!b")  # noqa: S106
            for i in range(voters)
        )
        term = Term.objects.create(
            company=company, number=1, starts_on=dt.date(2024, 1, 1), ends_on=dt.date(2028, 1, 1)
        )
        seats = Representative.objects.bulk_create(
            Representative(term=term, user=u, elected_on=dt.date(2024, 1, 1)) for u in reps
        )
        session = CongressSession.objects.create(
            term=term, number=1, title="第一次会议", held_on=timezone.localdate(), status="open"
        )
        now = timezone.now()
        Attendance.objects.bulk_create(
            Attendance(session=session, representative=s, checked_in_at=now) for s in seats
        )
        poll = poll_create(
            actor=union,
            company=company,
            kind=PollKind.EVALUATION,
            title="基准评议",
            session=session,
            cadres=[CadreSpec(user=u) for u in people],
        )
        poll = poll_open(actor=union, poll=poll)
        backend = "django.contrib.auth.backends.ModelBackend"
        store = SessionStore()
        expire = now + dt.timedelta(hours=12)
        rows = []
        keys = []
        for user in [*reps, union, reader]:
            key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
            data = {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: backend,
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
            rows.append(
                DjangoSession(session_key=key, session_data=store.encode(data), expire_date=expire)
            )
            keys.append(key)
        DjangoSession.objects.bulk_create(rows, batch_size=1000)
    return {
        "poll": poll.pk,
        "items": list(poll.items.values_list("pk", flat=True)),
        "sessions": keys[:-2],
        "union": keys[-2],
        "reader": keys[-1],
        "board": dept.code,
    }


def verify(poll_id: int, expected_status: str) -> dict[str, object]:
    from gongkai.ballots.models import Participation, PendingBallot, Poll, SealedBallot
    from gongkai.ballots.services import result_of, sealed_ballots

    poll = Poll.objects.get(pk=poll_id)
    state: dict[str, object] = {
        "status": poll.status,
        "participations": Participation.objects.filter(poll=poll).count(),
        "pending": PendingBallot.objects.filter(poll=poll).count(),
        "sealed": SealedBallot.objects.filter(poll=poll).count(),
        "result": (poll.result or {}).get("ballots"),
        "recount_equal": poll.result == result_of(poll, sealed_ballots(poll))
        if poll.result
        else None,
    }
    if expected_status == "open":  # a fingerprint of the pending ballots' contents
        import hashlib

        from gongkai.ballots.boxes import open_ballot

        contents = sorted(
            json.dumps(open_ballot(poll.pk, bytes(box))[1], sort_keys=True)
            for box in PendingBallot.objects.filter(poll=poll).values_list("box", flat=True)
        )
        state["fingerprint"] = hashlib.sha256("\n".join(contents).encode()).hexdigest()
    return state


def main() -> None:
    import django

    django.setup()
    command, *args = sys.argv[1:]
    if command == "prepare":
        result = prepare(int(args[0]), int(args[1]))
    else:
        result = verify(int(args[0]), args[1])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
