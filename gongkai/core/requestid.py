"""The request id, who is signed in, and the one access line per request.

Why: an operator chasing a fault needs every line one request wrote, and the proxy's line of
that request, tied together; and the deployment should not have to parse gunicorn's access
log to know how long pages take. :class:`RequestContextMiddleware` (first in ``MIDDLEWARE``)
therefore

- takes the proxy's ``X-Request-ID`` when it is well formed (:data:`REQUEST_ID`: 8 to 64
  letters, digits, ``-``, ``_`` or ``.``; anything else is ignored, so nobody writes into the
  log through that header), or makes a new one;
- keeps it in a context variable until the answer is sent, where
  :class:`gongkai.core.logs.RequestContext` finds it for every log line written meanwhile,
  with the id of the signed-in user once the page has looked them up (it never looks them up
  itself: that would cost a query on pages that need nobody, and is forbidden on the
  reporter's pages);
- returns it in the response header ``X-Request-ID``;
- writes one line ``request finished`` (logger ``gongkai.request``, INFO) with the method,
  the path (never the query string, which may hold a search), the status and the duration.

**The anonymous reporter's pages** (``settings.ANONYMOUS_PAGES``: everything under
``/report/`` except the inspectors' ``/report/inbox/``) are another matter: the platform's
logs are within reach of the people a report may be about (docs/SECURITY.md), and the
reporting design keeps even the time of a report out of everything the platform stores. On
those pages:

- no access line is written at all (it would date each report to the millisecond; the README
  tells operators to turn the proxy's and gunicorn's access logs off there for the same
  reason);
- the lines other code writes meanwhile (Django's warnings for 4xx, errors for 5xx) carry no
  request id and no user id; the incoming ``X-Request-ID`` is not read, and no
  ``X-Request-ID`` is sent back (a proxy that logs the upstream's header could otherwise join
  the two);
- ``request.user`` and the session are never touched.

Client addresses are never logged anywhere: nothing here reads them.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.functional import LazyObject, empty

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"
# A proxy's id (nginx's $request_id: 32 hex digits; a UUID; Envoy's, Heroku's): plain ASCII,
# short. Anything else is ignored and a new id made.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")

access_log = logging.getLogger("gongkai.request")


@dataclass(frozen=True)
class RequestContext:
    """What a log line written during a request may say about it. ``request`` is kept only
    to read who is signed in, and only where the page has already looked it up."""

    request_id: str | None
    request: HttpRequest | None = None

    @property
    def user_id(self) -> int | str | None:
        return signed_in_user_id(self.request) if self.request is not None else None


CURRENT: ContextVar[RequestContext | None] = ContextVar("gongkai_request", default=None)


def current() -> RequestContext | None:
    """The context of the request this thread is answering, if any."""
    return CURRENT.get()


def current_request_id() -> str | None:
    context = CURRENT.get()
    return context.request_id if context is not None else None


def new_request_id() -> str:
    return secrets.token_hex(16)


def incoming_request_id(request: HttpRequest) -> str | None:
    """The proxy's ``X-Request-ID``, when it is well formed."""
    value = request.META.get(META_KEY, "")
    return value if isinstance(value, str) and REQUEST_ID.fullmatch(value) else None


def is_anonymous_page(path_info: str) -> bool:
    """Whether ``path_info`` (the path below the site's prefix) is one of the anonymous
    reporter's pages (``settings.ANONYMOUS_PAGES`` less ``settings.ANONYMOUS_PAGES_EXCEPT``).
    Prefixes, so that a mistyped address below them counts too."""
    if not any(path_info.startswith(prefix) for prefix in settings.ANONYMOUS_PAGES):
        return False
    return not any(path_info.startswith(prefix) for prefix in settings.ANONYMOUS_PAGES_EXCEPT)


def signed_in_user_id(request: HttpRequest) -> int | str | None:
    """The id of the signed-in user if the request has already looked them up, else None.

    ``request.user`` is a lazy object that reads the session and the user on first use;
    forcing it here would cost queries on pages that need nobody (static files, the health
    check) and break the promise of the reporter's pages. The API's token sets a real user."""
    user: Any = request.__dict__.get("user")
    if user is None:
        return None
    if isinstance(user, LazyObject):
        wrapped = user._wrapped  # not yet looked up: `empty`
        if wrapped is empty:
            return None
        user = wrapped
    if not getattr(user, "is_authenticated", False):
        return None
    pk = getattr(user, "pk", None)
    return pk if isinstance(pk, int | str) else None


def forget(**_kwargs: Any) -> None:
    """``request_finished`` (the answer has been sent): later lines belong to no request."""
    CURRENT.set(None)


class RequestContextMiddleware:
    """The request id in the log context and the response header; one access line per
    request (none on the anonymous reporter's pages). First in ``MIDDLEWARE``, so that its
    duration covers the whole answer and every response carries the header.

    The context stays set after the middleware returns, until Django's ``request_finished``
    signal: Django logs its 4xx and 5xx warnings (``django.request``) only once the whole
    middleware chain has answered, and those lines belong to the request too. The next
    request on the thread sets its own in any case."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        request_finished.connect(forget, dispatch_uid="gongkai.core.requestid.forget")

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if is_anonymous_page(request.path_info):
            CURRENT.set(RequestContext(request_id=None))
            return self.get_response(request)
        request_id = incoming_request_id(request) or new_request_id()
        CURRENT.set(RequestContext(request_id=request_id, request=request))
        started = time.perf_counter()
        response = self.get_response(request)
        response[HEADER] = request_id
        access_log.info(
            "request finished",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response
