"""Logs and metrics (gongkai.core.logs, gongkai.core.requestid, gongkai.ops): what an operator
reads, and what the anonymous reporter's pages never leave in either."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from gongkai.core import limits, logs
from gongkai.core.models import Job, JobStatus
from gongkai.core.queue import HUEY, task
from gongkai.notify.models import Delivery
from gongkai.reporting import tokens
from tests.conftest import Org
from tests.queue import empty_queue, run_scheduled, scheduled_count  # noqa: F401 - fixture

TOKEN = "metrics-token-for-tests-0123456789abcdef"
IP = "203.0.113.77"
UA = "DistinctiveAgent/9.9 (whistle)"
PROXY_ID = "proxy-7f3c9a1e5d2b4c6a"
HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(autouse=True)
def fresh_limits() -> Iterator[None]:
    cache.clear()
    limits.store().clear()
    yield
    cache.clear()
    limits.store().clear()


@pytest.fixture
def log_lines() -> Iterator[Any]:
    """Every line written meanwhile, as the production handler writes it (JSON, with the
    settings' filters), at DEBUG; ``log_lines()`` parses them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RequestContext())
    handler.addFilter(logs.RefusalsWithoutTraceback())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    def clear() -> None:
        stream.seek(0)
        stream.truncate(0)

    lines.raw = stream  # type: ignore[attr-defined]
    lines.clear = clear  # type: ignore[attr-defined]
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def access_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["logger"] == "gongkai.request"]


# --- Logs -----------------------------------------------------------------------------------


def test_the_handler_writes_json_or_plain_as_the_settings_say():
    console = settings.LOGGING["handlers"]["console"]
    assert console["formatter"] == settings.LOG_FORMAT == "plain"  # tests and development
    assert console["filters"][0] == "context"
    assert set(settings.LOGGING["formatters"]) == {"plain", "json"}
    assert settings.MIDDLEWARE[:2] == [
        "gongkai.core.requestid.RequestContextMiddleware",
        "gongkai.ops.metrics.RequestMetricsMiddleware",
    ]


def _production_log_format(**env: str) -> subprocess.CompletedProcess[str]:
    package = os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.test").rsplit(".", 1)[0]
    code = (
        f"from {package} import production as p; "
        "print(p.LOG_FORMAT, p.LOGGING['handlers']['console']['formatter'])"
    )
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("LOG_FORMAT", "METRICS_TOKEN")
    }
    environment.update(
        SECRET_KEY="x" * 60,
        DATABASE_URL="postgres://nobody@127.0.0.1:5432/none",
        REDIS_URL="redis://127.0.0.1:6379/0",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        check=False,
    )


def test_production_writes_json_unless_told_plain_and_refuses_other_formats():
    assert _production_log_format().stdout.split() == ["json", "json"]
    assert _production_log_format(LOG_FORMAT="plain").stdout.split() == ["plain", "plain"]
    refused = _production_log_format(LOG_FORMAT="xml")
    assert refused.returncode != 0 and "LOG_FORMAT" in refused.stderr
    short = _production_log_format(METRICS_TOKEN="short")
    assert short.returncode != 0 and "METRICS_TOKEN" in short.stderr


def test_a_signed_in_page_writes_one_access_line_with_its_request_id_and_user(
    org: Org, login, client: Client, log_lines
):
    user = org["union"]
    login(user)
    log_lines.clear()
    response = client.get(reverse("home") + "?q=工资调整", REMOTE_ADDR=IP)
    assert response.status_code == 200
    request_id = response["X-Request-ID"]
    assert HEX_ID.fullmatch(request_id)
    (line,) = access_lines(log_lines())
    assert line["message"] == "request finished"
    assert line["level"] == "INFO"
    assert line["request_id"] == request_id
    assert line["user_id"] == user.pk
    assert line["method"] == "GET"
    assert line["path"] == reverse("home")  # never the query string
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], int | float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    raw = log_lines.raw.getvalue()
    assert "工资调整" not in raw and "q=" not in raw and IP not in raw


def test_every_line_of_a_request_carries_its_id(org: Org, login, client: Client, log_lines):
    login(org["union"])
    log_lines.clear()
    response = client.get("/disclosures/99999999/")
    assert response.status_code == 404
    lines = log_lines()
    warning = next(line for line in lines if line["logger"] == "django.request")
    access = access_lines(lines)[0]
    assert warning["request_id"] == access["request_id"] == response["X-Request-ID"]
    assert warning["user_id"] == org["union"].pk
    assert (warning["status"], warning["path"], warning["method"]) == (404, access["path"], "GET")
    assert "exc" not in warning  # a refusal: one line, no traceback


def test_a_proxys_request_id_is_kept_and_a_malformed_one_replaced(db, client: Client, log_lines):
    kept = client.get(reverse("core:healthz"), HTTP_X_REQUEST_ID=PROXY_ID)
    assert kept["X-Request-ID"] == PROXY_ID
    for bad in ("short", "a" * 65, "has space in it", "new\nline-injected", "ünïcödé-1234"):
        replaced = client.get(reverse("core:healthz"), HTTP_X_REQUEST_ID=bad)
        assert HEX_ID.fullmatch(replaced["X-Request-ID"])
    lines = access_lines(log_lines())
    assert lines[0]["request_id"] == PROXY_ID
    assert all("user_id" not in line for line in lines)  # nobody signed in
    assert "injected" not in log_lines.raw.getvalue()


def test_the_access_line_never_looks_the_user_up(db, client: Client, django_assert_num_queries):
    """The health check reads no session and no user, and the log line does not make it."""
    with django_assert_num_queries(1):  # SELECT 1
        client.get(reverse("core:healthz"))


def test_errors_carry_their_traceback_as_text_and_plain_lines_the_same_fields():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord(
            "gongkai.x", logging.ERROR, __file__, 1, "failed %s", ("x",), sys.exc_info()
        )
    record.request_id = "abc"
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == "failed x" and line["level"] == "ERROR"
    assert "Traceback" in line["exc"] and "RuntimeError: boom" in line["exc"]
    assert line["request_id"] == "abc" and "user_id" not in line
    access = logging.LogRecord(
        "gongkai.request", logging.INFO, __file__, 1, "request finished", (), None
    )
    for name, value in {"method": "GET", "path": "/a/", "status": 200, "duration_ms": 3.5}.items():
        setattr(access, name, value)
    plain = logs.PlainFormatter().format(access)
    assert plain.endswith("request finished method=GET path=/a/ status=200 duration_ms=3.5")


# --- The anonymous reporter's pages ---------------------------------------------------------


def test_an_anonymous_report_leaves_nothing_identifying_in_the_log(org: Org, login, log_lines):
    """A signed-in employee sends a report through a proxy that sets its request id: the
    log has no access line of it, and no line written meanwhile names the user, the proxy's
    id (joinable with the proxy's log, which has the address), the address, the agent or the
    query string; the response does not echo the id."""
    employee = org["employee"]
    client = login(employee, Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=UA))
    log_lines.clear()  # the sign-in is an ordinary page
    identifying = {
        "HTTP_X_REQUEST_ID": PROXY_ID,
        "HTTP_X_FORWARDED_FOR": IP,
        "HTTP_X_REAL_IP": IP,
    }
    page = client.get(reverse("reporting:submit") + "?from=board-7", **identifying)
    sent = client.post(
        reverse("reporting:submit") + "?from=board-7",
        {
            "company": "rd",
            "subject": "食堂采购",
            "body": "单价高于市场价。",
            tokens.FIELD: tokens.issue(),
        },
        **identifying,
    )
    # Lines other code writes during such a request: a refused form (400) and a mistyped
    # address (404) each make Django write a warning.
    refused = client.post(
        reverse("reporting:submit"),
        {"company": "rd", "subject": "s", "body": "b", tokens.FIELD: "forged"},
        **identifying,
    )
    missing = client.get(reverse("reporting:submit") + "nowhere/?from=x", **identifying)
    receipt = client.post(reverse("reporting:receipt"), {"code": "AAAA-BBBB"}, **identifying)
    assert (page.status_code, sent.status_code, refused.status_code) == (200, 200, 400)
    assert (missing.status_code, receipt.status_code) == (404, 200)
    for response in (page, sent, refused, missing, receipt):
        assert "X-Request-ID" not in response
    lines = log_lines()
    assert len(lines) >= 2, "the warnings of the 400 and the 404 are there"
    assert not access_lines(lines)
    for line in lines:
        assert "request_id" not in line and "user_id" not in line
        assert "?" not in line.get("path", "")
    raw = log_lines.raw.getvalue()
    for needle in (PROXY_ID, IP, UA, "from=", "board-7", employee.employee_no, employee.name):
        assert needle not in raw
    # The inspectors' pages below /report/ are ordinary pages.
    inspector = login(org["discipline"], Client())
    inbox = inspector.get(reverse("reporting:inbox"), HTTP_X_REQUEST_ID=PROXY_ID)
    assert inbox["X-Request-ID"] == PROXY_ID
    assert access_lines(log_lines())[-1]["user_id"] == org["discipline"].pk


def test_a_server_error_on_a_reporters_page_is_logged_and_counted_without_ties(
    org: Org, login, log_lines, monkeypatch: pytest.MonkeyPatch, settings
):
    settings.METRICS_TOKEN = TOKEN
    before = scrape()
    monkeypatch.setattr(
        "gongkai.reporting.views.top_companies", lambda: (_ for _ in ()).throw(RuntimeError("x"))
    )
    client = login(org["employee"], Client(raise_request_exception=False))
    response = client.get(reverse("reporting:submit"), HTTP_X_REQUEST_ID=PROXY_ID)
    assert response.status_code == 500 and "X-Request-ID" not in response
    (error,) = [line for line in log_lines() if line["level"] == "ERROR"]
    assert "RuntimeError" in error["exc"] and error["status"] == 500
    assert "request_id" not in error and "user_id" not in error
    after = scrape()
    anonymous = {"view": "anonymous", "method": "any", "status": "5xx"}
    assert (
        value(after, "gongkai_http_requests_total", **anonymous)
        == (value(before, "gongkai_http_requests_total", **anonymous) or 0) + 1
    )


# --- Metrics: the endpoint ------------------------------------------------------------------


def scrape(client: Client | None = None) -> str:
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def value(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


def test_metrics_are_off_until_a_token_is_set(db, client: Client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_metrics_want_the_token(db, client: Client, settings):
    settings.METRICS_TOKEN = TOKEN
    for header in ("", "Bearer", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer wrong"):
        extra = {"HTTP_AUTHORIZATION": header} if header else {}
        response = client.get("/metrics", **extra)
        assert response.status_code == 401, header
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert b"gongkai_" not in response.content
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


def test_metrics_with_the_token_never_cached_no_cookie(db, settings):
    settings.METRICS_TOKEN = TOKEN
    client = Client(enforce_csrf_checks=True)
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies
    text = response.content.decode()
    for family in (
        "gongkai_queue_tasks",
        "gongkai_task_failures_total",
        "gongkai_task_retries_total",
        "gongkai_jobs",
        "gongkai_outbox_deliveries",
        "gongkai_ledger_entries",
        "gongkai_http_requests_total",
        "gongkai_http_request_duration_seconds",
    ):
        assert f"# TYPE {family.removesuffix('_total')}" in text, family
    assert value(text, "gongkai_metrics_source_up", source="queue") == 1


def test_metrics_from_allowed_networks_only(db, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "fd00::/8"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    assert Client(REMOTE_ADDR="10.2.3.4").get("/metrics", **auth).status_code == 200
    assert Client(REMOTE_ADDR="fd00::5").get("/metrics", **auth).status_code == 200
    assert Client(REMOTE_ADDR="192.0.2.1").get("/metrics", **auth).status_code == 404
    settings.CLIENT_ADDRESS_META = "HTTP_X_REAL_IP"  # behind the proxy: the address it sets
    behind = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="198.51.100.9")
    assert behind.get("/metrics", **auth).status_code == 404


# --- Metrics: what they say -----------------------------------------------------------------


def test_requests_are_counted_by_view_name_method_and_status_class(org: Org, login, settings):
    settings.METRICS_TOKEN = TOKEN
    client = login(org["union"], Client())
    labels = {"view": "core:healthz", "method": "GET", "status": "2xx"}
    before = value(scrape(), "gongkai_http_requests_total", **labels) or 0
    client.get(reverse("core:healthz"))
    client.get(reverse("core:healthz"))
    client.get("/disclosures/99999999/")  # a 404 of a named view
    client.get("/no/such/page/")
    text = scrape()
    assert value(text, "gongkai_http_requests_total", **labels) == before + 2
    assert (value(text, "gongkai_http_request_duration_seconds_count", **labels) or 0) >= before + 2
    assert value(text, "gongkai_http_requests_total", view="unmatched", status="4xx")
    assert "/disclosures/99999999/" not in text and "/no/such/page/" not in text
    # The reporter's pages are not counted, whatever they answered.
    anonymous = Client()
    anonymous.get(reverse("reporting:submit"))
    anonymous.post(reverse("reporting:receipt"), {"code": "AAAA"})
    after = scrape()
    assert "reporting:submit" not in after and "reporting:receipt" not in after
    assert "/report/" not in after


@task(retries=1, retry_delay=60)
def observability_always_fails(note: str) -> None:
    raise RuntimeError(note)


@task()
def observability_noop() -> None:
    return None


def test_queue_depth_and_task_failures_follow_the_queue(db, settings, empty_queue):  # noqa: F811
    settings.METRICS_TOKEN = TOKEN
    text = scrape()
    assert value(text, "gongkai_queue_tasks", state="pending") == 0
    assert value(text, "gongkai_queue_tasks", state="scheduled") == 0
    name = "tests.test_observability.observability_always_fails"
    assert value(text, "gongkai_task_failures_total", task=name) is None
    # A task waiting for a worker (the test queue runs enqueued tasks at once: put one in
    # its storage as a web process would), and one scheduled for later.
    HUEY.storage.enqueue(HUEY.serialize_task(observability_noop.s()))
    observability_noop.schedule(delay=3600)
    text = scrape()
    assert value(text, "gongkai_queue_tasks", state="pending") == 1
    assert value(text, "gongkai_queue_tasks", state="scheduled") == 1
    HUEY.flush()
    # A failing task: the first attempt is retried (counted as a retry, one more scheduled),
    # the second is the last (a failure).
    observability_always_fails("first")
    text = scrape()
    assert value(text, "gongkai_task_retries_total", task=name) == 1
    assert value(text, "gongkai_task_failures_total", task=name) is None
    assert value(text, "gongkai_queue_tasks", state="scheduled") == scheduled_count() == 1
    run_scheduled()
    text = scrape()
    assert value(text, "gongkai_task_retries_total", task=name) == 1
    assert value(text, "gongkai_task_failures_total", task=name) == 1
    assert value(text, "gongkai_queue_tasks", state="scheduled") == 0


def test_failed_jobs_and_waiting_deliveries_are_visible(org: Org, settings):
    settings.METRICS_TOKEN = TOKEN
    owner = org["union"]
    Job.objects.create(kind="roster_import", owner=owner, params_key="a", status=JobStatus.FAILED)
    Job.objects.create(
        kind="roster_import",
        owner=owner,
        params_key="b",
        status=JobStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    Delivery.objects.create(
        channel=Delivery.Channel.EMAIL, user=owner, batch="b1", subject="s", body="b"
    )
    Delivery.objects.create(
        channel=Delivery.Channel.EMAIL,
        user=owner,
        batch="b2",
        subject="s",
        body="b",
        status=Delivery.Status.FAILED,
    )
    text = scrape()
    assert value(text, "gongkai_jobs", kind="roster_import", status="failed") == 1
    assert value(text, "gongkai_jobs_stalled") == 1
    assert value(text, "gongkai_outbox_deliveries", channel="email", status="queued") == 1
    assert value(text, "gongkai_outbox_deliveries", channel="email", status="failed") == 1
    oldest = value(text, "gongkai_outbox_oldest_waiting_timestamp_seconds")
    assert oldest is not None and oldest > 0
    for source in ("queue", "task_failures", "jobs", "outbox", "ledger"):
        assert value(text, "gongkai_metrics_source_up", source=source) == 1


def test_a_source_that_fails_is_reported_and_the_others_still_answer(
    db, settings, monkeypatch: pytest.MonkeyPatch
):
    settings.METRICS_TOKEN = TOKEN

    def down() -> int:
        raise ConnectionError("redis down")

    monkeypatch.setattr(HUEY, "pending_count", down)
    text = scrape()
    assert value(text, "gongkai_metrics_source_up", source="queue") == 0
    assert value(text, "gongkai_metrics_source_up", source="outbox") == 1
    assert "# TYPE gongkai_jobs gauge" in text


def _queue_depth_with(queue: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[float | None, ...]:
    """Pending and scheduled as the metrics read them from ``queue`` (a real worker's
    storage, not the test queue), after one task was enqueued and one put in the schedule
    (what the worker does with a task due later: a retry, a delay)."""
    from gongkai.ops import metrics

    monkeypatch.setattr(metrics, "HUEY", queue)
    queue.flush()
    wait = queue.task()(lambda: None)
    wait()
    later = wait.s()
    later.eta = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)
    queue.add_schedule(later)
    text = scrape()
    queue.flush()
    return (
        value(text, "gongkai_queue_tasks", state="pending"),
        value(text, "gongkai_queue_tasks", state="scheduled"),
    )


def test_queue_depth_is_read_from_sqlite_and_redis_storage(
    db, settings, monkeypatch: pytest.MonkeyPatch, tmp_path
):
    from huey import RedisHuey, SqliteHuey

    settings.METRICS_TOKEN = TOKEN
    sqlite = SqliteHuey("gongkai-metrics-test", filename=str(tmp_path / "huey.sqlite3"))
    assert _queue_depth_with(sqlite, monkeypatch) == (1, 1)
    redis = RedisHuey("gongkai-metrics-test", url="redis://127.0.0.1:6379/15")
    try:
        redis.storage.conn.ping()
    except Exception as exc:
        pytest.skip(f"Redis is not reachable: {exc}")
    assert _queue_depth_with(redis, monkeypatch) == (1, 1)


MULTIPROCESS_WORKER = """
import django
django.setup()
from gongkai.ops import metrics
metrics.REQUESTS.labels("core:healthz", "GET", "2xx").inc({n})
metrics.DURATION.labels("core:healthz", "GET", "2xx").observe(0.02)
"""


def test_gunicorn_workers_are_added_up_in_multiprocess_mode(tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR, each worker process keeps its counts in a file there
    and the scrape, answered by any of them, adds them all up (also those that exited)."""
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for n in (2, 3):  # two worker processes, each gone when it is done
        subprocess.run(
            [sys.executable, "-c", MULTIPROCESS_WORKER.format(n=n)],
            env=environment,
            cwd=settings.BASE_DIR,
            check=True,
        )
    scrape_code = (  # two scrapes: the first folds the exited workers' files
        "import django; django.setup(); from gongkai.ops import metrics; import sys; "
        "metrics.exposition(); sys.stdout.write(metrics.exposition().decode())"
    )

    def scraped() -> str:
        return subprocess.run(
            [sys.executable, "-c", scrape_code],
            env=environment,
            cwd=settings.BASE_DIR,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    text = scraped()
    labels = {"view": "core:healthz", "method": "GET", "status": "2xx"}
    assert value(text, "gongkai_http_requests_total", **labels) == 5
    assert value(text, "gongkai_http_request_duration_seconds_count", **labels) == 2
    assert value(text, "gongkai_http_request_duration_seconds_bucket", le="0.025", **labels) == 2
    assert sorted(p.name for p in tmp_path.glob("*.db")) == [
        "counter_archive.db",
        "histogram_archive.db",
    ]
    # A later worker adds to what the folded ones counted.
    subprocess.run(
        [sys.executable, "-c", MULTIPROCESS_WORKER.format(n=4)],
        env=environment,
        cwd=settings.BASE_DIR,
        check=True,
    )
    assert value(scraped(), "gongkai_http_requests_total", **labels) == 9
