"""Access tokens and service accounts: issuing, revoking, and knowing a token when it
comes back. Only a token's SHA-256 is stored; a token is 256 random bits, so a plain hash is
as good as a slow one and costs nothing per request."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gongkai.accounts.models import SERVICE_NUMBER_PREFIX, User
from gongkai.api.models import AccessToken, ServiceAccount
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError
from gongkai.core.text import clean_text
from gongkai.org.models import OrgUnit, Role
from gongkai.org.services import role_grant
from gongkai.policy.rules import Action, can, company_of

TOKEN_PREFIX = "gk_"  # noqa: S105 - how our tokens begin, not a secret
PREFIX_SHOWN = 10  # characters of the token kept to recognise it in a list
NAME_MAX = 100


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def max_days() -> int:
    return int(settings.API_TOKEN_MAX_DAYS)


def _expiry(expires_on: date, today: date) -> datetime:
    if expires_on <= today:
        raise ServiceError(_("Choose an expiry date after today."), field="expires_on")
    if expires_on > today + timedelta(days=max_days()):
        raise ServiceError(
            _("A token may last at most %(days)s days.") % {"days": max_days()},
            field="expires_on",
        )
    # The end of that day, local time.
    end = datetime.combine(expires_on + timedelta(days=1), time.min)
    return timezone.make_aware(end, timezone.get_default_timezone())


def _check_units(units: Sequence[OrgUnit]) -> list[OrgUnit]:
    found = list(units)
    if any(not unit.is_active for unit in found):
        raise ServiceError(_("A unit you chose is no longer active."), field="units")
    return found


def _issue(
    *,
    actor: User,
    user: User,
    kind: str,
    name: str,
    scope: str,
    units: Sequence[OrgUnit],
    expires_on: date,
) -> tuple[AccessToken, str]:
    today = timezone.localdate()
    label = clean_text(name, limit=NAME_MAX, field="name")
    if scope not in AccessToken.Scope.values:
        raise ServiceError(_("Choose what the token may do."), field="scope")
    chosen = _check_units(units)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AccessToken.objects.create(
        user=user,
        kind=kind,
        name=label,
        scope=scope,
        prefix=raw[:PREFIX_SHOWN],
        digest=digest(raw),
        created_by=actor,
        expires_at=_expiry(expires_on, today),
    )
    token.units.set(chosen)
    record_event(
        actor=actor,
        action="api.token_created",
        target=token,
        unit=user.unit or (chosen[0] if chosen else None),
        after={
            "kind": kind,
            "user": user.employee_no,
            "scope": scope,
            "units": [unit.code for unit in chosen],
            "expires_at": token.expires_at,
        },
    )
    return token, raw


@transaction.atomic
def personal_token_create(
    *, actor: User, name: str, scope: str, units: Sequence[OrgUnit], expires_on: date
) -> tuple[AccessToken, str]:
    """A person's own token, acting as them (never with more than they may do). Returns the
    token and its value, which is shown once and never stored."""
    if not actor.is_active:
        raise ServiceError(_("This account is inactive."))
    if hasattr(actor, "service_account"):
        raise ServiceError(_("A service account's tokens are issued by the union office."))
    return _issue(
        actor=actor,
        user=actor,
        kind=AccessToken.Kind.PERSONAL,
        name=name,
        scope=scope,
        units=units,
        expires_on=expires_on,
    )


@transaction.atomic
def service_token_create(
    *,
    actor: User,
    account: ServiceAccount,
    name: str,
    scope: str,
    units: Sequence[OrgUnit],
    expires_on: date,
) -> tuple[AccessToken, str]:
    """A token for a service account, issued by the union office of its company."""
    if not can(actor, Action.API_SERVICE_MANAGE, account.company):
        raise ServiceError(_("You may not issue tokens for this service account."))
    if not account.user.is_active:
        raise ServiceError(_("This service account is disabled."))
    return _issue(
        actor=actor,
        user=account.user,
        kind=AccessToken.Kind.SERVICE,
        name=name,
        scope=scope,
        units=units,
        expires_on=expires_on,
    )


def may_revoke(actor: User, token: AccessToken) -> bool:
    if token.kind == AccessToken.Kind.PERSONAL:
        return token.user_id == actor.pk
    account = ServiceAccount.objects.filter(user_id=token.user_id).first()
    return account is not None and can(actor, Action.API_SERVICE_MANAGE, account.company)


@transaction.atomic
def token_revoke(*, actor: User, token: AccessToken) -> None:
    """Revoke a token at once (the next request with it is refused). Idempotent."""
    if not may_revoke(actor, token):
        raise ServiceError(_("You may not revoke this token."))
    revoked = AccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=actor
    )
    if not revoked:
        return
    record_event(
        actor=actor,
        action="api.token_revoked",
        target=token,
        unit=token.user.unit,
        after={"user": token.user.employee_no},
    )


# Roles a service account may be given: what other systems need (reading boards and their
# internal items, the roster), never a role that votes, approves or handles reports.
SERVICE_ROLES = (Role.UNION_OFFICE, Role.SUPERVISION)


@transaction.atomic
def service_account_create(
    *, actor: User, name: str, description: str, role: str, unit: OrgUnit
) -> ServiceAccount:
    """A new service account of ``unit``'s company holding ``role`` on ``unit``."""
    company = company_of(unit)
    if company is None or not can(actor, Action.API_SERVICE_MANAGE, company):
        raise ServiceError(_("You may not create service accounts for this unit."), field="unit")
    if not unit.is_active:
        raise ServiceError(_("A unit you chose is no longer active."), field="unit")
    if role not in {r.value for r in SERVICE_ROLES}:
        raise ServiceError(_("Choose one of the roles offered."), field="role")
    label = clean_text(name, limit=64, field="name")
    about = clean_text(description, limit=200, field="description", required=False)
    number = f"{SERVICE_NUMBER_PREFIX}{secrets.token_hex(6)}"
    user = User.objects.create(
        employee_no=number, name=label, unit=None, password=make_password(None)
    )
    account = ServiceAccount.objects.create(
        user=user, company=company, description=about, created_by=actor
    )
    record_event(
        actor=actor,
        action="api.service_account_created",
        target=account,
        unit=company,
        after={"name": label, "employee_no": number},
    )
    role_grant(actor=actor, user=user, role=role, unit=unit)
    return account


@transaction.atomic
def service_account_disable(*, actor: User, account: ServiceAccount) -> None:
    """Disable a service account: every token of it stops working at once."""
    if not can(actor, Action.API_SERVICE_MANAGE, account.company):
        raise ServiceError(_("You may not change this service account."))
    if not User.objects.filter(pk=account.user_id, is_active=True).update(is_active=False):
        return
    record_event(
        actor=actor,
        action="api.service_account_disabled",
        target=account,
        unit=account.company,
    )


# --- Knowing a token -------------------------------------------------------------------------

USE_STAMP_SECONDS = 60  # last_used_at is written at most once a minute per token


def token_for(raw: str) -> AccessToken | None:
    """The active token with this value (user and units loaded), or None."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = (
        AccessToken.objects.select_related("user", "user__unit")
        .prefetch_related("units")  # read again by every scope check of the request
        .filter(digest=digest(raw))
        .first()
    )
    if token is None or not token.active() or not token.user.is_active:
        return None
    return token


def token_used(*, token: AccessToken, method: str, path: str) -> None:
    """Every use of a token is audited (method and path, never the body or the query)."""
    now = timezone.now()
    with transaction.atomic():
        record_event(
            actor=token.user,
            action="api.token_used",
            target=token,
            unit=token.user.unit,
            after={"method": method, "path": path[:200]},
        )
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > (
            USE_STAMP_SECONDS
        ):
            AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)


def tokens_of(user: User) -> QuerySet[AccessToken]:
    return AccessToken.objects.filter(user=user).prefetch_related("units")
