"""Login with per-account lockout, and account changes of consequence."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError


class LoginRefused(Exception):
    """Wrong credentials, or the account is locked until ``locked_until``."""

    def __init__(self, locked_until: datetime | None = None) -> None:
        super().__init__("login refused")
        self.locked_until = locked_until


def login_attempt(*, request: HttpRequest | None, employee_no: str, password: str) -> User:
    """Authenticate, counting consecutive failures per account.

    After ``LOGIN_FAILURE_LIMIT`` failures in a row the account is locked for
    ``LOGIN_LOCKOUT_SECONDS``; while locked even the right password is refused. Nothing is
    recorded for unknown employee numbers, and nothing about the client (no IP address).
    """
    now = timezone.now()
    account = User.objects.filter(employee_no=employee_no).first()
    if account is not None and account.is_locked(now):
        raise LoginRefused(locked_until=account.locked_until)
    user = authenticate(request, username=employee_no, password=password)
    if user is None:
        if account is not None and account.is_active:
            login_failure_record(user=account, now=now)
            account.refresh_from_db(fields=["locked_until"])
            if account.is_locked(now):
                raise LoginRefused(locked_until=account.locked_until)
        raise LoginRefused()
    assert isinstance(user, User)  # noqa: S101 - our only user model
    if user.failed_logins or user.locked_until:
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
    return user


@transaction.atomic
def login_failure_record(*, user: User, now: datetime) -> None:
    """Count one failure atomically; the failure that reaches the limit locks the account."""
    User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
    locked_until = now + timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    locked = User.objects.filter(
        pk=user.pk, failed_logins__gte=settings.LOGIN_FAILURE_LIMIT
    ).update(failed_logins=0, locked_until=locked_until)
    if locked:
        record_event(
            actor=None,
            action="accounts.locked",
            target=user,
            unit=user.unit,
            after={"locked_until": locked_until},
        )


@transaction.atomic
def account_unlock(*, actor: User, user: User) -> None:
    if not user.locked_until and not user.failed_logins:
        return
    User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
    record_event(
        actor=actor,
        action="accounts.unlocked",
        target=user,
        unit=user.unit,
        before={"locked_until": user.locked_until},
    )
    user.failed_logins, user.locked_until = 0, None


@transaction.atomic
def password_change(*, user: User, new_password: str) -> None:
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    record_event(actor=user, action="accounts.password_changed", target=user, unit=user.unit)


TEMPORARY_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 - no 0/o, 1/l/i


@transaction.atomic
def temporary_password_issue(*, actor: User, user: User) -> str:
    """Give ``user`` a random one-time password (shown once to the union office, never
    stored in clear); the next login must replace it. Also lifts a lockout."""
    if not user.is_active:
        raise ServiceError(_("This account is inactive."))
    password = "-".join(
        "".join(secrets.choice(TEMPORARY_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(3)
    )
    user.set_password(password)
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    user.save(update_fields=["password", "must_change_password", "failed_logins", "locked_until"])
    record_event(
        actor=actor, action="accounts.temporary_password_issued", target=user, unit=user.unit
    )
    return password


@transaction.atomic
def account_set_active(*, actor: User, user: User, active: bool) -> None:
    """Deactivate someone who has left (their sessions end, history keeps their name), or
    reactivate them. Accounts are never deleted."""
    if user.pk == actor.pk and not active:
        raise ServiceError(_("You cannot deactivate your own account."))
    if user.is_active == active:
        return
    User.objects.filter(pk=user.pk).update(is_active=active)
    record_event(
        actor=actor,
        action="accounts.reactivated" if active else "accounts.deactivated",
        target=user,
        unit=user.unit,
        before={"is_active": user.is_active},
        after={"is_active": active},
    )
    user.is_active = active
