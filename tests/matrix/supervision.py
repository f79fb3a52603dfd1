"""Access-matrix rows for the supervision app's URL patterns (see tests/test_access_matrix.py).

Rounds are for the supervision group (which manages them) and for those who watch compliance
(the union office and the leadership group); a department's inspection and rectifications
are also its head's. Issued circulars are published to the whole company; drafts are the
supervision group's. Accountability decisions: the person concerned and ACCOUNTABILITY_VIEW;
others get the same 404 as for a decision that does not exist."""

from __future__ import annotations

from django.urls import reverse

from tests.conftest import Org
from tests.matrix.helpers import Row, everyone, only

MANAGER = {"supervisor": 200}
VIEWERS = {"union": 200, "leader": 200, "supervisor": 200}
DEPARTMENT = {**VIEWERS, "depthead": 200}


def open_round(o: Org):
    from datetime import date

    from gongkai.supervision.services import round_open

    return round_open(
        actor=o["supervisor"],
        company=o.company,
        title="2026年上半年",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 6, 30),
        departments=[o.boiler, o.turbine],
    )


def boiler_inspection(o: Org):
    return open_round(o).departments.get(department=o.boiler)


def finding(o: Org):
    from gongkai.supervision.services import finding_record

    return finding_record(
        actor=o["supervisor"],
        inspected=boiler_inspection(o),
        text="公开栏未按月更新",
        severity="major",
    )


def draft_circular(o: Org):
    from gongkai.supervision.circulars import circular_draft
    from gongkai.supervision.services import round_close

    round = finding(o).inspected.round
    round_close(actor=o["supervisor"], round=round, reasons={o.turbine.pk: "停机检修"})
    return circular_draft(actor=o["supervisor"], round=round)


def issued_circular(o: Org):
    from gongkai.supervision.circulars import circular_issue

    return circular_issue(actor=o["supervisor"], circular=draft_circular(o))


def decision(o: Org):
    from django.utils import timezone

    from gongkai.supervision.accountability import accountability_record

    return accountability_record(
        actor=o["supervisor"],
        person=o["depthead"],
        measure="criticism",
        decided_on=timezone.localdate(),
        cause="材料费未按时公开",
    )


def sent_patrol(o: Org):
    from django.utils import timezone

    from gongkai.congress.records import patrol_record, patrol_send

    patrol = patrol_record(
        actor=o["rep"],
        company=o.company,
        patrolled_on=timezone.localdate(),
        units=[o.boiler],
        findings="通风不良",
    )
    patrol_send(actor=o["union"], patrol=patrol)
    return patrol


def patrol_item(o: Org):
    from datetime import timedelta

    from django.utils import timezone

    from gongkai.supervision.rectification import rectification_open_from_patrol

    return rectification_open_from_patrol(
        actor=o["supervisor"],
        patrol=sent_patrol(o),
        unit=o.boiler,
        problem="通风不良，需整改",
        due_on=timezone.localdate() + timedelta(days=30),
    )


def url(name: str, builder=None):
    if builder is None:
        return lambda o: reverse(f"supervision:{name}")
    return lambda o: reverse(f"supervision:{name}", args=[builder(o).pk])


ROWS: dict[str, list[Row]] = {
    "supervision:home": [(url("home"), everyone(200))],
    "supervision:round_list": [(url("round_list"), only(VIEWERS))],
    "supervision:round_create": [(url("round_create"), only(MANAGER))],
    "supervision:round_detail": [(url("round_detail", open_round), only(VIEWERS))],
    "supervision:round_checklist": [(url("round_checklist", open_round), only(MANAGER))],
    "supervision:round_close": [(url("round_close", open_round), only(MANAGER))],
    "supervision:circular_create": [(url("circular_create", open_round), everyone(405))],
    "supervision:inspection_detail": [
        (url("inspection_detail", boiler_inspection), only(DEPARTMENT))
    ],
    "supervision:inspection_edit": [(url("inspection_edit", boiler_inspection), only(MANAGER))],
    "supervision:inspection_file": [
        # No file attached yet: those who may see the inspection get 404.
        (url("inspection_file", boiler_inspection), only(dict.fromkeys(DEPARTMENT, 404)))
    ],
    "supervision:finding_create": [(url("finding_create", boiler_inspection), only(MANAGER))],
    "supervision:rectification_list": [
        (url("rectification_list"), only({**DEPARTMENT, "teamlead": 200})),
        (
            lambda o: reverse("supervision:rectification_list") + f"?patrol={sent_patrol(o).pk}",
            only({**DEPARTMENT, "teamlead": 200}),
        ),
    ],
    "supervision:rectification_from_patrol": [
        (url("rectification_from_patrol", sent_patrol), only(MANAGER))
    ],
    "supervision:rectification_detail": [
        (
            lambda o: reverse(
                "supervision:rectification_detail", args=[finding(o).rectification.pk]
            ),
            only(DEPARTMENT),
        ),
        (url("rectification_detail", patrol_item), only(DEPARTMENT)),
    ],
    "supervision:rectification_report": [
        (
            lambda o: reverse(
                "supervision:rectification_report", args=[finding(o).rectification.pk]
            ),
            everyone(405),
        )
    ],
    "supervision:rectification_verify": [
        (
            lambda o: reverse(
                "supervision:rectification_verify", args=[finding(o).rectification.pk]
            ),
            everyone(405),
        )
    ],
    "supervision:rectification_evidence": [
        (
            lambda o: reverse(
                "supervision:rectification_evidence", args=[finding(o).rectification.pk]
            ),
            only(dict.fromkeys(DEPARTMENT, 404)),
        )
    ],
    "supervision:circular_list": [(url("circular_list"), everyone(200))],
    "supervision:circular_detail": [
        (url("circular_detail", issued_circular), everyone(200)),
        (url("circular_detail", draft_circular), only(MANAGER)),
    ],
    "supervision:circular_edit": [(url("circular_edit", draft_circular), only(MANAGER))],
    "supervision:circular_issue": [(url("circular_issue", draft_circular), only(MANAGER))],
    "supervision:circular_supersede": [(url("circular_supersede", issued_circular), everyone(405))],
    # The document is made by a background job: the link goes to the job's page.
    "supervision:circular_pdf": [
        (url("circular_pdf", issued_circular), everyone(200)),
        (url("circular_pdf", draft_circular), only({"supervisor": 200})),
    ],
    "supervision:circular_docx": [
        (url("circular_docx", issued_circular), everyone(200)),
        (url("circular_docx", draft_circular), only({"supervisor": 200})),
    ],
    "supervision:accountability_list": [(url("accountability_list"), everyone(200))],
    "supervision:accountability_create": [(url("accountability_create"), only(MANAGER))],
    "supervision:accountability_detail": [
        (
            url("accountability_detail", decision),
            only(
                {
                    "supervisor": 200,
                    "discipline": 200,
                    "leader": 200,
                    "union": 200,
                    "depthead": 200,
                },
                others=404,
            ),
        )
    ],
}
