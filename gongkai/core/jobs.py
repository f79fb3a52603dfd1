"""Background jobs: slow work done for one person, with a page that shows its progress and
then its result. The roster check and import and the PDF and Word documents are jobs; nothing
slow runs in a request.

**Kinds.** A part registers each kind of job (:func:`register`, from its ``jobs.py``, which
its ``AppConfig.ready()`` imports; the registry also imports every app's ``jobs`` module the
first time it is asked for a kind it does not know, so a worker that imported no view finds
every kind). A kind says:

- ``run(job, progress)``: the work. It reads ``job.params`` (ids and plain values, never
  objects), calls ``progress(done, total, message)`` now and then (``total`` 0: not known
  yet) and returns an :class:`Outcome`: a file to download or data for the kind's result
  template. A refusal the person should read is raised as :class:`JobError` (or any
  ``ServiceError``); anything else is a fault (below).
- ``allowed(user, job)``: may ``user`` (the owner) still have it? Asked when the job is
  started (by the view, which checks as it always did), by the worker before it runs, and
  again on every view of the page and every download: someone who lost the right between
  asking and downloading gets nothing.
- its title, the page to go back to, and for data its result template and context.

**Starting** (:func:`start`, or :func:`start_for` in a view): one transaction that locks the
owner's row, so two clicks make one job: a recent job with the same kind, owner and
parameters (``reuse_within``, or ``once`` for any age) is returned instead of a new one. At
most ``MAX_ACTIVE`` unfinished jobs per person. The job is enqueued when the transaction
commits (``gongkai.core.tasks.run_job``).

**Running, and running again.** ``run_job(id)`` first *claims* the job with one conditional
``UPDATE``: a queued job, or a running one whose heartbeat (written with every progress
report) is older than ``stale_after()`` (its worker died: killed, restarted, out of memory),
becomes ``running`` with its attempt number raised. A done or failed job, or one another
worker is running, is left alone: running the task twice changes nothing the second time.
Every later write of an attempt (progress, finish, failure) is conditional on that attempt
still owning the job; an attempt that lost it (the old worker was only slow) gets
:class:`Superseded` and stops, and its writes are rolled back. A run that changes data
(the roster import) locks the job row with :func:`hold` in its own transaction and marks
the job done with :func:`finish` in that same transaction: the change and "done" commit
together or not at all, so a re-run after a crash either finds the job done or finds
nothing written. The periodic ``sweep_jobs`` enqueues jobs whose worker died and jobs
whose enqueueing was lost.

**Faults.** An unexpected exception is logged; the job goes back to ``queued`` and the
exception is re-raised so that the queue retries it (its failures are recorded by the
queue's hooks); after ``MAX_ATTEMPTS`` the job fails with a readable message. A
``JobError`` fails the job at once with its message: trying again would not help.

**Files.** Results and inputs are stored in Django's default storage under ``jobs/``
with random names and served only through the job's download view. ``purge_jobs`` deletes
jobs older than ``JOBS_KEEP_DAYS`` days (default 7) with their files, and files under
``jobs/`` that no job refers to (left by a worker that died between writing a file and
recording it).

The job runs in the owner's language at the time they asked (messages, documents).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _

from gongkai.core.errors import ServiceError
from gongkai.core.files import kind_of as file_kind_of
from gongkai.core.models import Job, JobStatus
from gongkai.core.queue import after_commit

logger = logging.getLogger(__name__)

STORAGE_DIR = "jobs"
# A progress report is written at most this often (seconds); the first report, and
# one given with ``force=True``, always.
PROGRESS_INTERVAL = 1.0


def stale_after() -> timedelta:
    """A running job without a heartbeat for this long was left by a worker that died
    (``JOBS_STALE_AFTER_SECONDS``, 10 minutes)."""
    return timedelta(seconds=settings.JOBS_STALE_AFTER_SECONDS)


# A queued job that no worker has taken for this long is enqueued again (a lost enqueue).
LOST_AFTER = timedelta(minutes=10)
MAX_ATTEMPTS = 3
# Unfinished jobs one person may have at a time (counted over the last hour, so that a job
# stuck without a worker does not block its owner forever).
MAX_ACTIVE = 5
ACTIVE_WINDOW = timedelta(hours=1)
# A document asked for again within this time is the same job.
REUSE_WITHIN = timedelta(minutes=5)
UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING)


def keep_days() -> int:
    return int(getattr(settings, "JOBS_KEEP_DAYS", 7))


class JobError(ServiceError):
    """The job cannot be done, for a reason its owner should read (not retried)."""


class Superseded(Exception):
    """This attempt no longer owns the job: another attempt took it over, or it is over."""


@dataclass(frozen=True)
class Outcome:
    """What a finished job leaves: ``data`` (JSON) for the kind's result template, and/or a
    ``file`` to download under ``file_name`` with ``content_type``."""

    data: Any = None
    file: bytes | None = None
    file_name: str = ""
    content_type: str = ""


Run = Callable[[Job, "Progress"], "Outcome | None"]
Allowed = Callable[[Any, Job], bool]


@dataclass(frozen=True)
class Kind:
    name: str
    run: Run
    allowed: Allowed
    title: Callable[[Job], str]
    result_template: str = ""
    result_context: Callable[[Job, Any], dict[str, Any]] | None = None
    back_url: Callable[[Job], str] | None = None


_KINDS: dict[str, Kind] = {}
_discovered = False


def register(
    kind: str,
    run: Run,
    *,
    allowed: Allowed,
    title: Callable[[Job], str],
    result_template: str = "",
    result_context: Callable[[Job, Any], dict[str, Any]] | None = None,
    back_url: Callable[[Job], str] | None = None,
) -> Kind:
    """Register a kind of job (from a part's ``jobs.py``). Registering the same kind again
    with the same ``run`` (a module imported twice) is harmless; another ``run`` is an
    error."""
    existing = _KINDS.get(kind)
    if existing is not None and existing.run is not run:
        raise ImproperlyConfigured(f"The job kind {kind!r} is registered twice.")
    spec = Kind(kind, run, allowed, title, result_template, result_context, back_url)
    _KINDS[kind] = spec
    return spec


def kind_of(name: str) -> Kind | None:
    """The registered kind, or None. An unknown name first makes the registry import every
    app's ``jobs`` module (once per process)."""
    global _discovered
    if name not in _KINDS and not _discovered:
        _discovered = True
        autodiscover_modules("jobs")
    return _KINDS.get(name)


def params_key(params: dict[str, Any]) -> str:
    canonical = json.dumps(
        params, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- Starting ---------------------------------------------------------------------------------


def _reusable(job: Job) -> bool:
    if job.status != JobStatus.DONE or not job.file:
        return True
    return default_storage.exists(job.file.name or "")


def same_job(
    *,
    kind: str,
    owner_id: int,
    params: dict[str, Any],
    within: timedelta | None = None,
    now: datetime | None = None,
) -> Job | None:
    """The owner's latest job of this kind with these parameters that has not failed
    (started within ``within`` when given)."""
    same = Job.objects.filter(owner_id=owner_id, kind=kind, params_key=params_key(params))
    same = same.exclude(status=JobStatus.FAILED)
    if within is not None:
        same = same.filter(created_at__gte=(now or timezone.now()) - within)
    return same.order_by("-created_at").first()


def start(
    *,
    kind: str,
    owner: Any,
    params: dict[str, Any],
    input_data: bytes | None = None,
    input_extension: str = "",
    language: str | None = None,
    reuse_within: timedelta | None = None,
    once: bool = False,
) -> Job:
    """Create a job for ``owner`` and enqueue it when the transaction commits; or return
    the owner's same job (same kind and parameters, not failed) started within
    ``reuse_within``, or at any time with ``once``. ``input_data`` is stored with the job
    (an uploaded file it works on). The caller has checked that the owner may have it.
    Raises :class:`JobError` when the owner already has ``MAX_ACTIVE`` unfinished jobs."""
    if kind_of(kind) is None:
        raise ImproperlyConfigured(f"No job kind {kind!r} is registered.")
    now = timezone.now()
    with transaction.atomic():
        # One start at a time per person: a double click finds the first job, not a twin.
        list(get_user_model().objects.select_for_update().filter(pk=owner.pk).values_list("pk"))
        if once or reuse_within is not None:
            existing = same_job(
                kind=kind,
                owner_id=owner.pk,
                params=params,
                within=None if once else reuse_within,
                now=now,
            )
            if existing is not None and _reusable(existing):
                return existing
        active = Job.objects.filter(
            owner_id=owner.pk, status__in=UNFINISHED, created_at__gte=now - ACTIVE_WINDOW
        ).count()
        if active >= MAX_ACTIVE:
            raise JobError(
                _(
                    "You have %(n)s tasks in progress. Wait until one of them is finished, "
                    "then try again."
                )
                % {"n": active}
            )
        job = Job(
            kind=kind,
            owner_id=owner.pk,
            params=params,
            params_key=params_key(params),
            language=language or translation.get_language() or settings.LANGUAGE_CODE,
        )
        if input_data is not None:
            job.input_file.save(
                f"{uuid.uuid4().hex}{input_extension}", ContentFile(input_data), save=False
            )
            job.input_sha256 = hashlib.sha256(input_data).hexdigest()
        job.save()
        enqueue(job.pk)
    return job


def enqueue(job_id: uuid.UUID | str) -> None:
    """Run the job in the worker once the current transaction commits."""
    # Imported here: the tasks module imports this one (it calls execute()).
    from gongkai.core.tasks import run_job

    after_commit(run_job, str(job_id))


def start_for(
    request: HttpRequest,
    *,
    kind: str,
    params: dict[str, Any],
    back_url: str,
    reuse_within: timedelta | None = REUSE_WITHIN,
) -> HttpResponse:
    """The answer of a view that asks for a document: on POST (CSRF-checked by the
    middleware), start the job (or find the same one asked for a moment ago) and go to its
    page; on GET, a page with the button that asks for it. A GET never starts anything:
    reading a URL changes no state, and another site cannot make someone's browser start
    documents. The view has checked the permission."""
    if request.method != "POST":
        return render(request, "core/job_start.html", {"back_url": back_url})
    try:
        job = start(kind=kind, owner=request.user, params=params, reuse_within=reuse_within)
    except JobError as error:
        return render(
            request,
            "core/job_start.html",
            {"back_url": back_url, "error": error.message},
            status=429,
        )
    return redirect("core:job", pk=job.pk)


# --- Running ------------------------------------------------------------------------------------


def claim(job_id: uuid.UUID | str) -> Job | None:
    """Take the job for this attempt: a queued job, or a running one whose worker died.
    None when it is done, failed, missing, or being run by a live worker."""
    now = timezone.now()
    taken = (
        Job.objects.filter(pk=job_id)
        .filter(
            Q(status=JobStatus.QUEUED)
            | Q(status=JobStatus.RUNNING, heartbeat_at__lt=now - stale_after())
            | Q(status=JobStatus.RUNNING, heartbeat_at=None)
        )
        .update(
            status=JobStatus.RUNNING,
            attempts=F("attempts") + 1,
            started_at=now,
            heartbeat_at=now,
        )
    )
    if not taken:
        return None
    return Job.objects.select_related("owner").get(pk=job_id)


def _mine(job: Job) -> Any:
    """The job's row, as long as this attempt owns it."""
    return Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts)


class Progress:
    """``progress(done, total, message)``: written at most every ``PROGRESS_INTERVAL``
    seconds (the first report, and one given with ``force=True``, e.g. at the start of a
    stage, always), each write a heartbeat. A run reports at least every ``stale_after()``
    outside its transactions, or it is taken for dead. Raises :class:`Superseded` when the
    attempt lost the job."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._last: float | None = None

    def __call__(
        self, done: int, total: int = 0, message: str = "", *, force: bool = False
    ) -> None:
        now = time.monotonic()
        if not force and self._last is not None and now - self._last < PROGRESS_INTERVAL:
            return
        self._last = now
        message = str(message)[:200]
        done, total = max(0, int(done)), max(0, int(total))
        if total and done > total:
            total = done
        if not _mine(self.job).update(
            done=done, total=total, message=message, heartbeat_at=timezone.now()
        ):
            raise Superseded
        self.job.done, self.job.total, self.job.message = done, total, message


def hold(job: Job) -> None:
    """In the transaction of a run that changes data: lock the job's row and make sure this
    attempt still owns it (:class:`Superseded` otherwise). Call :func:`finish` before the
    transaction ends, so that the change and "done" commit together."""
    if not list(_mine(job).select_for_update().values_list("pk")):
        raise Superseded


def _store(outcome: Outcome) -> str:
    kind = file_kind_of(outcome.content_type)
    name = f"{STORAGE_DIR}/{uuid.uuid4().hex}{kind.extension if kind else ''}"
    return default_storage.save(name, ContentFile(outcome.file or b""))


def finish(job: Job, outcome: Outcome) -> None:
    """Mark the job done with its outcome (file stored first). :class:`Superseded` when the
    attempt lost the job (its file is then deleted)."""
    name = _store(outcome) if outcome.file is not None else ""
    fields = {
        "status": JobStatus.DONE,
        "message": "",
        "file": name,
        "file_name": outcome.file_name[:200],
        "content_type": outcome.content_type[:100],
        "result": outcome.data,
        "finished_at": timezone.now(),
    }
    if not _mine(job).update(done=F("total"), **fields):
        if name:
            default_storage.delete(name)
        raise Superseded
    for field, value in fields.items():
        setattr(job, field, value)
    job.done = job.total


def fail(job: Job, message: str) -> None:
    """Mark the job failed with ``message`` (shown to its owner); its input is deleted."""
    if _mine(job).update(
        status=JobStatus.FAILED, error=message, message="", finished_at=timezone.now()
    ):
        job.status, job.error = JobStatus.FAILED, message
        discard_input(job)


def _retry_later(job: Job) -> None:
    _mine(job).update(
        status=JobStatus.QUEUED,
        message=_("Something went wrong; it will be tried again shortly."),
        heartbeat_at=timezone.now(),
    )


def fault_message() -> str:
    return _(
        "This could not be done because of a fault on the platform, not because of "
        "anything you did. Try again later; if it keeps failing, tell the administrator."
    )


def execute(job_id: uuid.UUID | str) -> None:
    """Run the job (the worker's ``run_job``): claim it, check that its owner may still
    have it, run it in the owner's language, record the outcome."""
    job = claim(job_id)
    if job is None:
        return
    with translation.override(job.language or settings.LANGUAGE_CODE):
        spec = kind_of(job.kind)
        if spec is None:
            fail(job, _("This kind of task is no longer available."))
            return
        if job.attempts > MAX_ATTEMPTS:
            fail(job, _("The task was interrupted too many times."))
            return
        try:
            owner = job.owner
            if not (owner.is_active and spec.allowed(owner, job)):
                raise JobError(_("You are no longer allowed to do this."))
            outcome = spec.run(job, Progress(job))
            if outcome is not None:
                finish(job, outcome)
        except Superseded:
            logger.info("Job %s: attempt %s was superseded", job.pk, job.attempts)
        except ServiceError as error:
            fail(job, error.message)
        except Exception:
            logger.exception("Job %s (%s) failed on attempt %s", job.pk, job.kind, job.attempts)
            if job.attempts >= MAX_ATTEMPTS:
                fail(job, fault_message())
            else:
                _retry_later(job)
            raise  # the queue retries it and records the failure


# --- Files ------------------------------------------------------------------------------------


def read_input(job: Job) -> bytes | None:
    """The job's input file, or None when it is gone or is not the file that was stored."""
    if not job.input_file:
        return None
    try:
        with default_storage.open(job.input_file.name or "", "rb") as handle:
            data: bytes = handle.read()
    except (OSError, ValueError):
        return None
    if hashlib.sha256(data).hexdigest() != job.input_sha256:
        return None
    return data


def discard_input(job: Job) -> None:
    """Delete the job's input file (the work is over with it)."""
    if job.input_file:
        default_storage.delete(job.input_file.name or "")
        Job.objects.filter(pk=job.pk).update(input_file="")
        job.input_file.name = ""


def read_result(job: Job) -> bytes | None:
    if job.status != JobStatus.DONE or not job.file:
        return None
    try:
        with default_storage.open(job.file.name or "", "rb") as handle:
            data: bytes = handle.read()
    except (OSError, ValueError):
        return None
    return data


# --- Housekeeping (the periodic tasks) --------------------------------------------------------


def lost_ids(*, now: datetime) -> list[uuid.UUID]:
    """Jobs to enqueue again: running ones whose worker died, queued ones nobody took."""
    return list(
        Job.objects.filter(
            Q(status=JobStatus.RUNNING, heartbeat_at__lt=now - stale_after())
            | (
                Q(status=JobStatus.QUEUED, created_at__lt=now - LOST_AFTER)
                & (Q(heartbeat_at=None) | Q(heartbeat_at__lt=now - LOST_AFTER))
            )
        ).values_list("pk", flat=True)[:1000]
    )


def purge(*, now: datetime) -> int:
    """Delete the jobs older than ``JOBS_KEEP_DAYS`` with their files, and files under
    ``jobs/`` that no job refers to and that are as old. Returns how many jobs went."""
    cutoff = now - timedelta(days=keep_days())
    old = Job.objects.filter(created_at__lt=cutoff)
    for file_name, input_name in old.values_list("file", "input_file"):
        for name in (file_name, input_name):
            if name:
                default_storage.delete(name)
    deleted, _by_model = old.delete()
    try:
        _dirs, files = default_storage.listdir(STORAGE_DIR)
    except (OSError, NotImplementedError):
        return deleted
    kept = {n for pair in Job.objects.values_list("file", "input_file") for n in pair if n}
    for base in files:
        name = f"{STORAGE_DIR}/{base}"
        if name in kept:
            continue
        try:
            if default_storage.get_modified_time(name) < cutoff:
                default_storage.delete(name)
        except (OSError, NotImplementedError):
            continue
    return deleted
