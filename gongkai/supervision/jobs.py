"""A circular's PDF and Word document, made in the background (``gongkai.core.jobs``).

The circular's page links to ``circular_pdf`` / ``circular_docx``, which check that the
person may read the circular and start the job (or find the same one asked for a moment
ago, for the same version of the circular); the job's page offers the download, to its
owner only and only while they may still read the circular.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from gongkai.core import jobs
from gongkai.core.documents.pdf import render_pdf
from gongkai.core.documents.word import render_docx
from gongkai.core.files import DOCX, PDF
from gongkai.core.models import Job
from gongkai.supervision.circulars import circular_document
from gongkai.supervision.models import Circular
from gongkai.supervision.permissions import can_read_circular

DOCUMENT = "supervision.circular_document"
FORMATS = {"pdf": (PDF, render_pdf), "docx": (DOCX, render_docx)}


def document_params(circular: Circular, fmt: str) -> dict[str, Any]:
    """The job's parameters; the version makes a draft edited since a new job."""
    return {"circular": circular.pk, "format": fmt, "version": circular.updated_at.isoformat()}


def _circular(job: Job) -> Circular | None:
    return (
        Circular.objects.select_related(
            "round__company", "supersedes", "disclosure", "disclosure__published_revision"
        )
        .filter(pk=job.params.get("circular"))
        .first()
    )


def allowed(user: Any, job: Job) -> bool:
    circular = _circular(job)
    return circular is not None and can_read_circular(user, circular)


def run(job: Job, progress: jobs.Progress) -> jobs.Outcome:
    circular = _circular(job)
    if circular is None:
        raise jobs.JobError(_("The circular no longer exists."))
    kind, render = FORMATS[job.params.get("format", "pdf")]
    progress(0, 1, _("Typesetting the document…"), force=True)
    return jobs.Outcome(
        file=render(circular_document(circular)),
        file_name=f"{circular.title}{kind.extension}",
        content_type=kind.content_type,
    )


def title(job: Job) -> str:
    label = "Word (.docx)" if job.params.get("format") == "docx" else "PDF"
    circular = Circular.objects.filter(pk=job.params.get("circular")).only("title").first()
    return _("Circular %(title)s: %(format)s") % {
        "title": f"“{circular.title}”" if circular else "",
        "format": label,
    }


def back_url(job: Job) -> str:
    return reverse("supervision:circular_detail", args=[job.params.get("circular")])


jobs.register(DOCUMENT, run, allowed=allowed, title=title, back_url=back_url)
