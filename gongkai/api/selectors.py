"""Reads for the token and service account pages."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from gongkai.accounts.models import User
from gongkai.api.models import AccessToken, ServiceAccount
from gongkai.disclosure.selectors import subtree_q
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action, visible_scope_paths


def token_units(user: User) -> QuerySet[OrgUnit]:
    """Units a person may limit a token to: their own unit's chain and every subtree where
    they hold a role."""
    roots = sorted({a.unit.path for a in user.role_assignments.select_related("unit")})
    q = subtree_q(roots, "path")
    if user.unit is not None:
        q |= Q(pk__in=user.unit.path_ids)
    return OrgUnit.objects.active().filter(q).order_by("path")


def managed_units(user: Any) -> QuerySet[OrgUnit]:
    return (
        OrgUnit.objects.active()
        .filter(subtree_q(visible_scope_paths(user, Action.API_SERVICE_MANAGE), "path"))
        .order_by("path")
    )


def service_accounts_for(user: Any) -> QuerySet[ServiceAccount]:
    roots = visible_scope_paths(user, Action.API_SERVICE_MANAGE)
    return ServiceAccount.objects.filter(subtree_q(roots, "company__path")).select_related(
        "user", "company"
    )


def service_account_for(user: Any, pk: int) -> ServiceAccount:
    """The same 404 for missing and not-yours."""
    found = service_accounts_for(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def token_for(user: User, pk: int) -> AccessToken:
    """A token the person may see: their own, or one of a service account they manage."""
    token = AccessToken.objects.select_related("user").filter(pk=pk).first()
    if token is None:
        raise Http404
    if token.user_id == user.pk:
        return token
    if service_accounts_for(user).filter(user_id=token.user_id).exists():
        return token
    raise Http404
