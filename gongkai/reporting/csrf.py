"""CSRF protection that works with ``Referrer-Policy: no-referrer``.

Every reporting page sends ``Referrer-Policy: no-referrer`` so that nothing the reporter
clicks tells another site (or a log) that they came from /report/. A consequence: browsers
then send ``Origin: null`` with the page's own form POSTs, which Django's origin check
refuses. This check is Django's own (the CSRF cookie and the form's token are still
required), except that ``Origin: null`` is accepted when the browser itself says the request
comes from this site: ``Sec-Fetch-Site: same-origin`` (a header no page can forge). Browsers
send Sec-Fetch-* over HTTPS and to localhost only; over plain HTTP (where Django checks no
Referer either) ``null`` without it is accepted, over HTTPS it is refused.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.decorators import decorator_from_middleware


class NoReferrerCsrfMiddleware(CsrfViewMiddleware):
    def _origin_verified(self, request: HttpRequest) -> bool:
        if request.META.get("HTTP_ORIGIN") == "null":
            fetch_site = request.META.get("HTTP_SEC_FETCH_SITE")
            if fetch_site is not None:
                return bool(fetch_site == "same-origin")
            return not request.is_secure()
        return bool(super()._origin_verified(request))  # type: ignore[misc]


csrf_protect_no_referrer = decorator_from_middleware(NoReferrerCsrfMiddleware)
