"""Access-matrix rows for the reporting app's URL patterns (see tests/test_access_matrix.py).

The reporter's pages answer everyone, signed in or not; the inspectors' pages only the
discipline inspectors (others: 403; a report they may not see: 404)."""

from __future__ import annotations

from uuid import uuid4

from django.urls import reverse

from tests.conftest import Org
from tests.matrix.helpers import Row, everyone, only

INSPECTOR = {"discipline": 200}


def released(o: Org, **kwargs):
    """A report sent online and released to the inspectors."""
    from gongkai.reporting.release import deliver
    from gongkai.reporting.services import report_find, report_submit

    code = report_submit(company=o.company, subject="举报", body="内容", **kwargs).code
    deliver(everything=True)
    return report_find(code=code)


def a_report(o: Org):
    return released(o)


def an_evidence(o: Org):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (2, 2), "red").save(out, "PNG")
    report = released(o, uploads=[SimpleUploadedFile("a.png", out.getvalue())])
    return report, report.evidence.get()


ROWS: dict[str, list[Row]] = {
    "reporting:submit": [(lambda o: reverse("reporting:submit"), everyone(200, anon=200))],
    "reporting:receipt": [(lambda o: reverse("reporting:receipt"), everyone(200, anon=200))],
    "reporting:receipt_add": [
        (lambda o: reverse("reporting:receipt_add"), everyone(405, anon=405))
    ],
    "reporting:language": [(lambda o: reverse("reporting:language"), everyone(405, anon=405))],
    "reporting:inbox": [(lambda o: reverse("reporting:inbox"), only(INSPECTOR))],
    "reporting:enter": [(lambda o: reverse("reporting:enter"), only(INSPECTOR))],
    "reporting:channel": [
        (lambda o: reverse("reporting:channel"), only(INSPECTOR)),
        (lambda o: reverse("reporting:channel") + "?company=other", only({"discipline": 404})),
    ],
    "reporting:detail": [
        (lambda o: reverse("reporting:detail", args=[a_report(o).pk]), only(INSPECTOR)),
        (lambda o: reverse("reporting:detail", args=[uuid4()]), only({"discipline": 404})),
    ],
    "reporting:transition": [
        (lambda o: reverse("reporting:transition", args=[a_report(o).pk]), everyone(405))
    ],
    "reporting:reply": [
        (lambda o: reverse("reporting:reply", args=[a_report(o).pk]), everyone(405))
    ],
    "reporting:duplicate": [
        (lambda o: reverse("reporting:duplicate", args=[a_report(o).pk]), everyone(405))
    ],
    "reporting:evidence": [
        (
            lambda o: reverse("reporting:evidence", args=[r.pk for r in an_evidence(o)]),
            only(INSPECTOR),
        ),
        (
            lambda o: reverse("reporting:evidence", args=[a_report(o).pk, uuid4()]),
            only({"discipline": 404}),
        ),
    ],
}
