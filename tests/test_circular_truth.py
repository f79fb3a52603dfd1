"""A circular says only what the round's records support (issue 13, item 13): a department
is said to be inspected only when it was, and good practice needs figures behind it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from gongkai.supervision.circulars import circular_draft
from gongkai.supervision.models import Answer, InspectedDepartment
from gongkai.supervision.services import finding_record, inspection_record, round_close
from tests.conftest import Org
from tests.test_supervision import inspected, open_round

pytestmark = pytest.mark.usefixtures("english")
SECTIONS = {"I.": 0, "II.": 1, "V.": 4}


@pytest.fixture(autouse=True)
def english_circulars(settings):
    """Circulars are drafted in the site's language; these tests read them in English."""
    settings.LANGUAGE_CODE = "en"


def record(o: Org, round, unit, *, rate: float | None, met: bool = True) -> None:
    inspection_record(
        actor=o["supervisor"],
        inspected=inspected(round, unit),
        inspected_on=timezone.localdate(),
        answers={
            item.pk: (Answer.MET if met else Answer.NOT_MET, "") for item in round.checklist.all()
        },
    )
    # The on-time rate frozen at the inspection, as the compliance engine would have seen it.
    row = inspected(round, unit)
    snapshot = dict(row.compliance_snapshot or {})
    snapshot["disclosure"] = {"subtree": {"on_time_rate": rate}}
    InspectedDepartment.objects.filter(pk=row.pk).update(compliance_snapshot=snapshot)


def text_of(circular) -> str:
    out = []
    for section in circular.sections:
        out.append(section["heading"])
        out.extend(section["paragraphs"])
        if section.get("table"):
            out.extend(" ".join(map(str, r)) for r in section["table"]["rows"])
    return "\n".join(out)


def section(circular, number: str) -> dict:
    return circular.sections[SECTIONS[number]]


def test_an_uninspected_department_is_never_said_to_be_inspected(org: Org):
    round = open_round(org)
    record(org, round, org.boiler, rate=95.0)
    round_close(actor=org["supervisor"], round=round, reasons={org.turbine.pk: "停机大修"})
    circular = circular_draft(actor=org["supervisor"], round=round)
    overview = section(circular, "I.")["paragraphs"]
    assert "inspected the company affairs disclosure of 1 departments" in overview[0]
    assert org.boiler.name in overview[0] and org.turbine.name not in overview[0]
    assert any(org.turbine.name in p and "not inspected" in p and "停机大修" in p for p in overview)
    ranking = section(circular, "V.")["table"]["rows"]
    assert [row[1] for row in ranking] == [org.boiler.name]


def test_low_on_time_rates_are_not_cited_as_good_practice(org: Org):
    """The demo's case: every checklist item met, but 0–1.3 % of obligations on time."""
    round = open_round(org)
    record(org, round, org.boiler, rate=1.3)
    record(org, round, org.turbine, rate=0.0)
    round_close(actor=org["supervisor"], round=round)
    good = section(circular_draft(actor=org["supervisor"], round=round), "II.")
    text = "\n".join(good["paragraphs"])
    assert "met every item of the checklist" not in text
    assert f"{org.boiler.name} met" not in text and f"{org.turbine.name} met" not in text
    assert "No department is cited for good practice" in text


def test_good_practice_is_cited_when_the_figures_support_it(org: Org):
    round = open_round(org)
    record(org, round, org.boiler, rate=96.5)
    record(org, round, org.turbine, rate=97.0)
    finding_record(
        actor=org["supervisor"],
        inspected=inspected(round, org.turbine),
        text="汽机分场奖金分配公开不及时。",
        severity="major",
    )
    round_close(actor=org["supervisor"], round=round)
    good = "\n".join(
        section(circular_draft(actor=org["supervisor"], round=round), "II.")["paragraphs"]
    )
    assert f"{org.boiler.name} met every item of the checklist" in good
    assert "96.5%" in good
    # a major finding rules the turbine department out, whatever its rate
    assert f"{org.turbine.name} met" not in good
