"""One-time submission tokens of the reporter's forms: a report (or an addition) is filed once,
however often the browser sends the form again (a refresh of the page with the receipt code
re-POSTs it).

A token is issued with every rendering of the form: a random nonce signed with a timestamp
(:class:`django.core.signing.TimestampSigner`, key from SECRET_KEY). Issuing it stores
nothing — no row, no cookie, no session — so a token is tied to no person, address or time
in the database. On submit its signature and age are checked (a forged, absent or expired
token is refused and nothing is stored), and its keyed digest is *consumed* by the same
transaction that holds the submission: a UNIQUE column of the held row, then a
``SpentToken`` row written by the release (not by the reporter's transaction). Either one
makes a second submission of the same form fail, atomically, in the database.

The inspectors' form for a report that came by the hotline, by letter or in person carries a
token too: :func:`spend` writes its ``SpentToken`` row in the inspector's own transaction
(that report is entered at once, not held), so a refresh of the page with the receipt code
does not enter the report a second time.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from gongkai.core.errors import ServiceError
from gongkai.reporting.models import SpentToken

SIGNING_SALT = "gongkai.reporting.form-token"
DIGEST_SALT = "gongkai.reporting.form-token.digest"
FIELD = "submission"  # the hidden field's name
MAX_INPUT = 200


class BadToken(ServiceError):
    """The form's token is missing, forged or expired: nothing was stored."""


class AlreadySent(ServiceError):
    """The form's token was used already: nothing was stored this time."""


def max_age() -> int:
    """How long a form may stay open before it must be sent again (seconds)."""
    return int(getattr(settings, "REPORTING_FORM_TOKEN_MAX_AGE", 24 * 3600))


def issue() -> str:
    return signing.TimestampSigner(salt=SIGNING_SALT).sign(secrets.token_urlsafe(18))


def digest_of(token: str) -> str:
    """The keyed digest stored for a valid token; raises :class:`BadToken` otherwise."""
    try:
        nonce = signing.TimestampSigner(salt=SIGNING_SALT).unsign(
            (token or "")[:MAX_INPUT], max_age=max_age()
        )
    except signing.BadSignature:
        raise BadToken(
            _(
                "This form has expired or did not come from this site, so nothing was sent. "
                "Please check your text and send it again."
            )
        ) from None
    return salted_hmac(DIGEST_SALT, nonce, algorithm="sha256").hexdigest()


def unused_digest() -> str:
    """For a submission that did not come through a form (the demo, the services called
    directly): a random value, so the UNIQUE column never collides."""
    return secrets.token_hex(32)


def spent_until(today: date) -> date:
    """How long a spent token must be remembered: until no copy of it can be valid."""
    return today + timedelta(days=max_age() // 86400 + 2)


def spend(token: str) -> None:
    """Consume ``token`` inside the caller's transaction (an inspector's form): raises
    :class:`BadToken` when it is invalid, :class:`AlreadySent` when it was used before; the
    caller's transaction then rolls back with nothing stored."""
    digest = digest_of(token)
    today = timezone.localdate()
    try:
        with transaction.atomic():
            SpentToken.objects.create(digest=digest, expires_on=spent_until(today))
    except IntegrityError:
        raise AlreadySent(
            _(
                "This report was entered already, so it was not entered again. Its receipt "
                "code was shown only once, when it was first entered."
            )
        ) from None
