"""The workers' congress at the scale of a hall: a term of 500 representatives (450 checked
in at today's session) and 2,000 motions (last year's session and this one's) in a company
of 12 departments and 48 teams. Times, on SQLite and (when reachable) PostgreSQL, through
Django's test client with every middleware:

1. the live quorum fragment every phone in the hall polls (every 10 s while the session is
   open: 500 phones → 50 requests a second), and the session page of a representative;
2. the public motion list, the committee's tracking table and its .xlsx export of all
   2,000 motions;
3. ``gongkai.congress.selectors.handling_stats`` for all 61 units over a year (one query;
   what the supervision and assessment parts call);

against a baseline measured in the same run: a bare view doing a single query through the
same middleware (pages), and a plain ``COUNT(*)`` of the motions (statistics).

Everything Django runs in a child process with the bench-only settings (``bench.board_site``)
on a fresh database, so the benchmark never touches the developer's database.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench import Measurement, harness

REPRESENTATIVES = 500
PRESENT = 450
MOTIONS = 2_000
DEPARTMENTS = 12
TEAMS = 4
RUNS = 30
PG_DATABASE = "gongkai_bench_congress"
TARGET_PAGE = 0.200  # seconds: a page a phone user waits for
TARGET_EXPORT = 5.0  # seconds: the committee's whole-year export


PAGES = (
    (
        "quorum",
        "live quorum fragment",
        "the present/total figure a representative's phone polls every 10 s",
        TARGET_PAGE,
    ),
    (
        "session",
        "a session's page",
        "agenda, documents, quorum, check-in state and the first 30 of its 1,000 motions",
        TARGET_PAGE,
    ),
    ("list", "motion list", "the first page (30) of the company's motions", TARGET_PAGE),
    (
        "tracking",
        "tracking table",
        "the committee's table, first page (50) of 2,000 motions, no filter",
        TARGET_PAGE,
    ),
    (
        "xlsx",
        "tracking export (.xlsx)",
        "all 2,000 motions with their handling as an .xlsx workbook",
        TARGET_EXPORT,
    ),
)


def run() -> list[Measurement]:
    results = harness.on_each_database("bench_congress", PG_DATABASE)
    measurements: list[Measurement] = []
    for db, r in results.items():
        notes = {
            "database": db,
            "representatives": f"{REPRESENTATIVES} ({PRESENT} present)",
            "motions": f"{MOTIONS:,}",
        }
        for key, title, what, target in PAGES:
            extra: dict[str, str] = {}
            if key == "quorum":
                per_second = 1 / statistics.median(r[key])
                extra["one worker serves"] = f"{per_second:.0f} polls/s (hall needs 50/s)"
            measurements.append(
                harness.child_measurement(
                    f"Congress: {title} ({db})",
                    f"GET {r[key + '_url']}: {what}; test client, all middleware.",
                    r,
                    key,
                    notes,
                    target=target,
                    extra=extra,
                )
            )
        measurements.append(
            harness.child_measurement(
                f"Congress: motion handling statistics for 61 units ({db})",
                "gongkai.congress.selectors.handling_stats for the company, 12 departments "
                f"and 48 teams over a year of {MOTIONS:,} motions (one query, roll-up in "
                "Python).",
                r,
                "stats",
                notes,
                baseline="COUNT(*) of the same motions",
                baseline_key="count",
            )
        )
    return measurements


# --- The child: prepare and measure -------------------------------------------------------------


def build() -> dict[str, Any]:
    """A fresh database with the company, the term, two sessions and the motions."""
    import random
    from datetime import date, datetime, timedelta
    from datetime import time as dtime

    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from gongkai.accounts.models import User
    from gongkai.congress.models import (
        Attendance,
        Delegation,
        Motion,
        MotionSecond,
        MotionStatus,
        Representative,
        Session,
        SessionStatus,
        Term,
    )
    from gongkai.core.satisfaction import Satisfaction
    from gongkai.org.models import Role, RoleAssignment, UnitKind

    harness.migrated()
    rng = random.Random(20261124)
    units = harness.company_tree(DEPARTMENTS, TEAMS)
    company = units[0]
    teams = [u for u in units if u.kind == UnitKind.TEAM]
    depts = [u for u in units if u.kind == UnitKind.DEPARTMENT]
    people = User.objects.bulk_create(
        [
            User(employee_no=f"B{n:05d}", name=f"职工{n}", unit=rng.choice(teams))
            for n in range(3000)
        ]
    )
    union = User.objects.create(employee_no="UNION", name="工会", unit=company)
    RoleAssignment.objects.create(user=union, role=Role.UNION_OFFICE, unit=company)
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    term = Term.objects.create(
        company=company,
        number=1,
        starts_on=today - timedelta(days=700),
        ends_on=today + timedelta(days=700),
    )
    delegations = Delegation.objects.bulk_create(
        [Delegation(term=term, name=f"{d.name}代表团", unit=d) for d in depts]
    )
    reps_users = people[:REPRESENTATIVES]
    RoleAssignment.objects.bulk_create(
        [RoleAssignment(user=u, role=Role.REPRESENTATIVE, unit=company) for u in reps_users]
    )
    seats = Representative.objects.bulk_create(
        [
            Representative(
                term=term, user=u, delegation=rng.choice(delegations), elected_on=term.starts_on
            )
            for u in reps_users
        ]
    )
    last = Session.objects.create(
        term=term,
        number=1,
        title="一次会议",
        held_on=today - timedelta(days=300),
        status=SessionStatus.CLOSED,
        agenda="议程",
    )
    current = Session.objects.create(
        term=term,
        number=2,
        title="二次会议",
        held_on=today,
        motions_open_on=today - timedelta(days=20),
        motions_close_on=today,
        status=SessionStatus.OPEN,
        agenda="一、工作报告\n二、财务报告\n三、提案",
    )
    now = timezone.now()
    Attendance.objects.bulk_create(
        [Attendance(session=current, representative=s, checked_in_at=now) for s in seats[:PRESENT]]
    )
    states = [
        MotionStatus.SUBMITTED,
        MotionStatus.REGISTERED,
        MotionStatus.MERGED,
        MotionStatus.DECLINED,
        MotionStatus.ASSIGNED,
        MotionStatus.ANSWERED,
        MotionStatus.CLOSED,
        MotionStatus.CLOSED,
        MotionStatus.SENT_BACK,
    ]
    numbered = {
        MotionStatus.REGISTERED,
        MotionStatus.ASSIGNED,
        MotionStatus.ANSWERED,
        MotionStatus.CLOSED,
        MotionStatus.SENT_BACK,
    }
    rows = []
    numbers = {last.pk: 0, current.pk: 0}
    for n in range(MOTIONS):
        session = last if n % 2 else current
        status = rng.choice(states)
        day = session.held_on - timedelta(days=rng.randint(0, 20))
        registered = datetime.combine(min(day + timedelta(days=3), today), dtime(10), tzinfo=tz)
        assigned = status in numbered and status != MotionStatus.REGISTERED
        number = None
        if status in numbered:
            numbers[session.pk] += 1
            number = numbers[session.pk]
        due: date | None = registered.date() + timedelta(days=30) if assigned else None
        answered = (
            registered + timedelta(days=rng.randint(5, 45))
            if status in (MotionStatus.ANSWERED, MotionStatus.CLOSED, MotionStatus.SENT_BACK)
            else None
        )
        rows.append(
            Motion(
                session=session,
                proposer=rng.choice(reps_users),
                number=number,
                title=f"第{n}号提案：关于改善生产生活条件的建议",
                reasons="理由" * 40,
                measures="措施" * 40,
                status=status,
                submitted_at=registered - timedelta(days=1),
                registered_at=registered if number else None,
                lead_unit=rng.choice(units[1:]) if assigned else None,
                due_on=due,
                answered_at=answered,
                first_answered_at=answered,
                answer_measures="已落实" if answered else "",
                answer_result="完成" if answered else "",
                rating=rng.choice(Satisfaction.values)
                if status in (MotionStatus.CLOSED, MotionStatus.SENT_BACK)
                else None,
            )
        )
    made = Motion.objects.bulk_create(rows, batch_size=1000)
    MotionSecond.objects.bulk_create(
        [
            MotionSecond(motion=m, user=u)
            for m in made
            for u in rng.sample(reps_users, k=2)
            if u.pk != m.proposer_id
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "units": units,
        "company": company,
        "current": current,
        "rep": reps_users[0],
        "union": union,
        "today": today,
    }


def measure() -> dict[str, object]:
    import random
    from datetime import timedelta

    built = build()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from gongkai.congress.models import Motion
    from gongkai.congress.selectors import handling_stats

    rng = random.Random(20261125)
    units, company, current, today = (
        built["units"],
        built["company"],
        built["current"],
        built["today"],
    )
    rep = Client()
    rep.force_login(built["rep"])
    committee = Client()
    committee.force_login(built["union"])
    urls = {
        "quorum": (rep, f"/congress/sessions/{current.pk}/quorum/"),
        "session": (rep, f"/congress/sessions/{current.pk}/"),
        "list": (rep, "/congress/motions/"),
        "tracking": (committee, "/congress/tracking/"),
        "xlsx": (committee, "/congress/tracking.xlsx"),
        "bare": (rep, "/bench/bare/"),
    }
    # the export is long: a third as many runs
    out = harness.time_pages(urls, RUNS, rng, skip=lambda key, i: key == "xlsx" and bool(i % 3))
    start, end = today - timedelta(days=364), today
    stats, count = [], []
    with CaptureQueriesContext(connection) as queries:
        result = handling_stats(units, start, end, today=today)
    out["stats_queries"] = len(queries)
    assert result[company.pk].registered > 0
    for _ in range(RUNS):
        started = time.perf_counter()
        handling_stats(units, start, end, today=today)
        stats.append(time.perf_counter() - started)
        started = time.perf_counter()
        Motion.objects.filter(lead_unit__isnull=False).count()
        count.append(time.perf_counter() - started)
    out["stats"], out["count"] = stats, count
    out["median_quorum"] = statistics.median(out["quorum"])
    return out


if __name__ == "__main__":
    harness.child_main("bench_congress", measure)
