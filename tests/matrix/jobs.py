"""Access-matrix rows for the background jobs' pages (see tests/test_access_matrix.py): a
job is its owner's alone; anyone else gets the 404 of a job that does not exist."""

from __future__ import annotations

from django.urls import reverse

from tests.conftest import Org
from tests.matrix.helpers import Row, everyone, only

OWNER = {"union": 200}


def done_job(o: Org) -> str:
    """A finished annual-report job of the union office, with its file."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from gongkai.core.jobs import params_key
    from gongkai.core.models import Job, JobStatus

    params = {"company": o.company.pk, "year": 2025}
    job = Job.objects.create(
        kind="assessment.report_pdf",
        owner=o["union"],
        params=params,
        params_key=params_key(params),
        status=JobStatus.DONE,
        file=default_storage.save("jobs/matrix.pdf", ContentFile(b"%PDF-1.7 matrix")),
        file_name="report-rd-2025.pdf",
        content_type="application/pdf",
    )
    return str(job.pk)


def url(name: str):
    return lambda o: reverse(name, args=[done_job(o)])


MISSING = "00000000-0000-0000-0000-000000000000"

ROWS: dict[str, list[Row]] = {
    "core:job": [
        (url("core:job"), only(OWNER, others=404)),
        (lambda o: reverse("core:job", args=[MISSING]), everyone(404)),
    ],
    # Finished: the fragment answers htmx's "stop polling" status.
    "core:job_status": [(url("core:job_status"), only({"union": 286}, others=404))],
    "core:job_download": [
        (url("core:job_download"), only(OWNER, others=404)),
        (lambda o: reverse("core:job_download", args=[MISSING]), everyone(404)),
    ],
}
