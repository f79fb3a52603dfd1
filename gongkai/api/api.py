"""The JSON API under ``/api/v1/`` (django-ninja). It has no logic of its own: every
endpoint asks the policy the pages ask and calls the services and selectors they call."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer

from gongkai.api.auth import auth_methods
from gongkai.api.endpoints import (
    boards,
    catalog,
    me,
    notifications,
    org,
    publicity,
    roster,
    search,
    suggestions,
    surveys,
)
from gongkai.api.errors import ApiError
from gongkai.core.errors import ServiceError

logger = logging.getLogger("gongkai.api")


class Utf8Json(JSONRenderer):
    """Chinese as characters, not ``\\u`` escapes (a third the size, readable in curl)."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    title="gongkai API",
    version="1",
    description=(
        "Company affairs disclosure and democratic management. Authenticate with an access "
        "token (`Authorization: Bearer gk_…`, created on /api/tokens/) or the signed-in "
        "session (send the CSRF token in `X-CSRFToken` with anything that writes). Errors "
        "have one shape: `{code, message, fields}`; the message is in the language of "
        "`Accept-Language` (zh-Hans or en), else the site's."
    ),
    urls_namespace="api-1",
    auth=auth_methods(),
    renderer=Utf8Json(),
)


def error(request: HttpRequest, status: int, code: str, message: str, **more: Any) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "fields": more.get("fields", {})}, status=status
    )


@api.exception_handler(ApiError)
def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error(request, exc.status, exc.code, exc.message, fields=exc.fields)


@api.exception_handler(ServiceError)
def on_service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    fields = {exc.field: [exc.message]} if exc.field else {}
    return error(request, 400, "refused", exc.message, fields=fields)


# Parts of pydantic's error locations that name ninja's containers, not the caller's fields.
WRAPPERS = frozenset({"body", "query", "path", "payload", "paging", "where"})


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for problem in exc.errors:
        where = [str(part) for part in problem.get("loc", ()) if part not in WRAPPERS]
        fields.setdefault(".".join(where) or "request", []).append(str(problem.get("msg", "")))
    return error(request, 422, "invalid", _("Some of what was sent is not valid."), fields=fields)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error(
        request,
        401,
        "unauthenticated",
        _("Sign in, or send a valid access token (Authorization: Bearer …)."),
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 403:
        return error(request, 403, "forbidden", _("You may not do this."))
    return error(request, exc.status_code, "error", str(exc.message))


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error(request, 403, "forbidden", _("You may not do this."))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error(request, 404, "not_found", _("Not found, or not yours to see."))


@api.exception_handler(ObjectDoesNotExist)
def on_missing(request: HttpRequest, exc: Exception) -> HttpResponse:
    return on_not_found(request, exc)


@api.exception_handler(RequestDataTooBig)
def on_too_large(request: HttpRequest, exc: Exception) -> HttpResponse:
    message = _("The request is larger than %(limit)s. Send less at once.") % {
        "limit": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    }
    return error(request, 400, "too_large", message)


@api.exception_handler(Exception)
def on_crash(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path)
    return error(request, 500, "server_error", _("Something went wrong on the server."))


for module in (
    me,
    org,
    boards,
    search,
    catalog,
    suggestions,
    publicity,
    surveys,
    notifications,
    roster,
):
    api.add_router("", module.router)
