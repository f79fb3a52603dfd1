"""Suggestions (意见建议) at the scale of a large company: 20,000 suggestions over a year in
a company of 12 departments and 48 teams. Times, on SQLite and (when reachable)
PostgreSQL, through Django's test client with every middleware:

1. the suggestions list page (the first page of 20 of everything an employee may see, and
   one department's page), and one suggestion's page with its timeline;
2. ``gongkai.voice.selectors.handling_stats`` for all 61 units over the year (one aggregate
   query; what the supervision and assessment parts call);

against a baseline measured in the same run: a bare view doing a single query through the
same middleware (pages), and a plain ``COUNT(*)`` of the year's suggestions (statistics).

Everything Django runs in a child process with the bench-only settings (``bench.board_site``)
on a fresh database, so the benchmark never touches the developer's database.
"""

from __future__ import annotations

import statistics
import time

from bench import Measurement, harness

SUGGESTIONS = 20_000
DEPARTMENTS = 12
TEAMS = 4
RUNS = 40
PG_DATABASE = "gongkai_bench_voice"
TARGET_PAGE = 0.200  # seconds: a page a phone user waits for


def run() -> list[Measurement]:
    results = harness.on_each_database("bench_voice", PG_DATABASE)
    measurements: list[Measurement] = []
    for db, r in results.items():
        notes = {"database": db, "suggestions": f"{SUGGESTIONS:,}", "queries": str(r["queries"])}
        for key, title, what in (
            ("list", "list page", "the first page (20) of all suggestions an employee may see"),
            ("unit_list", "a department's list", "the first page of one department's suggestions"),
            ("detail", "a suggestion's page", "one suggestion with its timeline and step forms"),
        ):
            measurements.append(
                harness.child_measurement(
                    f"Suggestions: {title} ({db})",
                    f"GET {r[key + '_url']}: {what}, signed in as an employee with "
                    f"{SUGGESTIONS:,} suggestions in the database; test client, all middleware.",
                    r,
                    key,
                    notes,
                    target=TARGET_PAGE,
                )
            )
        measurements.append(
            harness.child_measurement(
                f"Suggestions: handling statistics for 61 units ({db})",
                "gongkai.voice.selectors.handling_stats for the company, 12 departments "
                f"and 48 teams over a year of {SUGGESTIONS:,} suggestions (one aggregate query, "
                "subtree roll-up in Python).",
                r,
                "stats",
                notes,
                baseline="COUNT(*) of the same year's suggestions",
                baseline_key="count",
            )
        )
    return measurements


# --- The child: prepare and measure -------------------------------------------------------------


def measure() -> dict[str, object]:
    import random
    from datetime import datetime, timedelta
    from datetime import time as dtime

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from gongkai.accounts.models import User
    from gongkai.core.satisfaction import Satisfaction
    from gongkai.org.models import Role, RoleAssignment, UnitKind
    from gongkai.voice.models import StepKind, Suggestion, SuggestionCategory, SuggestionStep
    from gongkai.voice.models import SuggestionStatus as S
    from gongkai.voice.selectors import handling_stats

    harness.migrated()
    rng = random.Random(20261124)
    units = harness.company_tree(DEPARTMENTS, TEAMS)
    company = units[0]
    teams = [u for u in units if u.kind == UnitKind.TEAM]
    people = User.objects.bulk_create(
        [
            User(employee_no=f"B{n:05d}", name=f"职工{n}", unit=rng.choice(teams))
            for n in range(2000)
        ]
    )
    head = User.objects.create(employee_no="HEAD", name="主任", unit=units[1])
    RoleAssignment.objects.create(user=head, role=Role.UNIT_HEAD, unit=units[1])
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    states = [S.SUBMITTED, S.ACCEPTED, S.DECLINED, S.ASSIGNED, S.ANSWERED, S.CLOSED, S.CLOSED]
    rows = []
    for n in range(SUGGESTIONS):
        day = today - timedelta(days=rng.randint(0, 364))
        at = datetime.combine(day, dtime(rng.randint(7, 20), 0), tzinfo=tz)
        status = rng.choice(states)
        unit = rng.choice(units)
        due = day + timedelta(days=10) if status in (S.ASSIGNED, S.ANSWERED, S.CLOSED) else None
        answered = (
            at + timedelta(days=rng.randint(3, 15)) if status in (S.ANSWERED, S.CLOSED) else None
        )
        rows.append(
            Suggestion(
                unit=unit,
                responsible_unit=unit if due else None,
                author=rng.choice(people),
                name_hidden=rng.random() < 0.2,
                category=rng.choice(SuggestionCategory.values),
                title=f"第{n}条意见建议：关于生产现场的改进",
                body="建议内容" * 20,
                status=status,
                submitted_at=at,
                due_on=due,
                answer="答复" * 10 if answered else "",
                answered_at=answered,
                rating=rng.choice(Satisfaction.values) if status == S.CLOSED else None,
                decline_reason="理由" if status == S.DECLINED else "",
            )
        )
    made = Suggestion.objects.bulk_create(rows, batch_size=2000)
    steps = [
        SuggestionStep(suggestion=s, kind=StepKind.SUBMIT, at=s.submitted_at, unit=s.unit)
        for s in made
    ]
    SuggestionStep.objects.bulk_create(steps, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    reader = people[0]
    client = Client()
    client.force_login(reader)
    detail = made[len(made) // 2]
    urls = {
        "list": (client, "/suggestions/"),
        "unit_list": (client, f"/suggestions/?unit={units[1].code}"),
        "detail": (client, f"/suggestions/{detail.pk}/"),
        "bare": (client, "/bench/bare/"),
    }
    out = harness.time_pages(urls, RUNS, rng)
    start, end = today - timedelta(days=364), today
    first = datetime.combine(start, dtime.min, tzinfo=tz)
    after = datetime.combine(end + timedelta(days=1), dtime.min, tzinfo=tz)
    stats, count = [], []
    with CaptureQueriesContext(connection) as queries:
        result = handling_stats(units, start, end)
    out["stats_queries"] = len(queries)
    assert result[company.pk].received == SUGGESTIONS
    for _ in range(RUNS):
        started = time.perf_counter()
        handling_stats(units, start, end)
        stats.append(time.perf_counter() - started)
        started = time.perf_counter()
        Suggestion.objects.filter(submitted_at__gte=first, submitted_at__lt=after).count()
        count.append(time.perf_counter() - started)
    out["stats"], out["count"] = stats, count
    out["queries"] = out["list_queries"]
    out["median_list"] = statistics.median(out["list"])
    return out


if __name__ == "__main__":
    harness.child_main("bench_voice", measure)
