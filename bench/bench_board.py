"""A board (公开栏) with 10,000 disclosures: render time, query count, and throughput under
concurrent load against a bare Django view, on SQLite and (when reachable) PostgreSQL.

Everything Django runs in child processes with the bench-only settings (``bench.board_site``:
the local settings; ``bench.board_urls``: every page plus one bare view doing a single query),
so the benchmark never touches the developer's database:

1. ``prepare``: migrate a fresh database, create a company → department → team, 10,000
   published items on the team's board (bulk-inserted, spread over the catalog's team entries
   and seven years), 200 on each unit above, 5,000 ratings, ANALYZE (the statistics a
   database in service has), and a signed-in session.
2. ``render``: the board page through Django's test client (all middleware, URL routing,
   session, policy, template): median of many renders with the body cache cleared before each
   (cold) and with it warm, each with its SQL query count; the bare view as the baseline.
3. Throughput: gunicorn (sync workers) on a free loopback port, Redis as the shared cache
   when redis-server is installed (as in production; a per-process cache would let workers
   serve each other's stale boards), loaded by a bounded Python generator (threads +
   http.client, fixed seconds, the signed-in session cookie), alternating the board page and
   the bare view in the same run. Server and Redis are stopped at the end.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from bench import Measurement
from bench.harness import (
    PG_SERVER,
    child_json,
    environment,
    free_port,
    gunicorn,
    on_sqlite_and_postgres,
)

ITEMS = 10_000
ABOVE_ITEMS = 200
RATINGS = 5_000
COLD_RUNS = 40
WARM_RUNS = 300
TARGET_MEDIAN = 0.050  # seconds, board page with 10,000 items (the target)
TARGET_THROUGHPUT = 0.60  # board requests/s ÷ bare view requests/s
WORKERS = 4
THREADS = 8
SECONDS = 1.5  # per slice: short slices, rotated, so that load from elsewhere hits all alike
ROUNDS = 8
PG_DATABASE = "gongkai_bench_board"
TEAM_ENTRIES = ["team-bonus", "attendance", "team-materials", "safety-performance", "team-awards"]


# --- The parent: orchestration ------------------------------------------------------------------


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A private Redis on a free port (no persistence), or "" when Redis is not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield ""
        return
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def load(port: int, path: str, cookie: str, seconds: float, marker: str) -> tuple[float, int]:
    """THREADS clients for ``seconds``, one request after another each → (requests/s, errors).
    Every answer is checked: status 200 and ``marker`` in the body."""
    counts = [0] * THREADS
    errors = [0] * THREADS
    stop = time.perf_counter() + seconds

    def client(slot: int) -> None:
        while time.perf_counter() < stop:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                conn.request("GET", path, headers={"Cookie": cookie})
                response = conn.getresponse()
                body = response.read()
                if response.status == 200 and marker.encode() in body:
                    counts[slot] += 1
                else:
                    errors[slot] += 1
            except (OSError, http.client.HTTPException):
                errors[slot] += 1
            finally:
                conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started), sum(errors)


def throughput(env: dict[str, str], prepared: dict[str, object]) -> dict[str, list[float]]:
    cookie = f"sessionid={prepared['session']}"
    board = f"/boards/{prepared['unit']}/"
    targets = {
        "board": (board, str(prepared["marker"])),
        "bare": ("/bench/bare/", "ok"),
        "home": ("/", str(prepared["reader"])),  # reference: the simplest signed-in page
    }
    result: dict[str, list[float]] = {name: [] for name in [*targets, "errors"]}
    with gunicorn(env, WORKERS) as (port, _):
        for path, marker in targets.values():  # warm the caches and the workers
            load(port, path, cookie, 1.0, marker)
        for _ in range(ROUNDS):
            for name, (path, marker) in targets.items():
                rate, errors = load(port, path, cookie, SECONDS, marker)
                result[name].append(rate)
                result["errors"].append(errors)
    return result


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def measure(label: str, database_url: str, workdir: Path) -> list[Measurement]:
    print(f"  {label}: preparing {ITEMS:,} items", flush=True)
    env = environment(database_url, workdir)
    prepared = child_json("bench_board", env, "prepare")
    print(f"  {label}: rendering", flush=True)
    rendered = child_json(
        "bench_board",
        {**env, "BOARDS_CACHE": "1"},
        "render",
        str(prepared["unit"]),
        str(prepared["session"]),
    )
    cold = [float(x) for x in rendered["cold"]]  # type: ignore[union-attr]
    warm = [float(x) for x in rendered["warm"]]  # type: ignore[union-attr]
    bare = [float(x) for x in rendered["bare"]]  # type: ignore[union-attr]
    with redis_server(workdir) as redis_url:
        print(f"  {label}: throughput ({WORKERS} gunicorn workers, {THREADS} clients)", flush=True)
        rates = throughput(environment(database_url, workdir, REDIS_URL=redis_url), prepared)
    board_rps, bare_rps = statistics.median(rates["board"]), statistics.median(rates["bare"])
    home_rps = statistics.median(rates["home"])
    # the ratio within each round (adjacent slices), then its median: robust to load drifts
    share = statistics.median(b / a for b, a in zip(rates["board"], rates["bare"], strict=True))
    home_share = statistics.median(h / a for h, a in zip(rates["home"], rates["bare"], strict=True))
    print(
        f"  {label}: cold {ms(statistics.median(cold))}, warm {ms(statistics.median(warm))}, "
        f"board {board_rps:.0f} req/s vs bare {bare_rps:.0f} req/s ({share:.0%}), "
        f"home {home_rps:.0f} req/s",
        flush=True,
    )
    common = {
        "Data": f"{ITEMS:,} published items on the team's board, {ABOVE_ITEMS} on each unit "
        f"above, {RATINGS:,} ratings; page 1 of {ITEMS // 25}",
        "Database": label,
    }
    verdict = "met" if statistics.median(cold) < TARGET_MEDIAN else "NOT met"
    return [
        Measurement(
            title=f"Board page with 10,000 disclosures, nothing cached ({label})",
            what=(
                "GET /boards/<team>/ through Django's test client as a signed-in team member, "
                "the board-body cache cleared before each render: policy, filters, the page of "
                "25 items, the units above, the barometer, per-item ratings and the compliance "
                "table all computed."
            ),
            samples=cold,
            baseline="a bare view doing one query, same client, same middleware",
            baseline_samples=bare,
            notes={
                **common,
                "SQL queries per render": str(rendered["cold_queries"]),
                "Target": f"median under {ms(TARGET_MEDIAN)} — {verdict} "
                f"(median {ms(statistics.median(cold))})",
                "Last page (400), cold, one render": ms(float(rendered["last_page"])),  # type: ignore[arg-type]
            },
        ),
        Measurement(
            title=f"Board page with 10,000 disclosures, body cached ({label})",
            what=(
                "The same page when its body is in the cache (the usual case: boards change "
                "rarely); the reader's roles, the unit chain, the catalog fingerprint and the "
                "version tokens are still checked on every request."
            ),
            samples=warm,
            baseline="a bare view doing one query, same client, same middleware",
            baseline_samples=bare,
            notes={**common, "SQL queries per render": str(rendered["warm_queries"])},
        ),
        Measurement(
            title=f"Board page throughput under concurrent load ({label})",
            what=(
                f"gunicorn with {WORKERS} sync workers on loopback, {THREADS} concurrent "
                f"clients (Python threads + http.client, a new connection per request, the "
                f"signed-in session cookie), {ROUNDS} rounds of {SECONDS:.1f} s slices, "
                "rotating the board page, the bare view and the home page. Shown as seconds "
                "per request (1 / throughput), so the ratio is bare ÷ board throughput."
            ),
            samples=[1 / r for r in rates["board"]],
            baseline="the bare one-query view under the same load, in the same run",
            baseline_samples=[1 / r for r in rates["bare"]],
            notes={
                **common,
                "Board": f"{board_rps:.0f} requests/s (rounds: "
                + ", ".join(f"{r:.0f}" for r in rates["board"])
                + ")",
                "Bare view": f"{bare_rps:.0f} requests/s (rounds: "
                + ", ".join(f"{r:.0f}" for r in rates["bare"])
                + ")",
                "Board ÷ bare (median of the rounds' ratios)": f"{share:.0%} — target at least "
                f"{TARGET_THROUGHPUT:.0%}: " + ("met" if share >= TARGET_THROUGHPUT else "NOT met"),
                "Reference: the home page (/)": f"{home_rps:.0f} requests/s "
                f"({home_share:.0%} of bare): "
                "what every signed-in page pays for the frame (base template, the policy's role "
                "queries, the notification count)",
                "Failed or wrong answers": str(int(sum(rates["errors"]))),
                "Cache": "Redis (private instance)"
                if redis_url
                else "none: redis-server is not installed, and a per-process cache is not "
                "trusted with boards (bodies rendered on every request)",
                "Caveat": "the load generator runs on the same 2 cores as the server",
            },
        ),
    ]


def run() -> list[Measurement]:
    return on_sqlite_and_postgres("board", f"{PG_SERVER}/{PG_DATABASE}", measure)


# --- The children: Django inside -----------------------------------------------------------------


def prepare() -> dict[str, object]:
    import datetime as dt
    import random

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from gongkai.accounts.models import User
    from gongkai.core.periods import KIND_BY_FREQUENCY, Frequency, periods_between
    from gongkai.disclosure.catalog import entry_rule
    from gongkai.disclosure.models import CatalogEntry, Disclosure, Rating, Revision
    from gongkai.org.models import UnitKind
    from gongkai.org.services import unit_create

    call_command("migrate", verbosity=0, interactive=False)
    rng = random.Random(2026)  # deterministic data
    with transaction.atomic():
        company = unit_create(actor=None, code="bench", name="基准热电", kind=UnitKind.COMPANY)
        dept = unit_create(
            actor=None, code="bench-boiler", name="锅炉分场", kind=UnitKind.DEPARTMENT,
            parent=company,
        )  # fmt: skip
        team = unit_create(
            actor=None, code="bench-boiler-1", name="运行一班", kind=UnitKind.TEAM, parent=dept
        )
        reader = User.objects.create_user("reader", "bench-password-1", name="读者", unit=team)
        raters = User.objects.bulk_create(
            User(employee_no=f"R{i:04d}", name=f"职工{i}", unit=team) for i in range(200)
        )
        today = timezone.localdate()
        local = timezone.get_current_timezone()
        first = dt.date(today.year - 6, 1, 1)

        def items(unit, codes: list[str], n: int) -> list[Disclosure]:
            slots = []
            for code in codes:
                entry = CatalogEntry.objects.get(code=code)
                rule = entry_rule(entry, today)
                kind = KIND_BY_FREQUENCY[Frequency(rule.frequency)]
                slots += [(entry, p) for p in periods_between(kind, first, today)]
            rows = []
            for i in range(n):
                entry, period = slots[i % len(slots)]
                day = min(period.end + dt.timedelta(days=rng.randint(0, 20)), today)
                at = dt.datetime.combine(day, dt.time(9 + i % 8), tzinfo=local)
                rows.append(
                    Disclosure(
                        unit=unit, entry=entry, period=period.key, title=f"{entry.name} {period}",
                        procedure="<p>按制度审批</p>", result="<p>共计 1,234.50 元</p>",
                        status="published", author=reader, first_published_at=at,
                    )
                )  # fmt: skip
            rows = Disclosure.objects.bulk_create(rows, batch_size=1000)
            revisions = Revision.objects.bulk_create(
                (
                    Revision(
                        disclosure=d, number=1, title=d.title, procedure=d.procedure,
                        result=d.result, scope=d.scope, published_at=d.first_published_at,
                        published_by=reader,
                    )
                    for d in rows
                ),
                batch_size=1000,
            )  # fmt: skip
            for d, r in zip(rows, revisions, strict=True):
                d.published_revision = r
            Disclosure.objects.bulk_update(rows, ["published_revision"], batch_size=1000)
            return rows

        mine = items(team, TEAM_ENTRIES, ITEMS)
        items(dept, ["pay", "entertainment", "materials"], ABOVE_ITEMS)
        items(company, ["vehicles", "welfare", "titles"], ABOVE_ITEMS)
        values = ["satisfied", "basic", "dissatisfied"]
        pairs = {(rng.randrange(len(mine)), rng.randrange(len(raters))) for _ in range(RATINGS)}
        Rating.objects.bulk_create(
            (
                Rating(disclosure=mine[d], user=raters[u], value=values[(d + u) % 3])
                for d, u in sorted(pairs)
            ),
            batch_size=1000,
        )
    with connection.cursor() as cursor:  # statistics, as a database in service would have
        cursor.execute("ANALYZE")
    client = Client()
    assert client.login(username="reader", password="bench-password-1")  # noqa: S106
    return {
        "unit": team.code,
        "session": client.cookies["sessionid"].value,
        "marker": team.name,
        "reader": reader.name,
    }


def render(code: str, session: str) -> dict[str, object]:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.cookies["sessionid"] = session
    url = f"/boards/{code}/"

    def timed(path: str, clear: bool) -> float:
        if clear:
            cache.clear()
        started = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, (path, response.status_code)
        return elapsed

    for _ in range(3):  # warm up imports, templates, connections
        timed(url, True)
        timed("/bench/bare/", False)
    cold = [timed(url, True) for _ in range(COLD_RUNS)]
    timed(url, True)
    warm = [timed(url, False) for _ in range(WARM_RUNS)]
    bare = [timed("/bench/bare/", False) for _ in range(WARM_RUNS)]
    last_page = timed(f"{url}?page={ITEMS // 25}", True)
    counts = {}
    for name, clear in (("cold_queries", True), ("warm_queries", False)):
        with CaptureQueriesContext(connection) as queries:
            timed(url, clear)
        counts[name] = len(queries)
    return {"cold": cold, "warm": warm, "bare": bare, "last_page": last_page, **counts}


def main() -> None:
    import django

    django.setup()
    command, *args = sys.argv[1:]
    result = prepare() if command == "prepare" else render(*args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
