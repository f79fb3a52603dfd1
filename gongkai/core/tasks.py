"""The core tasks: running background jobs, taking up the ones a dead worker left, and
deleting old ones (``gongkai.core.jobs`` explains the promises)."""

from __future__ import annotations

from django.utils import timezone

from gongkai.core import jobs
from gongkai.core.queue import crontab, lock_task, periodic, task


@task(retries=jobs.MAX_ATTEMPTS - 1)
def run_job(job_id: str) -> None:
    """Run the job; a done job, or one a live worker is running, is left alone."""
    jobs.execute(job_id)


@periodic(crontab(minute="*/5"))
@lock_task("jobs-sweep")
def sweep_jobs() -> None:
    """Every five minutes: run again the jobs whose worker died and the queued jobs whose
    enqueueing was lost (running one twice is harmless: the claim lets one attempt in)."""
    for job_id in jobs.lost_ids(now=timezone.now()):
        run_job(str(job_id))


@periodic(crontab(minute="40", hour="19"))  # 03:40 in Shanghai
@lock_task("jobs-purge")
def purge_jobs() -> None:
    """Every night: delete the jobs older than ``JOBS_KEEP_DAYS`` and their files."""
    jobs.purge(now=timezone.now())
