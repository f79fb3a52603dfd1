"""Simplified Chinese unless the user chose otherwise.

Django's LocaleMiddleware follows the browser's Accept-Language, so a worker whose phone is
set to English would never see the default. Here only the switcher's cookie counts, except
on the paths of ``ACCEPT_LANGUAGE_PATHS`` (the JSON API), whose callers are programs with
no switcher: there a request without the cookie is answered in its Accept-Language.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import trans_real


class ChosenLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if chosen not in self.available and request.path.startswith(
            tuple(getattr(settings, "ACCEPT_LANGUAGE_PATHS", ()))
        ):
            chosen = self.from_header(request)
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response

    def from_header(self, request: HttpRequest) -> str:
        """For programs (the API), which have no language switcher: the first language of
        their Accept-Language header that the site speaks."""
        header = request.headers.get("Accept-Language", "")[:500]
        for code, _quality in trans_real.parse_accept_lang_header(header):
            try:
                return translation.get_supported_language_variant(code)
            except LookupError:
                continue
        return ""
