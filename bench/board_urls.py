"""URLs for bench_board only: every page of the project plus one bare view doing a single
query (the throughput baseline)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from gongkai.org.models import OrgUnit


def bare(request: HttpRequest) -> HttpResponse:
    """One query and a tiny response, through the same middleware as every page."""
    name = OrgUnit.objects.filter(pk=1).values_list("name", flat=True).first()
    return HttpResponse(f"ok {name}", content_type="text/plain; charset=utf-8")


urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    path("", include("config.urls")),
]
