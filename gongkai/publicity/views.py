"""Pages of the publicity app: current windows, the calendar, opening a window, a window's
page, objections, findings and outcomes. Thin: parse, ask gongkai.policy, call a service."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from gongkai.accounts.requests import signed_in_user
from gongkai.core.errors import ServiceError
from gongkai.core.files import stored_file_response
from gongkai.core.models import CalendarDay
from gongkai.core.uploads import declared_body_too_large, too_large_message
from gongkai.core.workdays import calendar_for
from gongkai.disclosure import permissions as disclosure_policy
from gongkai.disclosure import selectors as disclosure_selectors
from gongkai.disclosure.models import Disclosure
from gongkai.policy.rules import Action, can
from gongkai.publicity import permissions as policy
from gongkai.publicity import selectors, services
from gongkai.publicity.forms import (
    CalendarDayForm,
    FindingForm,
    ObjectionForm,
    OutcomeForm,
    PublicityOpenForm,
)
from gongkai.publicity.models import Objection, ObjectionEvidence, Publicity

PER_PAGE = 20
FIRST_YEAR, LAST_YEAR = 2000, 2100


def publicity_for(request: HttpRequest, pk: int) -> Publicity:
    """The window if this user may read its disclosure; the same 404 when missing or not
    theirs."""
    publicity = get_object_or_404(
        selectors.with_relations(Publicity.objects.all()).select_related("disclosure__author"),
        pk=pk,
    )
    if not policy.can_view_publicity(request.user, publicity):
        raise Http404
    return publicity


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    page = Paginator(selectors.current_windows(request.user, today=today), PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "rows": [(p, p.state_on(today)) for p in page.object_list],
        "today": today,
        "outcomes": selectors.recent_outcomes(request.user),
        "may_manage_calendar": can(request.user, Action.CALENDAR_MANAGE),
    }
    return render(request, "publicity/index.html", context)


@login_required
def calendar_current(request: HttpRequest) -> HttpResponse:
    """``/publicity/calendar/``: this year's working-day calendar."""
    return redirect("publicity:calendar", year=timezone.localdate().year)


@login_required
@require_http_methods(["GET", "POST"])
def calendar(request: HttpRequest, year: int) -> HttpResponse:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Http404
    may_manage = can(request.user, Action.CALENDAR_MANAGE)
    if request.method == "POST" and not may_manage:
        raise PermissionDenied
    form = CalendarDayForm(request.POST or None) if may_manage else None
    if request.method == "POST" and form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.calendar_day_add(
                actor=signed_in_user(request), day=data["day"], kind=data["kind"], name=data["name"]
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The day is on the calendar."))
            return redirect("publicity:calendar", year=entry.day.year)
    days = list(CalendarDay.objects.filter(day__year=year).order_by("day"))
    context = {
        "year": year,
        "days": days,
        "form": form,
        "working_days": calendar_for([year]).working_days_between(
            date(year - 1, 12, 31), date(year, 12, 31)
        ),
        "previous_year": year - 1 if year > FIRST_YEAR else None,
        "next_year": year + 1 if year < LAST_YEAR else None,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "publicity/calendar.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def calendar_remove(request: HttpRequest, pk: int) -> HttpResponse:
    if not can(request.user, Action.CALENDAR_MANAGE):
        raise PermissionDenied
    entry = get_object_or_404(CalendarDay, pk=pk)
    if request.method == "POST":
        try:
            services.calendar_day_remove(actor=signed_in_user(request), entry=entry)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The day was removed from the calendar."))
        return redirect("publicity:calendar", year=entry.day.year)
    return render(request, "publicity/calendar_remove.html", {"entry": entry})


@login_required
@require_http_methods(["GET", "POST"])
def open_window(request: HttpRequest, disclosure_pk: int) -> HttpResponse:
    disclosure = get_object_or_404(
        disclosure_selectors.with_relations(Disclosure.objects.all()), pk=disclosure_pk
    )
    if not disclosure_policy.can_read(request.user, disclosure):
        raise Http404
    if not policy.can_open_publicity(request.user, disclosure):
        raise PermissionDenied
    today = timezone.localdate()
    form = PublicityOpenForm(request.POST or None, initial={"starts_on": today})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            publicity = services.publicity_open(
                actor=signed_in_user(request),
                disclosure=disclosure,
                kind=data["kind"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(
                request,
                _("The publicity window is open for objections until %(day)s.")
                % {"day": services.format_day(publicity.ends_on)},
            )
            return redirect("publicity:detail", pk=publicity.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "publicity/open.html",
        {"form": form, "disclosure": disclosure, "cadre_end": services.cadre_default_end(today)},
        status=status,
    )


@login_required
@require_safe
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    publicity = publicity_for(request, pk)
    user = request.user
    today = timezone.localdate()
    reviewer = policy.can_review_objections(user, publicity)
    objections = list(
        publicity.objections.select_related("filed_by", "finding_recorded_by").prefetch_related(
            "evidence"
        )
    )
    mine = [o for o in objections if o.filed_by_id == user.pk]
    context: dict[str, Any] = {
        "publicity": publicity,
        "disclosure": publicity.disclosure,
        "state": publicity.state_on(today),
        "today": today,
        "reviewer": reviewer,
        "objections": objections if reviewer else [],
        "mine": [] if reviewer else mine,
        "objection_count": len(objections),
        "pending_count": sum(1 for o in objections if o.finding is None),
        "may_file": policy.can_file_objection(user, publicity),
        "may_publish_outcome": policy.can_publish_outcome(user, publicity)
        and publicity.outcome is None,
        "finding_due": selectors.finding_due(publicity.ends_on),
    }
    return render(request, "publicity/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def file_objection(request: HttpRequest, pk: int) -> HttpResponse:
    publicity = publicity_for(request, pk)
    if not policy.can_file_objection(request.user, publicity):
        raise PermissionDenied
    today = timezone.localdate()
    state = publicity.state_on(today)
    limit = settings.ATTACHMENT_MAX_BYTES * services.MAX_EVIDENCE_FILES
    form = ObjectionForm()
    if request.method == "POST":
        if declared_body_too_large(request, limit):
            messages.error(request, too_large_message(limit))
            return redirect("publicity:object", pk=publicity.pk)
        form = ObjectionForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.objection_file(
                    actor=signed_in_user(request),
                    publicity=publicity,
                    text=data["text"],
                    anonymous=data["anonymous"],
                    uploads=data["evidence"],
                )
            except ServiceError as error:
                error.add_to_form(form)
            else:
                messages.success(
                    request,
                    _(
                        "Your objection is filed. The supervision group will look into it "
                        "and record a finding."
                    ),
                )
                return redirect("publicity:detail", pk=publicity.pk)
    status = 400 if request.method == "POST" else 200
    context = {
        "publicity": publicity,
        "disclosure": publicity.disclosure,
        "form": form,
        "state": state,
        "closed_message": services.closed_message(publicity, today) if state != "open" else "",
    }
    return render(request, "publicity/objection_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def record_finding(request: HttpRequest, pk: int) -> HttpResponse:
    objection = get_object_or_404(
        Objection.objects.select_related(
            "publicity__disclosure__unit", "publicity__disclosure__published_revision", "filed_by"
        ).prefetch_related("evidence"),
        pk=pk,
    )
    if not policy.can_view_publicity(request.user, objection.publicity):
        raise Http404
    if not policy.can_review_objections(request.user, objection.publicity):
        raise PermissionDenied
    if objection.finding is not None:
        messages.info(request, _("A finding was already recorded for this objection."))
        return redirect("publicity:detail", pk=objection.publicity_id)
    form = FindingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.objection_finding_record(
                actor=signed_in_user(request),
                objection=objection,
                finding=form.cleaned_data["finding"],
                text=form.cleaned_data["text"],
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The finding is recorded."))
            return redirect("publicity:detail", pk=objection.publicity_id)
    status = 400 if request.method == "POST" else 200
    context = {"objection": objection, "publicity": objection.publicity, "form": form}
    return render(request, "publicity/finding_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def publish_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    publicity = publicity_for(request, pk)
    if not policy.can_publish_outcome(request.user, publicity):
        raise PermissionDenied
    if publicity.outcome is not None:
        messages.info(request, _("The outcome was already published."))
        return redirect("publicity:detail", pk=publicity.pk)
    form = OutcomeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.publicity_outcome_publish(
                actor=signed_in_user(request),
                publicity=publicity,
                outcome=form.cleaned_data["outcome"],
                text=form.cleaned_data["text"],
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The outcome is published with the disclosure."))
            return redirect("publicity:detail", pk=publicity.pk)
    status = 400 if request.method == "POST" else 200
    objections = list(publicity.objections.all())
    context = {
        "publicity": publicity,
        "disclosure": publicity.disclosure,
        "form": form,
        "state": publicity.state_on(timezone.localdate()),
        "objection_count": len(objections),
        "pending_count": sum(1 for o in objections if o.finding is None),
    }
    return render(request, "publicity/outcome_form.html", context, status=status)


@require_safe
def evidence(request: HttpRequest, pk: int) -> HttpResponseBase:
    """An evidence file, for the supervision group and the filer; 404 for anyone else."""
    item = (
        ObjectionEvidence.objects.select_related("objection__publicity__disclosure__unit")
        .filter(pk=pk)
        .first()
    )
    if item is None or not policy.can_download_evidence(request.user, item):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise Http404
    return stored_file_response(
        item.file, content_type=item.content_type, filename=item.original_name
    )
