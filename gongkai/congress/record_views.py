"""Pages for patrols, employee directors' reports and meetings."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Model, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gongkai.accounts.models import User
from gongkai.accounts.requests import signed_in_user
from gongkai.congress import permissions as policy
from gongkai.congress import records, selectors
from gongkai.congress.forms import DirectorReportForm, EmptyForm, MeetingForm, PatrolForm
from gongkai.congress.models import DirectorReport, Meeting, Patrol
from gongkai.congress.views import user_company
from gongkai.core.errors import ServiceError
from gongkai.disclosure.models import DisclosureStatus
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action, can, visible_scope_paths

PER_PAGE = 20


def _units(company: OrgUnit) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(path__startswith=company.path, is_active=True).order_by("path")


def _record_page(
    request: HttpRequest,
    form: forms.Form,
    title: str,
    record: Callable[[dict[str, Any]], Model],
    done: str,
    detail: str,
) -> HttpResponse:
    """The form page that records something: a valid POST goes to ``record(cleaned data)``,
    then the message ``done`` and the ``detail`` page of what it recorded; a refusal shows its
    message in the form, sent back (as an invalid one) with status 400."""
    if request.method == "POST" and form.is_valid():
        try:
            made = record(form.cleaned_data)
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, done)
            return redirect(detail, pk=made.pk)
    return render(
        request,
        "congress/form.html",
        {"form": form, "title": title},
        status=400 if request.method == "POST" else 200,
    )


def _publish_page(
    request: HttpRequest,
    publish: Callable[[], Model],
    title: str,
    question: str,
    back: tuple[str, int],
) -> HttpResponse:
    """Confirm, then ``publish()`` a draft disclosure and go to it; a refusal goes ``back``
    (url name, pk) with its message."""
    form = EmptyForm(request.POST or None)
    if request.method == "POST":
        try:
            disclosure = publish()
        except ServiceError as error:
            messages.error(request, error.message)
            return redirect(back[0], pk=back[1])
        messages.success(request, _("The disclosure is drafted and submitted for approval."))
        return redirect("disclosure:detail", pk=disclosure.pk)
    return render(
        request,
        "congress/confirm.html",
        {"form": form, "title": title, "question": question, "back": back},
    )


# --- Patrols ------------------------------------------------------------------------------------


@login_required
def patrol_list(request: HttpRequest) -> HttpResponse:
    company = user_company(request)
    qs = selectors.patrols_of(company)
    if not policy.can_manage(request.user, company):  # unpublished: their authors only
        qs = qs.filter(Q(pk__in=selectors.published_patrols(company)) | Q(author=request.user))
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "congress/patrols.html",
        {
            "company": company,
            "page": page,
            "may_record": policy.can_record_patrol(request.user, company),
        },
    )


def patrol_for(request: HttpRequest, pk: int) -> Patrol:
    patrol = get_object_or_404(
        Patrol.objects.select_related("company", "author").prefetch_related("units"), pk=pk
    )
    if not policy.can_see_patrol(request.user, patrol):
        raise Http404
    return patrol


@login_required
def patrol_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patrol = patrol_for(request, pk)
    return render(
        request,
        "congress/patrol.html",
        {
            "patrol": patrol,
            "reports": selectors.patrol_reports(patrol),
            "published": selectors.patrol_is_published(patrol),
            "may_send": policy.can_send_patrol(request.user, patrol),
            "may_see_rectification": can(request.user, Action.RECTIFICATION_VERIFY)
            or can(request.user, Action.RECTIFICATION_REPORT),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def patrol_send(request: HttpRequest, pk: int) -> HttpResponse:
    patrol = patrol_for(request, pk)
    if not policy.can_send_patrol(request.user, patrol):
        raise PermissionDenied
    form = EmptyForm(request.POST or None)
    if request.method == "POST":
        try:
            records.patrol_send(actor=signed_in_user(request), patrol=patrol)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("The report is sent to the visited units' boards for approval."),
            )
        return redirect("congress:patrol_detail", pk=patrol.pk)
    return render(
        request,
        "congress/confirm.html",
        {
            "form": form,
            "title": _("Send the patrol report for publication"),
            "question": _(
                "Draft a disclosure of each unit visited (entry “patrol report”) with the "
                "findings and suggestions, and submit it for the unit's approval?"
            ),
            "back": ("congress:patrol_detail", patrol.pk),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def patrol_create(request: HttpRequest) -> HttpResponse:
    company = user_company(request)
    if not policy.can_record_patrol(request.user, company):
        raise PermissionDenied
    return _record_page(
        request,
        PatrolForm(request.POST or None, units=_units(company)),
        _("Record a patrol"),
        lambda data: records.patrol_record(actor=signed_in_user(request), company=company, **data),
        _("The patrol is recorded; the union office sends its report for publication."),
        "congress:patrol_detail",
    )


# --- Directors' reports ------------------------------------------------------------------------


@login_required
def director_list(request: HttpRequest) -> HttpResponse:
    company = user_company(request)
    user = request.user
    qs = selectors.director_reports_of(company)
    if not policy.can_publish_director_report(user, company):
        qs = qs.filter(
            Q(author=user)
            | Q(
                disclosure__published_revision__isnull=False,
                disclosure__status=DisclosureStatus.PUBLISHED,
            )
        )
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "congress/directors.html",
        {
            "company": company,
            "page": page,
            "may_write": policy.can_write_director_report(user, company),
        },
    )


def report_for(request: HttpRequest, pk: int) -> DirectorReport:
    report = get_object_or_404(
        DirectorReport.objects.select_related("company", "author", "disclosure"), pk=pk
    )
    if not policy.can_see_director_report(request.user, report):
        raise Http404
    return report


@login_required
def director_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = report_for(request, pk)
    user = request.user
    return render(
        request,
        "congress/director.html",
        {
            "report": report,
            "may_rewrite": report.author_id == user.pk and report.disclosure_id is None,
            "may_publish": report.disclosure_id is None
            and policy.can_publish_director_report(user, report.company),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def director_write(request: HttpRequest) -> HttpResponse:
    company = user_company(request)
    if not policy.can_write_director_report(request.user, company):
        raise PermissionDenied
    year = timezone.localdate().year - 1
    with contextlib.suppress(ValueError):
        year = int(request.GET.get("year", year))
    existing = DirectorReport.objects.filter(author=signed_in_user(request), year=year).first()
    initial: dict[str, object] = {"year": year}
    if existing is not None:
        initial |= {"title": existing.title, "text": existing.text}
    else:
        initial["title"] = _("Performance report for %(year)s") % {"year": year}
    return _record_page(
        request,
        DirectorReportForm(request.POST or None, initial=initial),
        _("Yearly performance report"),
        lambda data: records.director_report_write(
            actor=signed_in_user(request), company=company, **data
        ),
        _("Your report is saved; the union office sends it for publication."),
        "congress:director_detail",
    )


@login_required
@require_http_methods(["GET", "POST"])
def director_publish(request: HttpRequest, pk: int) -> HttpResponse:
    report = report_for(request, pk)
    if not policy.can_publish_director_report(request.user, report.company):
        raise PermissionDenied
    return _publish_page(
        request,
        lambda: records.director_report_publish(actor=signed_in_user(request), report=report),
        report.title,
        _(
            "Draft a disclosure (entry “employee directors' performance”) with this report "
            "and submit it for approval?"
        ),
        ("congress:director_detail", report.pk),
    )


# --- Meetings -----------------------------------------------------------------------------------


def _meeting_units(user: object, company: OrgUnit) -> QuerySet[OrgUnit]:
    roots = visible_scope_paths(user, Action.MEETING_RECORD)
    within = Q(pk__in=[])
    for root in roots:
        within |= Q(path__startswith=root)
    return _units(company).filter(within)


@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    company = user_company(request)
    user = request.user
    qs = selectors.meetings_of(company)
    roots = visible_scope_paths(user, Action.MEETING_RECORD)
    mine = Q(pk__in=[])
    for root in roots:
        mine |= Q(unit__path__startswith=root)
    visible = mine | Q(
        disclosure__published_revision__isnull=False, disclosure__status=DisclosureStatus.PUBLISHED
    )
    page = Paginator(qs.filter(visible), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "congress/meetings.html",
        {
            "company": company,
            "page": page,
            "may_record": bool(roots),
            "pending": selectors.meetings_needing_publication(company).filter(mine),
        },
    )


def meeting_for(request: HttpRequest, pk: int) -> Meeting:
    meeting = get_object_or_404(
        Meeting.objects.select_related("unit", "disclosure", "recorded_by"), pk=pk
    )
    if not policy.can_see_meeting(request.user, meeting):
        raise Http404
    return meeting


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_for(request, pk)
    return render(
        request,
        "congress/meeting.html",
        {
            "meeting": meeting,
            "attendees": meeting.attendees.all(),
            "may_publish": policy.can_edit_meeting(request.user, meeting),
        },
    )


EMPLOYEE_NO = re.compile(r"[\s,，、;；]+")


@login_required
@require_http_methods(["GET", "POST"])
def meeting_create(request: HttpRequest) -> HttpResponse:
    company = user_company(request)
    units = _meeting_units(request.user, company)
    if not units.exists():
        raise PermissionDenied

    def record(cleaned: dict[str, Any]) -> Meeting:
        data = dict(cleaned)
        tokens = [t for t in EMPLOYEE_NO.split(data["attendees_text"]) if t]
        people = list(
            User.objects.filter(
                employee_no__in=tokens, unit__path__startswith=company.path, is_active=True
            )
        )
        if people and len(people) == len(tokens):
            data["attendees_text"] = ""  # every token was an employee number
        return records.meeting_record(actor=signed_in_user(request), attendees=people, **data)

    return _record_page(
        request,
        MeetingForm(request.POST or None, units=units, initial={"held_on": timezone.localdate()}),
        _("Record a meeting"),
        record,
        _("The meeting is recorded."),
        "congress:meeting_detail",
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_publish(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_for(request, pk)
    if not policy.can_edit_meeting(request.user, meeting):
        raise PermissionDenied
    return _publish_page(
        request,
        lambda: records.meeting_publish(actor=signed_in_user(request), meeting=meeting),
        meeting.title,
        _(
            "Draft a disclosure of the unit (entry “meeting minutes and decisions”) with the "
            "minutes and decisions of this meeting and submit it for approval?"
        ),
        ("congress:meeting_detail", meeting.pk),
    )
