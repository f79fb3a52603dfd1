"""Access-matrix rows for the publicity app's URL patterns (see tests/test_access_matrix.py)."""

from __future__ import annotations

from django.urls import reverse

from tests.conftest import Org
from tests.matrix.helpers import Row, everyone, only

OPENERS = {"union": 200, "depthead": 200}


def cadre_item(o: Org, unit=None):
    """A published cadre pre-appointment item of the boiler department (or ``unit``)."""
    from django.utils import timezone

    from tests.factories import published_disclosure

    return published_disclosure(
        unit=unit or o.boiler,
        entry_code="cadre-appointment",
        title="拟任人选任前公示",
        period="",
        event_date=timezone.localdate(),
    )


def open_window(o: Org, unit=None):
    """A window on it, open today, opened by the union office."""
    from django.utils import timezone

    from gongkai.publicity.services import publicity_open

    return publicity_open(
        actor=o["union"] if unit is None else o["outsider_union"],
        disclosure=cadre_item(o, unit),
        kind="cadre",
        starts_on=timezone.localdate(),
    )


def other_company_window(o: Org):
    from gongkai.org.models import Role
    from gongkai.org.services import role_grant
    from tests.factories import UserFactory

    union = UserFactory(unit=o.other_dept)
    role_grant(actor=None, user=union, role=Role.UNION_OFFICE, unit=o.other_company)
    o.users["outsider_union"] = union
    return open_window(o, o.other_company)


def objection(o: Org, *, by: str = "employee"):
    from gongkai.publicity.services import objection_file

    return objection_file(
        actor=o[by],
        publicity=open_window(o),
        text="拟任人选的考核材料与事实不符，请核查。",
        anonymous=True,
    )


def evidence(o: Org):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from gongkai.publicity.services import objection_file

    pdf = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"
    item = objection_file(
        actor=o["employee"],
        publicity=open_window(o),
        text="拟任人选的考核材料与事实不符，请核查。",
        anonymous=True,
        uploads=[SimpleUploadedFile("证据.pdf", pdf)],
    )
    return item.evidence.get()


def holiday_pk(o: Org) -> int:
    from datetime import date

    from gongkai.core.holidays import load_year
    from gongkai.core.models import CalendarDay

    load_year(CalendarDay, 2026)
    return CalendarDay.objects.get(day=date(2026, 10, 1)).pk


ROWS: dict[str, list[Row]] = {
    "publicity:index": [(lambda o: reverse("publicity:index"), everyone(200))],
    "publicity:calendar_current": [
        (lambda o: reverse("publicity:calendar_current"), everyone(302))
    ],
    "publicity:calendar": [
        (lambda o: reverse("publicity:calendar", args=[2026]), everyone(200)),
        (lambda o: reverse("publicity:calendar", args=[1999]), everyone(404)),
    ],
    "publicity:calendar_remove": [
        (
            lambda o: reverse("publicity:calendar_remove", args=[holiday_pk(o)]),
            only({"union": 200}),
        ),
    ],
    "publicity:open": [
        (lambda o: reverse("publicity:open", args=[cadre_item(o).pk]), only(OPENERS)),
        (
            lambda o: reverse("publicity:open", args=[cadre_item(o, o.turbine).pk]),
            # the turbine department's internal item: unreadable for boiler people (404)
            only({"union": 200}, others=404)
            | {"leader": 403, "supervisor": 403, "discipline": 403},
        ),
    ],
    "publicity:detail": [
        (lambda o: reverse("publicity:detail", args=[open_window(o).pk]), everyone(200)),
        (
            lambda o: reverse("publicity:detail", args=[other_company_window(o).pk]),
            everyone(404),
        ),
        (lambda o: reverse("publicity:detail", args=[999_999]), everyone(404)),
    ],
    "publicity:object": [
        (lambda o: reverse("publicity:object", args=[open_window(o).pk]), everyone(200)),
        (
            lambda o: reverse("publicity:object", args=[other_company_window(o).pk]),
            everyone(404),
        ),
    ],
    "publicity:outcome": [
        (lambda o: reverse("publicity:outcome", args=[open_window(o).pk]), only(OPENERS)),
    ],
    "publicity:finding": [
        (
            lambda o: reverse("publicity:finding", args=[objection(o).pk]),
            only({"supervisor": 200}),
        ),
    ],
    "publicity:evidence": [
        (
            lambda o: reverse("publicity:evidence", args=[evidence(o).pk]),
            only({"supervisor": 200, "employee": 200}, others=404),
        ),
    ],
}
