"""Chinese search at scale: 1,000,000 published disclosures of synthetic Chinese text.

Three child processes, each a Django process on one database: ``setup`` migrates the scratch
PostgreSQL database ``gongkai_bench_search`` (dropped and re-created) and creates the org;
``load`` migrates a SQLite file in a temporary folder, creates the same org (same ids),
generates the disclosures once, tokenizes each once with the app's own tokenizer and writes
the disclosures, revisions and search documents to both databases in bulk (executemany into
SQLite with its FTS5 rows, COPY into PostgreSQL with the tsvectors: the index built in bulk,
not through the workflow), then times SQLite; ``measure`` builds the GIN index and times
PostgreSQL. What is timed is ``search_disclosures`` — the code behind ``/search/`` — for an
ordinary employee; the baseline is a plain ``LIKE '%q%'`` first page on the same table.
Each child prints one JSON line; this module turns them into measurements.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import Measurement
from bench.harness import ENGINES, child_json, environment, pg_fresh, timed
from bench.search_data import (
    PHRASE,
    ROWS,
    Org,
    bulk_load,
    database_size,
    existing_org,
    log,
    make_org,
    postgres_index,
)

POSTGRES_URL = os.environ.get(
    "BENCH_SEARCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/gongkai_bench_search"
)
RUNS = 7
BASELINE_RUNS = 3
TARGET_SECONDS = 0.1
QUERIES = [
    ("two", "招标", "a two-character word (招标)"),
    ("one", "费", "a one-character word (费)"),
    ("phrase", PHRASE, f"an 11-character phrase ({PHRASE})"),
    ("rare", "玉璧", "a rare two-character word (玉璧, 25 disclosures)"),
    ("none", "鲲鹏", "a word found nowhere (鲲鹏)"),
]


# --- The parent: one child per engine ------------------------------------------------------


def run() -> list[Measurement]:
    workdir = Path(tempfile.mkdtemp(prefix="gongkai-bench-search-"))
    sqlite = f"sqlite:///{workdir / 'search.sqlite3'}"
    try:
        postgres = pg_fresh(POSTGRES_URL)
        if postgres:
            child("setup", POSTGRES_URL, workdir)
        results = [child("load", sqlite, workdir, POSTGRES_URL if postgres else "")]
        if postgres:
            measured = child("measure", POSTGRES_URL, workdir)
            measured["build"] = results[0]["pg"] | measured["build"]
            results.append(measured | {"avg_chars": results[0]["avg_chars"]})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return [m for result in results for m in measurements(result)]


def child(step: str, url: str, workdir: Path, *args: str) -> dict[str, Any]:
    env = environment(url, workdir, "config.settings.local")
    return child_json("bench_search", env, step, *args, progress=True)  # progress on the terminal


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def measurements(result: dict[str, Any]) -> list[Measurement]:
    engine = ENGINES[result["vendor"]]
    build = result["build"]
    common = {
        "Data": f"{result['rows']:,} published disclosures, about {result['avg_chars']} "
        "characters each (title and text), in the 73 units of a company (12 departments × 5 "
        "teams) and one of a small company; 15 % public; bodies drawn from 50,000 synthetic "
        "sentences of domain words and common characters",
        "Reader": "an employee of a team, who reads the public items and the internal ones of "
        f"the team, its department and the company: {result['visible']:.0%} of all",
        "Bulk load": f"generating and tokenizing {build['generate_seconds']:.0f} s (once for "
        f"both engines), writing {build['load_seconds']:.0f} s, building the index "
        f"{build['index_seconds']:.0f} s; {build['size']}",
    }
    found = []
    for key, _query, label in QUERIES:
        q = result["queries"][key]
        notes = {
            "Target": f"median under {ms(TARGET_SECONDS)} — "
            f"{'met' if statistics.median(q['samples']) < TARGET_SECONDS else 'NOT met'}",
            "First page": f"{q['results']} results{', more follow' if q['has_next'] else ''}; "
            f"the same ids as the LIKE baseline: {'yes' if q['same_as_like'] else 'NO'}",
            "Plan": q["plan"],
        }
        if key == "two":
            notes |= common | {
                "Other figures (median)": (
                    f"page 10 of 费: {ms(result['extra']['page10'])}; 费 for an employee of the "
                    "small company (its items and the public ones: "
                    f"{result['outsider_visible']:.0%}): {ms(result['extra']['outsider'])}; "
                    f"the whole page GET /search/?q=招标 (session, template): "
                    f"{ms(result['extra']['page_get'])}"
                ),
            }
        found.append(
            Measurement(
                title=f"Search on {engine}, {result['rows']:,} disclosures: {label}, first page",
                what=(
                    "`search_disclosures(employee, q)`: the matching, the visibility filter, "
                    "the 20 newest results with unit and entry, titles and snippets marked. "
                    f"Median of {RUNS} runs after one warm-up."
                ),
                samples=q["samples"],
                baseline=(
                    "the same first page by `LIKE '%q%'` on the indexed text (same filter, "
                    "newest first: a scan that stops after 21 rows)"
                ),
                baseline_samples=q["baseline"],
                notes=notes,
            )
        )
    return found


# --- The child: build and measure on one database -------------------------------------------


def main(step: str, *args: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    result: dict[str, Any] = {"vendor": connection.vendor, "rows": ROWS}
    if step in ("setup", "load"):
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        org = make_org()
        log(f"migrated, org created in {time.perf_counter() - started:.0f} s")
    if step == "load":
        result |= bulk_load(org, postgres_url=args[0] if args else "")
        result |= measure(org)
    if step == "measure":
        org = existing_org()
        result["build"] = {"index_seconds": postgres_index(), "size": database_size()}
        result |= measure(org)
    print(json.dumps(result, ensure_ascii=False))


def measure(org: Org) -> dict[str, Any]:
    from django.db import connection
    from django.db.models import Q
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from gongkai.disclosure.permissions import readable_disclosures_q
    from gongkai.search.models import SearchDocument
    from gongkai.search.selectors import PER_PAGE, search_disclosures

    def like_page(user: Any, q: str) -> list[int]:
        rows = (
            SearchDocument.objects.filter(readable_disclosures_q(user, prefix="disclosure__"))
            .filter(
                Q(title__contains=q)
                | Q(body__contains=q)
                | Q(unit_name__contains=q)
                | Q(entry_name__contains=q)
            )
            .order_by("-pk")
            .values_list("disclosure_id", flat=True)
        )
        return list(rows[: PER_PAGE + 1])

    employee = org.employee
    queries = {}
    for key, q, _label in QUERIES:
        page = search_disclosures(employee, q)
        ids = [r.disclosure_id for r in page.results]
        with CaptureQueriesContext(connection) as captured:
            search_disclosures(employee, q)
        plan = describe_plan(captured.captured_queries, connection.vendor)
        samples = timed(lambda q=q: search_disclosures(employee, q), RUNS)
        baseline = timed(lambda q=q: like_page(employee, q), BASELINE_RUNS)
        queries[key] = {
            "samples": samples,
            "baseline": baseline,
            "results": len(ids),
            "has_next": page.has_next,
            "same_as_like": ids == like_page(employee, q)[:PER_PAGE],
            "plan": plan,
        }
        log(f"{q}: median {ms(statistics.median(samples))}, LIKE {ms(statistics.median(baseline))}")
    client = Client()
    client.force_login(employee)
    extra = {
        "page10": statistics.median(
            timed(lambda: search_disclosures(employee, "费", page=10), RUNS)
        ),
        "outsider": statistics.median(timed(lambda: search_disclosures(org.outsider, "费"), RUNS)),
        "page_get": statistics.median(timed(lambda: client.get("/search/", {"q": "招标"}), RUNS)),
    }
    total = SearchDocument.objects.count()
    return {
        "queries": queries,
        "extra": extra,
        "visible": SearchDocument.objects.filter(
            readable_disclosures_q(employee, prefix="disclosure__")
        ).count()
        / total,
        "outsider_visible": (
            SearchDocument.objects.filter(
                readable_disclosures_q(org.outsider, prefix="disclosure__")
            ).count()
            / total
        ),
    }


def describe_plan(queries: list[dict[str, Any]], vendor: str) -> str:
    from gongkai.search.backends import PROBE, RECENT

    if vendor == "sqlite":
        return "FTS5 match joined to the documents, rowids newest first (one query)"
    steps = sum("set_config" in q["sql"] for q in queries)
    if steps == 1:
        return f"primary key walked backwards: the page filled within the newest {RECENT:,} rows"
    if steps == 2:
        return (
            f"too few among the newest {RECENT:,} rows: the GIN index gave at most {PROBE:,} "
            "matches, sorted"
        )
    return f"the GIN index gave over {PROBE:,} matches, none recent: the walk went on"


if __name__ == "__main__":
    main(*sys.argv[1:])
