"""Who is calling the API: a signed-in session (with its CSRF token for anything that
writes) or an access token (``Authorization: Bearer gk_…``). Either way the caller is a
user, and every endpoint asks the policy about that user exactly as the pages do; a token
narrows further, to reading and to its units."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer, SessionAuth

from gongkai.accounts.models import User
from gongkai.api.errors import ApiError
from gongkai.api.models import AccessToken
from gongkai.api.services import token_for, token_used
from gongkai.disclosure.selectors import subtree_q
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import narrow_grants

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenAuth(HttpBearer):
    openapi_description = "An access token: `Authorization: Bearer gk_…`"

    def __init__(self, *, record_use: bool = True) -> None:
        super().__init__()
        self.record_use = record_use

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = token_for(token)
        if found is None:
            return None
        if found.scope == AccessToken.Scope.READ and request.method not in SAFE_METHODS:
            raise ApiError(403, "read_only_token", _("This token may only read."))
        user = found.user
        roots = [unit.path for unit in found.units.all()]
        if roots:
            narrow_grants(user, roots)
        if self.record_use:
            token_used(token=found, method=request.method or "", path=request.path)
        request.user = user
        request.api_token = found  # type: ignore[attr-defined]
        return user


class SignedInSession(SessionAuth):
    """The browser's session; ninja checks the CSRF token on every request with it."""

    openapi_description = "The signed-in session cookie, with the CSRF token for writes"

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = super().authenticate(request, key)
        if isinstance(user, User) and user.must_change_password:
            raise ApiError(403, "password_change", _("Please choose your own password first."))
        return user if isinstance(user, User) else None


def caller(request: HttpRequest) -> User:
    """The user behind an authenticated API request."""
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)  # noqa: S101 - every operation is authenticated
    return user


def token_of(request: HttpRequest) -> AccessToken | None:
    return getattr(request, "api_token", None)


def token_roots(request: HttpRequest) -> list[str]:
    """The paths of the token's units; empty when the caller is not limited to units."""
    token = token_of(request)
    if token is None:
        return []
    return [unit.path for unit in token.units.all()]


def in_scope(request: HttpRequest, unit: OrgUnit) -> bool:
    roots = token_roots(request)
    return not roots or any(unit.path.startswith(root) for root in roots)


def require_in_scope(request: HttpRequest, unit: OrgUnit) -> None:
    if not in_scope(request, unit):
        raise ApiError(403, "outside_token_units", _("This token may not reach this unit."))


def scope_q(request: HttpRequest, field: str = "unit__path") -> Q:
    """A filter keeping only rows whose unit lies within the token's units."""
    roots = token_roots(request)
    return subtree_q(roots, field) if roots else Q()


def auth_methods(*, record_use: bool = True) -> list[Any]:
    """``record_use=False``: the token's use is not audited, for the operations whose caller
    and moment must leave no trace (filing an objection, which may be anonymous: the audit
    event has no actor; answering a survey: the ballot box keeps no time). Their pages write
    no such record either."""
    return [TokenAuth(record_use=record_use), SignedInSession()]
