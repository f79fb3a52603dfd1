"""An objection end to end in a phone browser: the employee files it anonymously with a
piece of evidence from the disclosure's page, and the supervision group, who alone sees the
filer, records its finding. Elements are found by form names and ids, not wording."""

from __future__ import annotations

import pytest
from django.utils import timezone

from gongkai.core.holidays import load_year
from gongkai.core.models import CalendarDay
from gongkai.publicity.models import Finding, Objection
from gongkai.publicity.services import publicity_open
from tests.browser.test_shell import log_in
from tests.factories import published_disclosure

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PDF_BYTES = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def test_file_an_anonymous_objection_and_record_the_finding(org, live_server, phone, tmp_path):
    load_year(CalendarDay, 2026)
    today = timezone.localdate()
    disclosure = published_disclosure(
        unit=org.boiler,
        entry_code="cadre-appointment",
        title="关于拟任锅炉分场副主任人选的任前公示",
        period="",
        event_date=today,
    )
    publicity = publicity_open(
        actor=org["depthead"], disclosure=disclosure, kind="cadre", starts_on=today
    )
    base = live_server.url

    log_in(phone, base, "employee")
    phone.wait_for_url(f"{base}/")
    phone.goto(f"{base}/disclosures/{disclosure.pk}/")
    phone.locator(f"a[href='/publicity/{publicity.pk}/object/']").click()
    phone.wait_for_url(f"{base}/publicity/{publicity.pk}/object/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.fill("#id_text", "拟任人选的安全考核记录与公示材料不符，请核查。")
    phone.check("#id_anonymous")
    evidence = tmp_path / "证据.pdf"
    evidence.write_bytes(PDF_BYTES)
    phone.set_input_files("#id_evidence", str(evidence))
    phone.locator("main form button.primary[type=submit]").click()
    phone.wait_for_url(f"{base}/publicity/{publicity.pk}/")
    objection = Objection.objects.get()
    assert objection.anonymous and objection.evidence.count() == 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.context.clear_cookies()

    log_in(phone, base, "supervisor")
    phone.wait_for_url(f"{base}/")
    phone.goto(f"{base}/publicity/{publicity.pk}/")
    assert "employee的姓名" in phone.content()  # the supervision group sees the filer
    phone.locator(f"a[href='/publicity/objection/{objection.pk}/finding/']").click()
    phone.wait_for_url(f"{base}/publicity/objection/{objection.pk}/finding/")
    phone.check("input[name=finding][value=unfounded]")
    phone.fill("#id_text", "经核查，记录属于另一名职工。")
    phone.locator("main form button.primary[type=submit]").click()
    phone.wait_for_url(f"{base}/publicity/{publicity.pk}/")
    objection.refresh_from_db()
    assert objection.finding == Finding.UNFOUNDED
    phone.context.clear_cookies()

    log_in(phone, base, "rep")
    phone.wait_for_url(f"{base}/")
    phone.goto(f"{base}/publicity/{publicity.pk}/")
    assert "employee的姓名" not in phone.content()
