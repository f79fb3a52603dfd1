"""The metrics a monitor scrapes at ``/metrics`` (Prometheus text format, ``prometheus_client``).

Two kinds, kept where each is true:

**Requests, in the memory of the web process** (:class:`RequestMetricsMiddleware`): a count
and a latency histogram by view (the URL's name, e.g. ``disclosure:detail``, never the raw
path, whose ids would make a series per record), method and status class (``2xx``…). A page
does not wait for a network write to be counted. gunicorn runs several worker processes, and
a scrape reaches one of them: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory of the
host (emptied when the service starts) and prometheus_client's multiprocess mode keeps each
process's counts in a file there and adds them all up at the scrape; the files of workers
that have exited are folded into one at each scrape (:func:`compact`), so no gunicorn hook
is needed and the directory does not grow with every worker gunicorn replaces. Without it
(one process, ``runserver``) the process's own registry is read. Only counters and
histograms are kept this way (what an exited worker counted stays counted).

**The state of the installation, read at the scrape** (:class:`SiteCollector`) from the
stores every process and machine shares, so any web process answers for all of them and a
worker on another machine, or a restart, loses nothing:

- the task queue's depth, pending and scheduled (Huey's own storage: Redis or SQLite);
- failed task attempts, by task: ``gongkai.notify`` already records every failed attempt in
  the database from Huey's error signal in the worker (``TaskFailure``; ``final`` when no
  retry is left): counted from there, retries (attempts that will be tried again) apart
  from failures (given up); nothing is kept in a worker's memory, which another machine's
  web process could not read and a restart would lose;
- background jobs (``core.Job``) by kind and status, and those whose worker stopped
  reporting (kept ``JOBS_KEEP_DAYS`` days, so a gauge, not a counter);
- the outbox (``notify.Delivery``): deliveries waiting, being retried and failed, by channel,
  and the creation time of the oldest one still waiting;
- the ledger's length, and each transparency log's size and its last signed checkpoint (its
  size and time: ``time() - …`` is its age).

Each is a few queries on indexed columns or tiny tables (about eight in all). A source that
fails to answer (Redis down) sets ``gongkai_metrics_source_up{source=…}`` to 0 instead of
failing the whole scrape.

**What is never measured: the anonymous reporter's pages** (``settings.ANONYMOUS_PAGES``). A
counter of their requests, scraped every few seconds and kept for weeks, would date each
report, which the reporting design hides from everyone (docs/SECURITY.md); only their
server errors are counted, all together under ``view="anonymous"``, so that an operator
learns that reporting is broken.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from gongkai.core.jobs import stale_after
from gongkai.core.models import Job, JobStatus, LogCheckpoint, TransparencyLog
from gongkai.core.queue import HUEY
from gongkai.core.requestid import is_anonymous_page
from gongkai.ledger.models import LedgerHead
from gongkai.notify.models import Delivery, TaskFailure

logger = logging.getLogger(__name__)

# --- Requests (in the web process) ------------------------------------------------------------

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds: pages answer in tens of milliseconds; exports and documents run as jobs.
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
ANONYMOUS = "anonymous"

PROCESS = CollectorRegistry()  # this process's request metrics (without multiprocess mode)
REQUESTS = Counter(
    "gongkai_http_requests",
    "Requests answered, by view (URL name), method and status class.",
    ["view", "method", "status"],
    registry=PROCESS,
)
DURATION = Histogram(
    "gongkai_http_request_duration_seconds",
    "Time to answer a request (to its first byte), by view (URL name), method and status class.",
    ["view", "method", "status"],
    buckets=BUCKETS,
    registry=PROCESS,
)


def view_label(request: HttpRequest) -> str:
    """The URL's name (``namespace:name``); ``static`` for static files, ``unmatched`` for an
    address no URL matched. Never the path itself: a series per record would follow."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name:
        return str(match.view_name)
    if request.path_info.startswith(settings.STATIC_URL):
        return "static"
    return "unmatched"


def record_request(request: HttpRequest, status: int, seconds: float) -> None:
    status_class = f"{status // 100}xx"
    if is_anonymous_page(request.path_info):
        if status >= 500:
            REQUESTS.labels(ANONYMOUS, "any", status_class).inc()
        return
    method = request.method if request.method in METHODS else "other"
    view = view_label(request)
    REQUESTS.labels(view, method, status_class).inc()
    DURATION.labels(view, method, status_class).observe(seconds)


class RequestMetricsMiddleware:
    """Counts and times every request (see the module's docstring for the reporter's pages).
    Near the top of ``MIDDLEWARE``, after ``gongkai.core.requestid``'s."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        record_request(request, response.status_code, time.perf_counter() - started)
        return response


# --- The installation's state (read at the scrape) ----------------------------------------------

# Deliveries not yet out (``held`` waits for the daily digest, on purpose) and given up.
DELIVERY_STATES = (
    Delivery.Status.QUEUED,
    Delivery.Status.HELD,
    Delivery.Status.SENDING,
    Delivery.Status.RETRYING,
    Delivery.Status.FAILED,
)
DELIVERY_WAITING = (Delivery.Status.QUEUED, Delivery.Status.SENDING, Delivery.Status.RETRYING)


def _timestamp(moment: datetime) -> float:
    return moment.timestamp()


class SiteCollector(Collector):
    """The queue, failures, jobs, outbox and ledger, read from the shared stores at each
    scrape."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "gongkai_metrics_source_up",
            "1 when the source answered this scrape, 0 when it failed (see the log).",
            labels=["source"],
        )
        sources: list[tuple[str, Callable[[], Iterable[Metric]]]] = [
            ("queue", self.queue),
            ("task_failures", self.task_failures),
            ("jobs", self.jobs),
            ("outbox", self.outbox),
            ("ledger", self.ledger),
        ]
        for name, source in sources:
            try:
                families = list(source())
            except Exception as exc:  # one source down must not hide the others
                logger.warning("Metrics: %s did not answer (%s)", name, type(exc).__name__)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up

    def queue(self) -> Iterator[Metric]:
        tasks = GaugeMetricFamily(
            "gongkai_queue_tasks",
            "Tasks in the queue: pending (waiting for a worker) and scheduled (taken by a "
            "worker, waiting for their time: retries, delays).",
            labels=["state"],
        )
        tasks.add_metric(["pending"], int(HUEY.pending_count()))
        tasks.add_metric(["scheduled"], int(HUEY.scheduled_count()))
        yield tasks

    def task_failures(self) -> Iterator[Metric]:
        failures = CounterMetricFamily(
            "gongkai_task_failures",
            "Task attempts that failed with no retry left (recorded by gongkai.notify).",
            labels=["task"],
        )
        retries = CounterMetricFamily(
            "gongkai_task_retries",
            "Task attempts that failed and were retried (recorded by gongkai.notify).",
            labels=["task"],
        )
        rows = TaskFailure.objects.order_by().values_list("task", "final").annotate(n=Count("pk"))
        for task, final, n in rows:
            (failures if final else retries).add_metric([task], n)
        yield failures
        yield retries

    def jobs(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily(
            "gongkai_jobs",
            "Background jobs kept (JOBS_KEEP_DAYS), by kind and status.",
            labels=["kind", "status"],
        )
        for kind, status, n in (
            Job.objects.order_by().values_list("kind", "status").annotate(n=Count("pk"))
        ):
            jobs.add_metric([kind, status], n)
        yield jobs
        stalled = Job.objects.filter(
            status=JobStatus.RUNNING, heartbeat_at__lt=timezone.now() - stale_after()
        ).count()
        yield GaugeMetricFamily(
            "gongkai_jobs_stalled",
            "Running jobs whose worker stopped reporting (taken up again by the sweep).",
            value=stalled,
        )

    def outbox(self) -> Iterator[Metric]:
        deliveries = GaugeMetricFamily(
            "gongkai_outbox_deliveries",
            "Deliveries (e-mail, robots, webhooks, events) not sent yet, or failed, by "
            "channel and status.",
            labels=["channel", "status"],
        )
        oldest: datetime | None = None
        rows = (
            Delivery.objects.filter(status__in=DELIVERY_STATES)
            .order_by()
            .values_list("channel", "status")
            .annotate(n=Count("pk"), oldest=Min("created_at"))
        )
        for channel, status, n, created in rows:
            deliveries.add_metric([channel, status], n)
            if status in DELIVERY_WAITING and (oldest is None or created < oldest):
                oldest = created
        yield deliveries
        yield GaugeMetricFamily(
            "gongkai_outbox_oldest_waiting_timestamp_seconds",
            "When the oldest delivery still waiting to go out was written (Unix time; 0 when "
            "none waits).",
            value=_timestamp(oldest) if oldest is not None else 0,
        )

    def ledger(self) -> Iterator[Metric]:
        head = LedgerHead.objects.values_list("sequence", flat=True).first()
        yield GaugeMetricFamily(
            "gongkai_ledger_entries", "Entries in the publication ledger.", value=head or 0
        )
        size = GaugeMetricFamily(
            "gongkai_tlog_size", "Leaves in the transparency log.", labels=["log"]
        )
        signed = GaugeMetricFamily(
            "gongkai_tlog_checkpoint_size",
            "Leaves covered by the log's last signed checkpoint.",
            labels=["log"],
        )
        signed_at = GaugeMetricFamily(
            "gongkai_tlog_checkpoint_timestamp_seconds",
            "When the log's last checkpoint was signed (Unix time).",
            labels=["log"],
        )
        for name, leaves in TransparencyLog.objects.values_list("name", "size"):
            size.add_metric([name], leaves)
            last = (
                LogCheckpoint.objects.filter(log_id=name)
                .order_by("-size")
                .values_list("size", "created_at")
                .first()
            )
            if last is not None:
                signed.add_metric([name], last[0])
                signed_at.add_metric([name], _timestamp(last[1]))
        yield from (size, signed, signed_at)


class _ThisProcess(Collector):
    """The request metrics of this process (without multiprocess mode)."""

    def collect(self) -> Iterator[Metric]:
        yield from PROCESS.collect()


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


# --- Multiprocess mode: the files of exited workers ---------------------------------------------

ARCHIVE = "archive"  # counter_archive.db, histogram_archive.db: the exited workers' sums
KINDS = ("counter", "histogram")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def compact(directory: str) -> int:
    """Fold the files of exited processes into one archive file per kind; returns how many
    were folded. Call with :func:`_locked` held.

    Why: every gunicorn worker leaves a file per kind, and gunicorn replaces workers all the
    time (``max_requests``): measured, 1,000 exited workers' files of 120 series took a
    scrape 20 s and 430 MB of disk. prometheus_client merges files for exactly this
    (``merge(accumulate=False)`` to write back). The directory is the host's (a pid is
    unique on it); a process that no longer exists wrote its last count."""
    folded = 0
    for kind in KINDS:
        dead = []
        for path in glob.glob(os.path.join(directory, f"{kind}_*.db")):
            pid = os.path.basename(path)[len(kind) + 1 : -3]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                dead.append(path)
        if not dead:
            continue
        archive = os.path.join(directory, f"{kind}_{ARCHIVE}.db")
        sources = [*dead, archive] if os.path.exists(archive) else dead
        merged = MultiProcessCollector.merge(sources, accumulate=False)
        partial = archive + ".new"  # not *.db: no scrape reads it half written
        with contextlib.suppress(FileNotFoundError):
            os.remove(partial)
        out = MmapedDict(partial)
        try:
            for metric in merged:
                for sample in metric.samples:
                    key = mmap_key(
                        metric.name,
                        sample.name,
                        list(sample.labels),
                        list(sample.labels.values()),
                        metric.documentation,
                    )
                    out.write_value(key, sample.value, 0.0)
        finally:
            out.close()
        os.replace(partial, archive)
        for path in dead:
            os.remove(path)
        folded += len(dead)
    return folded


@contextlib.contextmanager
def _locked(directory: str) -> Iterator[None]:
    """One scrape at a time folds and reads the directory (two workers may answer two
    scrapes at once: neither may read a dead worker's file and the archive holding it)."""
    with open(os.path.join(directory, "compact.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def exposition() -> bytes:
    """Every metric in the Prometheus text format, as of now."""
    directory = multiprocess_dir()
    requests = CollectorRegistry()
    if directory:
        with _locked(directory):
            compact(directory)
            MultiProcessCollector(requests, path=directory)
            text = generate_latest(requests)
    else:
        requests.register(_ThisProcess())
        text = generate_latest(requests)
    site = CollectorRegistry()
    site.register(SiteCollector())
    return text + generate_latest(site)
