"""A group company (集团) at full size on PostgreSQL: 20 companies, 100,000 employees, a year
of disclosures, suggestions, a congress and a year-end evaluation per company, loaded by
``manage.py seed_scale`` (gongkai.demo.scale). Times, through Django's test client with
every middleware (bench settings ``bench.board_site``):

1. the board of a company and of one of its teams, as an employee of that team;
2. the home page, for that employee and for the group union's chair (union office on the
   whole group);
3. search, as the group union's chair, for a common word and for a rare phrase;
4. the compliance dashboard for the whole group over the year, as the group union's chair;
5. a company's year-end evaluation results page, as its union office;

each page warmed once, its queries counted, then timed ``RUNS`` rounds in a shuffled order
(``harness.time_pages``) against the bare one-query view in the same rounds. PostgreSQL only
(the size the group runs at); the seed's time and rate are reported too.

By default a scratch database ``gongkai_bench_group`` is created, seeded, measured and
dropped (the seed takes about 10 minutes on two cores). ``BENCH_GROUP_DATABASE=<url>``
measures an already seeded database instead (left as it is);
``BENCH_GROUP_COMPANIES`` / ``BENCH_GROUP_EMPLOYEES`` change the size of a fresh seed.
Writes bench/results/group.json besides the report's part.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import Measurement, harness

PG_DATABASE = "gongkai_bench_group"
COMPANIES = int(os.environ.get("BENCH_GROUP_COMPANIES", "20"))
EMPLOYEES = int(os.environ.get("BENCH_GROUP_EMPLOYEES", "100000"))
RUNS = 15
TARGET_PAGE = 0.5  # seconds
RESULTS = harness.ROOT / "bench" / "results" / "group.json"
COMMON_WORD = "公开"
PAGES = [
    ("company_board", "a company's board", "as an employee of one of its teams"),
    ("team_board", "a team's board", "as an employee of the team"),
    ("home_employee", "home page, employee", "an employee of a team"),
    ("home_chair", "home page, group union chair", "union office on the whole group"),
    ("search_common", f"search, common word “{COMMON_WORD}”", "as the group union's chair"),
    ("search_rare", "search, rare phrase", "as the group union's chair"),
    ("compliance", "compliance dashboard, whole group", "the year, as the group union's chair"),
    ("evaluation", "year-end evaluation results", "a company's, as its union office"),
]


def log(message: str) -> None:
    print(f"  [group] {message}", file=sys.stderr, flush=True)


# --- The parent ---------------------------------------------------------------------------------


def run() -> list[Measurement]:
    given = os.environ.get("BENCH_GROUP_DATABASE", "")
    workdir = Path(tempfile.mkdtemp(prefix="gongkai-bench-group-"))
    url = given or f"{harness.PG_SERVER}/{PG_DATABASE}"
    env = harness.environment(url, workdir, STATIC_ROOT=str(workdir / "static"))
    seeded: dict[str, Any] = {}
    if not given:
        if not harness.pg_fresh(url):
            return []
        seeded = harness.child_json("bench_group", env, "seed", progress=True)
    try:
        result = harness.child_json("bench_group", env, "measure", progress=True)
    finally:
        if not given:
            harness.pg_drop(url)
    result["seed"] = seeded
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary(result), indent=2, ensure_ascii=False) + "\n")
    return measurements(result)


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """What group.json keeps: per page its URL, query count, median/min/max seconds, and
    the baseline's, the data's size and the seed's time."""
    pages = {}
    for key, _title, _what in [*PAGES, ("bare", "", "")]:
        samples = result[key]
        pages[key] = {
            "url": result[f"{key}_url"],
            "queries": result[f"{key}_queries"],
            "median": statistics.median(samples),
            "min": min(samples),
            "max": max(samples),
            "runs": len(samples),
        }
    return {"database": "PostgreSQL", "data": result["data"], "seed": result["seed"]} | {
        "pages": pages
    }


def measurements(result: dict[str, Any]) -> list[Measurement]:
    data = result["data"]
    notes = {
        "Data": (
            f"{data['companies']} companies, {data['units']:,} units, {data['employees']:,} "
            f"employees, {data['disclosures']:,} published disclosures, "
            f"{data['suggestions']:,} suggestions, {data['ballots']:,} evaluation ballots"
        ),
    }
    seed = result.get("seed") or {}
    if seed:
        rate = seed["published"] / seed["seconds"]
        notes["Seed"] = (
            f"{seed['seconds']:.0f} s for the whole group ({rate:.0f} disclosures/s), "
            "machine shared with other work"
        )
    found = []
    for key, title, what in PAGES:
        found.append(
            harness.child_measurement(
                f"Group: {title} (PostgreSQL)",
                f"GET {result[key + '_url']}: {what}; test client, all middleware, warmed once.",
                result,
                key,
                notes,
                target=TARGET_PAGE,
            )
        )
    return found


# --- The children -------------------------------------------------------------------------------


def seed() -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from gongkai.demo.scale import ScaleSpec, seed_group

    harness.migrated()
    started = time.perf_counter()
    totals = seed_group(ScaleSpec(companies=COMPANIES, employees=EMPLOYEES), log=log)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    call_command("verify_ledger", verbosity=0)
    return totals | {"seconds": time.perf_counter() - started}


def measure() -> dict[str, Any]:
    import random

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from gongkai.accounts.models import User
    from gongkai.ballots.models import Poll, PollKind, SealedBallot
    from gongkai.demo.scale import GROUP_CODE, GROUP_UNION
    from gongkai.demo.scale_disclosure import RARE_PHRASE
    from gongkai.disclosure.models import Disclosure
    from gongkai.org.models import OrgUnit, Role, RoleAssignment, UnitKind
    from gongkai.voice.models import Suggestion

    call_command("collectstatic", interactive=False, verbosity=0)
    company = OrgUnit.objects.filter(parent__code=GROUP_CODE).order_by("code").first()
    assert company is not None, "the database holds no group: run manage.py seed_scale"
    team = OrgUnit.objects.filter(path__startswith=company.path, kind=UnitKind.TEAM).order_by(
        "path"
    )[0]
    employee = User.objects.filter(unit=team).order_by("employee_no").last()
    union = RoleAssignment.objects.get(unit=company, role=Role.UNION_OFFICE).user
    poll = Poll.objects.get(company=company, kind=PollKind.EVALUATION)

    def client_for(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    worker, chair = client_for(employee), client_for(User.objects.get(employee_no=GROUP_UNION))
    urls = {
        "company_board": (worker, f"/boards/{company.code}/"),
        "team_board": (worker, f"/boards/{team.code}/"),
        "home_employee": (worker, "/"),
        "home_chair": (chair, "/"),
        "search_common": (chair, f"/search/?q={COMMON_WORD}"),
        "search_rare": (chair, f"/search/?q={RARE_PHRASE}"),
        "compliance": (chair, f"/supervision/compliance/?unit={GROUP_CODE}"),
        "evaluation": (client_for(union), f"/congress/votes/{poll.pk}/results/"),
        "bare": (worker, "/bench/bare/"),
    }
    out = harness.time_pages(urls, RUNS, random.Random(20261207))
    out["data"] = {
        "companies": OrgUnit.objects.filter(parent__code=GROUP_CODE).count(),
        "units": OrgUnit.objects.count(),
        "employees": User.objects.count(),
        "disclosures": Disclosure.objects.filter(published_revision__isnull=False).count(),
        "suggestions": Suggestion.objects.count(),
        "ballots": SealedBallot.objects.count(),
    }
    return out


def main() -> None:
    commands = {"seed": seed, "measure": measure}
    if sys.argv[1:2] not in ([name] for name in commands) or len(sys.argv) != 2:
        raise SystemExit(
            "usage: python -m bench.bench_group seed|measure  (or: python -m bench.run)"
        )
    print(json.dumps(commands[sys.argv[1]]()))


if __name__ == "__main__":
    main()
