"""The roster import as two background jobs (``gongkai.core.jobs``).

1. **The check** (``org.roster_check``): the uploaded file, stored with the job, is read
   (progress every ``PROGRESS_ROWS`` rows) and planned against the database: a dry run that
   writes nothing. Its page shows every error and what would change, as JSON kept with the
   job (lists cut to ``LISTED_AT_MOST``, the counts complete), and the confirm button.
2. **The import** (``org.roster_import``), started by the confirmation, at most once per
   check: reads the same stored bytes (refused if they are not the bytes that were checked),
   plans again against the database as it is then and applies all or nothing, in one
   transaction that also marks the job done; then the stored file is deleted. A re-run
   after a crash finds the job done, or nothing written.

Both are the union office's (``org.roster_import`` on the company), checked when the job is
started, when it runs and whenever its page is opened.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.core import access, jobs
from gongkai.core.models import Job, JobStatus
from gongkai.core.spreadsheets import ZIP_MAGIC
from gongkai.org.models import OrgUnit, UnitKind
from gongkai.org.roster import (
    ParsedRoster,
    RosterResult,
    field_label,
    roster_import_parsed,
    roster_parse,
    unit_label,
)

CHECK = "org.roster_check"
IMPORT = "org.roster_import"
ACTION = "org.roster_import"
# A check older than this is not confirmed any more: upload the file again.
STALE_AFTER = timedelta(days=1)
LISTED_AT_MOST = 200  # per list on the plan page; the counts are always complete
ERRORS_LISTED_AT_MOST = 1000


def company_of(job: Job) -> OrgUnit | None:
    return OrgUnit.objects.filter(pk=job.params.get("company"), kind=UnitKind.COMPANY).first()


def allowed(user: Any, job: Job) -> bool:
    company = company_of(job)
    return company is not None and access.can(user, ACTION, company)


# --- Starting -----------------------------------------------------------------------------------


def start_check(*, owner: User, company: OrgUnit, data: bytes, filename: str) -> Job:
    """Store the uploaded file and check it in the background (the caller has checked the
    permission and the file's size and kind)."""
    return jobs.start(
        kind=CHECK,
        owner=owner,
        params={"company": company.pk, "filename": filename[:200]},
        input_data=data,
        input_extension=".xlsx" if data.startswith(ZIP_MAGIC) else ".csv",
    )


def import_params(check: Job) -> dict[str, Any]:
    return {
        "check": str(check.pk),
        "company": check.params.get("company"),
        "filename": check.params.get("filename", ""),
    }


def import_of(check: Job) -> Job | None:
    """The import started from this check (and not failed), if any."""
    return jobs.same_job(kind=IMPORT, owner_id=check.owner_id, params=import_params(check))


def confirmable(check: Job) -> bool:
    """A finished check without errors, with something to change, its file still kept, not
    older than ``STALE_AFTER``."""
    result = check.result or {}
    plan = result.get("plan") or {}
    return bool(
        check.kind == CHECK
        and check.status == JobStatus.DONE
        and not result.get("error_count")
        and plan.get("has_changes")
        and check.input_file
        and check.finished_at is not None
        and check.finished_at >= timezone.now() - STALE_AFTER
    )


def pending_check(value: str, *, owner: User) -> Job | None:
    """The owner's check named by ``value`` (a job id from the confirm form) that can be
    confirmed, or whose import has already started; None for anything else."""
    try:
        pk = uuid.UUID(value)
    except ValueError:
        return None
    check = Job.objects.filter(pk=pk, owner_id=owner.pk, kind=CHECK).first()
    if check is None or not (confirmable(check) or import_of(check) is not None):
        return None
    return check


def start_import(*, owner: User, check: Job) -> Job:
    """The import of a confirmed check; confirming twice finds the first import."""
    return jobs.start(kind=IMPORT, owner=owner, params=import_params(check), once=True)


# --- Running ------------------------------------------------------------------------------------


def _read(data: bytes, progress: jobs.Progress) -> ParsedRoster:
    """Read the rows, reporting every few hundred. Reading is the first half of the bar, the
    rest (planning, writing) the second; a CSV's line count tells the rows ahead of time,
    a workbook's are counted as they come."""
    expected = 0 if data.startswith(ZIP_MAGIC) else 2 * data.count(b"\n")
    progress(0, expected, _("Reading the file…"), force=True)

    def rows_read(count: int) -> None:
        total = max(expected, 2 * count) if expected else 0
        progress(count, total, _("Reading the file: %(n)s rows read") % {"n": f"{count:,}"})

    return roster_parse(data=data, progress=rows_read)


def _company(job: Job) -> OrgUnit:
    company = company_of(job)
    if company is None:
        raise jobs.JobError(_("The company no longer exists."))
    return company


def _gone() -> jobs.JobError:
    return jobs.JobError(_("The uploaded file is no longer available. Upload it again."))


def run_check(job: Job, progress: jobs.Progress) -> None:
    company = _company(job)
    data = jobs.read_input(job)
    if data is None:
        raise _gone()
    parsed = _read(data, progress)
    rows = len(parsed.rows)
    progress(
        rows,
        2 * rows,
        _("Comparing %(n)s rows with the organisation…") % {"n": f"{rows:,}"},
        force=True,
    )
    filename = job.params.get("filename", "")
    result = roster_import_parsed(
        actor=job.owner, company=company, parsed=parsed, filename=filename, dry_run=True
    )
    jobs.finish(job, jobs.Outcome(data=summary(result, company=company, filename=filename)))
    if not confirmable(job):
        jobs.discard_input(job)  # nothing to confirm: the file is not kept


def run_import(job: Job, progress: jobs.Progress) -> None:
    company = _company(job)
    check = Job.objects.filter(pk=job.params.get("check"), owner_id=job.owner_id, kind=CHECK)
    checked = check.first()
    data = jobs.read_input(checked) if checked is not None else None
    if checked is None or data is None:
        raise _gone()
    parsed = _read(data, progress)
    rows = len(parsed.rows)
    progress(rows, 2 * rows, _("Checking again and writing, all or nothing…"), force=True)
    filename = job.params.get("filename", "")
    with transaction.atomic():
        jobs.hold(job)  # the import and "done" commit together: a re-run finds it done
        result = roster_import_parsed(
            actor=job.owner, company=company, parsed=parsed, filename=filename, dry_run=False
        )
        jobs.finish(job, jobs.Outcome(data=summary(result, company=company, filename=filename)))
    jobs.discard_input(checked)


# --- The result, as JSON kept with the job ------------------------------------------------------


def summary(result: RosterResult, *, company: OrgUnit, filename: str) -> dict[str, Any]:
    """What the pages show of a check or an import: every count, the first errors and
    changes (the messages in the owner's language, which the job runs in)."""
    data: dict[str, Any] = {
        "company": company.pk,
        "company_name": company.name,
        "filename": filename,
        "applied": result.applied,
        "error_count": len(result.errors),
        "errors": [[e.row, e.column, e.message] for e in result.errors[:ERRORS_LISTED_AT_MOST]],
        "plan": None,
    }
    plan = result.plan
    if plan is not None:
        data["plan"] = {
            "counts": plan.counts,
            "has_changes": plan.has_changes,
            "new_departments": plan.new_departments,
            "new_teams": [unit_label(company, key) for key in plan.new_teams],
            "new_employees": [
                {
                    "employee_no": e.employee_no,
                    "name": e.name,
                    "unit_label": e.unit_label,
                    "position": e.position,
                    "representative": e.representative,
                }
                for e in plan.new_employees[:LISTED_AT_MOST]
            ],
            "changed_employees": [
                {"employee_no": c.employee_no, "name": c.name, "changes": c.changes}
                for c in plan.changed_employees[:LISTED_AT_MOST]
            ],
            "not_in_file": [
                {"employee_no": m.employee_no, "name": m.name, "unit_label": m.unit_label}
                for m in plan.not_in_file[:LISTED_AT_MOST]
            ],
        }
    return data


def _result_context(job: Job) -> dict[str, Any]:
    result = job.result or {}
    plan = result.get("plan")
    changed = [
        {
            "employee_no": c["employee_no"],
            "name": c["name"],
            "fields": [(field_label(name), before, after) for name, before, after in c["changes"]],
        }
        for c in (plan or {}).get("changed_employees", [])
    ]
    return {
        "roster": result,
        "plan": plan,
        "counts": (plan or {}).get("counts", {}),
        "changed_employees": changed,
        "errors": [
            {"row": row, "column": column, "message": message}
            for row, column, message in result.get("errors", [])
        ],
        "error_count": result.get("error_count", 0),
    }


def check_context(job: Job, user: Any) -> dict[str, Any]:
    started = import_of(job)
    return {
        **_result_context(job),
        "import_job": started,
        "confirmable": started is None and confirmable(job),
    }


def import_context(job: Job, user: Any) -> dict[str, Any]:
    return _result_context(job)


def _name(job: Job) -> str:
    return str(job.params.get("filename") or "")


def back_url(job: Job) -> str:
    return reverse("org:roster_import")


jobs.register(
    CHECK,
    run_check,
    allowed=allowed,
    title=lambda job: _("Roster check: %(file)s") % {"file": _name(job)},
    result_template="org/roster_check_result.html",
    result_context=check_context,
    back_url=back_url,
)
jobs.register(
    IMPORT,
    run_import,
    allowed=allowed,
    title=lambda job: _("Roster import: %(file)s") % {"file": _name(job)},
    result_template="org/roster_import_result.html",
    result_context=import_context,
    back_url=back_url,
)
