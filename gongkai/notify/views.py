from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from gongkai.accounts.requests import signed_in_user


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    notes = signed_in_user(request).notifications.all()
    page = Paginator(notes, 30).get_page(request.GET.get("page"))
    return render(request, "notify/notifications.html", {"page": page})


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    signed_in_user(request).notifications.filter(read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return redirect("notifications:list")
