"""Directory sign-in (LDAP, Active Directory) on django-auth-ldap.

A person signs in with their directory login name (what AUTH_LDAP_USER_FILTER matches:
``uid``, ``sAMAccountName``, or also the employee number if the filter says so) and their
directory password. Django-auth-ldap finds the entry with the service account (the name is
escaped into the filter), binds as the entry with the password, and then:

- the entry's employee number (AUTH_LDAP_EMPLOYEE_NO_ATTR) names the gongkai account; the
  directory never creates one (the roster does), so an entry without an active account is
  refused, with the reason, as is an entry matching AUTH_LDAP_DISABLED_FILTER;
- the account is linked to the entry (``User.directory_dn``; from then on its local password
  is refused), its name and e-mail are refreshed when configured, and its roles from directory
  groups (AUTH_LDAP_GROUP_ROLES) are brought in line, all audited
  (:func:`gongkai.accounts.services.directory_signed_in`).

This module imports the LDAP libraries (the ``directory`` extra): it is loaded only when a
directory is configured, as the first of AUTHENTICATION_BACKENDS, or by code that has
checked :func:`gongkai.accounts.directory_config.configured` first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import ldap
import ldap.dn
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django_auth_ldap.backend import LDAPBackend
from django_auth_ldap.config import (
    ActiveDirectoryGroupType,
    GroupOfNamesType,
    GroupOfUniqueNamesType,
    LDAPSearch,
    LDAPSettings,
    NestedActiveDirectoryGroupType,
    NestedGroupOfNamesType,
)

from gongkai.accounts.directory_config import (
    DirectoryRefused,
    DirectoryUnreachable,
    GroupRole,
    GroupRolesError,
    group_roles,
)
from gongkai.accounts.models import User
from gongkai.accounts.services import directory_signed_in

logger = logging.getLogger(__name__)

# name in AUTH_LDAP_GROUP_TYPE → (django-auth-ldap group type, the groups' object class)
GROUP_TYPES: dict[str, tuple[type[Any], str]] = {
    "groupOfNames": (GroupOfNamesType, "groupOfNames"),
    "groupOfUniqueNames": (GroupOfUniqueNamesType, "groupOfUniqueNames"),
    "nestedGroupOfNames": (NestedGroupOfNamesType, "groupOfNames"),
    "activeDirectory": (ActiveDirectoryGroupType, "group"),
    "nestedActiveDirectory": (NestedActiveDirectoryGroupType, "group"),
}


def connection_options() -> dict[int, Any]:
    """A short timeout for connecting and for every operation, so that a directory that
    does not answer fails a login in seconds; no referral chasing (Active Directory's
    referrals would be followed anonymously); the CA to check the server against."""
    timeout = float(settings.AUTH_LDAP_TIMEOUT)
    options: dict[int, Any] = {
        ldap.OPT_NETWORK_TIMEOUT: timeout,
        ldap.OPT_TIMEOUT: timeout,
        ldap.OPT_REFERRALS: 0,
    }
    if settings.AUTH_LDAP_CA_FILE:
        options[ldap.OPT_X_TLS_CACERTFILE] = settings.AUTH_LDAP_CA_FILE
        options[ldap.OPT_X_TLS_REQUIRE_CERT] = ldap.OPT_X_TLS_DEMAND
        options[ldap.OPT_X_TLS_NEWCTX] = 0  # last: applies the TLS options above
    return options


def user_search(attrlist: list[str] | None = None) -> LDAPSearch:
    return LDAPSearch(
        settings.AUTH_LDAP_USER_SEARCH_BASE,
        ldap.SCOPE_SUBTREE,
        settings.AUTH_LDAP_USER_FILTER,
        attrlist,
    )


def backend_settings() -> dict[str, Any]:
    """Django-auth-ldap's settings that gongkai derives from its plain ones."""
    kind, object_class = GROUP_TYPES.get(
        settings.AUTH_LDAP_GROUP_TYPE_NAME, GROUP_TYPES["groupOfNames"]
    )
    group_base = settings.AUTH_LDAP_GROUP_SEARCH_BASE
    return {
        "USER_SEARCH": user_search(),
        "GROUP_SEARCH": (
            LDAPSearch(group_base, ldap.SCOPE_SUBTREE, f"(objectClass={object_class})")
            if group_base
            else None
        ),
        "GROUP_TYPE": kind(),
        "CONNECTION_OPTIONS": connection_options(),
        # The directory never creates accounts and never saves the whole row: the account
        # is found by its employee number, and what changes goes through a service.
        "NO_NEW_USERS": True,
        "ALWAYS_UPDATE_USER": False,
        "PERMIT_EMPTY_PASSWORD": False,  # an empty password is an anonymous bind
        "BIND_AS_AUTHENTICATING_USER": False,
        "CACHE_TIMEOUT": 0,
    }


def normal_dn(dn: str) -> str:
    """A DN in one spelling (spaces after commas, case), for comparing group DNs."""
    try:
        return str(ldap.dn.dn2str(ldap.dn.str2dn(dn.strip()))).lower()
    except ldap.DECODING_ERROR:
        return dn.strip().lower()


def _first(attrs: Any, name: str) -> str:
    if not name or attrs is None:
        return ""
    values = attrs.get(name) or []
    return str(values[0]).strip() if values else ""


def _why(error: Exception) -> str:
    """An LDAP error in words (python-ldap puts a dict with 'desc' and 'info' in args)."""
    detail = error.args[0] if error.args else None
    if isinstance(detail, dict):
        return "; ".join(str(detail[key]) for key in ("desc", "info") if detail.get(key))
    return type(error).__name__


class DirectoryBackend(LDAPBackend):
    """django-auth-ldap, with the account found by employee number (see the module)."""

    @property
    def settings(self) -> LDAPSettings:
        if self._settings is None:
            self._settings: LDAPSettings | None = LDAPSettings(
                self.settings_prefix, backend_settings()
            )
        return self._settings

    @settings.setter
    def settings(self, value: LDAPSettings) -> None:
        self._settings = value

    def get_or_build_user(self, username: str, ldap_user: Any) -> tuple[User, bool]:
        """Called once the directory accepted the password: the account whose employee
        number the entry carries. Never builds one."""
        number = _first(ldap_user.attrs, settings.AUTH_LDAP_EMPLOYEE_NO_ATTR)
        if not number:
            raise DirectoryRefused(
                "no_number",
                _(
                    "Your directory entry has no employee number, so it cannot be matched to "
                    "an account here. Ask the union office."
                ),
            )
        user = User.objects.filter(employee_no=number).first()
        if user is None:
            raise DirectoryRefused(
                "no_account",
                _(
                    "Your directory account is in order, but there is no account here with "
                    "its employee number %(number)s. Ask the union office."
                )
                % {"number": number},
            )
        if not user.is_active:
            raise DirectoryRefused("inactive", _("This account is inactive."))
        return user, False

    def authenticate_ldap_user(self, ldap_user: Any, password: str) -> User | None:
        user = ldap_user.authenticate(password)
        if user is None:
            return None
        dn = str(ldap_user.dn)
        try:
            self._refuse_disabled(ldap_user, dn)
            self._refuse_second_entry(ldap_user, user, dn)
            granted = self._granted_roles(ldap_user)
        except ldap.LDAPError as error:
            logger.warning("directory error after the bind of %s: %s", dn, _why(error))
            raise DirectoryUnreachable(_why(error)) from None
        attrs = ldap_user.attrs
        directory_signed_in(
            user=user,
            dn=dn,
            name=_first(attrs, settings.AUTH_LDAP_NAME_ATTR),
            email=_valid_email(_first(attrs, settings.AUTH_LDAP_EMAIL_ATTR)),
            granted=granted,
        )
        return user

    def _refuse_disabled(self, ldap_user: Any, dn: str) -> None:
        disabled = settings.AUTH_LDAP_DISABLED_FILTER
        if not disabled:
            return
        found = ldap_user.connection.search_s(dn, ldap.SCOPE_BASE, disabled, ["1.1"])
        if [entry for entry in found if entry[0] is not None]:
            raise DirectoryRefused(
                "disabled",
                _("Your directory account is disabled. Ask your directory administrators."),
            )

    def _refuse_second_entry(self, ldap_user: Any, user: User, dn: str) -> None:
        """An account already linked to another entry that still exists is not taken over
        by this one (two entries claiming one employee number); an entry that was renamed
        or moved no longer exists under its old DN, and the link follows it."""
        old = user.directory_dn
        if not old or normal_dn(old) == normal_dn(dn):
            return
        try:
            ldap_user.connection.search_s(old, ldap.SCOPE_BASE, "(objectClass=*)", ["1.1"])
        except ldap.NO_SUCH_OBJECT:
            return
        logger.warning("%s: %s claims the employee number of %s's entry", user, dn, old)
        raise DirectoryRefused(
            "second_entry",
            _("Another directory entry is already linked to this account. Ask the union office."),
        )

    def _granted_roles(self, ldap_user: Any) -> list[GroupRole] | None:
        """The mapped roles the person's groups give (None: the mapping is broken, leave
        the roles as they are)."""
        try:
            lines = group_roles()
        except GroupRolesError as error:
            logger.error("directory roles not brought in line: %s", error)
            return None
        if not lines:
            return []
        if self.settings.GROUP_SEARCH is None:
            logger.error("directory roles not brought in line: no AUTH_LDAP_GROUP_SEARCH_BASE")
            return None
        member_of = {normal_dn(group) for group in ldap_user.group_dns}
        return [line for line in lines if normal_dn(line.group) in member_of]


def _valid_email(value: str) -> str:
    try:
        validate_email(value)
    except ValidationError:
        return ""
    return value


# --- Outside a login: which account a login name belongs to, and whether the directory answers


@contextmanager
def service_connection() -> Iterator[Any]:
    """A connection bound as the service account (AUTH_LDAP_BIND_DN), with the backend's
    options. Any LDAP failure comes out as DirectoryUnreachable."""
    connection = None
    try:
        connection = ldap.initialize(settings.AUTH_LDAP_SERVER_URI, bytes_mode=False)
        for option, value in connection_options().items():
            connection.set_option(option, value)
        if settings.AUTH_LDAP_START_TLS:
            connection.start_tls_s()
        connection.simple_bind_s(settings.AUTH_LDAP_BIND_DN, settings.AUTH_LDAP_BIND_PASSWORD)
        yield connection
    except ldap.LDAPError as error:
        raise DirectoryUnreachable(_why(error)) from None
    finally:
        if connection is not None:
            with suppress(ldap.LDAPError):
                connection.unbind_s()


def account_for_login(name: str) -> User | None:
    """The account of the entry that ``name`` signs in as, or None (no entry, or no
    account), asked with the service account before any password is checked, so that the
    login throttle counts a guess on the account whichever of its names was typed."""
    attr = settings.AUTH_LDAP_EMPLOYEE_NO_ATTR
    with service_connection() as connection:
        found = user_search([attr]).execute(connection, {"user": name})
    if len(found) != 1:
        return None
    number = _first(found[0][1], attr)
    return User.objects.filter(employee_no=number).first() if number else None


@dataclass(frozen=True)
class Status:
    answers: bool
    detail: str  # the error in words when it does not answer


def status() -> Status:
    """Does the directory answer the service account and know the user search base?"""
    try:
        with service_connection() as connection:
            connection.search_s(
                settings.AUTH_LDAP_USER_SEARCH_BASE, ldap.SCOPE_BASE, "(objectClass=*)", ["1.1"]
            )
    except DirectoryUnreachable as error:
        return Status(False, str(error))
    return Status(True, "")
