"""Login by employee number, per-account lockout, sessions and password rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.audit.models import AuditEvent
from tests.conftest import Org
from tests.factories import PASSWORD


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
    assert client.get(reverse("core:home")).status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("core:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_sessions_do_not_outlive_a_shift(settings):
    assert settings.SESSION_COOKIE_AGE <= 12 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_logout_is_a_post_and_ends_the_session(org, client):
    attempt(client, "employee", PASSWORD)
    assert client.get(reverse("accounts:logout")).status_code == 405
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("core:home")).status_code == 302


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
    assert client.get(reverse("core:home")).status_code == 200
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
        assert worker.get(reverse("core:home")).status_code == 200
        return
    assert response.status_code == 302
    assert not active
    assert worker.get(reverse("core:home")).status_code == 302
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
