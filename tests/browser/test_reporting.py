"""A report from a phone, without signing in: the code is shown once (reloading the page files
nothing again); an inspector answers and concludes; the reporter reads the conclusion with
the code."""

from __future__ import annotations

import re

import pytest

from gongkai.reporting.tasks import release_due
from tests.browser.test_shell import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_anonymous_report_answered_and_concluded(org, live_server, phone, browser, settings):
    settings.REPORTING_RELEASE_SECONDS = 0  # due at once: the next run of the release task
    base = live_server.url
    phone.goto(f"{base}/report/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.select_option("[name=company]", "rd")
    phone.fill("[name=subject]", "材料费报销疑点")
    phone.fill("[name=body]", "十月材料费报销单据重复。")
    phone.locator("form[enctype] button[type=submit]").click()
    code = phone.locator(".secret code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){4}", code)
    assert code not in phone.url
    assert not [c for c in phone.context.cookies() if c["name"] == "sessionid"]
    # Reloading the page with the code sends the form again: nothing is filed, no new code.
    phone.once("dialog", lambda dialog: dialog.accept())  # "Confirm form resubmission"
    phone.reload()
    assert phone.locator(".secret code").count() == 0
    assert phone.locator("[role=alert]").count() == 1
    assert not re.search(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){4}", phone.locator("main").inner_text())

    # The queue's release task runs (every minute with this window); the inbox only reads.
    release_due.call_local()

    context = browser.new_context()
    inspector = context.new_page()
    log_in(inspector, base, "discipline")
    inspector.wait_for_url(f"{base}/")
    inspector.goto(f"{base}/report/inbox/")
    inspector.locator("main table a").first.click()
    assert "材料费报销疑点" in inspector.locator("main").inner_text()
    inspector.fill("[name=body]", "请提供单据编号。")
    inspector.locator("form[action$='/reply/'] button").click()
    inspector.select_option("[name=to]", "concluded")
    inspector.fill("[name=summary]", "经查属实，已追回重复报销款。")
    inspector.locator("form[action$='/status/'] button").click()
    assert "经查属实，已追回重复报销款。" in inspector.locator("main").inner_text()
    inspector.locator("form input[name=confirm] ~ p button[type=submit]").click()
    assert "经查属实" in inspector.locator("main").inner_text()
    # The site's own forms still work on the inspectors' pages (log out).
    inspector.locator("form.logout button").click()
    inspector.wait_for_url(re.compile(r".*/accounts/login/.*"))
    context.close()

    phone.goto(f"{base}/report/receipt/")
    phone.fill("[name=code]", code.lower().replace("-", " "))
    phone.locator("main form button[type=submit]").click()
    text = phone.locator("main").inner_text()
    assert "请提供单据编号。" in text and "经查属实，已追回重复报销款。" in text
    assert code not in phone.url
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    # The language switch works on the reporter's pages, and sets no session.
    phone.locator("form.lang button[value=en]").click()
    phone.wait_for_url(f"{base}/report/receipt/")
    assert phone.locator("html").get_attribute("lang") == "en"
    assert not [c for c in phone.context.cookies() if c["name"] == "sessionid"]
