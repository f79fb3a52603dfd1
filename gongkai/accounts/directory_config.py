"""Directory sign-in as configured: what the settings say, the refusals a directory login can
end in, and the registry through which a directory login brings roles in line.

Nothing here imports the LDAP libraries (the optional ``directory`` extra): the login, the
directory page and ``manage.py directory`` read the configuration through this module on a
server without the extra; only :mod:`gongkai.accounts.directory` talks to the directory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings

from gongkai.accounts.models import User

GROUP_TYPES = (
    "groupOfNames",
    "groupOfUniqueNames",
    "nestedGroupOfNames",
    "activeDirectory",
    "nestedActiveDirectory",
)


def configured() -> bool:
    """Is a directory configured (AUTH_LDAP_SERVER_URI set)?"""
    return bool(getattr(settings, "AUTH_LDAP_SERVER_URI", ""))


class DirectoryRefused(Exception):
    """A login refused for a reason the person may be told: raised only once the password
    was right (the directory bind succeeded, or the local password matched), so the reason
    tells nothing to someone guessing. ``message`` is safe to show."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


class DirectoryUnreachable(Exception):
    """The directory did not answer (or refused the service account) during a login."""


@dataclass(frozen=True)
class GroupRole:
    """One line of AUTH_LDAP_GROUP_ROLES: members of ``group`` hold ``role`` on the unit
    with code ``unit``."""

    group: str
    role: str
    unit: str


class GroupRolesError(ValueError):
    pass


def group_roles() -> list[GroupRole]:
    """AUTH_LDAP_GROUP_ROLES parsed (JSON text, or a list in tests). Raises GroupRolesError
    with the reason when it is malformed; roles and unit codes are checked by the org side
    (:class:`DirectoryRoles`), which knows them."""
    raw: Any = getattr(settings, "AUTH_LDAP_GROUP_ROLES", "")
    if isinstance(raw, str):
        if not raw.strip():
            return []
        try:
            raw = json.loads(raw)
        except ValueError as error:
            raise GroupRolesError(f"AUTH_LDAP_GROUP_ROLES is not JSON: {error}") from None
    if not isinstance(raw, list):
        raise GroupRolesError("AUTH_LDAP_GROUP_ROLES must be a JSON list of objects")
    found = []
    for number, line in enumerate(raw, start=1):
        if not isinstance(line, dict) or not all(
            isinstance(line.get(key), str) and line[key].strip()
            for key in ("group", "role", "unit")
        ):
            raise GroupRolesError(
                f'AUTH_LDAP_GROUP_ROLES item {number}: give "group", "role" and "unit"'
            )
        found.append(GroupRole(line["group"].strip(), line["role"].strip(), line["unit"].strip()))
    return found


@dataclass(frozen=True)
class Description:
    """The configuration as the directory page shows it (never the bind password)."""

    server: str
    start_tls: bool
    ca_file: str
    bind_dn: str
    bind_password_set: bool
    user_search_base: str
    user_filter: str
    employee_no_attr: str
    disabled_filter: str
    name_attr: str
    email_attr: str
    group_search_base: str
    group_type: str
    timeout: float


def describe() -> Description:
    s = settings
    return Description(
        server=s.AUTH_LDAP_SERVER_URI,
        start_tls=bool(s.AUTH_LDAP_START_TLS),
        ca_file=s.AUTH_LDAP_CA_FILE,
        bind_dn=s.AUTH_LDAP_BIND_DN,
        bind_password_set=bool(s.AUTH_LDAP_BIND_PASSWORD),
        user_search_base=s.AUTH_LDAP_USER_SEARCH_BASE,
        user_filter=s.AUTH_LDAP_USER_FILTER,
        employee_no_attr=s.AUTH_LDAP_EMPLOYEE_NO_ATTR,
        disabled_filter=s.AUTH_LDAP_DISABLED_FILTER,
        name_attr=s.AUTH_LDAP_NAME_ATTR,
        email_attr=s.AUTH_LDAP_EMAIL_ATTR,
        group_search_base=s.AUTH_LDAP_GROUP_SEARCH_BASE,
        group_type=s.AUTH_LDAP_GROUP_TYPE_NAME,
        timeout=float(s.AUTH_LDAP_TIMEOUT),
    )


def problems() -> list[str]:
    """What is wrong with the configuration, in words for the server's operator (the
    system check and the directory page show them). Empty when none is configured."""
    if not configured():
        return []
    s = settings
    found = []
    if not s.AUTH_LDAP_USER_SEARCH_BASE:
        found.append("AUTH_LDAP_USER_SEARCH_BASE is empty: where are the people?")
    user_filter = s.AUTH_LDAP_USER_FILTER
    if "%(user)s" not in user_filter or not (
        user_filter.startswith("(") and user_filter.endswith(")")
    ):
        found.append('AUTH_LDAP_USER_FILTER must be a filter in parentheses with "%(user)s"')
    if not s.AUTH_LDAP_EMPLOYEE_NO_ATTR:
        found.append("AUTH_LDAP_EMPLOYEE_NO_ATTR is empty")
    disabled = s.AUTH_LDAP_DISABLED_FILTER
    if disabled and not (disabled.startswith("(") and disabled.endswith(")")):
        found.append("AUTH_LDAP_DISABLED_FILTER must be a filter in parentheses")
    if s.AUTH_LDAP_GROUP_TYPE_NAME not in GROUP_TYPES:
        found.append("AUTH_LDAP_GROUP_TYPE must be one of " + ", ".join(GROUP_TYPES))
    if s.AUTH_LDAP_TIMEOUT <= 0:
        found.append("AUTH_LDAP_TIMEOUT must be more than 0 seconds")
    try:
        if group_roles() and not s.AUTH_LDAP_GROUP_SEARCH_BASE:
            found.append("AUTH_LDAP_GROUP_ROLES needs AUTH_LDAP_GROUP_SEARCH_BASE")
    except GroupRolesError as error:
        found.append(str(error))
    return found


# --- Roles from directory groups: the registry the org app fills -----------------------------


@dataclass(frozen=True)
class MappedGroup:
    """A line of the mapping as the page shows it, with what the org side found wrong."""

    group: str
    role: str
    unit: str
    problem: str = ""


class DirectoryRoles(Protocol):
    """What a directory login asks of the roles (accounts stands below the org tree)."""

    def sync(self, *, user: User, granted: list[GroupRole]) -> None:
        """Make ``user``'s roles that came from the directory exactly ``granted``."""

    def describe(self, lines: list[GroupRole]) -> list[MappedGroup]:
        """The mapping with the role's and unit's names, and any line that cannot apply."""


_roles: DirectoryRoles | None = None


def install_roles(roles: DirectoryRoles) -> None:
    """Called by the org app when it is ready (OrgConfig.ready)."""
    global _roles
    _roles = roles


def roles() -> DirectoryRoles | None:
    return _roles
