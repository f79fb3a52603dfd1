"""The daily reminder scan (``gongkai.notify.reminders.scan``) of a company with 20,000
units and 50 monthly catalog entries: 1,000,000 disclosure obligations a month.

One child process per database (a SQLite file in a temporary folder; the scratch PostgreSQL
database ``gk_scanbench``, created empty and dropped afterwards), with the project's local
settings and the queue **not** immediate: Huey's SQLite storage in the working folder on
SQLite, its Redis storage (``SCANBENCH_REDIS_URL``, by default database 11 of the local
Redis, emptied before and after) on PostgreSQL when Redis answers, as in production. The
scan therefore writes the reminder rows and the in-app notices and only *enqueues* the
e-mail and robot fan-out (``fan_out_reminders``, one task per batch), as the worker's daily
run does; the fan-out itself is ``bench_notify``'s subject.

The child migrates and builds (``bench.reminders_data``, bulk inserts, not measured): the
company, 50 monthly entries for departments and teams due 10 days after the month, and
first 50 departments of 99 teams each (5,000 units: 250,000 obligations a month), each
department with its head and disclosure officer, 85 % of the teams with a team disclosure
officer (the others drafted for by their department's two), and 30 % of October's
obligations published (2 % more with a draft or an item in review). The scan day is Monday
9 November 2026, the working day before October's deadline (Tuesday 10 November): every
unpublished October obligation is at its "before" stage. November's obligations (the period
has begun, due 10 December) fall in the scan window too (it reaches as far as the longest
lead a catalog entry may set, 30 working days), so the source reads them as well, though
none of them has reached a stage yet: that is what the real scan does on that day.

At 5,000 units it counts the scan's queries (``connection.execute_wrapper``), per phase
(the source, the engine's look-up of what was sent, the delivery of each batch). It then
adds the other 150 departments (20,000 units: 1,000,000 obligations a month), counts again,
and times ``scan(day)`` three times, each on a fresh copy: before each run the reminder and
notice tables are emptied (TRUNCATE on PostgreSQL, DELETE on SQLite) and the queue flushed,
so each run sends everything again. The counting run comes first and is the warm-up.
The baseline, in the same child: one SELECT of the month's 1,000,000 obligations (every
active unit × active entry, with the unit's code and name and the entry's code) fetched
into Python tuples — the least a scan that looks at every obligation of the month once
costs, before judging, planning or writing anything.
"""

from __future__ import annotations

import gc
import itertools
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bench import Measurement
from bench.harness import (
    PG_SERVER,
    child_json,
    child_main,
    environment,
    pg_drop,
    pg_fresh,
    redis_flush,
    redis_reachable,
)

PG_DATABASE = "gk_scanbench"
REDIS_URL = os.environ.get("SCANBENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
DAY = date(2026, 11, 9)  # Monday; October's obligations are due Tuesday 10 November
SMALL, FULL = 50, 200  # departments of 100 units: 5,000 and 20,000 units
RUNS = 3
BASELINE_RUNS = 3
TARGET_SECONDS = 10.0


# --- The parent ----------------------------------------------------------------------------------


def child_env(database_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    workdir.mkdir(parents=True, exist_ok=True)
    return environment(
        database_url,
        workdir,
        settings="config.settings.local",
        STATIC_ROOT=str(workdir / "static"),
        MEDIA_ROOT=str(workdir / "media"),
        HUEY_IMMEDIATE="0",
        **extra,
    )


def run() -> list[Measurement]:
    import shutil
    import tempfile

    workdir = Path(tempfile.mkdtemp(prefix="gongkai-bench-reminders-"))
    results: list[tuple[str, dict[str, Any]]] = []
    try:
        env = child_env(f"sqlite:///{workdir / 'scan.sqlite3'}", workdir)
        label = "SQLite, Huey's SQLite storage"
        results.append((label, child_json("bench_reminders", env, "measure", progress=True)))
        pg_url = f"{PG_SERVER}/{PG_DATABASE}"
        if pg_fresh(pg_url):
            try:
                if redis_reachable(REDIS_URL):
                    redis_flush(REDIS_URL)
                    env = child_env(pg_url, workdir / "pg", REDIS_URL=REDIS_URL)
                    label = "PostgreSQL, Huey's Redis storage"
                else:
                    env = child_env(pg_url, workdir / "pg")
                    label = "PostgreSQL, Huey's SQLite storage"
                results.append(
                    (label, child_json("bench_reminders", env, "measure", progress=True))
                )
            finally:
                pg_drop(pg_url)
                if "Redis" in label:
                    redis_flush(REDIS_URL)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return [measurement(label, result) for label, result in results]


def queries(c: dict[str, Any]) -> str:
    """The queries of one counted scan: in all, by phase, and per batch."""
    phase = c["by_phase"]
    spread = ", ".join(
        f"{n:,} batch{'es' if n > 1 else ''} {q}" for q, n in sorted(c["per_batch"].items())
    )
    return (
        f"{c['queries']:,} for {c['obligations']:,} open obligations in "
        f"{c['source_batches']:,} batches: source {phase.get('source', 0):,} "
        f"({c['chunks']:,} chunks of units), look-up of what was sent "
        f"{phase.get('plan', 0):,}, delivery {phase.get('deliver', 0):,}; per batch "
        f"(its look-up and delivery, plus the source's next chunk when one is read): {spread}; "
        f"{c['queries'] / (c['obligations'] / 1000):.2f} per 1,000 obligations"
    )


def phases(c: dict[str, Any]) -> str:
    """Where a counted scan's time went."""
    t, n = c["seconds"], c["statements"]
    plan, deliver = t.get("plan", 0.0), t.get("deliver", 0.0)
    reminder, notice = t.get("insert reminder", 0.0), t.get("insert notification", 0.0)
    enqueue, commit = t.get("enqueue", 0.0), t.get("commit", 0.0)
    rest = deliver - reminder - notice - enqueue - commit

    def written(part: str, took: float, what: str) -> str:
        model = part.capitalize()
        if c["vendor"] == "postgresql":
            how = f"{n.get(part, 0):,} COPY statements, past the cursor wrapper"
        else:
            how = (
                f"{n.get(part, 0):,} executemany statements, "
                f"{t.get(f'execute {part}', 0.0):.2f} s of it in the driver's executemany"
            )
        return f"{what} {took:.2f} s (`insert({model}, …)`, {how})"

    return (
        f"source {t['total'] - plan - deliver:.2f} s; the engine's stages, wording and "
        f"look-up of what was sent {plan:.2f} s; delivery {deliver:.2f} s ("
        f"{written('reminder', reminder, 'reminder rows')}, "
        f"{written('notification', notice, 'notices')}, commits {commit:.2f} s, "
        f"enqueueing {enqueue:.2f} s, the rest — the other statements (the active "
        f"recipients' SELECT, and BEGIN on SQLite: {n.get('other', 0):,}, "
        f"{t.get('execute other', 0.0):.2f} s in the driver's execute), building the rows "
        f"and the fan-out's lists — {rest:.2f} s); "
        f"total {t['total']:.2f} s"
    )


def seconds_list(values: list[float]) -> str:
    return ", ".join(f"{v:.2f} s" for v in values)


def measurement(label: str, r: dict[str, Any]) -> Measurement:
    small, full = r["count_small"], r["count_full"]
    open_october = r["month_obligations"] - r["published"]
    return Measurement(
        title=f"The daily reminder scan, 1,000,000 obligations a month, {label}",
        what=(
            "`gongkai.notify.reminders.scan(day)` on Monday 9 November 2026, the working day "
            f"before October's deadline, for a company of {r['units']:,} units (departments "
            f"and teams) × {r['entries']} monthly catalog entries: the obligation source reads "
            "the units, what they published, their drafts and their drafters chunk by chunk; "
            "the engine works out each deadline's stage, looks up what was already sent and, "
            "per batch, writes the reminder rows and the in-app notices in one transaction and "
            "enqueues the e-mail and robot fan-out (the queue not immediate: enqueued, not "
            "run). Each run on a fresh copy: reminders and notices emptied, queue flushed."
        ),
        samples=r["scan"],
        baseline=(
            f"one SELECT of the month's {r['month_obligations']:,} obligations (unit × entry, "
            "with codes and name) into Python tuples: looking at each obligation once"
        ),
        baseline_samples=r["baseline"],
        target_seconds=TARGET_SECONDS,
        notes={
            "data": (
                f"{r['units']:,} units ({r['departments']} departments, "
                f"{r['units'] - r['departments']:,} teams), {r['users']:,} users "
                f"({r['roles']}); October: {r['published']:,} obligations published "
                f"({r['published'] / r['month_obligations']:.0%}), {r['in_progress']:,} with a "
                f"draft or in review; {r['load_seconds']:.0f} s to build"
            ),
            "the scan's work": (
                f"{full['obligations']:,} open obligations yielded by the source: October's "
                f"{open_october:,} and November's {r['month_obligations']:,} (begun, due 10 "
                "December: inside the window, which reaches as far as the longest lead a "
                "catalog entry may set, 30 working days, though none has reached a stage); "
                f"{r['planned']:,} reminders written ({r['stages']}), {r['notices']:,} in-app "
                f"notices, {r['enqueued']:,} fan-out tasks enqueued"
            ),
            "each run (reminders / notices written)": ", ".join(r["written"]),
            "the same day again (the hourly run after the first: nothing left to send)": (
                f"{seconds_list(r['again'])}"
            ),
            "the first scan of the process, tables never analysed (warm-up)": (
                f"{r['first']:.2f} s; then ANALYZE of the reminder and notice tables, as "
                "autovacuum does on a live server"
            ),
            "where the time goes (a counted run, 20,000 units)": phases(full),
            "the writes alone (the same rows through `gongkai.core.bulk.insert` as `deliver` "
            "calls it — one call per table per delivered batch, the counted scan's calls and "
            "sizes — in one transaction, the rows read back as tuples beforehand)": (
                f"{r['write_floor']:.2f} s"
            ),
            "queries at 5,000 units (250,000 obligations a month)": queries(small),
            "queries at 20,000 units (1,000,000 obligations a month)": queries(full),
            "batches": f"{r['batch_size']:,} deadlines per source batch",
            "queue": r["queue"],
            "peak memory of the child (max RSS)": f"{r['max_rss_mb']:.0f} MB",
        },
    )


# --- The child (Django set up) -------------------------------------------------------------------

STARTED = time.monotonic()


def progress(message: str) -> None:
    elapsed = time.monotonic() - STARTED
    where = "SQLite" if os.environ.get("DATABASE_URL", "").startswith("sqlite") else "PostgreSQL"
    print(f"  [{where} {elapsed:5.0f} s] {message}", file=sys.stderr, flush=True)


def reset() -> None:
    """A fresh copy for the next scan: no reminder sent, no notice, an empty queue."""
    from django.db import connection

    from gongkai.core.queue import HUEY

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE notify_reminder, core_notification")
        else:
            cursor.execute("DELETE FROM notify_reminder")
            cursor.execute("DELETE FROM core_notification")
    HUEY.flush()
    gc.collect()


class Probe:
    """Counts a scan's queries by phase and per batch, and times its phases, by wrapping the
    engine's ``plan_batch`` (the stage of each deadline and the look-up of what was sent),
    ``deliver`` and, inside delivery, its two calls of ``insert`` (``gongkai.core.bulk``,
    the module global of ``gongkai.notify.reminders`` that ``deliver`` calls: the reminder
    rows, then the notices), the commits and the fan-out task's enqueueing; everything else
    is the source's. Inside delivery it also times each statement in the database driver's
    ``execute`` (the cursor wrapper), by the part of delivery it belongs to, and counts the
    statements of each part. On PostgreSQL ``insert`` writes with the driver's ``COPY``,
    past the cursor wrapper: the probe counts it itself, one statement per call with rows
    (its time is in the call's, not in the driver's ``execute``)."""

    def __init__(self, vendor: str) -> None:
        self.vendor = vendor
        self.phase = "source"
        self.part = "other"  # the part of delivery running: "reminder", "notification"
        self.queries: Counter[str] = Counter()
        self.statements: Counter[str] = Counter()  # delivery's statements, by part
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.source_batches = self.delivered = self.obligations = self.chunks = 0
        self.marks: list[int] = []  # the query count when each batch was handed over
        self.inserted: defaultdict[str, list[int]] = defaultdict(list)  # rows of each call

    @property
    def total(self) -> int:
        return sum(self.queries.values())

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.queries[self.phase] += 1
        if self.phase != "deliver":
            return execute(sql, params, many, context)
        self.statements[self.part] += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds[f"execute {self.part}"] += time.perf_counter() - started

    def inserting(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``insert`` timed by the model it writes ("insert reminder", "insert
        notification"), its statements counted as that part of delivery (the COPY on
        PostgreSQL by the probe itself), and the rows of each call kept."""

        def wrapper(model: Any, fields: Any, rows: Any) -> Any:
            name = str(model._meta.model_name)
            self.inserted[name].append(len(rows))
            if self.vendor == "postgresql" and rows:  # the COPY, unseen by execute_wrapper
                self.queries[self.phase] += 1
                self.statements[name] += 1
            before, self.part = self.part, name
            started = time.perf_counter()
            try:
                return fn(model, fields, rows)
            finally:
                self.seconds[f"insert {name}"] += time.perf_counter() - started
                self.part = before

        return wrapper

    def phased(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            before, self.phase = self.phase, name
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started
                self.phase = before

        return wrapper

    def timed(self, name: Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name(*args)] += time.perf_counter() - started

        return wrapper

    def per_batch(self) -> dict[int, int]:
        """How many batches cost how many queries, from one batch's hand-over to the next
        (its look-up and delivery, and the source's reading of the next chunk when due)."""
        marks = [*self.marks, self.total]
        return dict(sorted(Counter(b - a for a, b in itertools.pairwise(marks)).items()))


def counted_scan() -> dict[str, Any]:
    """One scan with its queries counted by phase and per batch, and its phases timed."""
    from django.db import connection

    from gongkai.disclosure import deadlines
    from gongkai.notify import reminders

    probe = Probe(connection.vendor)
    saved = {
        (reminders, "plan_batch"): reminders.plan_batch,
        (reminders, "deliver"): reminders.deliver,
        (reminders, "insert"): reminders.insert,
        (reminders, "fan_out_reminders"): reminders.fan_out_reminders,
        (deadlines, "chunk_deadlines"): deadlines.chunk_deadlines,
    }
    # And the database connection's commit, timed only while a batch is being delivered.
    commit = getattr(connection, "_commit")  # noqa: B009 - private, untyped

    def committing() -> Any:
        if probe.phase != "deliver":
            return commit()
        started = time.perf_counter()
        try:
            return commit()
        finally:
            probe.seconds["commit"] += time.perf_counter() - started

    def planning(batch: list[Any], cal: Any, today: date, **kwargs: Any) -> Any:
        probe.marks.append(probe.total)
        probe.source_batches += 1
        probe.obligations += len(batch)
        return saved[reminders, "plan_batch"](batch, cal, today, **kwargs)

    def delivering(planned: list[Any], *, today: date) -> int:
        probe.delivered += 1
        return int(saved[reminders, "deliver"](planned, today=today))

    def chunk(*args: Any) -> Any:
        probe.chunks += 1
        return saved[deadlines, "chunk_deadlines"](*args)

    reminders.plan_batch = probe.phased("plan", planning)
    reminders.deliver = probe.phased("deliver", delivering)
    reminders.insert = probe.inserting(reminders.insert)
    reminders.fan_out_reminders = probe.timed(lambda *_a: "enqueue", reminders.fan_out_reminders)
    deadlines.chunk_deadlines = chunk  # type: ignore[assignment]
    setattr(connection, "_commit", committing)  # noqa: B010 - private, untyped
    try:
        with connection.execute_wrapper(probe):
            started = time.perf_counter()
            notices = reminders.scan(DAY)
            total = time.perf_counter() - started
    finally:
        for (module, name), value in saved.items():
            setattr(module, name, value)
        delattr(connection, "_commit")  # the class's method again
    return {
        "notices": notices,
        "queries": probe.total,
        "by_phase": dict(probe.queries),
        "per_batch": probe.per_batch(),
        "source_batches": probe.source_batches,
        "delivered_batches": probe.delivered,
        "obligations": probe.obligations,
        "chunks": probe.chunks,
        "seconds": dict(probe.seconds) | {"total": total},
        "statements": dict(probe.statements),
        "vendor": probe.vendor,
        "inserted": dict(probe.inserted),
    }


def analyze() -> None:
    """Statistics for the reminder and notice tables, as autovacuum keeps them on a live
    server (this one may run without it): without them PostgreSQL plans the look-up of what
    was sent as a walk over every reminder of the kind."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE notify_reminder, core_notification")
        else:
            cursor.execute("ANALYZE notify_reminder")
            cursor.execute("ANALYZE core_notification")


def write_floor(calls: dict[str, list[int]]) -> float:
    """The writes alone: the rows the last scan wrote, read back as tuples of the fields
    ``deliver`` gives (not timed), the tables emptied, and written again with
    ``gongkai.core.bulk.insert`` as ``deliver`` calls it — the same calls, in the same order
    and of the same sizes as in the counted scan (``calls``: the rows of each call, by
    model; one call per table per delivered batch) — in one transaction: what ``deliver``'s
    writes cost for these rows without the scan around them."""
    from django.db import transaction

    from gongkai.core.bulk import insert
    from gongkai.notify.models import Notification, Reminder

    reminder_fields = ["kind", "key", "stage", "due_on", "unit", "sent_on", "recipients"]
    notice_fields = ["user", "message", "url", "created_at"]
    sent = list(
        Reminder.objects.order_by("pk").values_list(
            "kind", "key", "stage", "due_on", "unit_id", "sent_on", "recipients"
        )
    )
    notes = list(
        Notification.objects.order_by("pk").values_list("user_id", "message", "url", "created_at")
    )
    sizes = calls.get("reminder", []), calls.get("notification", [])
    assert (sum(sizes[0]), sum(sizes[1])) == (len(sent), len(notes)), "not the counted rows"
    assert len(sizes[0]) == len(sizes[1])  # deliver calls insert once per table per batch
    reset()
    started = time.perf_counter()
    with transaction.atomic():
        r = n = 0
        for reminders_rows, notice_rows in zip(*sizes, strict=True):
            insert(Reminder, reminder_fields, sent[r : r + reminders_rows])
            insert(Notification, notice_fields, notes[n : n + notice_rows])
            r, n = r + reminders_rows, n + notice_rows
    elapsed = time.perf_counter() - started
    assert Reminder.objects.count() == len(sent) and Notification.objects.count() == len(notes)
    return elapsed


def select_obligations() -> int:
    """The baseline: the month's obligations, one row each, fetched into Python."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.id, u.code, u.name, e.id, e.code FROM org_orgunit u "
            "CROSS JOIN disclosure_catalogentry e "
            "WHERE u.is_active AND u.kind IN ('department', 'team') AND e.is_active"
        )
        return len(cursor.fetchall())


def measure() -> dict[str, Any]:
    import resource

    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Count

    from bench import reminders_data as data
    from gongkai.core.queue import HUEY
    from gongkai.disclosure import deadlines
    from gongkai.notify.models import Reminder
    from gongkai.notify.reminders import scan

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    progress("migrated; building the company")
    company = data.catalog_and_company()
    data.add_departments(company, SMALL)
    progress(f"{company.units:,} units built; counting the scan's queries")
    reset()
    small = counted_scan()
    progress(f"{small['queries']} queries, {small['notices']:,} notices")
    data.add_departments(company, FULL)
    load_seconds = time.perf_counter() - started
    progress(f"{company.units:,} units built in {load_seconds:.0f} s; first scan (warm-up)")
    reset()
    began = time.perf_counter()
    scan(DAY)
    first = time.perf_counter() - began
    analyze()
    progress(f"first scan {first:.2f} s; counting")
    reset()
    full = counted_scan()
    progress(f"{full['queries']} queries, {full['notices']:,} notices, {full['seconds']}")
    samples, again, written = [], [], []
    planned = notices = enqueued = 0
    for i in range(RUNS):
        reset()
        began = time.perf_counter()
        notices = scan(DAY)
        samples.append(time.perf_counter() - began)
        planned = Reminder.objects.count()
        enqueued = HUEY.pending_count()
        written.append(f"{planned:,} / {notices:,}")
        began = time.perf_counter()
        assert scan(DAY) == 0  # the hourly run later that day: everything already sent
        again.append(time.perf_counter() - began)
        progress(f"run {i + 1}: {samples[-1]:.2f} s ({planned:,} reminders, {notices:,} notices)")
        progress(f"        the same day again: {again[-1]:.2f} s")
    by_stage = Reminder.objects.values_list("stage").annotate(n=Count("pk")).order_by("stage")
    stages = ", ".join(f"{stage} {n:,}" for stage, n in by_stage)
    floor = write_floor(full.pop("inserted"))
    small.pop("inserted")
    progress(f"the writes alone: {floor:.2f} s")
    month_obligations = company.units * len(company.entries)
    assert select_obligations() == month_obligations
    baseline = []
    for _ in range(BASELINE_RUNS):
        began = time.perf_counter()
        select_obligations()
        baseline.append(time.perf_counter() - began)
    reset()
    return {
        "units": company.units,
        "departments": company.departments,
        "entries": len(company.entries),
        "users": company.users,
        "roles": ", ".join(f"{n:,} {role}" for role, n in sorted(company.roles.items())),
        "published": company.published,
        "in_progress": company.in_progress,
        "month_obligations": month_obligations,
        "load_seconds": load_seconds,
        "count_small": small,
        "count_full": full,
        "first": first,
        "scan": samples,
        "again": again,
        "write_floor": floor,
        "baseline": baseline,
        "planned": planned,
        "notices": notices,
        "enqueued": enqueued,
        "stages": stages,
        "written": written,
        "queue": (
            f"{type(HUEY).__name__} ({type(HUEY.storage).__name__}), immediate: "
            f"{HUEY.immediate}; the scan enqueues one fan-out task per written batch, not run"
        ),
        "batch_size": deadlines.BATCH,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


if __name__ == "__main__":
    child_main("bench_reminders", measure)
