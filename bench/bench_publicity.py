"""Objection statistics at scale (``gongkai.publicity.selectors.objection_stats``, the
figures the supervision part's assessment builds on): a company of 251 units (50
departments, 200 teams), 6,000 publicity windows over three years and 60,000 objections, some
with findings on time, some late, some missing.

One child process per database (a SQLite file in a temporary folder; the scratch PostgreSQL
database ``gongkai_bench_publicity``, dropped and re-created): it migrates, bulk-inserts the
org, one published disclosure per window, the windows and the objections (not through the
services), then times ``objection_stats`` for the whole company over the three years. The
baseline, timed in the same run on the same data, is the straightforward way: walk the
windows with their objections prefetched and ask the calendar for each window's due day
(``finding_due``: one query per window). Both must give the same tallies.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import Measurement
from bench.harness import ENGINES, child_json, environment, on_sqlite_and_postgres

POSTGRES_URL = os.environ.get(
    "BENCH_PUBLICITY_POSTGRES", "postgres://postgres@127.0.0.1:5432/gongkai_bench_publicity"
)
DEPARTMENTS = 50
TEAMS_PER_DEPARTMENT = 4
WINDOWS = 6_000
OBJECTIONS = 60_000
RUNS = 7
BASELINE_RUNS = 3
SEED = 20261124
FIRST, LAST = date(2024, 1, 1), date(2026, 10, 31)
TODAY = date(2026, 11, 24)
TARGET_SECONDS = 1.0


def log(message: str) -> None:
    print(f"  [publicity] {message}", file=sys.stderr, flush=True)


# --- The parent ------------------------------------------------------------------------------


def run() -> list[Measurement]:
    return [measurement(r) for r in on_sqlite_and_postgres("publicity", POSTGRES_URL, child)]


def child(label: str, url: str, workdir: Path) -> list[dict[str, Any]]:
    env = environment(url, workdir, "config.settings.local")
    return [child_json("bench_publicity", env, progress=True)]  # progress on the terminal


def measurement(result: dict[str, Any]) -> Measurement:
    engine = ENGINES[result["vendor"]]
    return Measurement(
        title=f"Objection statistics, whole company, three years ({engine})",
        what=(
            f"objection_stats([company], {FIRST}, {LAST}) as of {TODAY}: every objection of "
            "the company's units with its window's last day and finding time (one query), the "
            "working-day calendar of the years involved (one query), each finding's due day "
            "(the window's end + 5 working days) and the per-unit tallies."
        ),
        samples=result["samples"],
        baseline="windows with objections prefetched, one calendar query per window",
        baseline_samples=result["baseline"],
        target_seconds=TARGET_SECONDS,
        notes={
            "Data": (
                f"{result['units']} units, {result['windows']:,} windows, "
                f"{result['objections']:,} objections"
            ),
            "Queries": f"{result['queries']} (baseline: {result['baseline_queries']:,})",
            "Check": (
                f"on time {result['on_time']:,}, late {result['late']:,}, missing "
                f"{result['missing']:,}, pending {result['pending']:,}; the same in the "
                f"baseline: {result['same']}"
            ),
            "Load": f"{result['load_seconds']:.0f} s to generate and bulk-load",
        },
    )


# --- The child --------------------------------------------------------------------------------


def load(rng: random.Random) -> dict[str, Any]:
    from gongkai.accounts.models import User
    from gongkai.disclosure.models import CatalogEntry, Disclosure
    from gongkai.org.models import OrgUnit
    from gongkai.publicity.models import Objection, Publicity

    author = User.objects.create(employee_no="bench-author", name="基准")
    filers = User.objects.bulk_create(
        [User(employee_no=f"bench-{i}", name=f"职工{i}") for i in range(200)]
    )
    base = (OrgUnit.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    units = [OrgUnit(pk=base, code="bench", name="基准公司", kind="company", path=f"/{base}/")]
    pk = base
    for d in range(DEPARTMENTS):
        pk += 1
        dept = pk
        units.append(
            OrgUnit(
                pk=dept,
                code=f"bench-d{d}",
                name=f"部门{d}",
                kind="department",
                parent_id=base,
                path=f"/{base}/{dept}/",
                depth=1,
            )
        )
        for t in range(TEAMS_PER_DEPARTMENT):
            pk += 1
            units.append(
                OrgUnit(
                    pk=pk,
                    code=f"bench-d{d}-{t}",
                    name=f"班组{d}-{t}",
                    kind="team",
                    parent_id=dept,
                    path=f"/{base}/{dept}/{pk}/",
                    depth=2,
                )
            )
    OrgUnit.objects.bulk_create(units)
    entry = CatalogEntry.objects.get(code="cadre-appointment")
    span = (LAST - FIRST).days
    disclosures = Disclosure.objects.bulk_create(
        [
            Disclosure(
                unit=rng.choice(units),
                entry=entry,
                event_date=FIRST + timedelta(days=rng.randrange(span)),
                title="拟任人选任前公示",
                status="published",
                author=author,
            )
            for _ in range(WINDOWS)
        ],
        batch_size=2000,
    )
    windows = Publicity.objects.bulk_create(
        [
            Publicity(
                disclosure=d,
                kind="cadre",
                starts_on=d.event_date,
                ends_on=d.event_date + timedelta(days=7),
                opened_by=author,
            )
            for d in disclosures
        ],
        batch_size=2000,
    )
    objections = []
    for _ in range(OBJECTIONS):
        window = rng.choice(windows)
        filed_on = window.starts_on + timedelta(days=rng.randrange(8))
        roll = rng.random()
        recorded = None
        if roll < 0.85:
            days = rng.randrange(0, 10) if roll < 0.7 else rng.randrange(10, 30)
            recorded = datetime.combine(
                window.ends_on + timedelta(days=days), datetime.min.time(), tzinfo=UTC
            ) + timedelta(hours=3)
        objections.append(
            Objection(
                publicity=window,
                filed_by=rng.choice(filers),
                filed_on=filed_on,
                anonymous=rng.random() < 0.4,
                text="事实",
                finding="unfounded" if recorded else None,
                finding_recorded_at=recorded,
            )
        )
    Objection.objects.bulk_create(objections, batch_size=5000)
    return {"company_path": f"/{base}/", "units": len(units)}


def baseline_stats(company_path: str) -> dict[int, tuple[int, int, int, int, int]]:
    from django.utils import timezone

    from gongkai.publicity.models import Publicity
    from gongkai.publicity.selectors import finding_due

    tallies: dict[int, list[int]] = {}
    windows = (
        Publicity.objects.filter(disclosure__unit__path__startswith=company_path)
        .select_related("disclosure")
        .prefetch_related("objections")
    )
    for window in windows:
        due = finding_due(window.ends_on)
        for o in window.objections.all():
            if not FIRST <= o.filed_on <= LAST:
                continue
            t = tallies.setdefault(window.disclosure.unit_id, [0, 0, 0, 0, 0])
            t[0] += 1
            if o.finding_recorded_at is not None:
                t[1 if timezone.localdate(o.finding_recorded_at) <= due else 2] += 1
            else:
                t[3 if due < TODAY else 4] += 1
    return {k: (v[0], v[1], v[2], v[3], v[4]) for k, v in tallies.items()}


@contextlib.contextmanager
def counting(connection: Any) -> Iterator[list[int]]:
    """Count the queries run inside (an execute wrapper: no query log, no cap)."""
    count = [0]

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield count


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from gongkai.publicity.selectors import objection_stats

    log("migrating")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    rng = random.Random(SEED)
    info = load(rng)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the statistics a database in service has
    load_seconds = time.perf_counter() - started
    log(f"loaded in {load_seconds:.0f} s; timing")
    path = info["company_path"]
    samples = []
    result: dict[int, Any] = {}
    queries = 0
    for _ in range(RUNS):
        with counting(connection) as count:
            t0 = time.perf_counter()
            result = objection_stats([path], FIRST, LAST, today=TODAY)
            samples.append(time.perf_counter() - t0)
        queries = count[0]
    baseline = []
    expected: dict[int, Any] = {}
    baseline_queries = 0
    for _ in range(BASELINE_RUNS):
        with counting(connection) as count:
            t0 = time.perf_counter()
            expected = baseline_stats(path)
            baseline.append(time.perf_counter() - t0)
        baseline_queries = count[0]
    got = {k: (v.filed, v.on_time, v.late, v.missing, v.pending) for k, v in result.items()}
    totals = [sum(v[i] for v in got.values()) for i in range(5)]
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "samples": samples,
                "baseline": baseline,
                "queries": queries,
                "baseline_queries": baseline_queries,
                "units": info["units"],
                "windows": WINDOWS,
                "objections": totals[0],
                "on_time": totals[1],
                "late": totals[2],
                "missing": totals[3],
                "pending": totals[4],
                "same": got == expected,
                "load_seconds": load_seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
