"""What the benchmarks share. Django runs in child processes (``python -m bench.<module>
<command>``, printing its figures as JSON on the last line) with bench settings on a fresh
database, once on SQLite and once on PostgreSQL when a server is reachable, so a benchmark
never touches the developer's database; the parent turns the figures into measurements. Here:
the child's environment and its call, the SQLite-then-PostgreSQL loop, the scratch PostgreSQL
databases, a gunicorn on a free loopback port, and the timing helpers the children share."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import psycopg

from bench import Measurement

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
ENGINES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}  # connection.vendor → label
BARE = "bare view, one query, same middleware"  # the page benchmarks' baseline
T = TypeVar("T")


# --- The parent ----------------------------------------------------------------------------------


def environment(
    database_url: str, workdir: Path, settings: str = "bench.board_site", **extra: str
) -> dict[str, str]:
    """The child's environment: this one with the bench's settings module, database, working
    folder, secret and log level, plus ``extra`` (e.g. ``STATIC_ROOT``); the machine's
    ``REDIS_URL`` is removed unless ``extra`` names one."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=settings,
        DATABASE_URL=database_url,
        GONGKAI_VAR_DIR=str(workdir),
        SECRET_KEY="bench-only-" + "x" * 50,
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    if not extra.get("REDIS_URL"):
        env.pop("REDIS_URL", None)
    return env


def child_json(
    module: str, env: dict[str, str], *args: str, progress: bool = False
) -> dict[str, Any]:
    """Run ``python -m bench.<module> args`` in ``env`` → the JSON object it prints last. With
    ``progress`` its stderr goes to the terminal as it runs; otherwise it is kept for the error
    raised when the child fails."""
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=None if progress else subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{done.stdout}\n{done.stderr or ''}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def redis_reachable(url: str) -> bool:
    import redis  # optional: only benches that use Redis need the client

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
        return True
    except Exception as exc:  # any failure means: no Redis here
        print(f"  Redis skipped: {exc}", file=sys.stderr, flush=True)
        return False


def redis_flush(url: str) -> None:
    import redis  # optional: only benches that use Redis need the client

    redis.Redis.from_url(url, socket_connect_timeout=3).flushdb()


def pg_fresh(url: str) -> bool:
    """Drop and create the PostgreSQL database ``url`` names, empty; False (saying why) when
    no server is reachable."""
    server, name = url.rsplit("/", 1)
    try:
        with psycopg.connect(f"{server}/postgres", connect_timeout=3, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{name}"')
        return True
    except Exception as exc:  # any failure means: no PostgreSQL here
        print(f"  PostgreSQL skipped: {exc}", file=sys.stderr, flush=True)
        return False


def pg_drop(url: str) -> None:
    """Drop the PostgreSQL database ``url`` names (its connections closed first)."""
    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", connect_timeout=3, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def on_sqlite_and_postgres(
    name: str, pg_url: str, measure: Callable[[str, str, Path], list[T]]
) -> list[T]:
    """``measure(label, database URL, working folder)`` on a SQLite file in a new temporary
    folder, then on the PostgreSQL database ``pg_url`` (created empty, dropped afterwards) when
    a server is reachable; the folder is removed at the end."""
    workdir = Path(tempfile.mkdtemp(prefix=f"gongkai-bench-{name}-"))
    try:
        results = measure("SQLite", f"sqlite:///{workdir / f'{name}.sqlite3'}", workdir)
        if pg_fresh(pg_url):
            try:
                results += measure("PostgreSQL", pg_url, workdir)
            finally:
                pg_drop(pg_url)
        return results
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def on_each_database(module: str, pg_database: str) -> dict[str, dict[str, Any]]:
    """The figures ``python -m bench.<module> measure`` prints, per database: "SQLite", and
    "PostgreSQL" when reachable."""

    def measure(label: str, url: str, workdir: Path) -> list[tuple[str, dict[str, Any]]]:
        work = workdir / "pg" if label == "PostgreSQL" else workdir
        env = environment(url, work, STATIC_ROOT=str(work / "static"))
        return [(label, child_json(module, env, "measure"))]

    return dict(on_sqlite_and_postgres(module, f"{PG_SERVER}/{pg_database}", measure))


def child_measurement(
    title: str,
    what: str,
    result: dict[str, Any],
    key: str,
    notes: dict[str, str],
    *,
    target: float | None = None,
    baseline: str = BARE,
    baseline_key: str = "bare",
    extra: dict[str, str] | None = None,
) -> Measurement:
    """The child's samples ``result[key]`` against ``result[baseline_key]`` (by default the
    bare view's), with the query count ``result[key + "_queries"]`` and ``extra`` added to
    ``notes``."""
    return Measurement(
        title=title,
        what=what,
        samples=list(result[key]),
        baseline=baseline,
        baseline_samples=list(result[baseline_key]),
        target_seconds=target,
        notes=notes | {"queries": str(result[key + "_queries"])} | (extra or {}),
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, path: str = "/healthz", seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port}")


class Server(NamedTuple):
    port: int
    pgid: int


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int = 4) -> Iterator[Server]:
    """A gunicorn (``workers`` sync workers, in its own process group) serving the project on
    loopback in ``env``, once its health check answers; stopped at the end. Yields its port
    and process group (a crash test kills the whole group)."""
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "sync",
         "--backlog", "2048", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(port)
        yield Server(port=port, pgid=process.pid)  # start_new_session: pid = group id
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


# --- The children (Django set up) ----------------------------------------------------------------


def child_main(module: str, measure: Callable[[], dict[str, Any]]) -> None:
    """A child's entry point: ``python -m bench.<module> measure`` prints the figures of
    ``measure()`` as JSON."""
    if sys.argv[1:] != ["measure"]:
        raise SystemExit(f"usage: python -m bench.{module} measure  (or: python -m bench.run)")
    print(json.dumps(measure()))


def timed(call: Callable[[], Any], runs: int) -> list[float]:
    """``runs`` timings of ``call`` after one untimed warm-up call."""
    call()  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def migrated() -> None:
    """Migrate the child's fresh database and collect the static files (the pages' manifest)."""
    # Imported here: this module is imported by the parent too, where Django is not set up.
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def company_tree(departments: int, teams: int) -> list[Any]:
    """The bench company "bc" with ``departments`` departments of ``teams`` teams each, created
    through the service: [company, department 0, its teams, department 1, …]."""
    # Imported here: this module is imported by the parent too, where Django is not set up.
    from gongkai.org.models import UnitKind
    from gongkai.org.services import unit_create

    company = unit_create(actor=None, code="bc", name="基准公司", kind=UnitKind.COMPANY)
    units = [company]
    for d in range(departments):
        dept = unit_create(
            actor=None, code=f"bc-{d}", name=f"部门{d}", kind=UnitKind.DEPARTMENT, parent=company
        )
        units.append(dept)
        for t in range(teams):
            units.append(
                unit_create(
                    actor=None,
                    code=f"bc-{d}-{t}",
                    name=f"部门{d}班组{t}",
                    kind=UnitKind.TEAM,
                    parent=dept,
                )
            )
    return units


def time_pages(
    urls: dict[str, tuple[Any, str]],
    runs: int,
    rng: random.Random,
    skip: Callable[[str, int], bool] = lambda key, run: False,
) -> dict[str, Any]:
    """Each page (key → (test client, URL)) warmed, then its query count, then ``runs`` rounds
    timing every page once in a shuffled order (but where ``skip(key, round)``): the figures
    ``{key}_url``, ``{key}_queries`` and ``{key}`` (the samples) of every key."""
    # Imported here: this module is imported by the parent too, where Django is not set up.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    out: dict[str, Any] = {}
    for key, (client, url) in urls.items():
        assert client.get(url).status_code == 200, url
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        out[f"{key}_url"] = url
        out[f"{key}_queries"] = len(queries)
    order = list(urls)
    samples: dict[str, list[float]] = {key: [] for key in order}
    for i in range(runs):
        rng.shuffle(order)
        for key in order:
            if skip(key, i):
                continue
            client, url = urls[key]
            started = time.perf_counter()
            response = client.get(url)
            samples[key].append(time.perf_counter() - started)
            assert response.status_code == 200
    return out | samples
