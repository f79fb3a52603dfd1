"""Login by employee number, per-account lockout, sessions and password rules."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.audit.models import AuditEvent
from gongkai.core import limits
from tests.conftest import Org
from tests.factories import PASSWORD


@pytest.fixture(autouse=True)
def fresh_limits():
    """The shared counters (per client, per unknown number, per browser) start empty."""
    limits.store().clear()
    yield
    limits.store().clear()


def attempt(client: Client, employee_no: str, password: str):
    return client.post(reverse("accounts:login"), {"username": employee_no, "password": password})


def test_login_with_employee_number_lands_on_home(org: Org, client: Client):
    response = attempt(client, "employee", PASSWORD)
    assert response.status_code == 302
    home = client.get(response["Location"])
    assert "employee的姓名" in home.content.decode()


def test_wrong_password_is_refused_with_the_same_message_as_unknown_number(
    org: Org, client: Client
):
    wrong = attempt(client, "employee", "not-the-password")
    unknown = attempt(client, "no-such-person", "not-the-password")
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.context["form"].errors == unknown.context["form"].errors
    assert "_auth_user_id" not in client.session


@pytest.fixture
def limit(settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_LOCKOUT_SECONDS = 900
    return 5


def test_repeated_failures_lock_the_account_even_for_the_right_password(org, client, limit):
    for _ in range(limit):
        attempt(client, "employee", "wrong-password")
    user = User.objects.get(employee_no="employee")
    assert user.locked_until is not None
    assert user.locked_until - timezone.now() <= timedelta(seconds=900)
    response = attempt(client, "employee", PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert response.context["form"].errors["__all__"][0].startswith(("Too many", "失败次数"))
    event = AuditEvent.objects.get(action="accounts.locked")
    assert event.target_id == str(user.pk)


def test_lockout_is_per_account_not_site_wide(org, client, limit):
    for _ in range(limit):
        attempt(client, "employee", "wrong-password")
    response = attempt(client, "rep", PASSWORD)
    assert response.status_code == 302


def test_fewer_failures_than_the_limit_do_not_lock(org, client, limit):
    for _ in range(limit - 1):
        attempt(client, "employee", "wrong-password")
    assert attempt(client, "employee", PASSWORD).status_code == 302
    assert User.objects.get(employee_no="employee").failed_logins == 0


def test_success_resets_the_count(org, client, limit):
    for _ in range(limit - 1):
        attempt(client, "employee", "wrong-password")
    attempt(client, "employee", PASSWORD)
    client.logout()
    for _ in range(limit - 1):
        attempt(client, "employee", "wrong-password")
    assert User.objects.get(employee_no="employee").locked_until is None


def test_lock_ends_after_the_cool_off(org, client, limit):
    for _ in range(limit):
        attempt(client, "employee", "wrong-password")
    User.objects.filter(employee_no="employee").update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )
    assert attempt(client, "employee", PASSWORD).status_code == 302


def test_unknown_numbers_record_nothing(org, client, limit):
    events = AuditEvent.objects.count()
    for _ in range(limit * 2):
        attempt(client, "ghost-0001", "wrong-password")
    assert AuditEvent.objects.count() == events
    assert attempt(client, "employee", PASSWORD).status_code == 302


def test_inactive_account_cannot_log_in(org, client):
    User.objects.filter(employee_no="employee").update(is_active=False)
    response = attempt(client, "employee", PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_union_office_unlocks_an_account(org, client, limit):
    for _ in range(limit):
        attempt(client, "employee", "wrong-password")
    admin = Client()
    admin.force_login(org["union"])
    page = admin.get(reverse("org:person_detail", args=["employee"]))
    assert reverse("org:person_unlock", args=["employee"]) in page.content.decode()
    admin.post(reverse("org:person_unlock", args=["employee"]))
    assert attempt(client, "employee", PASSWORD).status_code == 302


def test_expired_session_sends_the_user_back_to_login(org, client):
    attempt(client, "employee", PASSWORD)
    assert client.get(reverse("home")).status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_sessions_do_not_outlive_a_shift(settings):
    assert settings.SESSION_COOKIE_AGE <= 12 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_logout_is_a_post_and_ends_the_session(org, client):
    attempt(client, "employee", PASSWORD)
    assert client.get(reverse("accounts:logout")).status_code == 405
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.parametrize("weak", ["short1", "1234567890123", "password1234", "employee的姓名1"])
def test_weak_passwords_are_refused(org, client, weak):
    client.force_login(org["employee"])
    old_hash = User.objects.get(employee_no="employee").password
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": weak, "new_password2": weak},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert User.objects.get(employee_no="employee").password == old_hash


def test_password_change_is_audited_and_keeps_the_session(org, client):
    client.force_login(org["employee"])
    new = "Boiler-Shift-2026!"
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert User.objects.get(employee_no="employee").check_password(new)
    assert AuditEvent.objects.filter(action="accounts.password_changed").count() == 1


def test_passwords_are_hashed_with_argon2_in_production_settings():
    from config.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_temporary_password_lets_an_imported_employee_in_once_then_forces_a_change(org):
    union = Client()
    union.force_login(org["union"])
    User.objects.filter(employee_no="employee").update(password="!unusable")
    page = union.post(reverse("org:person_password", args=["employee"]))
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    temporary = page.context["password"]
    assert len(temporary) == 14
    assert AuditEvent.objects.filter(action="accounts.temporary_password_issued").count() == 1
    assert temporary not in str(list(AuditEvent.objects.values_list("after", flat=True)))

    worker = Client()
    assert attempt(worker, "employee", temporary).status_code == 302
    # Every page leads to the password change until a new password is chosen.
    response = worker.get(reverse("org:unit_list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change")
    new = "My-Own-Boiler-Pass-7"
    worker.post(
        reverse("accounts:password_change"),
        {"old_password": temporary, "new_password1": new, "new_password2": new},
    )
    assert worker.get(reverse("org:unit_list")).status_code == 200
    worker.logout()
    assert attempt(worker, "employee", temporary).status_code == 200
    assert attempt(worker, "employee", new).status_code == 302


@pytest.mark.parametrize("who", ["leader", "supervisor", "depthead", "teamlead", "employee"])
def test_only_the_union_office_issues_temporary_passwords(org, who):
    c = Client()
    c.force_login(org[who])
    old = User.objects.get(employee_no="rep").password
    response = c.post(reverse("org:person_password", args=["rep"]))
    assert response.status_code == 403
    assert User.objects.get(employee_no="rep").password == old


@pytest.mark.parametrize("who", ["union", "leader", "supervisor", "depthead", "teamlead", "rep"])
def test_deactivating_an_account_ends_its_sessions_and_is_audited(org, who):
    worker = Client()
    assert attempt(worker, "employee", PASSWORD).status_code == 302
    manager = Client()
    manager.force_login(org[who])
    response = manager.post(reverse("org:person_active", args=["employee"]))
    active = User.objects.get(employee_no="employee").is_active
    if who != "union":
        assert response.status_code == 403
        assert active
        assert worker.get(reverse("home")).status_code == 200
        return
    assert response.status_code == 302
    assert not active
    assert worker.get(reverse("home")).status_code == 302
    assert attempt(Client(), "employee", PASSWORD).status_code == 200
    event = AuditEvent.objects.get(action="accounts.deactivated")
    assert (event.before, event.after) == ({"is_active": True}, {"is_active": False})
    manager.post(reverse("org:person_active", args=["employee"]))
    assert User.objects.get(employee_no="employee").is_active
    assert attempt(Client(), "employee", PASSWORD).status_code == 302


def test_the_union_office_cannot_deactivate_itself(org):
    c = Client()
    c.force_login(org["union"])
    c.post(reverse("org:person_active", args=["union"]))
    assert User.objects.get(employee_no="union").is_active
    assert not AuditEvent.objects.filter(action="accounts.deactivated").exists()


# --- Throttling that holds and cannot be turned against the owner (docs/SECURITY.md) --------


def error_codes(response) -> list[str]:
    return [e.code for e in response.context["form"].errors.as_data().get("__all__", [])]


def without_csrf(response) -> str:
    import re

    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_pauses_grow_after_the_limit_and_stop_growing(org, client, limit, settings):
    import time_machine

    settings.LOGIN_DELAY_SECONDS = 60
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(limit):
            attempt(client, "employee", "wrong-password")
        pauses = []
        for _ in range(6):
            user = User.objects.get(employee_no="employee")
            pauses.append(round((user.locked_until - timezone.now()).total_seconds()))
            # While paused nothing is checked, not even the right password, and nothing counts.
            assert error_codes(attempt(client, "employee", PASSWORD)) == ["locked"]
            assert User.objects.get(employee_no="employee").failed_logins == user.failed_logins
            clock.move_to(user.locked_until)
            assert error_codes(attempt(client, "employee", "wrong-again")) == ["locked"]
        assert pauses == [60, 120, 240, 480, 900, 900]
        clock.move_to(User.objects.get(employee_no="employee").locked_until)
        assert attempt(client, "employee", PASSWORD).status_code == 302
    user = User.objects.get(employee_no="employee")
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_a_day_without_a_guess_starts_the_count_again(org, client, limit, settings):
    import time_machine

    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(limit - 1):
            attempt(client, "employee", "wrong-password")
        clock.shift(timedelta(seconds=settings.LOGIN_FAILURE_RESET_SECONDS))
        for _ in range(limit - 1):
            assert error_codes(attempt(client, "employee", "wrong-password")) == ["invalid_login"]
    assert User.objects.get(employee_no="employee").locked_until is None


def test_an_unknown_number_gets_the_same_answers_as_an_account(org, limit, settings):
    """Step by step — wrong, wrong, …, paused, paused after the pause — the pages for a
    real account and for a number nobody has are the same bytes (bar the CSRF token)."""
    import time_machine

    settings.LANGUAGE_CODE = "en"
    real, ghost = Client(), Client()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for step in range(limit + 3):
            a = attempt(real, "employee", f"wrong-{step}")
            b = attempt(ghost, "ghost-0042", f"wrong-{step}")
            assert a.status_code == b.status_code == 200
            assert error_codes(a) == error_codes(b), step
            page_a = without_csrf(a).replace('value="employee"', 'value="N"')
            assert page_a == without_csrf(b).replace('value="ghost-0042"', 'value="N"'), step
            if step == limit + 1:
                clock.move_to(User.objects.get(employee_no="employee").locked_until)
    assert error_codes(a) == ["locked"]


def test_the_owners_browser_is_never_paused_by_a_stranger(org, limit):
    owner = Client()
    assert attempt(owner, "union", PASSWORD).status_code == 302
    cookie = owner.cookies[settings_device_cookie()]
    assert cookie["path"] == reverse("accounts:login") and cookie["httponly"]
    assert cookie["samesite"] == "Strict"
    owner.post(reverse("accounts:logout"))

    stranger = Client(REMOTE_ADDR="198.51.100.7")
    for i in range(limit + 2):
        attempt(stranger, "union", f"guess-{i}")
    assert error_codes(attempt(stranger, "union", PASSWORD)) == ["locked"]
    # The owner's own browser signs in at once, and leaves the strangers' count alone.
    assert attempt(owner, "union", PASSWORD).status_code == 302
    assert User.objects.get(employee_no="union").locked_until is not None


def test_a_known_browser_has_its_own_count(org, limit):
    owner = Client()
    attempt(owner, "employee", PASSWORD)
    owner.post(reverse("accounts:logout"))
    for i in range(limit):
        attempt(owner, "employee", f"typo-{i}")
    assert error_codes(attempt(owner, "employee", PASSWORD)) == ["locked"]
    # …which is not the account's: a new browser (a new phone) is not paused by it.
    user = User.objects.get(employee_no="employee")
    assert (user.failed_logins, user.locked_until) == (0, None)
    assert attempt(Client(), "employee", PASSWORD).status_code == 302


@pytest.mark.parametrize("forged", ["tampered", "other-account"])
def test_a_forged_or_borrowed_browser_cookie_is_an_unknown_browser(org, limit, forged):
    from django.core import signing

    browser = Client()
    attempt(browser, "rep", PASSWORD)  # a real cookie, for another account
    browser.post(reverse("accounts:logout"))
    if forged == "tampered":
        browser.cookies[settings_device_cookie()] = signing.dumps(
            [[org["employee"].pk, "made-up"]], salt="not-the-salt"
        )
    for i in range(limit):
        attempt(browser, "employee", f"guess-{i}")
    assert User.objects.get(employee_no="employee").locked_until is not None
    assert error_codes(attempt(browser, "employee", PASSWORD)) == ["locked"]


def settings_device_cookie() -> str:
    from django.conf import settings

    return settings.LOGIN_DEVICE_COOKIE_NAME


@pytest.fixture
def client_limit(settings):
    settings.LOGIN_CLIENT_FAILURE_LIMIT = 3
    return 3


def test_guessing_across_accounts_from_one_address_is_limited(org, client_limit):
    sprayer = Client(REMOTE_ADDR="198.51.100.50")
    victims = ["employee", "rep", "teamlead", "depthead"]
    for victim in victims[:client_limit]:
        assert error_codes(attempt(sprayer, victim, "Spring-2026!")) == ["invalid_login"]
    assert error_codes(attempt(sprayer, victims[3], "Spring-2026!")) == ["busy"]
    assert error_codes(attempt(sprayer, "depthead", PASSWORD)) == ["busy"]
    assert User.objects.get(employee_no="depthead").failed_logins == 0  # nothing checked
    # Another address is not affected, and neither is a browser that knows its account.
    assert attempt(Client(REMOTE_ADDR="198.51.100.51"), "depthead", PASSWORD).status_code == 302


def test_right_passwords_do_not_count_against_the_address(org, client_limit):
    """A whole plant behind one proxy address logs in at the start of a shift."""
    for who in ["union", "leader", "supervisor", "discipline", "depthead", "teamlead"]:
        assert attempt(Client(REMOTE_ADDR="10.0.0.1"), who, PASSWORD).status_code == 302


def test_a_known_browser_is_not_held_by_its_address(org, client_limit):
    owner = Client(REMOTE_ADDR="10.0.0.2")
    attempt(owner, "employee", PASSWORD)
    owner.post(reverse("accounts:logout"))
    for who in ["rep", "teamlead", "depthead"]:
        attempt(Client(REMOTE_ADDR="10.0.0.2"), who, "wrong-password")
    assert error_codes(attempt(Client(REMOTE_ADDR="10.0.0.2"), "union", PASSWORD)) == ["busy"]
    assert attempt(owner, "employee", PASSWORD).status_code == 302


def test_the_login_limit_never_touches_the_report_pages(org, client_limit):
    from django.conf import settings

    address = "198.51.100.60"
    for who in ["rep", "teamlead", "depthead"]:
        attempt(Client(REMOTE_ADDR=address), who, "wrong-password")
    reporter = Client(REMOTE_ADDR=address)
    from gongkai.reporting import tokens

    response = reporter.post(
        reverse("reporting:submit"),
        {"company": "rd", "subject": "主题", "body": "内容", tokens.FIELD: tokens.issue()},
    )
    assert response.status_code == 200
    assert settings.LOGIN_DEVICE_COOKIE_NAME not in response.cookies


def test_the_union_office_lifts_a_pause(org, limit):
    for i in range(limit + 1):
        attempt(Client(), "employee", f"guess-{i}")
    from gongkai.accounts.services import account_unlock

    account_unlock(actor=org["union"], user=User.objects.get(employee_no="employee"))
    user = User.objects.get(employee_no="employee")
    assert (user.failed_logins, user.failed_login_at, user.locked_until) == (0, None, None)
    assert attempt(Client(), "employee", PASSWORD).status_code == 302


# --- A forced password change really changes it ----------------------------------------------


def change(client: Client, old: str, new: str):
    return client.post(
        reverse("accounts:password_change"),
        {"old_password": old, "new_password1": new, "new_password2": new},
    )


def change_errors(response) -> list[str]:
    return [e.code for e in response.context["form"].errors.as_data().get("new_password2", [])]


@pytest.fixture
def temporary(org) -> tuple[Client, str]:
    """The union office has issued a temporary password; the worker has logged in with it."""
    union = Client()
    union.force_login(org["union"])
    password = union.post(reverse("org:person_password", args=["employee"])).context["password"]
    worker = Client()
    assert attempt(worker, "employee", password).status_code == 302
    return worker, password


def test_the_temporary_password_is_refused_as_the_new_one(org, temporary):
    worker, password = temporary
    worker.cookies["django_language"] = "en"
    response = change(worker, password, password)
    assert response.status_code == 200
    assert change_errors(response) == ["reused"]
    assert "temporary password" in response.content.decode()
    user = User.objects.get(employee_no="employee")
    assert user.check_password(password) and user.must_change_password
    assert worker.get(reverse("org:unit_list"))["Location"] == reverse("accounts:password_change")


def test_the_password_before_the_temporary_one_is_refused(org, temporary):
    worker, password = temporary
    response = change(worker, password, PASSWORD)
    assert change_errors(response) == ["reused"]
    assert User.objects.get(employee_no="employee").must_change_password


def test_recent_own_passwords_are_refused_and_older_ones_forgotten(org, client, settings):
    settings.PASSWORD_HISTORY_COUNT = 2
    client.force_login(org["employee"])
    chain = [PASSWORD, "Boiler-Shift-Aa-1", "Boiler-Shift-Bb-2", "Boiler-Shift-Cc-3"]
    for old, new in itertools.pairwise(chain):
        assert change(client, old, new).status_code == 302
    current = chain[-1]
    assert change_errors(change(client, current, current)) == ["reused"]  # the current one
    for recent in chain[-3:-1]:
        assert change_errors(change(client, current, recent)) == ["reused"]
    assert change(client, current, PASSWORD).status_code == 302  # three changes ago: forgotten


def test_a_new_password_is_accepted_and_only_hashes_are_kept(org, temporary):
    from gongkai.accounts.models import PasswordHistory

    worker, password = temporary
    new = "My-Own-Boiler-Pass-7"
    assert change(worker, password, new).status_code == 302
    user = User.objects.get(employee_no="employee")
    assert user.check_password(new) and not user.must_change_password
    kept = list(PasswordHistory.objects.filter(user=user).values_list("password", flat=True))
    assert len(kept) == 2  # the demo password, then the temporary one
    assert all(k.startswith("md5$") for k in kept)  # the test settings' hasher
    assert not {PASSWORD, password, new} & set(kept)
    assert not [k for k in kept if password in k or PASSWORD in k]


def test_the_service_refuses_a_reused_password_too(org, temporary, english):
    from gongkai.accounts.services import password_change
    from gongkai.core.errors import ServiceError

    _worker, password = temporary
    with pytest.raises(ServiceError, match="temporary password"):
        password_change(user=User.objects.get(employee_no="employee"), new_password=password)
