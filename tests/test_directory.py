"""Directory sign-in (gongkai.accounts.directory) against a real OpenLDAP server on loopback
(tests/ldap_server.py; skipped, with the reason, where slapd is missing).

Every login goes through the real login page, so the throttle, the form's messages and the
session are those a person meets."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from gongkai.accounts.models import DirectoryPolicy, User
from gongkai.audit.models import AuditEvent
from gongkai.core import limits
from gongkai.org.models import Role, RoleAssignment, RoleSource
from gongkai.org.services import role_grant
from tests import ldap_server
from tests.conftest import Org
from tests.factories import PASSWORD
from tests.ldap_server import (
    AUDITORS,
    BOILER_HEADS,
    GROUPS,
    LISI,
    LOCKED,
    NONUMBER,
    PEOPLE,
    SERVICE_DN,
    STRANGER,
    TWIN,
    ZHANGSAN,
    Slapd,
)

BACKENDS = [
    "gongkai.accounts.directory.DirectoryBackend",
    "gongkai.accounts.backends.LocalPasswordBackend",
]
GROUP_ROLES = [
    {"group": BOILER_HEADS, "role": "unit_head", "unit": "rd-boiler"},
    # cn=auditors,ou=groups,dc=gongkai,dc=test in other spaces and case: the same DN.
    {"group": "CN=Auditors, OU=groups,DC=gongkai, dc=test", "role": "supervision", "unit": "rd"},
]


@pytest.fixture(scope="module")
def slapd() -> Iterator[Slapd]:
    server = ldap_server.start()
    yield server
    ldap_server.remove(server)


@pytest.fixture(autouse=True)
def fresh_limits():
    limits.store().clear()
    yield
    limits.store().clear()


def configure(settings, uri: str, service_password: str) -> None:
    settings.AUTH_LDAP_SERVER_URI = uri
    settings.AUTH_LDAP_BIND_DN = SERVICE_DN
    settings.AUTH_LDAP_BIND_PASSWORD = service_password
    settings.AUTH_LDAP_START_TLS = False
    settings.AUTH_LDAP_USER_SEARCH_BASE = PEOPLE
    settings.AUTH_LDAP_USER_FILTER = "(uid=%(user)s)"
    settings.AUTH_LDAP_EMPLOYEE_NO_ATTR = "employeeNumber"
    settings.AUTH_LDAP_DISABLED_FILTER = "(pwdAccountLockedTime=*)"
    settings.AUTH_LDAP_GROUP_SEARCH_BASE = GROUPS
    settings.AUTH_LDAP_GROUP_TYPE_NAME = "groupOfNames"
    settings.AUTH_LDAP_GROUP_ROLES = json.dumps(GROUP_ROLES)
    settings.AUTH_LDAP_NAME_ATTR = ""
    settings.AUTH_LDAP_EMAIL_ATTR = ""
    settings.AUTH_LDAP_TIMEOUT = 3
    settings.AUTHENTICATION_BACKENDS = BACKENDS


@pytest.fixture
def directory(settings, slapd: Slapd) -> Slapd:
    configure(settings, slapd.uri, slapd.service_password)
    return slapd


def sign_in(client: Client, name: str, password: str):
    client.cookies["django_language"] = "en"
    return client.post(reverse("accounts:login"), {"username": name, "password": password})


def refusal(response) -> tuple[str, str]:
    """(code, message) of the login form's error."""
    assert response.status_code == 200, response.status_code
    error = response.context["form"].errors.as_data()["__all__"][0]
    return error.code, error.messages[0]


def signed_in_as(client: Client) -> User | None:
    pk = client.session.get("_auth_user_id")
    return User.objects.get(pk=pk) if pk else None


# --- Signing in -----------------------------------------------------------------------------


def test_directory_login_through_the_login_page_links_the_account(
    org: Org, client: Client, directory
):
    response = sign_in(client, ZHANGSAN.uid, ZHANGSAN.password)
    assert response.status_code == 302, response.content[:300]
    assert signed_in_as(client) == org["employee"]
    employee = User.objects.get(employee_no="employee")
    assert employee.directory_dn == ZHANGSAN.dn
    assert not employee.has_usable_password()  # the local one is gone for good
    linked = AuditEvent.objects.get(action="accounts.directory_linked")
    assert linked.target_id == str(employee.pk) and linked.after == {"directory_dn": ZHANGSAN.dn}
    # The home page is the employee's.
    assert "employee的姓名" in client.get(response["Location"]).content.decode()
    # A second login changes nothing and records no second link.
    assert sign_in(Client(), ZHANGSAN.uid, ZHANGSAN.password).status_code == 302
    assert AuditEvent.objects.filter(action="accounts.directory_linked").count() == 1


def test_the_login_name_is_matched_as_the_directory_matches_it(org, directory):
    """uid is case-insensitive in the directory: ZhangSan is zhangsan."""
    assert sign_in(Client(), "ZhangSan", ZHANGSAN.password).status_code == 302


def test_the_employee_number_signs_in_too_when_the_filter_says_so(org: Org, directory, settings):
    settings.AUTH_LDAP_USER_FILTER = "(|(uid=%(user)s)(employeeNumber=%(user)s))"
    client = Client()
    assert sign_in(client, "union", LISI.password).status_code == 302
    assert signed_in_as(client) == org["union"]
    # Two entries carry "employee" (zhangsan and his twin): the number names no one.
    assert refusal(sign_in(Client(), "employee", ZHANGSAN.password))[0] == "invalid_login"


def test_wrong_directory_password_is_refused_and_counted_on_the_account(
    org: Org, client: Client, directory, settings
):
    settings.LOGIN_FAILURE_LIMIT = 3
    code, _message = refusal(sign_in(client, ZHANGSAN.uid, "not-the-password"))
    assert code == "invalid_login"
    assert "_auth_user_id" not in client.session
    assert User.objects.get(employee_no="employee").failed_logins == 1
    # Whatever spelling of the name is guessed, the guesses count on the one account...
    sign_in(Client(), "ZHANGSAN", "still-wrong")
    sign_in(Client(), "zhangsan", "wrong-again")
    employee = User.objects.get(employee_no="employee")
    assert employee.failed_logins == 3 and employee.locked_until is not None
    # ...which then pauses, also for the right directory password.
    code, _message = refusal(sign_in(Client(), ZHANGSAN.uid, ZHANGSAN.password))
    assert code == "locked"
    assert AuditEvent.objects.filter(action="accounts.locked").count() == 1


def test_an_empty_password_is_never_an_anonymous_bind(org, client, directory):
    from django.contrib.auth import authenticate

    assert authenticate(None, username=ZHANGSAN.uid, password="") is None


def test_disabled_entry_is_refused_with_the_reason(org: Org, client: Client, directory):
    code, message = refusal(sign_in(client, LOCKED.uid, LOCKED.password))
    assert code == "disabled" and "disabled" in message
    assert "_auth_user_id" not in client.session
    assert User.objects.get(employee_no="rep").directory_dn == ""
    # The wrong password of a disabled entry says only "wrong".
    code, _message = refusal(sign_in(Client(), LOCKED.uid, "not-it"))
    assert code == "invalid_login"


def test_entry_without_an_account_is_refused_clearly_and_creates_none(org, client, directory):
    before = User.objects.count()
    code, message = refusal(sign_in(client, STRANGER.uid, STRANGER.password))
    assert code == "no_account" and "99999" in message
    code, _message = refusal(sign_in(Client(), NONUMBER.uid, NONUMBER.password))
    assert code == "no_number"
    assert User.objects.count() == before
    # Told only to whoever knows the password.
    code, _message = refusal(sign_in(Client(), STRANGER.uid, "guess"))
    assert code == "invalid_login"


def test_inactive_account_is_refused(org: Org, client: Client, directory):
    User.objects.filter(employee_no="employee").update(is_active=False)
    code, _message = refusal(sign_in(client, ZHANGSAN.uid, ZHANGSAN.password))
    assert code == "inactive"
    assert User.objects.get(employee_no="employee").directory_dn == ""


def test_a_second_entry_cannot_take_over_a_linked_account(org: Org, directory):
    assert sign_in(Client(), ZHANGSAN.uid, ZHANGSAN.password).status_code == 302
    code, _message = refusal(sign_in(Client(), TWIN.uid, TWIN.password))
    assert code == "second_entry"
    assert User.objects.get(employee_no="employee").directory_dn == ZHANGSAN.dn


def test_name_and_email_follow_the_directory_when_configured(org: Org, directory, settings):
    settings.AUTH_LDAP_NAME_ATTR = "cn"
    settings.AUTH_LDAP_EMAIL_ATTR = "mail"
    assert sign_in(Client(), ZHANGSAN.uid, ZHANGSAN.password).status_code == 302
    employee = User.objects.get(employee_no="employee")
    assert (employee.name, employee.email) == ("张三", "zhangsan@dir.test")
    event = AuditEvent.objects.get(action="accounts.updated_from_directory")
    assert event.before == {"name": "employee的姓名", "email": ""}


# --- Local passwords beside the directory ---------------------------------------------------


def test_local_accounts_keep_their_password(org: Org, client: Client, directory):
    response = sign_in(client, "leader", PASSWORD)
    assert response.status_code == 302
    assert signed_in_as(client) == org["leader"]


def test_a_directory_accounts_local_password_is_refused(org: Org, directory):
    assert sign_in(Client(), ZHANGSAN.uid, ZHANGSAN.password).status_code == 302
    # The local password it had no longer works: unusable since the link...
    code, _message = refusal(sign_in(Client(), "employee", PASSWORD))
    assert code == "invalid_login"
    # ...and even a local password set behind the service's back is refused, with the reason
    # (the password was right, so the person may know why).
    employee = User.objects.get(employee_no="employee")
    employee.set_password("a-local-password-1")
    employee.save(update_fields=["password"])
    code, message = refusal(sign_in(Client(), "employee", "a-local-password-1"))
    assert code == "directory_account" and "directory" in message


def test_the_union_office_cannot_give_a_directory_account_a_temporary_password(org: Org, directory):
    from gongkai.accounts.services import temporary_password_issue
    from gongkai.core.errors import ServiceError

    assert sign_in(Client(), ZHANGSAN.uid, ZHANGSAN.password).status_code == 302
    with pytest.raises(ServiceError):
        temporary_password_issue(actor=org["union"], user=User.objects.get(employee_no="employee"))


def test_the_password_page_of_a_directory_account_says_where_to_change_it(org, directory):
    client = Client()
    assert sign_in(client, ZHANGSAN.uid, ZHANGSAN.password).status_code == 302
    page = client.get(reverse("accounts:password_change"))
    assert page.status_code == 200
    assert page.templates[0].name == "accounts/password_in_directory.html"
    assert client.post(reverse("accounts:password_change"), {}).status_code == 200
    assert not User.objects.get(employee_no="employee").has_usable_password()


# --- Roles from directory groups ------------------------------------------------------------


def test_group_roles_are_granted_and_removed_with_the_group(org: Org, directory: Slapd):
    import ldap

    employee = org["employee"]
    # A role granted by hand, and one the group would give that is also held by hand.
    role_grant(actor=org["union"], user=employee, role=Role.DEPT_OFFICER, unit=org.boiler)
    assert sign_in(Client(), ZHANGSAN.uid, ZHANGSAN.password).status_code == 302
    from_dir = RoleAssignment.objects.get(user=employee, role=Role.UNIT_HEAD, unit=org.boiler)
    assert from_dir.source == RoleSource.DIRECTORY
    granted = AuditEvent.objects.get(action="org.role_granted_from_directory")
    assert granted.actor is None and granted.after == {
        "role": "unit_head",
        "unit": "rd-boiler",
        "group": BOILER_HEADS,
    }
    # The directory took zhangsan out of the group: at the next login the role goes.
    admin = directory.admin()
    admin.modify_s(BOILER_HEADS, [(ldap.MOD_DELETE, "member", [ZHANGSAN.dn.encode()])])
    try:
        assert sign_in(Client(), ZHANGSAN.uid, ZHANGSAN.password).status_code == 302
    finally:
        admin.modify_s(BOILER_HEADS, [(ldap.MOD_ADD, "member", [ZHANGSAN.dn.encode()])])
        admin.unbind_s()
    assert not RoleAssignment.objects.filter(user=employee, role=Role.UNIT_HEAD).exists()
    assert AuditEvent.objects.filter(action="org.role_revoked_from_directory").count() == 1
    # The hand's role is untouched.
    manual = RoleAssignment.objects.get(user=employee, role=Role.DEPT_OFFICER, unit=org.boiler)
    assert manual.source == RoleSource.MANUAL


def test_a_group_dn_matches_however_it_is_spelt(org: Org, directory):
    assert GROUP_ROLES[1]["group"] != AUDITORS
    assert sign_in(Client(), LISI.uid, LISI.password).status_code == 302
    held = RoleAssignment.objects.get(user=org["union"], role=Role.SUPERVISION, unit=org.company)
    assert held.source == RoleSource.DIRECTORY


def test_a_role_held_by_hand_stays_when_the_group_goes(org: Org, directory: Slapd, settings):
    union = org["union"]  # lisi is in "auditors" → supervision on the company
    role_grant(actor=union, user=union, role=Role.SUPERVISION, unit=org.company)
    assert sign_in(Client(), LISI.uid, LISI.password).status_code == 302
    settings.AUTH_LDAP_GROUP_ROLES = "[]"  # the mapping was removed
    assert sign_in(Client(), LISI.uid, LISI.password).status_code == 302
    held = RoleAssignment.objects.get(user=union, role=Role.SUPERVISION, unit=org.company)
    assert held.source == RoleSource.MANUAL
    assert not AuditEvent.objects.filter(action__endswith="_from_directory").exists()


def test_a_grant_by_hand_of_a_directory_role_makes_it_the_hands(org: Org, directory, settings):
    assert sign_in(Client(), ZHANGSAN.uid, ZHANGSAN.password).status_code == 302
    employee = org["employee"]
    role_grant(actor=org["union"], user=employee, role=Role.UNIT_HEAD, unit=org.boiler)
    settings.AUTH_LDAP_GROUP_ROLES = ""
    assert sign_in(Client(), ZHANGSAN.uid, ZHANGSAN.password).status_code == 302
    held = RoleAssignment.objects.get(user=employee, role=Role.UNIT_HEAD, unit=org.boiler)
    assert held.source == RoleSource.MANUAL


def test_a_mapping_to_a_missing_unit_or_role_is_left_out(org: Org, directory, settings):
    settings.AUTH_LDAP_GROUP_ROLES = json.dumps(
        [
            {"group": BOILER_HEADS, "role": "unit_head", "unit": "no-such-unit"},
            {"group": BOILER_HEADS, "role": "emperor", "unit": "rd"},
        ]
    )
    assert sign_in(Client(), ZHANGSAN.uid, ZHANGSAN.password).status_code == 302
    assert not RoleAssignment.objects.filter(source=RoleSource.DIRECTORY).exists()


# --- Hostile input ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["zhang*", "*", "*)(uid=*", "zhangsan)(|(uid=*", "*)(|(&", "\\2a"])
def test_filter_characters_in_the_login_name_match_no_one(org, directory: Slapd, name: str):
    """django-auth-ldap escapes the typed name into the filter: "zhang*" unescaped would
    find zhangsan alone (shown below), and sign in with his password."""
    import ldap

    admin = directory.admin()
    try:
        unescaped = admin.search_s(PEOPLE, ldap.SCOPE_SUBTREE, "(uid=zhang*)", ["1.1"])
    finally:
        admin.unbind_s()
    assert [dn for dn, _ in unescaped] == [ZHANGSAN.dn]
    client = Client()
    code, _message = refusal(sign_in(client, name, ZHANGSAN.password))
    assert code == "invalid_login"
    assert "_auth_user_id" not in client.session
    assert User.objects.get(employee_no="employee").directory_dn == ""


def test_a_login_name_that_is_too_long_is_refused_before_the_directory(org, directory):
    response = sign_in(Client(), "z" * 500, ZHANGSAN.password)
    assert response.status_code == 200
    assert "username" in response.context["form"].errors


# --- "Required for everyone" -------------------------------------------------------------------


def page_post(client: Client, required: bool, confirm: bool = True):
    data = {"required": "1" if required else "0"}
    if confirm:
        data["confirm"] = "on"
    return client.post(reverse("accounts:directory"), data)


def test_requiring_the_directory_refuses_every_local_password(org: Org, directory):
    union = Client()
    # The union office's own account must have signed in through the directory first.
    local_union = Client()
    assert sign_in(local_union, "union", PASSWORD).status_code == 302
    response = page_post(local_union, required=True)
    assert response.status_code == 400
    assert "lock yourself out" in response.content.decode()
    assert not DirectoryPolicy.is_required()

    assert sign_in(union, LISI.uid, LISI.password).status_code == 302
    page = union.get(reverse("accounts:directory"))
    assert page.status_code == 200
    text = page.content.decode()
    assert directory.uri in text and SERVICE_DN in text and BOILER_HEADS in text
    assert directory.service_password not in text  # never the bind password
    # Without the confirmation nothing changes.
    assert page_post(union, required=True, confirm=False).status_code == 400
    assert not DirectoryPolicy.is_required()
    assert page_post(union, required=True).status_code == 302
    assert DirectoryPolicy.is_required()
    event = AuditEvent.objects.get(action="accounts.directory_required")
    assert event.actor == org["union"] and event.after == {"required": True}

    code, _message = refusal(sign_in(Client(), "leader", PASSWORD))
    assert code == "directory_required"
    # A wrong local password still says only "wrong".
    code, _message = refusal(sign_in(Client(), "leader", "wrong-password"))
    assert code == "invalid_login"
    # Directory logins go on.
    assert sign_in(Client(), ZHANGSAN.uid, ZHANGSAN.password).status_code == 302

    assert page_post(union, required=False).status_code == 302
    assert not DirectoryPolicy.is_required()
    assert sign_in(Client(), "leader", PASSWORD).status_code == 302
    assert AuditEvent.objects.filter(action="accounts.directory_optional").count() == 1


@pytest.mark.parametrize("who", ["employee", "leader", "supervisor", "depthead"])
def test_the_directory_page_refuses_others(org: Org, directory, who: str):
    client = Client()
    assert sign_in(client, who, PASSWORD).status_code == 302
    assert client.get(reverse("accounts:directory")).status_code == 403
    assert page_post(client, required=True).status_code == 403
    assert not DirectoryPolicy.is_required()


def test_the_directory_page_without_a_directory(org: Org, client: Client, login):
    login(org["union"])
    page = client.get(reverse("accounts:directory"))
    assert page.status_code == 200 and page.context["configured"] is False
    response = page_post(client, required=True)
    assert response.status_code == 400 and not DirectoryPolicy.is_required()


def test_the_command_is_the_way_back(org: Org, directory, settings, capsys):
    assert sign_in(Client(), LISI.uid, LISI.password).status_code == 302
    call_command("directory", "require", "on")
    assert DirectoryPolicy.is_required()
    call_command("directory", "status")
    out = capsys.readouterr().out
    assert "The directory answers." in out and "Required for everyone: yes" in out
    assert directory.service_password not in out
    # The directory fails while required: the shell switches it off; local passwords work.
    settings.AUTH_LDAP_SERVER_URI = closed_port_uri()
    code, _message = refusal(sign_in(Client(), "leader", PASSWORD))
    assert code == "directory_required"
    call_command("directory", "require", "on")  # already on: nothing to check
    call_command("directory", "require", "off")
    assert sign_in(Client(), "leader", PASSWORD).status_code == 302
    with pytest.raises(CommandError, match="does not answer"):
        call_command("directory", "require", "on")
    assert AuditEvent.objects.filter(action="accounts.directory_optional", actor=None).exists()


def test_unlink_gives_a_directory_account_a_local_password_again(org: Org, directory, capsys):
    assert sign_in(Client(), ZHANGSAN.uid, ZHANGSAN.password).status_code == 302
    call_command("directory", "unlink", "employee")
    temporary = capsys.readouterr().out.rsplit(": ", 1)[1].strip()
    employee = User.objects.get(employee_no="employee")
    assert employee.directory_dn == "" and employee.must_change_password
    assert sign_in(Client(), "employee", temporary).status_code == 302
    assert AuditEvent.objects.filter(action="accounts.directory_unlinked").exists()


def test_find_names_the_account_a_login_name_leads_to(org, directory, capsys):
    call_command("directory", "find", ZHANGSAN.uid)
    assert "employee的姓名 (employee)" in capsys.readouterr().out
    call_command("directory", "find", "*")
    assert "No single entry" in capsys.readouterr().out


# --- The directory down ---------------------------------------------------------------------


def closed_port_uri() -> str:
    return f"ldap://127.0.0.1:{ldap_server.free_port()}"


def test_directory_down_says_so_and_local_accounts_still_sign_in(org: Org, directory, settings):
    settings.AUTH_LDAP_SERVER_URI = closed_port_uri()
    code, message = refusal(sign_in(Client(), ZHANGSAN.uid, ZHANGSAN.password))
    assert code == "directory_down" and "cannot be reached" in message
    # The same words for any refused guess meanwhile: they tell nothing about the account.
    assert refusal(sign_in(Client(), "leader", "wrong-password"))[0] == "directory_down"
    assert refusal(sign_in(Client(), "no-such-person", "x"))[0] == "directory_down"
    client = Client()
    assert sign_in(client, "leader", PASSWORD).status_code == 302
    assert signed_in_as(client) == org["leader"]


def test_a_directory_account_cannot_sign_in_while_it_is_down(org: Org, directory, settings):
    assert sign_in(Client(), ZHANGSAN.uid, ZHANGSAN.password).status_code == 302
    settings.AUTH_LDAP_SERVER_URI = closed_port_uri()
    assert refusal(sign_in(Client(), ZHANGSAN.uid, ZHANGSAN.password))[0] == "directory_down"
    assert refusal(sign_in(Client(), "employee", PASSWORD))[0] == "directory_down"


def test_the_page_shows_a_directory_that_does_not_answer(org: Org, directory, settings):
    union = Client()
    assert sign_in(union, LISI.uid, LISI.password).status_code == 302
    settings.AUTH_LDAP_SERVER_URI = closed_port_uri()
    page = union.get(reverse("accounts:directory"))
    assert page.status_code == 200 and page.context["answers"] is False
    response = page_post(union, required=True)
    assert response.status_code == 400 and not DirectoryPolicy.is_required()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A port that accepts connections and never answers (a hung directory)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"ldap://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for connection in held:
        connection.close()
    listener.close()


def test_a_directory_that_never_answers_does_not_hang_the_login(
    org: Org, directory, settings, silent_server: str
):
    settings.AUTH_LDAP_SERVER_URI = silent_server
    settings.AUTH_LDAP_TIMEOUT = 0.5
    started = time.monotonic()
    code, _message = refusal(sign_in(Client(), ZHANGSAN.uid, ZHANGSAN.password))
    assert code == "directory_down"
    assert time.monotonic() - started < 5
    started = time.monotonic()
    assert sign_in(Client(), "leader", PASSWORD).status_code == 302
    assert time.monotonic() - started < 5


# --- Configuration ------------------------------------------------------------------------------


def test_the_system_check_names_configuration_problems(settings):
    pytest.importorskip("django_auth_ldap", reason="the 'directory' extra is not installed")
    from gongkai.accounts.checks import directory_configuration, directory_in_clear

    settings.AUTH_LDAP_SERVER_URI = "ldap://directory.example"
    settings.AUTH_LDAP_USER_SEARCH_BASE = ""
    settings.AUTH_LDAP_USER_FILTER = "uid=%(user)s"
    settings.AUTH_LDAP_GROUP_ROLES = "[{"
    settings.AUTH_LDAP_START_TLS = False
    ids = {message.id for message in directory_configuration()}
    assert ids == {"gongkai.accounts.E001"}
    assert len(directory_configuration()) == 3
    assert [m.id for m in directory_in_clear()] == ["gongkai.accounts.W001"]
    settings.AUTH_LDAP_START_TLS = True
    assert directory_in_clear() == []
    settings.AUTH_LDAP_SERVER_URI = ""
    assert directory_configuration() == []


# --- TLS ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["starttls", "ldaps"])
def test_the_directory_over_tls_with_its_ca(org: Org, directory: Slapd, settings, how: str):
    settings.AUTH_LDAP_CA_FILE = directory.ca_file
    if how == "ldaps":
        settings.AUTH_LDAP_SERVER_URI = directory.ldaps_uri
    else:
        settings.AUTH_LDAP_START_TLS = True
    assert sign_in(Client(), ZHANGSAN.uid, ZHANGSAN.password).status_code == 302
    # A server whose certificate the configured CA did not sign is not talked to.
    settings.AUTH_LDAP_CA_FILE = directory.other_ca_file
    assert refusal(sign_in(Client(), ZHANGSAN.uid, ZHANGSAN.password))[0] == "directory_down"
