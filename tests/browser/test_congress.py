"""The congress on a phone: a representative checks in on the day and sees the quorum, then
drafts a motion and asks for seconds. Elements are found by names, ids and URLs, not
wording, so the test holds in either language."""

from __future__ import annotations

import pytest

from gongkai.congress.models import Attendance, Motion, MotionStatus
from tests.browser.test_shell import log_in
from tests.test_congress_support import build_congress

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_rep_checks_in_and_drafts_a_motion_on_a_phone(org, live_server, phone):
    c = build_congress(org)
    base = live_server.url
    log_in(phone, base, "rep")
    phone.wait_for_url(f"{base}/")
    session_url = f"{base}/congress/sessions/{c.session.pk}/"
    phone.goto(session_url)
    button = phone.locator(f"form[action='/congress/sessions/{c.session.pk}/check-in/'] button")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 44  # a large target
    button.click()
    phone.wait_for_url(session_url)
    assert Attendance.objects.filter(session=c.session, representative__user=org["rep"]).exists()
    assert phone.locator(".quorum").inner_text().count("1") >= 1
    assert phone.locator(f"form[action='/congress/sessions/{c.session.pk}/check-in/']").count() == 0
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.goto(f"{base}/congress/sessions/{c.session.pk}/motions/new/")
    phone.fill("#id_title", "关于增设夜班休息室的提案")
    phone.fill("#id_reasons", "夜班人员无固定休息场所。")
    phone.fill("#id_measures", "在集控楼增设休息室。")
    phone.locator("form.card button[type=submit]").click()
    phone.wait_for_url(f"{base}/congress/motions/*/")
    motion = Motion.objects.get()
    phone.goto(f"{base}/congress/motions/{motion.pk}/seek/")
    phone.locator("form.card button[type=submit]").click()
    phone.wait_for_url(f"{base}/congress/motions/{motion.pk}/")
    motion.refresh_from_db()
    assert motion.status == MotionStatus.SEEKING
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
