"""Anonymous reporting (举报): is a wrong receipt code indistinguishable by time from a forged
one, and are the pages fast with many reports? Through Django's test client with every
middleware, on SQLite and (when reachable) PostgreSQL, with 5,000 reports in the database:

1. POST /report/receipt/ with a well-formed code that matches no report, against the
   baseline of a forged code (malformed: wrong characters, wrong length, 5,000 characters),
   interleaved in random order in the same run. The claim is a ratio near 1.0: the two take
   the same path (hash, one indexed lookup, the same error page). A right code is timed too
   (it renders the report: slower, which only tells the reporter what they already know).
2. GET /report/inbox/ (the inspectors' list, first page of 25) and one report's page,
   against a bare view doing one query through the same middleware.
3. POST /report/ (a new report, no files) against GET /report/ (the empty form).

The rate limits are lifted in the child (they would stop a benchmark, as they should stop a
guesser). Everything runs in a child process with the bench-only settings
(``bench.board_site``) on a fresh database, never the developer's.
"""

from __future__ import annotations

import time

from bench import Measurement
from bench.harness import child_main, child_measurement, migrated, on_each_database

REPORTS = 5_000
RUNS = 40
CODE_RUNS = 200
PG_DATABASE = "gongkai_bench_reporting"
TARGET_PAGE = 0.200


def run() -> list[Measurement]:
    results = on_each_database("bench_reporting", PG_DATABASE)
    measurements: list[Measurement] = []
    for db, r in results.items():
        notes = {"database": db, "reports": f"{REPORTS:,}"}
        measurements.append(
            Measurement(
                title=f"Reporting: a wrong receipt code vs a forged one ({db})",
                what="POST /report/receipt/ with a well-formed code that matches no report "
                "(measured) and with forged codes (baseline: wrong alphabet, wrong length, "
                "5,000 characters), interleaved at random in one run. Both must take the same "
                "time: a ratio near 1.0.",
                samples=list(r["wrong"]),
                baseline="forged codes, same run",
                baseline_samples=list(r["forged"]),
                notes=notes
                | {
                    "right code (renders the report), median": f"{r['right_median'] * 1000:.1f} ms",
                    "queries, wrong / forged code": f"{r['wrong_queries']} / {r['forged_queries']}",
                },
            )
        )
        for key, title in (("inbox", "the inspectors' list"), ("detail", "a report's page")):
            measurements.append(
                child_measurement(
                    f"Reporting: {title} ({db})",
                    f"GET {r[key + '_url']} signed in as the discipline inspector, "
                    f"{REPORTS:,} reports in the database; test client, all middleware.",
                    r,
                    key,
                    notes,
                    target=TARGET_PAGE,
                )
            )
        measurements.append(
            Measurement(
                title=f"Reporting: sending a report ({db})",
                what="POST /report/ with a subject and 600 characters of text, no files, not "
                "signed in: validation, the receipt code and its HMAC, one transaction, the "
                "page with the code.",
                samples=list(r["submit"]),
                baseline="GET /report/ (the empty form)",
                baseline_samples=list(r["form"]),
                target_seconds=TARGET_PAGE,
                notes=notes,
            )
        )
    return measurements


# --- The child: prepare and measure -------------------------------------------------------------


def measure() -> dict[str, object]:
    import random
    import statistics
    from datetime import timedelta

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from gongkai.accounts.models import User
    from gongkai.org.models import Role, RoleAssignment, UnitKind
    from gongkai.org.services import unit_create
    from gongkai.reporting import receipts, tokens
    from gongkai.reporting.models import Report, ReportSource, ReportStatus

    migrated()
    for name in ("REPORTING_SUBMIT_PER_CLIENT", "REPORTING_SUBMIT_GLOBAL"):
        setattr(settings, name, 10**9)
    for name in ("REPORTING_RECEIPT_FAILURES_PER_CLIENT", "REPORTING_RECEIPT_FAILURES_GLOBAL"):
        setattr(settings, name, 10**9)
    rng = random.Random(20261124)
    company = unit_create(actor=None, code="bc", name="基准公司", kind=UnitKind.COMPANY)
    inspector = User.objects.create(employee_no="JW", name="纪委", unit=company)
    RoleAssignment.objects.create(user=inspector, role=Role.DISCIPLINE, unit=company)
    today = timezone.localdate()
    right_code = receipts.new_code()
    rows = []
    for n in range(REPORTS):
        day = today - timedelta(days=rng.randint(0, 364))
        rows.append(
            Report(
                company=company,
                source=rng.choice(ReportSource.values),
                subject=f"第{n}件举报",
                body="反映的问题" * 40,
                status=rng.choice(ReportStatus.values),
                received_on=day,
                updated_on=day,
                receipt_digest=receipts.digest(right_code if n == 0 else receipts.new_code()),
            )
        )
    Report.objects.bulk_create(rows, batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    target = Report.objects.get(receipt_digest=receipts.digest(right_code))

    anon = Client()
    inspector_client = Client()
    inspector_client.force_login(inspector)
    forged = ["' OR 1=1 --", "ÄÖÜ-举报", "x" * 5000, "ZZZZ", ""]
    out: dict[str, object] = {}

    def post_code(code: str) -> float:
        started = time.perf_counter()
        response = anon.post("/report/receipt/", {"code": code})
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        return elapsed

    for label, code in (("wrong", receipts.new_code()), ("forged", forged[0])):
        post_code(code)
        with CaptureQueriesContext(connection) as queries:
            post_code(code)
        out[f"{label}_queries"] = len(queries)
    samples: dict[str, list[float]] = {"wrong": [], "forged": [], "right": []}
    for i in range(CODE_RUNS):
        order = ["wrong", "forged", "right"]
        rng.shuffle(order)
        for kind in order:
            code = {
                "wrong": receipts.new_code(),
                "forged": forged[i % len(forged)],
                "right": right_code,
            }[kind]
            samples[kind].append(post_code(code))
    out["wrong"], out["forged"] = samples["wrong"], samples["forged"]
    out["right_median"] = statistics.median(samples["right"])

    pages = {
        "inbox": "/report/inbox/",
        "detail": f"/report/inbox/{target.pk}/",
        "bare": "/bench/bare/",
    }
    for key, url in pages.items():
        assert inspector_client.get(url).status_code == 200, url
        with CaptureQueriesContext(connection) as queries:
            inspector_client.get(url)
        out[f"{key}_url"] = url
        out[f"{key}_queries"] = len(queries)
    page_samples: dict[str, list[float]] = {key: [] for key in pages}
    page_samples |= {"submit": [], "form": []}
    body = {"company": "bc", "subject": "基准举报", "body": "反映的问题" * 120}
    for _ in range(RUNS):
        order = [*pages, "submit", "form"]
        rng.shuffle(order)
        for key in order:
            started = time.perf_counter()
            if key == "submit":  # each form carries its own one-time token
                response = anon.post("/report/", {**body, tokens.FIELD: tokens.issue()})
            elif key == "form":
                response = anon.get("/report/")
            else:
                response = inspector_client.get(pages[key])
            page_samples[key].append(time.perf_counter() - started)
            assert response.status_code == 200, (key, response.status_code)
    out |= page_samples
    return out


if __name__ == "__main__":
    child_main("bench_reporting", measure)
