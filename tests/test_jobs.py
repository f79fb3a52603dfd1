"""Background jobs (gongkai.core.jobs): progress on the page, the result to its owner only,
readable failures, retries, running twice, workers that die, reuse, housekeeping; and the
circular and annual-report documents made through them, with the permission checked again at
download."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.core import jobs
from gongkai.core.models import Job, JobStatus
from gongkai.core.tasks import purge_jobs, run_job, sweep_jobs
from gongkai.org.models import Role, RoleAssignment
from gongkai.supervision.models import Circular
from tests.conftest import Org
from tests.matrix.supervision import draft_circular, issued_circular
from tests.queue import empty_queue, run_scheduled, scheduled_count

__all__ = ["empty_queue"]  # a fixture, used by name

# --- Kinds for the tests --------------------------------------------------------------------

CALLS: list[str] = []
DENIED: set[int] = set()


def allowed(user, job: Job) -> bool:
    return user.pk not in DENIED


def echo(job: Job, progress: jobs.Progress) -> jobs.Outcome:
    CALLS.append(str(job.pk))
    progress(1, 2, "halfway", force=True)
    if job.params.get("file"):
        return jobs.Outcome(
            file=b"%PDF-1.7 test", file_name="测试 报告.pdf", content_type="application/pdf"
        )
    return jobs.Outcome(data={"n": job.params.get("n")})


def refuse(job: Job, progress: jobs.Progress) -> None:
    raise jobs.JobError(_("The file is empty."))


def crash(job: Job, progress: jobs.Progress) -> None:
    CALLS.append(str(job.pk))
    raise RuntimeError("secret internal detail")


def flaky(job: Job, progress: jobs.Progress) -> jobs.Outcome:
    CALLS.append(str(job.pk))
    if CALLS.count(str(job.pk)) == 1:
        raise RuntimeError("the database went away")
    return jobs.Outcome(data={"ok": True})


for _name, _run in (("echo", echo), ("refuse", refuse), ("crash", crash), ("flaky", flaky)):
    jobs.register(f"tests.{_name}", _run, allowed=allowed, title=lambda job: "测试任务")


@pytest.fixture(autouse=True)
def fresh():
    CALLS.clear()
    DENIED.clear()
    with translation.override("en"):
        yield


def english(user: User) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """``run(lambda: ...)``: do it, then run the jobs it started (enqueued on commit)."""

    def do(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return do


def start(owner: User, kind: str = "tests.echo", **params) -> Job:
    return jobs.start(kind=kind, owner=owner, params=params)


def stored() -> set[str]:
    try:
        return set(default_storage.listdir("jobs")[1])
    except FileNotFoundError:
        return set()


def page(client: Client, job: Job, what: str = "job"):
    return client.get(reverse(f"core:{what}", args=[job.pk]))


# --- Progress and the page ------------------------------------------------------------------


def test_progress_moves_and_the_page_shows_it(org: Org, monkeypatch):
    monkeypatch.setattr(jobs, "PROGRESS_INTERVAL", 0)
    client = english(org["union"])
    job = start(org["union"])  # not run: no commit in a test's transaction

    waiting = page(client, job).content.decode()
    assert "Waiting to start…" in waiting
    assert f'hx-get="/jobs/{job.pk}/status/"' in waiting and 'hx-trigger="every 1s"' in waiting
    assert '<meta http-equiv="refresh"' in waiting  # without JavaScript, the page reloads

    running = jobs.claim(job.pk)
    assert running is not None
    progress = jobs.Progress(running)
    progress(3, 10, "Reading the file: 3 rows read")
    fragment = page(client, job, "job_status")
    assert fragment.status_code == 200
    text = fragment.content.decode()
    assert 'max="10" value="3"' in text and "3 of 10 (30%)" in text
    assert "Reading the file: 3 rows read" in text
    assert "<html" not in text  # a fragment, swapped into the page

    progress(7, 10, "Reading the file: 7 rows read")
    assert 'max="10" value="7"' in page(client, job, "job_status").content.decode()
    progress(8, 0, "Counting")  # total not known: the bar says it is working
    text = page(client, job, "job_status").content.decode()
    assert "<progress" in text and "max=" not in text and "Working…" in text

    jobs.finish(running, jobs.Outcome(data={"n": 1}))
    done = page(client, job, "job_status")
    assert done.status_code == 286  # htmx stops polling
    assert "Done." in done.content.decode()
    final = page(client, job).content.decode()
    assert "hx-trigger" not in final and '<meta http-equiv="refresh"' not in final


def test_progress_writes_are_throttled_but_a_new_stage_is_written(org: Org, monkeypatch):
    monkeypatch.setattr(jobs, "PROGRESS_INTERVAL", 3600)
    job = jobs.claim(start(org["union"]).pk)
    assert job is not None
    progress = jobs.Progress(job)
    progress(1, 100, "Reading: 1 row")
    progress(2, 100, "Reading: 2 rows")  # within the interval: not written
    assert Job.objects.get(pk=job.pk).done == 1
    progress(3, 100, "Writing", force=True)
    stored = Job.objects.get(pk=job.pk)
    assert stored.done == 3 and stored.message == "Writing"


def test_the_owner_sees_and_downloads_the_result_and_nobody_else_does(org: Org, run):
    owner = english(org["union"])
    job = run(lambda: start(org["union"], file=True))
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.file.name.startswith("jobs/")

    text = page(owner, job).content.decode()
    assert f'href="/jobs/{job.pk}/download/"' in text and "测试 报告.pdf" in text
    download = page(owner, job, "job_download")
    assert download.status_code == 200 and download.content == b"%PDF-1.7 test"
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "private" in download["Cache-Control"]

    for who in ("supervisor", "employee", "leader"):
        other = english(org[who])
        for what in ("job", "job_status", "job_download"):
            assert page(other, job, what).status_code == 404, (who, what)
    anonymous = Client()
    response = page(anonymous, job, "job_download")
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_an_owner_who_may_no_longer_have_it_gets_nothing(org: Org, run):
    client = english(org["union"])
    job = run(lambda: start(org["union"], file=True))
    DENIED.add(org["union"].pk)
    assert page(client, job).status_code == 403
    assert page(client, job, "job_download").status_code == 403


def test_a_job_whose_owner_lost_the_right_before_it_ran_fails_readably(org: Org, run):
    job = start(org["union"])
    DENIED.add(org["union"].pk)
    run_job(str(job.pk))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and CALLS == []
    assert job.error == "You are no longer allowed to do this."


def test_a_failing_job_shows_a_readable_error_and_is_not_retried(org: Org, run, empty_queue):
    client = english(org["union"])
    job = run(lambda: start(org["union"], "tests.refuse"))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error == "The file is empty."
    assert scheduled_count() == 0
    fragment = page(client, job, "job_status")
    assert fragment.status_code == 286
    assert 'role="alert"' in fragment.content.decode()
    assert "The file is empty." in fragment.content.decode()


def test_a_fault_is_retried_then_shown_without_its_details(org: Org, run, empty_queue):
    client = english(org["union"])
    job = run(lambda: start(org["union"], "tests.crash"))
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and "tried again" in job.message
    assert scheduled_count() == 1  # the queue's retry
    run_scheduled()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.attempts == jobs.MAX_ATTEMPTS
    assert len(CALLS) == jobs.MAX_ATTEMPTS
    text = page(client, job).content.decode()
    assert "a fault on the platform, not because of anything you did" in text
    assert "secret internal detail" not in text and "RuntimeError" not in text


def test_a_fault_that_clears_on_retry_ends_well(org: Org, run, empty_queue):
    job = run(lambda: start(org["union"], "tests.flaky"))
    run_scheduled()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.result == {"ok": True} and job.attempts == 2


def test_running_the_task_twice_does_the_work_once(org: Org, run):
    job = run(lambda: start(org["union"], n=1))
    run_job(str(job.pk))
    run_job(str(job.pk))
    assert [str(job.pk)] == CALLS
    assert Job.objects.get(pk=job.pk).attempts == 1


def test_a_live_workers_job_is_left_alone_and_a_dead_workers_job_is_taken_up(org: Org):
    job = start(org["union"])
    assert jobs.claim(job.pk) is not None  # a worker runs it…
    run_job(str(job.pk))
    assert CALLS == [] and Job.objects.get(pk=job.pk).status == JobStatus.RUNNING
    # …and dies: no sign of life for longer than stale_after().
    Job.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - jobs.stale_after() - timedelta(seconds=1)
    )
    run_job(str(job.pk))
    job.refresh_from_db()
    assert [str(job.pk)] == CALLS and job.status == JobStatus.DONE and job.attempts == 2


def test_a_superseded_attempt_can_neither_report_nor_finish(org: Org):
    job = start(org["union"])
    slow = jobs.claim(job.pk)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    fresh = jobs.claim(job.pk)
    assert slow is not None and fresh is not None and fresh.attempts == 2
    with pytest.raises(jobs.Superseded):
        jobs.Progress(slow)(1, 2, "still here")
    files = stored()
    with pytest.raises(jobs.Superseded):
        jobs.finish(slow, jobs.Outcome(file=b"%PDF-1.7 slow", content_type="application/pdf"))
    assert stored() == files  # its file was not kept
    jobs.finish(fresh, jobs.Outcome(data={"n": 2}))
    assert Job.objects.get(pk=job.pk).result == {"n": 2}


def test_a_job_interrupted_too_often_fails(org: Org):
    job = start(org["union"])
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, attempts=jobs.MAX_ATTEMPTS, heartbeat_at=None
    )
    run_job(str(job.pk))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "interrupted too many times" in job.error


def test_the_same_request_again_soon_is_the_same_job(org: Org):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        first = jobs.start(
            kind="tests.echo", owner=org["union"], params={"n": 1}, reuse_within=timedelta(1)
        )
        again = jobs.start(
            kind="tests.echo", owner=org["union"], params={"n": 1}, reuse_within=timedelta(1)
        )
        other = jobs.start(
            kind="tests.echo", owner=org["union"], params={"n": 2}, reuse_within=timedelta(1)
        )
        someone = jobs.start(
            kind="tests.echo", owner=org["leader"], params={"n": 1}, reuse_within=timedelta(1)
        )
        assert again.pk == first.pk and len({first.pk, other.pk, someone.pk}) == 3
        Job.objects.filter(pk=first.pk).update(status=JobStatus.FAILED)
        retried = jobs.start(
            kind="tests.echo", owner=org["union"], params={"n": 1}, reuse_within=timedelta(1)
        )
        assert retried.pk != first.pk  # a failed job is not offered again
        clock.shift(timedelta(days=2))
        later = jobs.start(
            kind="tests.echo", owner=org["union"], params={"n": 1}, reuse_within=timedelta(1)
        )
        assert later.pk != retried.pk


def test_too_many_unfinished_jobs_are_refused(org: Org):
    for n in range(jobs.MAX_ACTIVE):
        start(org["union"], n=n)
    with pytest.raises(jobs.JobError, match="tasks in progress"):
        start(org["union"], n=99)
    start(org["leader"], n=99)  # someone else is not held up


def test_the_job_speaks_the_language_of_the_person_who_asked(org: Org):
    job = jobs.start(kind="tests.refuse", owner=org["union"], params={}, language="zh-hans")
    run_job(str(job.pk))
    assert Job.objects.get(pk=job.pk).error == "文件是空的。"


# --- Housekeeping ---------------------------------------------------------------------------


def test_the_sweeper_runs_jobs_whose_worker_died_or_whose_enqueueing_was_lost(org: Org):
    with time_machine.travel(timezone.now() - timedelta(minutes=30), tick=False):
        lost = start(org["union"], n=1)
        dead = start(org["union"], n=2)
        jobs.claim(dead.pk)
    fresh = start(org["union"], n=3)
    sweep_jobs.call_local()
    sweep_jobs.call_local()  # twice: nothing more happens
    assert sorted(CALLS) == sorted([str(lost.pk), str(dead.pk)])
    assert Job.objects.get(pk=fresh.pk).status == JobStatus.QUEUED


def test_old_jobs_and_their_files_are_deleted_after_some_days(org: Org, run, settings):
    settings.JOBS_KEEP_DAYS = 7
    with time_machine.travel(timezone.now() - timedelta(days=8), tick=False):
        old = run(lambda: start(org["union"], file=True))
        orphan = default_storage.save("jobs/orphan.pdf", ContentFile(b"%PDF-1.7 lost"))
    recent = run(lambda: start(org["union"], file=True, n=2))
    old.refresh_from_db()
    recent.refresh_from_db()
    old_file = old.file.name
    assert default_storage.exists(old_file)
    purge_jobs.call_local()
    purge_jobs.call_local()  # twice: nothing more happens
    assert not Job.objects.filter(pk=old.pk).exists()
    assert not default_storage.exists(old_file) and not default_storage.exists(orphan)
    assert default_storage.exists(recent.file.name)
    assert page(english(org["union"]), recent, "job_download").status_code == 200


# --- Documents through jobs -----------------------------------------------------------------


def follow_document(client: Client, url: str, run):
    response = run(lambda: client.post(url))  # the page's button
    assert response.status_code == 302 and response.url.startswith("/jobs/"), response
    return Job.objects.get(pk=response.url.split("/")[2])


def test_a_circular_is_downloaded_through_a_job_and_only_by_who_may_read_it(org: Org, run):
    circular = issued_circular(org)
    employee = english(org["employee"])
    job = follow_document(employee, reverse("supervision:circular_pdf", args=[circular.pk]), run)
    assert job.kind == "supervision.circular_document" and job.owner == org["employee"]
    text = page(employee, job).content.decode()
    assert circular.title in text and "Download" in text
    pdf = page(employee, job, "job_download")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf["Content-Type"] == "application/pdf"
    docx_job = follow_document(
        employee, reverse("supervision:circular_docx", args=[circular.pk]), run
    )
    docx = page(employee, docx_job, "job_download")
    assert docx.content[:2] == b"PK" and ".docx" in docx["Content-Disposition"]

    # Someone else cannot open the employee's job, even one who may read the circular.
    assert page(english(org["union"]), job, "job_download").status_code == 404
    # The employee leaves the company: they may no longer read it, so no download.
    User.objects.filter(pk=org["employee"].pk).update(unit=org.other_dept)
    employee = english(User.objects.get(pk=org["employee"].pk))
    assert page(employee, job).status_code == 403
    assert page(employee, job, "job_download").status_code == 403
    assert employee.get(reverse("supervision:circular_pdf", args=[circular.pk])).status_code in (
        403,
        404,
    )


def test_a_draft_circular_is_the_supervision_groups_and_a_new_version_is_a_new_job(org: Org, run):
    circular = draft_circular(org)
    supervisor = english(org["supervisor"])
    url = reverse("supervision:circular_pdf", args=[circular.pk])
    assert english(org["employee"]).get(url).status_code == 403
    job = follow_document(supervisor, url, run)
    assert follow_document(supervisor, url, run).pk == job.pk  # a second click: the same job
    assert CALLS == [] and Job.objects.filter(kind=job.kind).count() == 1
    Circular.objects.filter(pk=circular.pk).update(updated_at=timezone.now() + timedelta(seconds=1))
    assert follow_document(supervisor, url, run).pk != job.pk  # edited since: a new job
    assert page(supervisor, job, "job_download").status_code == 200
    RoleAssignment.objects.filter(user=org["supervisor"], role=Role.SUPERVISION).delete()
    supervisor = english(User.objects.get(pk=org["supervisor"].pk))
    assert page(supervisor, job, "job_download").status_code == 403


def test_reading_a_document_url_starts_nothing_and_offers_the_button(org: Org, run):
    circular = issued_circular(org)
    client = english(org["employee"])
    url = reverse("supervision:circular_pdf", args=[circular.pk])
    for site in ("cross-site", "same-origin", "none"):
        response = run(lambda site=site: client.get(url, headers={"Sec-Fetch-Site": site}))
        assert response.status_code == 200 and b'method="post"' in response.content
    assert not Job.objects.exists()
    response = run(lambda: client.post(url))
    assert response.status_code == 302 and Job.objects.count() == 1
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(org["employee"])
    assert csrf.post(url).status_code == 403  # the button's POST needs the CSRF token
    assert Job.objects.count() == 1


def test_the_annual_report_is_downloaded_through_a_job_with_the_permission_checked_again(
    org: Org, run
):
    year = timezone.localdate().year
    url = reverse("assessment:report_pdf", args=[year])
    employee = english(org["employee"])
    job = follow_document(employee, url, run)
    job.refresh_from_db()
    assert job.kind == "assessment.report_pdf" and job.status == JobStatus.DONE
    assert job.params == {"company": org.company.pk, "year": year}
    text = page(employee, job).content.decode()
    assert f"Annual report {year}" in text and f"?company={org.company.code}" in text
    pdf = page(employee, job, "job_download")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert f"report-{org.company.code}-{year}.pdf" in pdf["Content-Disposition"]
    outsider = english(org["outsider"])
    assert outsider.get(f"{url}?company={org.company.code}").status_code == 404
    assert page(english(org["outsider"]), job, "job_download").status_code == 404
    User.objects.filter(pk=org["employee"].pk).update(unit=org.other_dept)
    employee = english(User.objects.get(pk=org["employee"].pk))
    assert page(employee, job, "job_download").status_code == 403


# --- Races (PostgreSQL: real concurrent transactions; SQLite serialises writers) --------------


def race(calls: list) -> list[object]:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent transactions: PostgreSQL (SQLite serialises writers)")
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = []

    def run_one(call) -> None:
        try:
            barrier.wait()
            outcomes.append(call())
        except Exception as error:  # the test counts every outcome
            outcomes.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run_one, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_five_clicks_on_confirm_at_once_import_once(org: Org):
    from gongkai.audit.models import AuditEvent
    from gongkai.org import jobs as roster_jobs
    from tests.test_roster_import import ROWS, csv_bytes

    check = roster_jobs.start_check(
        owner=org["union"], company=org.company, data=csv_bytes(ROWS), filename="r.csv"
    )  # committed, so the test queue ran it at once
    check.refresh_from_db()
    assert roster_jobs.confirmable(check)
    outcomes = race([lambda: roster_jobs.start_import(owner=org["union"], check=check)] * 5)
    assert len({job.pk for job in outcomes}) == 1, outcomes
    (imported,) = Job.objects.filter(kind=roster_jobs.IMPORT)
    assert imported.status == JobStatus.DONE and imported.attempts == 1
    assert User.objects.filter(employee_no__startswith="1000").count() == 5
    assert AuditEvent.objects.filter(action="org.roster_imported").count() == 1


@pytest.mark.django_db(transaction=True)
def test_five_workers_given_the_same_job_run_it_once(org: Org):
    job = Job.objects.create(kind="tests.echo", owner=org["union"], params={"n": 5}, params_key="x")
    race([lambda: jobs.execute(job.pk)] * 5)
    job.refresh_from_db()
    assert [str(job.pk)] == CALLS and job.status == JobStatus.DONE and job.attempts == 1
