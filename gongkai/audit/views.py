from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gongkai.audit.forms import AuditFilterForm
from gongkai.audit.selectors import audit_actions, audit_events_for, event_rows
from gongkai.core.access import require

EVENTS_PER_PAGE = 50


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "audit.browse")
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = audit_events_for(request.user, **{k: v for k, v in filters.items() if v})
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/event_list.html",
        {
            "form": form,
            "page": page,
            "rows": event_rows(page.object_list),
            "actions": audit_actions(),
        },
    )
