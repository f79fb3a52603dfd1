"""Rate limits that do not learn who is sending.

Counters live in the Django cache only (Redis in production, shared by every worker), for
the current clock hour, and are never written to the database or a log. A client's counter
is keyed by HMAC-SHA256 of its address under a random key that is made for each hour and
kept in the cache for two hours only: once that key has expired, nobody — not even someone
holding SECRET_KEY and a copy of the cache — can tell which address a counter belonged to.
No counter mentions a report.

Limits per clock hour (settings override them):

- submissions (a new report, or information added with a receipt code): 5 per client
  address (``REPORTING_SUBMIT_PER_CLIENT``), 300 in all (``REPORTING_SUBMIT_GLOBAL``);
- wrong receipt codes: 10 per client address (``REPORTING_RECEIPT_FAILURES_PER_CLIENT``),
  200 in all (``REPORTING_RECEIPT_FAILURES_GLOBAL``). After that, receipt codes are not
  checked at all for the rest of the hour (a right code is refused too), so guessing costs
  the guesser the whole hour.

The client address is ``REMOTE_ADDR`` unless ``REPORTING_CLIENT_ADDRESS_META`` names another
``request.META`` key (behind a proxy, the header the proxy sets, e.g.
``HTTP_X_REAL_IP``). Behind a proxy without it, every client shares one address and the
per-client limit acts as a second global one.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

HOUR = 3600


@dataclass(frozen=True)
class Limit:
    name: str
    per_client_setting: str
    per_client_default: int
    global_setting: str
    global_default: int

    @property
    def per_client(self) -> int:
        return int(getattr(settings, self.per_client_setting, self.per_client_default))

    @property
    def overall(self) -> int:
        return int(getattr(settings, self.global_setting, self.global_default))


SUBMIT = Limit("submit", "REPORTING_SUBMIT_PER_CLIENT", 5, "REPORTING_SUBMIT_GLOBAL", 300)
RECEIPT_FAILURE = Limit(
    "receipt",
    "REPORTING_RECEIPT_FAILURES_PER_CLIENT",
    10,
    "REPORTING_RECEIPT_FAILURES_GLOBAL",
    200,
)


def _hour() -> int:
    return int(time.time() // HOUR)


def _hour_key(hour: int) -> str:
    """This hour's random key, shared through the cache by every worker."""
    name = f"reporting:key:{hour}"
    key = cache.get(name)
    if key is None:
        cache.add(name, secrets.token_hex(32), timeout=2 * HOUR)
        key = cache.get(name)
    return str(key)


def _client(request: HttpRequest, hour: int) -> str:
    meta_key = getattr(settings, "REPORTING_CLIENT_ADDRESS_META", "REMOTE_ADDR")
    address = str(request.META.get(meta_key, "")).split(",")[0].strip()
    return salted_hmac(
        "gongkai.reporting.client", address, secret=_hour_key(hour), algorithm="sha256"
    ).hexdigest()[:32]


def _names(limit: Limit, request: HttpRequest) -> tuple[str, str]:
    hour = _hour()
    return (
        f"reporting:{limit.name}:{hour}:{_client(request, hour)}",
        f"reporting:{limit.name}:{hour}:all",
    )


def _count(name: str) -> int:
    return int(cache.get(name) or 0)


def exhausted(limit: Limit, request: HttpRequest) -> bool:
    """Has this client, or everyone together, reached the limit this hour?"""
    client, overall = _names(limit, request)
    return _count(client) >= limit.per_client or _count(overall) >= limit.overall


def spend(limit: Limit, request: HttpRequest) -> None:
    """Count one more for this client and for everyone."""
    for name in _names(limit, request):
        cache.add(name, 0, timeout=HOUR)
        try:
            cache.incr(name)
        except ValueError:  # expired between add and incr
            cache.add(name, 1, timeout=HOUR)
