"""Security headers that Django 5.2 does not set itself, and the refusal of requests that no
page can take."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse


class ContentSecurityPolicyMiddleware:
    """Send the Content-Security-Policy from settings: no inline scripts, no third parties."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


class RefuseNulMiddleware:
    """400 for a request whose path, query string or cookies hold a NUL character (``%00``).

    No page takes one, and PostgreSQL refuses NUL in every text parameter, so without this a
    ``%00`` in a path segment (``/org/people/%00/``), a query parameter or the session cookie
    that reaches a query answers 500 there. Form fields refuse NUL themselves (Django's
    CharField); bodies are not read here, so uploads keep their size check before parsing.
    Runs before anything reads the session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if any("\x00" in name or "\x00" in value for name, value in request.COOKIES.items()):
            # The 400 page must not look the session up with that key: an empty session
            # (whose cookie the session middleware then deletes) and nobody signed in.
            request.session = import_module(settings.SESSION_ENGINE).SessionStore()
            request.user = AnonymousUser()
            raise BadRequest("NUL character in a cookie")
        if "\x00" in request.path or any(
            "\x00" in name or any("\x00" in value for value in values)
            for name, values in request.GET.lists()
        ):
            raise BadRequest("NUL character in the address")
        return self.get_response(request)
