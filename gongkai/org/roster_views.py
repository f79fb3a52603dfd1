"""Roster import pages (being written)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gongkai.policy import Action, require


@login_required
def roster_import(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.ROSTER_IMPORT)
    return render(request, "org/roster_import.html", {})
