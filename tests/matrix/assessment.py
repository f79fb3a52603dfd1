"""Access-matrix rows for the assessment app's URL patterns (see tests/test_access_matrix.py).

Compliance figures: the union office, the leadership group and the supervision group (their
roles are held on the company). Scores, the published ranking and the annual report: every
employee of the company (the ranking is published). Weights and publishing: the supervision
group only."""

from __future__ import annotations

from django.urls import reverse

from tests.conftest import Org
from tests.matrix.helpers import Row, everyone, only

COMPLIANCE = {"union": 200, "leader": 200, "supervisor": 200}


def published_ranking(o: Org) -> int:
    from datetime import date

    from gongkai.assessment.models import DEFAULT_WEIGHTS
    from gongkai.assessment.services import ranking_publish, scheme_create

    scheme_create(
        actor=o["supervisor"],
        company=o.company,
        weights=DEFAULT_WEIGHTS,
        effective_from=date(2025, 1, 1),
    )
    return ranking_publish(actor=o["supervisor"], company=o.company, period="2025-H2").pk


ROWS: dict[str, list[Row]] = {
    "assessment:compliance": [
        (lambda o: reverse("assessment:compliance"), only(COMPLIANCE)),
        (lambda o: reverse("assessment:compliance") + f"?unit={o.boiler.code}", only(COMPLIANCE)),
        (
            lambda o: reverse("assessment:compliance") + f"?unit={o.other_dept.code}",
            only({k: 404 for k in COMPLIANCE}),
        ),
    ],
    "assessment:compliance_export": [
        (lambda o: reverse("assessment:compliance_export"), only(COMPLIANCE))
    ],
    "assessment:compliance_obligations": [
        (
            lambda o: reverse("assessment:compliance_obligations", args=[o.boiler_team.code]),
            only(COMPLIANCE),
        ),
        (
            lambda o: reverse("assessment:compliance_obligations", args=["no-such-unit"]),
            only({k: 404 for k in COMPLIANCE}),
        ),
    ],
    "assessment:assessment": [(lambda o: reverse("assessment:assessment"), everyone(200))],
    "assessment:assessment_unit": [
        (
            lambda o: reverse("assessment:assessment_unit", args=["2025-H2", o.boiler.code]),
            everyone(200),
        ),
        (
            lambda o: reverse("assessment:assessment_unit", args=["2025-H2", o.other_dept.code]),
            everyone(404),
        ),
    ],
    "assessment:ranking": [
        (lambda o: reverse("assessment:ranking", args=[published_ranking(o)]), everyone(200))
    ],
    "assessment:scheme": [(lambda o: reverse("assessment:scheme"), only({"supervisor": 200}))],
    "assessment:publish": [(lambda o: reverse("assessment:publish"), only({"supervisor": 200}))],
    "assessment:report_current": [(lambda o: reverse("assessment:report_current"), everyone(302))],
    "assessment:report": [
        (lambda o: reverse("assessment:report", args=[2025]), everyone(200)),
        (lambda o: reverse("assessment:report", args=[1999]), everyone(404)),
    ],
    # The PDF is made by a background job: the link goes to the job's page.
    "assessment:report_pdf": [
        (lambda o: reverse("assessment:report_pdf", args=[2025]), everyone(200)),
        (lambda o: reverse("assessment:report_pdf", args=[1999]), everyone(404)),
    ],
}
