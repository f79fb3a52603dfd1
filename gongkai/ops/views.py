"""``/metrics``: for the monitor only.

Off unless ``METRICS_TOKEN`` is set: then 404, as if there were no such page. When it is set,
the request must carry ``Authorization: Bearer <METRICS_TOKEN>`` (compared in constant time)
or gets 401; with ``METRICS_ALLOWED_NETWORKS`` it must also come from one of those networks
(else 404). The answer is never cached, sets no cookie and reads no session; the token is
never logged. What is measured, and what never is: :mod:`gongkai.ops.metrics`.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from gongkai.core.limits import client_address
from gongkai.ops.metrics import exposition

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)
    except ValueError as exc:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {exc}") from exc


def from_allowed_network(request: HttpRequest) -> bool:
    """True when no networks are set, or the client (``CLIENT_ADDRESS_META``) is in one."""
    allowed = networks(tuple(settings.METRICS_ALLOWED_NETWORKS))
    if not allowed:
        return True
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in network for network in allowed)


def bearer_token(request: HttpRequest) -> str:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@csrf_exempt  # a GET with a bearer token: no form, no cookie
@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    expected = settings.METRICS_TOKEN
    if not expected or not from_allowed_network(request):
        raise Http404
    if not constant_time_compare(bearer_token(request), expected):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
