"""The annual report's PDF, made in the background (``gongkai.core.jobs``).

``report_pdf`` checks that the person may read the company's report and starts the job (or
finds the same one asked for a moment ago); the job's page offers the download, to its
owner only and only while they may still read the report.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from gongkai.assessment.permissions import can_view_assessment
from gongkai.assessment.report import annual_report
from gongkai.assessment.report_pdf import render_report
from gongkai.core import jobs
from gongkai.core.files import PDF
from gongkai.core.models import Job
from gongkai.ledger import transparency
from gongkai.org.models import OrgUnit, UnitKind

REPORT = "assessment.report_pdf"
FIRST_YEAR = 2000


def report_params(company: OrgUnit, year: int) -> dict[str, Any]:
    return {"company": company.pk, "year": year}


def _company(job: Job) -> OrgUnit | None:
    return OrgUnit.objects.filter(pk=job.params.get("company"), kind=UnitKind.COMPANY).first()


def _year(job: Job) -> int | None:
    year = job.params.get("year")
    if not isinstance(year, int) or not FIRST_YEAR <= year <= timezone.localdate().year:
        return None
    return year


def allowed(user: Any, job: Job) -> bool:
    company = _company(job)
    return company is not None and _year(job) is not None and can_view_assessment(user, company)


def run(job: Job, progress: jobs.Progress) -> jobs.Outcome:
    company, year = _company(job), _year(job)
    if company is None or year is None:
        raise jobs.JobError(_("This report is not available."))
    progress(0, 2, _("Counting the year's figures…"), force=True)
    report = annual_report(company, year)
    progress(1, 2, _("Typesetting the document…"), force=True)
    return jobs.Outcome(
        file=render_report(report, transparency.document_mark()),
        file_name=f"report-{company.code}-{year}.pdf",
        content_type=PDF.content_type,
    )


def title(job: Job) -> str:
    company = _company(job)
    return _("Annual report %(year)s: %(company)s (PDF)") % {
        "year": job.params.get("year"),
        "company": company.name if company else "",
    }


def back_url(job: Job) -> str:
    company = _company(job)
    url = reverse("assessment:report", args=[job.params.get("year")])
    return f"{url}?{urlencode({'company': company.code})}" if company else url


jobs.register(REPORT, run, allowed=allowed, title=title, back_url=back_url)
