"""Login throttling, and account changes of consequence.

Login throttling (docs/SECURITY.md) counts every guess *before* the password is checked, so
that however many guesses arrive at once, at most ``LOGIN_FAILURE_LIMIT`` of them are ever
checked before the account pauses:

- **per account** — the first ``LOGIN_FAILURE_LIMIT`` guesses since the last success are
  checked at once; after that each further guess waits for a pause, ``LOGIN_DELAY_SECONDS``
  doubling up to ``LOGIN_LOCKOUT_SECONDS``. The count is taken under a row lock on the
  account (``SELECT … FOR UPDATE``; on SQLite the IMMEDIATE transaction holds the write
  lock), before the slow hash. Unknown employee numbers get exactly the same schedule, kept
  in the shared limits store under an HMAC of the number (never in the database), so the
  answers never tell whether an account exists;
- **per client address** — at most ``LOGIN_CLIENT_FAILURE_LIMIT`` wrong passwords per
  ``LOGIN_CLIENT_WINDOW_SECONDS`` across all accounts, counted in the limits store under an
  HMAC of the address with a key that expires (:mod:`gongkai.core.limits`); never stored
  otherwise, never logged, never applied to the anonymous reporting pages;
- **known browsers** — a browser that has signed in to an account keeps a signed cookie for
  it (path ``/accounts/login/`` only). Its guesses for that account are counted for that
  browser alone, on the same schedule, and neither the account's pauses nor the per-client
  limit apply: a stranger can slow down new browsers, never the owner's own.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import check_password
from django.core import signing
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gongkai.accounts import directory_config
from gongkai.accounts.models import DirectoryPolicy, PasswordHistory, User
from gongkai.audit.services import record_event
from gongkai.core import limits
from gongkai.core.errors import ServiceError
from gongkai.core.text import normalize_text


class LoginRefused(Exception):
    """Wrong credentials; or no guess is checked for this account until ``locked_until``;
    or none from this client until ``busy_until``; or the directory refused the account for
    ``reason`` (shown; only once the password was right); or ``directory_down``: the
    directory did not answer, so a directory account could not be checked."""

    def __init__(
        self,
        locked_until: datetime | None = None,
        *,
        busy_until: datetime | None = None,
        reason: str = "",
        code: str = "",
        directory_down: bool = False,
    ) -> None:
        super().__init__("login refused")
        self.locked_until = locked_until
        self.busy_until = busy_until
        self.reason = reason
        self.code = code
        self.directory_down = directory_down


# --- The schedule -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    """One pass through an account's (or a browser's) gate: ``allowed`` means this guess is
    counted and may be checked; ``failures``, ``at`` and ``until`` are the state after it."""

    allowed: bool
    failures: int
    at: datetime | None
    until: datetime | None


MAX_COUNTED = 10_000  # far below the column's limit; the pause stops growing long before


def pause_after(failures: int) -> int:
    """Seconds before the next guess once ``failures`` guesses have been counted."""
    over = failures - settings.LOGIN_FAILURE_LIMIT
    if over < 0:
        return 0
    growing = settings.LOGIN_DELAY_SECONDS * 2 ** min(over, 30)
    return int(min(settings.LOGIN_LOCKOUT_SECONDS, growing))


def gate(failures: int, at: datetime | None, until: datetime | None, now: datetime) -> Gate:
    """The one schedule, for accounts, unknown numbers and known browsers alike."""
    if until is not None and until > now:
        return Gate(False, failures, at, until)
    if at is not None and (now - at).total_seconds() >= settings.LOGIN_FAILURE_RESET_SECONDS:
        failures = 0  # a day without a guess: start again
    failures = min(failures + 1, MAX_COUNTED)
    pause = pause_after(failures)
    return Gate(True, failures, now, now + timedelta(seconds=pause) if pause else None)


def _account_gate(account_pk: int, now: datetime) -> Gate:
    """Count one guess on the account's row, under its lock, before any password check."""
    with transaction.atomic():
        row = (
            User.objects.select_for_update()
            .filter(pk=account_pk)
            .values_list("failed_logins", "failed_login_at", "locked_until")
            .first()
        )
        if row is None:
            return Gate(False, 0, None, None)
        passed = gate(row[0], row[1], row[2], now)
        if passed.allowed:
            User.objects.filter(pk=account_pk).update(
                failed_logins=passed.failures,
                failed_login_at=passed.at,
                locked_until=passed.until,
            )
    return passed


def _stamp(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


def _moment(stamp: Any) -> datetime | None:
    return datetime.fromtimestamp(float(stamp), tz=UTC) if stamp is not None else None


def _store_gate(key: str, now: datetime) -> Gate:
    """The same count in the limits store (unknown numbers, known browsers). The state
    expires after LOGIN_FAILURE_RESET_SECONDS without a guess, as the schedule says."""

    def change(state: dict[str, Any] | None) -> tuple[dict[str, Any] | None, Gate]:
        state = state or {}
        passed = gate(
            int(state.get("n", 0)), _moment(state.get("at")), _moment(state.get("until")), now
        )
        if not passed.allowed:
            return state or None, passed
        counted = {"n": passed.failures, "at": _stamp(passed.at), "until": _stamp(passed.until)}
        return counted, passed

    return limits.store().update(key, change, ttl=settings.LOGIN_FAILURE_RESET_SECONDS)


def _unknown_key(employee_no: str) -> str:
    return "login-account:" + limits.digest("login.account", employee_no)


def _device_key(nonce: str) -> str:
    return "login-device:" + limits.digest("login.device", nonce)


def _client_take(request: HttpRequest) -> limits.Taken:
    window = limits.Window.now(settings.LOGIN_CLIENT_WINDOW_SECONDS)
    client = limits.pseudonym("login.client", limits.client_address(request), window)
    return limits.take(
        f"login-client:{window.index}:{client}", settings.LOGIN_CLIENT_FAILURE_LIMIT, window.length
    )


# --- Known browsers ---------------------------------------------------------------------------

DEVICE_SALT = "gongkai.accounts.device"
DEVICE_ACCOUNTS = 10  # accounts remembered per browser (a team's shared computer)


def _devices(request: HttpRequest | None) -> list[tuple[int, str]]:
    """The (account id, browser token) pairs of the request's signed device cookie."""
    raw = request.COOKIES.get(settings.LOGIN_DEVICE_COOKIE_NAME) if request else None
    if not raw:
        return []
    try:
        entries = signing.loads(raw, salt=DEVICE_SALT, max_age=settings.LOGIN_DEVICE_COOKIE_AGE)
    except signing.BadSignature:
        return []
    if not isinstance(entries, list):
        return []
    return [
        (e[0], e[1])
        for e in entries
        if isinstance(e, list) and len(e) == 2 and isinstance(e[0], int) and isinstance(e[1], str)
    ]


def _device_token(request: HttpRequest | None, account: User | None) -> str | None:
    if account is None:
        return None
    return next((token for pk, token in _devices(request) if pk == account.pk), None)


def remember_device(*, request: HttpRequest, response: HttpResponse, user: User) -> None:
    """After a successful login: the browser keeps (or renews) its signed token for ``user``.
    Sent back only to the login page; it says nothing the server stores."""
    entries = _devices(request)
    token = next((t for pk, t in entries if pk == user.pk), None) or secrets.token_urlsafe(16)
    kept = [[user.pk, token]] + [[pk, t] for pk, t in entries if pk != user.pk]
    response.set_cookie(
        settings.LOGIN_DEVICE_COOKIE_NAME,
        signing.dumps(kept[:DEVICE_ACCOUNTS], salt=DEVICE_SALT),
        max_age=settings.LOGIN_DEVICE_COOKIE_AGE,
        path=reverse("accounts:login"),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


# --- Login ------------------------------------------------------------------------------------


def login_attempt(*, request: HttpRequest | None, employee_no: str, password: str) -> User:
    """Authenticate, counting the guess before the password is checked (see the module's
    docstring). Refusals say nothing about whether the account exists.

    ``employee_no`` is what was typed: an employee number, or with a directory configured
    also a directory login name, which the directory maps to its account first (with the
    service account, no password checked) so that the guess is counted on that account."""
    now = timezone.now()
    account = User.objects.filter(employee_no=employee_no).first()
    directory_down = False
    if account is None and directory_config.configured():
        try:
            account = _directory_account(employee_no)
        except directory_config.DirectoryUnreachable:
            directory_down = True
    token = _device_token(request, account)
    if account is not None and token is not None:
        return _attempt_from_known_browser(
            request, account, token, employee_no, password, now, directory_down
        )

    client = _client_take(request) if request is not None else None
    if client is not None and not client.granted:
        raise LoginRefused(busy_until=_moment(client.resets_at))
    passed = (
        _account_gate(account.pk, now)
        if account is not None
        else _store_gate(_unknown_key(employee_no), now)
    )
    if not passed.allowed:
        if client is not None:
            limits.give_back(client)  # no password was checked
        raise LoginRefused(locked_until=passed.until)
    user = _check(request, employee_no, password, account, passed.until)
    if user is None:
        if account is not None and passed.failures == settings.LOGIN_FAILURE_LIMIT:
            record_event(
                actor=None,
                action="accounts.locked",
                target=account,
                unit=account.unit,
                after={"locked_until": passed.until},
            )
        raise LoginRefused(
            locked_until=passed.until, directory_down=_directory_down(known=directory_down)
        )
    if client is not None:
        limits.give_back(client)  # a right password is not a guess against anyone
    # A success starts the count again, unless guesses were counted after this one (a burst
    # in flight): those stay counted, so a burst never gets more than the limit checked.
    User.objects.filter(pk=user.pk, failed_logins__lte=passed.failures).update(
        failed_logins=0, failed_login_at=None, locked_until=None
    )
    return user


def _check(
    request: HttpRequest | None,
    name: str,
    password: str,
    account: User | None,
    locked_until: datetime | None,
) -> User | None:
    """Django's authenticate() (the directory, then local passwords), for a guess already
    counted on ``account`` (or on the typed name)."""
    try:
        user = authenticate(request, username=name, password=password)
    except directory_config.DirectoryRefused as refused:
        raise LoginRefused(locked_until, reason=refused.message, code=refused.code) from None
    except directory_config.DirectoryUnreachable:
        raise LoginRefused(locked_until, directory_down=True) from None
    if user is None:
        return None
    assert isinstance(user, User)  # noqa: S101 - our only user model
    if account is not None and user.pk != account.pk:
        # The name now leads elsewhere than when the guess was counted: not this time.
        raise LoginRefused(locked_until)
    return user


def _directory_account(name: str) -> User | None:
    # The optional `directory` extra (the LDAP libraries): imported only once a directory
    # is configured.
    from gongkai.accounts.directory import account_for_login

    return account_for_login(name)


def _directory_down(*, known: bool) -> bool:
    """After a refused guess: did the directory fail to answer? Then the login page says
    so (to every refused guess alike, so it tells nothing about the account)."""
    if not directory_config.configured():
        return False
    if known:
        return True
    # The optional `directory` extra: imported only once a directory is configured.
    from gongkai.accounts.directory import status

    return not status().answers


def _attempt_from_known_browser(
    request: HttpRequest | None,
    account: User,
    token: str,
    name: str,
    password: str,
    now: datetime,
    directory_down: bool,
) -> User:
    key = _device_key(token)
    passed = _store_gate(key, now)
    if not passed.allowed:
        raise LoginRefused(locked_until=passed.until)
    user = _check(request, name, password, account, passed.until)
    if user is None:
        raise LoginRefused(
            locked_until=passed.until, directory_down=_directory_down(known=directory_down)
        )
    limits.store().delete(key)
    return user


@transaction.atomic
def account_unlock(*, actor: User, user: User) -> None:
    """The union office lifts the account's pauses: its count starts again. (Known browsers
    have their own counts and were never paused by strangers.)"""
    if not user.locked_until and not user.failed_logins:
        return
    User.objects.filter(pk=user.pk).update(failed_logins=0, failed_login_at=None, locked_until=None)
    record_event(
        actor=actor,
        action="accounts.unlocked",
        target=user,
        unit=user.unit,
        before={"locked_until": user.locked_until},
    )
    user.failed_logins, user.failed_login_at, user.locked_until = 0, None, None


# --- Passwords --------------------------------------------------------------------------------


def password_reuse_error(*, user: User, new_password: str) -> str | None:
    """Why ``new_password`` may not replace the account's password, or None. The current
    password (the union office's temporary one, when a change is forced) and the
    ``PASSWORD_HISTORY_COUNT`` before it are refused; only their hashes are compared."""
    current = User.objects.filter(pk=user.pk).values_list("password", flat=True).first()
    if current and check_password(new_password, current):  # no re-hashing side effect
        if user.must_change_password:
            return _(
                "This is the temporary password the union office gave you. Choose a "
                "password of your own, which the union office does not know."
            )
        return _("This is your current password. Choose a new one.")
    former = PasswordHistory.objects.filter(user_id=user.pk).values_list("password", flat=True)
    if any(check_password(new_password, encoded) for encoded in former[: _history_count()]):
        return _("You have used this password before. Choose one you have not used recently.")
    return None


def _history_count() -> int:
    return max(0, int(settings.PASSWORD_HISTORY_COUNT))


def _remember_password(user: User) -> None:
    """Keep the hash of the password that is being replaced, and only the last few."""
    current = (
        User.objects.select_for_update()
        .filter(pk=user.pk)
        .values_list("password", flat=True)
        .first()
    )
    if not current or current.startswith("!"):  # unusable: nothing to remember
        return
    PasswordHistory.objects.create(user_id=user.pk, password=current)
    stale = PasswordHistory.objects.filter(user_id=user.pk).values_list("pk", flat=True)[
        _history_count() :
    ]
    PasswordHistory.objects.filter(pk__in=list(stale)).delete()


@transaction.atomic
def password_change(*, user: User, new_password: str) -> None:
    """The person's own new password: never the current or a recent one (see
    :func:`password_reuse_error`); the old one's hash joins the history."""
    error = password_reuse_error(user=user, new_password=new_password)
    if error:
        raise ServiceError(error, field="new_password2")
    _remember_password(user)
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    record_event(actor=user, action="accounts.password_changed", target=user, unit=user.unit)


TEMPORARY_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 - no 0/o, 1/l/i


@transaction.atomic
def temporary_password_issue(*, actor: User | None, user: User) -> str:
    """Give ``user`` a random one-time password (shown once to the union office, never
    stored in clear); the next login must replace it with one the union office does not
    know (neither this one nor an earlier one). Also lifts the account's pauses."""
    if not user.is_active:
        raise ServiceError(_("This account is inactive."))
    if user.directory_dn and directory_config.configured():
        raise ServiceError(
            _(
                "This account signs in with the directory, which refuses local passwords for "
                "it: its password is changed in the directory."
            )
        )
    password = "-".join(
        "".join(secrets.choice(TEMPORARY_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(3)
    )
    _remember_password(user)
    user.set_password(password)
    user.must_change_password = True
    user.failed_logins = 0
    user.failed_login_at = None
    user.locked_until = None
    user.save(
        update_fields=[
            "password",
            "must_change_password",
            "failed_logins",
            "failed_login_at",
            "locked_until",
        ]
    )
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


# --- Directory sign-in (gongkai.accounts.directory) ---------------------------------------------

NAME_MAX = User._meta.get_field("name").max_length or 64


@transaction.atomic
def directory_signed_in(
    *,
    user: User,
    dn: str,
    name: str = "",
    email: str = "",
    granted: list[directory_config.GroupRole] | None = None,
) -> None:
    """After the directory accepted a person's password: the account is linked to the entry
    (at the first such login its local password becomes unusable and a pending change of it
    is dropped; a moved entry's new DN replaces the old), its name and e-mail follow the
    directory when AUTH_LDAP_NAME_ATTR / AUTH_LDAP_EMAIL_ATTR name them (``name``, ``email``:
    the entry's values, empty for "leave as is"), and its roles from directory groups become
    exactly ``granted`` (None: leave them). Every change is audited; the actor is the system
    acting on the directory's word."""
    current = User.objects.select_for_update().get(pk=user.pk)
    fields: list[str] = []
    if current.directory_dn != dn:
        record_event(
            actor=None,
            action="accounts.directory_linked",
            target=current,
            unit=current.unit,
            before={"directory_dn": current.directory_dn} if current.directory_dn else None,
            after={"directory_dn": dn},
        )
        if not current.directory_dn:
            user.set_unusable_password()
            user.must_change_password = False
            fields += ["password", "must_change_password"]
        user.directory_dn = dn
        fields.append("directory_dn")
    name = normalize_text(name)
    email = normalize_text(email)
    before: dict[str, str] = {}
    after: dict[str, str] = {}
    if name and len(name) <= NAME_MAX and name != current.name:
        before["name"], after["name"] = current.name, name
        user.name = name
    if email and email != current.email:
        before["email"], after["email"] = current.email, email
        user.email = email
    if after:
        record_event(
            actor=None,
            action="accounts.updated_from_directory",
            target=current,
            unit=current.unit,
            before=before,
            after=after,
        )
        fields += list(after)
    if fields:
        user.save(update_fields=fields)
    if granted is not None:
        roles = directory_config.roles()
        if roles is None:  # pragma: no cover - the org app installs it when it is ready
            raise RuntimeError("no directory roles installed: is gongkai.org an app?")
        roles.sync(user=user, granted=granted)


def directory_require_set(*, actor: User | None, required: bool) -> DirectoryPolicy:
    """Require the directory for every login (local passwords refused for everyone), or
    stop requiring it. Switching it on is refused while no directory is configured or its
    configuration has problems, while it does not answer, and for a person who would lock
    themselves out (their own account has not signed in through the directory). ``actor``
    None: the server's shell (``manage.py directory require``), the way back when the
    directory fails."""
    if DirectoryPolicy.objects.filter(pk=DirectoryPolicy.ONLY, required=required).exists() or (
        not required and not DirectoryPolicy.objects.filter(pk=DirectoryPolicy.ONLY).exists()
    ):
        return DirectoryPolicy.objects.get_or_create(pk=DirectoryPolicy.ONLY)[0]
    if required:
        _may_require(actor)  # before the transaction: it asks the directory
    with transaction.atomic():
        policy, _created = DirectoryPolicy.objects.select_for_update().get_or_create(
            pk=DirectoryPolicy.ONLY
        )
        if policy.required == required:
            return policy
        policy.required = required
        policy.changed_at = timezone.now()
        policy.changed_by = actor
        policy.save()
        record_event(
            actor=actor,
            action="accounts.directory_required" if required else "accounts.directory_optional",
            target=policy,
            before={"required": not required},
            after={"required": required},
        )
    return policy


def _may_require(actor: User | None) -> None:
    if not directory_config.configured():
        raise ServiceError(_("No directory is configured (AUTH_LDAP_SERVER_URI is not set)."))
    problems = directory_config.problems()
    if problems:
        raise ServiceError(
            _("The directory configuration has problems: %(problems)s")
            % {"problems": "; ".join(problems)}
        )
    if actor is not None and not actor.directory_dn:
        raise ServiceError(
            _(
                "Your own account has not signed in through the directory yet: you would lock "
                "yourself out. Sign in with your directory account first."
            )
        )
    # The optional `directory` extra: loaded only once a directory is configured.
    from gongkai.accounts.directory import status

    answer = status()
    if not answer.answers:
        raise ServiceError(
            _("The directory does not answer (%(detail)s): it cannot be required now.")
            % {"detail": answer.detail}
        )


@transaction.atomic
def directory_unlink(*, actor: User | None, user: User) -> str:
    """The account stops being a directory account (its entry is gone, or the person must
    sign in locally while the directory is out): the link is removed and a temporary
    password issued (returned, shown once), which the next login must change."""
    if not user.directory_dn:
        raise ServiceError(_("This account is not linked to a directory entry."))
    record_event(
        actor=actor,
        action="accounts.directory_unlinked",
        target=user,
        unit=user.unit,
        before={"directory_dn": user.directory_dn},
    )
    User.objects.filter(pk=user.pk).update(directory_dn="")
    user.directory_dn = ""
    return temporary_password_issue(actor=actor, user=user)
