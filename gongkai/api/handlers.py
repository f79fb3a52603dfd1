"""Django's error pages, answered in the API's JSON shape under ``/api/v1/``: a request that
never reaches the API (a NUL byte refused by a middleware, an address that matches no
endpoint, a crash before the API's own handlers) still gets ``{code, message, fields}``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

PREFIX = "/api/v1/"


def _json(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "fields": {}}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(PREFIX):
        return _json(400, "bad_request", _("The request is not valid."))
    return defaults.bad_request(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(PREFIX):
        return _json(404, "not_found", _("Not found, or not yours to see."))
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(PREFIX):
        return _json(500, "server_error", _("Something went wrong on the server."))
    return defaults.server_error(request)
