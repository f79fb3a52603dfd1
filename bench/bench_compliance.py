"""The compliance dashboard at scale: a company of 500 units (50 departments, 449 teams),
60 catalog entries (55 monthly or quarterly, 5 per event), three years of obligations and
1,000,000 disclosures.

One child process per database (a SQLite file in a temporary folder; the scratch PostgreSQL
database ``gongkai_bench_compliance``, dropped and re-created): it migrates, builds the org
and the catalog, bulk-loads the disclosures and their published revisions (executemany into
SQLite, COPY into PostgreSQL; not through the workflow), then times a GET of
``/supervision/compliance/`` for the whole company over the three years, as the union office
— the page, its template and every query — and counts its queries, for the whole company and
for one department (the count must be the same). The baseline is the same figures counted the
straightforward way, one Python object per obligation (``iter_obligations``), in the same run.
Each child prints one JSON line; this module turns them into measurements.
"""

from __future__ import annotations

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
from bench.harness import ENGINES, child_json, environment, on_sqlite_and_postgres, timed

POSTGRES_URL = os.environ.get(
    "BENCH_COMPLIANCE_POSTGRES", "postgres://postgres@127.0.0.1:5432/gongkai_bench_compliance"
)
ROWS = int(os.environ.get("BENCH_COMPLIANCE_ROWS", "1000000"))
DEPARTMENTS = 50
TEAMS = 449  # with the company and the departments: 500 units
RUNS = 7
BASELINE_RUNS = 3
TARGET_SECONDS = 0.5
SEED = 20261124
FIRST, LAST = date(2023, 1, 1), date(2025, 12, 31)  # three years
TODAY = date(2026, 1, 20)
BATCH = 20_000
# (kind, frequency, count): 55 calendar entries and 5 per event = 60.
CATALOG = [
    ("team", "monthly", 20),
    ("team", "quarterly", 8),
    ("department", "monthly", 12),
    ("department", "quarterly", 10),
    ("company", "monthly", 5),
]
PER_EVENT = 5


def log(message: str) -> None:
    print(f"  [{os.environ.get('DATABASE_URL', '')[:10]}] {message}", file=sys.stderr, flush=True)


# --- The parent ------------------------------------------------------------------------------


def run() -> list[Measurement]:
    return [measurement(r) for r in on_sqlite_and_postgres("compliance", POSTGRES_URL, child)]


def child(label: str, url: str, workdir: Path) -> list[dict[str, Any]]:
    # the test settings: plain static files, local memory cache
    env = environment(url, workdir, "config.settings.test")
    return [child_json("bench_compliance", env, progress=True)]  # progress on the terminal


def measurement(result: dict[str, Any]) -> Measurement:
    engine = ENGINES[result["vendor"]]
    return Measurement(
        title=f"Compliance dashboard, whole company, three years ({engine})",
        what=(
            "GET /supervision/compliance/ as the union office for the whole company from "
            f"{FIRST} to {LAST} (as of {TODAY}): every obligation's state aggregated in SQL, "
            "the per-unit and per-department tallies, the handling figures, the template."
        ),
        samples=result["samples"],
        baseline="the same tallies counted one Python object per obligation",
        baseline_samples=result["baseline"],
        target_seconds=TARGET_SECONDS,
        notes={
            "Data": (
                f"{result['units']} units ({DEPARTMENTS} departments, {TEAMS} teams), "
                f"{result['entries']} catalog entries, {result['obligations']:,} obligations, "
                f"{result['rows']:,} disclosures ({result['per_event']:,} per event, "
                f"{result['withdrawn']:,} withdrawn)"
            ),
            "Queries": (
                f"{result['queries_company']} for the whole company, "
                f"{result['queries_department']} for one department (fixed)"
            ),
            "Check": f"on-time rate {result['rate']} %, the same in the baseline: {result['same']}",
            "Load": f"{result['load_seconds']:.0f} s to generate and bulk-load",
        },
    )


# --- The child --------------------------------------------------------------------------------


def make_org() -> dict[str, Any]:
    from django.db import connection

    from gongkai.accounts.models import User
    from gongkai.disclosure.models import CatalogEntry, CatalogRule, Category
    from gongkai.org.models import OrgUnit, Role, RoleAssignment

    CatalogEntry.objects.update(is_active=False)
    category = Category.objects.create(code="bench", name="基准", order=99)
    created = [0]

    def entry(unit_kinds: list[str], frequency: str, **rule: Any) -> int:
        """A new catalog entry, numbered on, with its rule → its pk."""
        created[0] += 1
        n = created[0]
        made = CatalogEntry.objects.create(
            code=f"bench-{n}", category=category, name=f"基准事项{n}", order=n
        )
        CatalogRule.objects.create(
            entry=made,
            effective_from=date(2020, 1, 1),
            unit_kinds=unit_kinds,
            frequency=frequency,
            **rule,
        )
        return made.pk

    kinds: dict[str, list[int]] = {"company": [], "department": [], "team": []}
    for kind, frequency, count in CATALOG:
        for _ in range(count):
            days = 10 if frequency == "monthly" else 15
            kinds[kind].append(entry([kind], frequency, deadline_days=days))
    events = [entry(["company", "department", "team"], "per_event") for _ in range(PER_EVENT)]
    base = (OrgUnit.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    units = [OrgUnit(pk=base, code="bench", name="基准公司", kind="company", path=f"/{base}/")]
    depts = [base + 1 + d for d in range(DEPARTMENTS)]
    # (code, name, kind, parent, order): the departments, then the teams spread over them
    rows = [(f"bench-d{d}", f"部门{d:02d}", "department", base, d) for d in range(DEPARTMENTS)]
    rows += [
        (f"bench-t{t}", f"班组{t:03d}", "team", depts[t % DEPARTMENTS], t) for t in range(TEAMS)
    ]
    paths = {base: f"/{base}/"}
    for pk, (code, name, kind, parent, order) in enumerate(rows, start=base + 1):
        paths[pk] = f"{paths[parent]}{pk}/"
        units.append(
            OrgUnit(
                pk=pk,
                code=code,
                name=name,
                kind=kind,
                parent_id=parent,
                path=paths[pk],
                depth=1 if kind == "department" else 2,
                order=order,
            )
        )
    OrgUnit.objects.bulk_create(units)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('org_orgunit', 'id'), "
                "(SELECT MAX(id) FROM org_orgunit))"
            )
    union = User.objects.create_user(employee_no="bench-union", name="工会", password=None)
    RoleAssignment.objects.create(user=union, role=Role.UNION_OFFICE, unit_id=base)
    return {
        "company": base,
        "department": depts[0],
        "units": [(u.pk, u.kind) for u in units],
        "entries": kinds,
        "events": events,
        "author": union.pk,
    }


def months(first: date, last: date) -> list[tuple[str, date]]:
    found = []
    for year in range(first.year, last.year + 1):
        for month in range(1, 13):
            end = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
            found.append((f"{year}-{month:02d}", end))
    return found


def quarters(first: date, last: date) -> list[tuple[str, date]]:
    found = []
    for year in range(first.year, last.year + 1):
        for q in range(1, 5):
            month = q * 3
            end = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
            found.append((f"{year}-Q{q}", end))
    return found


def disclosures(org: dict[str, Any], rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """(unit, entry, period, event_date, first_published_at, status) for every disclosure:
    most obligations published (85 % on time, the rest up to 40 days late), a few withdrawn,
    and per-event items up to ROWS."""
    periods = {"monthly": months(FIRST, LAST), "quarterly": quarters(FIRST, LAST)}
    count = 0
    for unit, kind in org["units"]:
        entries = org["entries"][kind]
        freqs = [f for k, f, c in CATALOG if k == kind for _ in range(c)]
        for entry, freq in zip(entries, freqs, strict=True):
            days = 10 if freq == "monthly" else 15
            for key, end in periods[freq]:
                roll = rng.random()
                if roll < 0.06:
                    continue  # never published: overdue
                due = end + timedelta(days=days)
                day = (
                    due - timedelta(days=rng.randint(0, days))
                    if roll < 0.85
                    else due + timedelta(days=rng.randint(1, 40))
                )
                if day > TODAY:
                    continue
                at = datetime(day.year, day.month, day.day, 2, 30, tzinfo=UTC)
                status = "withdrawn" if roll > 0.995 else "published"
                yield (unit, entry, key, None, at, status)
                count += 1
    units = [u for u, _kind in org["units"]]
    span = (LAST - FIRST).days
    while count < ROWS:
        day = FIRST + timedelta(days=rng.randint(0, span))
        at = datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC)
        yield (rng.choice(units), rng.choice(org["events"]), "", day, at, "published")
        count += 1


def bulk_load(org: dict[str, Any]) -> dict[str, int]:
    from django.db import connection, transaction

    rng = random.Random(SEED)
    stats = {"rows": 0, "per_event": 0, "withdrawn": 0}
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM disclosure_disclosure")
        next_id = cursor.fetchone()[0] + 1
    author = org["author"]
    created = datetime(2026, 1, 1, tzinfo=UTC)
    d_cols = (
        "id, created_at, updated_at, unit_id, entry_id, period, event_date, is_nil, title, "
        "procedure, result, scope, status, author_id, rejection_reason, correction_reason, "
        "first_published_at, published_revision_id, withdrawal_reason, review_round, approvals"
    )
    r_cols = (
        "id, disclosure_id, number, title, procedure, result, scope, reason, published_at, "
        "published_by_id"
    )
    batch_d: list[tuple[Any, ...]] = []
    batch_r: list[tuple[Any, ...]] = []

    def flush() -> None:
        if not batch_d:
            return
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                raw = cursor.cursor
                with raw.copy(f"COPY disclosure_disclosure ({d_cols}) FROM STDIN") as copy:
                    for row in batch_d:
                        copy.write_row(row)
                with raw.copy(f"COPY disclosure_revision ({r_cols}) FROM STDIN") as copy:
                    for row in batch_r:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * 21)
                cursor.executemany(
                    f"INSERT INTO disclosure_disclosure ({d_cols}) VALUES ({marks})",  # noqa: S608
                    [adapt(row) for row in batch_d],
                )
                marks = ", ".join(["%s"] * 10)
                cursor.executemany(
                    f"INSERT INTO disclosure_revision ({r_cols}) VALUES ({marks})",  # noqa: S608
                    [adapt(row) for row in batch_r],
                )
        batch_d.clear()
        batch_r.clear()

    for unit, entry, period, event_date, at, status in disclosures(org, rng):
        pk = next_id
        next_id += 1
        title = f"基准公开{pk}"
        batch_d.append(
            (pk, created, created, unit, entry, period, event_date, False, title, "", "",
             "internal", status, author, "", "", at, pk, "", 1, 1)
        )  # fmt: skip
        batch_r.append((pk, pk, 1, title, "", "", "internal", "", at, author))
        stats["rows"] += 1
        stats["per_event"] += period == ""
        stats["withdrawn"] += status == "withdrawn"
        if len(batch_d) >= BATCH:
            flush()
            if stats["rows"] % 200_000 == 0:
                log(f"{stats['rows']:,} disclosures loaded")
    flush()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in ("disclosure_disclosure", "disclosure_revision"):
                sql = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: E501, S608 - our own table names
                cursor.execute(sql)
            cursor.execute("ANALYZE")
        else:
            cursor.execute("ANALYZE")
    return stats


def adapt(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """SQLite stores datetimes as UTC text without an offset, as Django does."""
    return tuple(
        v.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        if isinstance(v, datetime)
        else v.isoformat()
        if isinstance(v, date)
        else v
        for v in row
    )


def main() -> None:
    import django

    django.setup()
    import time_machine
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from gongkai.accounts.models import User
    from gongkai.disclosure.compliance import (
        Tally,
        compliance_tree,
        iter_obligations,
        subtree_units,
    )
    from gongkai.org.models import OrgUnit

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    org = make_org()
    log(f"migrated, org created in {time.perf_counter() - started:.0f} s")
    stats = bulk_load(org)
    load_seconds = time.perf_counter() - started
    log(f"loaded in {load_seconds:.0f} s")
    company = OrgUnit.objects.get(pk=org["company"])
    department = OrgUnit.objects.get(pk=org["department"])
    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(employee_no="bench-union"))
    query = {"start": FIRST.isoformat(), "end": LAST.isoformat()}
    result: dict[str, Any] = {"vendor": connection.vendor, "load_seconds": load_seconds, **stats}
    with time_machine.travel(datetime(2026, 1, 20, 4, tzinfo=UTC), tick=True):

        def page(unit: Any = None) -> Any:
            params = query | ({"unit": unit.code} if unit is not None else {})
            response = client.get("/supervision/compliance/", params)
            assert response.status_code == 200, response.status_code
            return response

        result["samples"] = timed(page, RUNS)
        with CaptureQueriesContext(connection) as ctx:
            page()
        result["queries_company"] = len(ctx.captured_queries)
        total = compliance_tree(company, FIRST, LAST, today=TODAY)[company.pk].subtree
        with CaptureQueriesContext(connection) as ctx:
            page(department)
        result["queries_department"] = len(ctx.captured_queries)
        units = subtree_units(company)

        def baseline() -> Tally:
            tally = Tally()
            for obligation in iter_obligations(units, FIRST, LAST, today=TODAY):
                tally.add(obligation.state)
            return tally

        result["baseline"] = timed(baseline, BASELINE_RUNS)
        counted = baseline()
    result |= {
        "units": len(org["units"]),
        "entries": sum(len(v) for v in org["entries"].values()) + len(org["events"]),
        "obligations": total.total,
        "rate": total.rate,
        "same": counted == total,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
