from __future__ import annotations

import pytest

from tests.factories import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def log_in(page, base: str, employee_no: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("工号").fill(employee_no)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_employee_logs_in_and_sees_their_units(org, live_server, phone):
    log_in(phone, live_server.url, "employee")
    phone.wait_for_url(f"{live_server.url}/")
    assert phone.locator("h1").inner_text().startswith("欢迎")
    chain = phone.locator("nav.chain").inner_text()
    assert "示范热电有限责任公司" in chain and "锅炉分场" in chain and "锅炉运行一班" in chain
    # Phone layout: nothing wider than the screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_wrong_password_shows_the_error_and_keeps_the_number(org, live_server, phone):
    phone.goto(f"{live_server.url}/accounts/login/")
    phone.get_by_label("工号").fill("employee")
    phone.get_by_label("密码").fill("wrong-password")
    phone.get_by_role("button", name="登录").click()
    assert "工号或密码错误" in phone.locator(".errors").inner_text()
    assert phone.get_by_label("工号").input_value() == "employee"


def test_switches_language_and_back(org, live_server, phone):
    log_in(phone, live_server.url, "employee")
    phone.wait_for_url(f"{live_server.url}/")
    phone.get_by_role("button", name="English").click()
    phone.wait_for_load_state()
    assert phone.locator("html").get_attribute("lang") == "en"
    assert phone.locator("h1").inner_text().startswith("Welcome")
    phone.get_by_role("button", name="中文").click()
    phone.wait_for_load_state()
    assert phone.locator("html").get_attribute("lang") == "zh-hans"
    assert phone.locator("h1").inner_text().startswith("欢迎")


def test_keyboard_reaches_the_login_button(org, live_server, phone):
    phone.goto(f"{live_server.url}/accounts/login/")
    phone.get_by_label("工号").fill("employee")
    phone.keyboard.press("Tab")
    phone.keyboard.type(PASSWORD)
    phone.keyboard.press("Enter")
    phone.wait_for_url(f"{live_server.url}/")
