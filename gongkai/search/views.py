from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gongkai.search.forms import SearchForm
from gongkai.search.selectors import MAX_PAGES, SORT_CHOICES, search_disclosures


def page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


@login_required
def results(request: HttpRequest) -> HttpResponse:
    """GET /search/?q=: the published disclosures the user may read that contain every word."""
    data = request.GET.copy()
    if data.get("sort") not in dict(SORT_CHOICES):  # an odd order: the usual one, no error
        data.pop("sort", None)
    form = SearchForm(data or None)
    context: dict[str, object] = {"form": form, "page": None, "max_pages": MAX_PAGES}
    if form.is_valid() and form.cleaned_data["q"]:
        requested = page_number(request.GET.get("page"))
        sort = form.cleaned_data["sort"]
        page = search_disclosures(request.user, form.cleaned_data["q"], page=requested, sort=sort)
        context |= {
            "page": page,
            "query": form.cleaned_data["q"],
            "sort": sort,
            "too_deep": requested > MAX_PAGES,
        }
    return render(request, "search/results.html", context)
