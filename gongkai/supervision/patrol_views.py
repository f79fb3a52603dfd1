"""Pages of rectification from employee representatives' patrols: the items of a patrol,
opening one (the supervision group), an item with its steps (the unit's head reports, the
supervision group accepts or sends back). Thin: the rules and steps are in
:mod:`gongkai.supervision.rectification`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from gongkai.accounts.requests import signed_in_user
from gongkai.congress.models import Patrol, PatrolReport
from gongkai.core.errors import ServiceError
from gongkai.org.models import OrgUnit
from gongkai.supervision import rectification as services
from gongkai.supervision.models import PatrolRectification
from gongkai.supervision.rectification import Step


class OpenForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=OrgUnit.objects.none())
    problem = forms.CharField(
        label=_("Problem to rectify"), widget=forms.Textarea(attrs={"rows": 4})
    )
    due_on = forms.DateField(label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, patrol: Patrol, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = patrol.units.order_by("path")  # type: ignore[attr-defined]


class StepForm(forms.Form):
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 5}))


STEP_LABELS: dict[Step, tuple[Any, Any]] = {
    Step.REPORT: (_("Report what was done"), _("What was done")),
    Step.ACCEPT: (_("Accept the rectification"), ""),
    Step.SEND_BACK: (_("Send it back"), _("Reasons for sending it back")),
}


def _patrol(pk: int) -> Patrol:
    return get_object_or_404(Patrol.objects.select_related("company", "author"), pk=pk)


def _item(request: HttpRequest, pk: int) -> PatrolRectification:
    item = get_object_or_404(
        PatrolRectification.objects.select_related("patrol__company", "unit", "opened_by"), pk=pk
    )
    if not services.can_view_patrol_rectification(request.user, item):
        raise Http404
    return item


@login_required
def patrol_rectifications(request: HttpRequest, patrol_pk: int) -> HttpResponse:
    patrol = _patrol(patrol_pk)
    items = [
        item
        for item in PatrolRectification.objects.filter(patrol=patrol).select_related("unit")
        if services.can_view_patrol_rectification(request.user, item)
    ]
    may_open = services.can_open_from_patrol(request.user, patrol)
    if not items and not may_open:
        raise Http404
    today = timezone.localdate()
    return render(
        request,
        "supervision/rectification_patrol_list.html",
        {
            "patrol": patrol,
            "units": patrol.units.order_by("path"),
            "rows": [(item, services.state_of(item, today).value) for item in items],
            "may_open": may_open and PatrolReport.objects.filter(patrol=patrol).exists(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def patrol_rectification_open(request: HttpRequest, patrol_pk: int) -> HttpResponse:
    patrol = _patrol(patrol_pk)
    if not services.can_open_from_patrol(request.user, patrol):
        raise PermissionDenied
    form = OpenForm(request.POST or None, patrol=patrol)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.patrol_rectification_open(
                actor=signed_in_user(request), patrol=patrol, **form.cleaned_data
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The rectification item is opened; the unit is told."))
            return redirect("supervision:patrol_rectification_detail", pk=item.pk)
    return render(
        request,
        "supervision/rectification_patrol_form.html",
        {"form": form, "patrol": patrol, "title": _("Open rectification from this patrol")},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def patrol_rectification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    return render(
        request,
        "supervision/rectification_patrol_detail.html",
        {
            "item": item,
            "patrol": item.patrol,
            "timeliness": services.state_of(item).value,
            "steps": [
                (step.value, STEP_LABELS[step][0])
                for step in services.patrol_item_steps(request.user, item)
            ],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def patrol_rectification_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    item = _item(request, pk)
    if step not in Step.__members__.values():
        raise Http404
    chosen = Step(step)
    if not services.may_take_on_patrol_item(request.user, item, chosen):
        raise PermissionDenied
    form: forms.Form = (
        StepForm(request.POST or None)
        if chosen != Step.ACCEPT
        else forms.Form(request.POST or None)
    )
    if chosen != Step.ACCEPT:
        form.fields["text"].label = STEP_LABELS[chosen][1]
    if request.method == "POST" and form.is_valid():
        actor = signed_in_user(request)
        text = form.cleaned_data.get("text", "")
        try:
            if chosen == Step.REPORT:
                services.patrol_rectification_report(actor=actor, item=item, report=text)
            elif chosen == Step.SEND_BACK:
                services.patrol_rectification_send_back(actor=actor, item=item, reasons=text)
            else:
                services.patrol_rectification_accept(actor=actor, item=item)
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("Done."))
            return redirect("supervision:patrol_rectification_detail", pk=item.pk)
    return render(
        request,
        "supervision/rectification_patrol_form.html",
        {"form": form, "patrol": item.patrol, "item": item, "title": STEP_LABELS[chosen][0]},
        status=400 if request.method == "POST" else 200,
    )


urlpatterns: list[URLPattern] = [
    path(
        "patrols/<int:patrol_pk>/rectifications/",
        patrol_rectifications,
        name="patrol_rectifications",
    ),
    path(
        "patrols/<int:patrol_pk>/rectifications/new/",
        patrol_rectification_open,
        name="patrol_rectification_open",
    ),
    path(
        "patrol-rectifications/<int:pk>/",
        patrol_rectification_detail,
        name="patrol_rectification_detail",
    ),
    path(
        "patrol-rectifications/<int:pk>/<slug:step>/",
        patrol_rectification_step,
        name="patrol_rectification_step",
    ),
]
