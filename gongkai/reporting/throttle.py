"""Rate limits that do not learn who is sending.

Counters live in the shared limits store (:mod:`gongkai.core.limits`: Redis in production, a
SQLite file of its own on the embedded default — shared by every worker either way), for the
current clock hour, and are never written to the main database or a log. A client's counter
is keyed by HMAC-SHA256 of its address under a random key that is made for each hour and
kept in the store for two hours only: once that key has expired, nobody — not even someone
holding SECRET_KEY and a copy of the store — can tell which address a counter belonged to.
No counter mentions a report.

Limits per clock hour (settings override them):

- submissions (a new report, or information added with a receipt code): 5 per client
  address (``REPORTING_SUBMIT_PER_CLIENT``), 300 in all (``REPORTING_SUBMIT_GLOBAL``);
- wrong receipt codes: 10 per client address (``REPORTING_RECEIPT_FAILURES_PER_CLIENT``),
  200 in all (``REPORTING_RECEIPT_FAILURES_GLOBAL``). After that, receipt codes are not
  checked at all for the rest of the hour (a right code is refused too), so guessing costs
  the guesser the whole hour.

Concurrency: :func:`exhausted` does not merely look at the counters, it *takes* one unit
of the limit atomically (an increment that returns the new count); :func:`spend` keeps it,
and :func:`settle` — called when the page is done — gives back every unit the request took
but did not spend (a right receipt code, a form with a mistake). So sixteen requests at once
can never all pass a limit of five: the store hands out the numbers 1 to 16 once each.

The client address is ``REMOTE_ADDR`` unless ``REPORTING_CLIENT_ADDRESS_META`` names another
``request.META`` key (behind a proxy, the header the proxy sets, e.g.
``HTTP_X_REAL_IP``). Behind a proxy without it, every client shares one address and the
per-client limit acts as a second global one. Login throttling never runs here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from gongkai.core import limits

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

_TAKEN = "_gongkai_reporting_taken"


def _names(limit: Limit, request: HttpRequest) -> tuple[str, str]:
    window = limits.Window.now(HOUR)
    address = limits.client_address(request, "REPORTING_CLIENT_ADDRESS_META")
    client = limits.pseudonym("reporting.client", address, window)
    return (
        f"reporting:{limit.name}:{window.index}:{client}",
        f"reporting:{limit.name}:{window.index}:all",
    )


def exhausted(limit: Limit, request: HttpRequest) -> bool:
    """Has this client, or everyone together, reached the limit this hour? When not, one
    unit is taken for this request (see :func:`spend` and :func:`settle`)."""
    client_name, overall_name = _names(limit, request)
    client = limits.take(client_name, limit.per_client, HOUR)
    if not client.granted:
        return True
    overall = limits.take(overall_name, limit.overall, HOUR)
    if not overall.granted:
        limits.give_back(client)
        return True
    taken: dict[str, list[limits.Taken]] = request.__dict__.setdefault(_TAKEN, {})
    taken.setdefault(limit.name, []).extend([client, overall])
    return False


def spend(limit: Limit, request: HttpRequest) -> None:
    """Count the unit this request took: it is not given back."""
    taken: dict[str, list[limits.Taken]] = request.__dict__.get(_TAKEN, {})
    if taken.get(limit.name):
        del taken[limit.name][:2]
        return
    # Spent without taking a unit first: count it all the same.
    for name in _names(limit, request):
        limits.store().add(name, HOUR)


def settle(request: HttpRequest) -> None:
    """Give back what the request took and did not spend. Called when the page is done."""
    taken: dict[str, list[limits.Taken]] = request.__dict__.pop(_TAKEN, {})
    for units in taken.values():
        for unit in units:
            limits.give_back(unit)
