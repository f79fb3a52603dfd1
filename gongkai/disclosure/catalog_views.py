from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from gongkai.accounts.requests import signed_in_user
from gongkai.core.errors import ServiceError
from gongkai.core.periods import Frequency
from gongkai.disclosure.catalog import in_effect, replaced, rule_in_force, rules_by_entry
from gongkai.disclosure.catalog_services import (
    catalog_entry_reminder_set,
    catalog_rule_add,
    next_period_start,
)
from gongkai.disclosure.models import REMIND_DAYS_MAX, CatalogEntry, CatalogRule, Category, Scope
from gongkai.org.models import UnitKind
from gongkai.policy.rules import Action, can, require


class CatalogRuleForm(forms.Form):
    effective_from = forms.DateField(
        label=gettext_lazy("Takes effect on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    unit_kinds = forms.MultipleChoiceField(
        label=gettext_lazy("Published by"),
        choices=UnitKind.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    frequency = forms.ChoiceField(label=gettext_lazy("How often"), choices=Frequency.choices)
    deadline_days = forms.IntegerField(
        label=gettext_lazy("Days after the period ends"), min_value=0, max_value=365
    )
    default_scope = forms.ChoiceField(label=gettext_lazy("Default scope"), choices=Scope.choices)
    requires_procedure = forms.BooleanField(
        label=gettext_lazy("Procedure required"), required=False
    )
    requires_result = forms.BooleanField(label=gettext_lazy("Result required"), required=False)
    reason = forms.CharField(label=gettext_lazy("Reason for the change"), max_length=200)
    confirm_current = forms.BooleanField(
        label=gettext_lazy("Apply it to the current period as well"),
        required=False,
        help_text=gettext_lazy(
            "Only when the date falls in a period that has already begun; earlier periods "
            "never change."
        ),
    )


class CatalogEntryReminderForm(forms.Form):
    """When the first reminder of the entry's obligations goes (``form=reminder`` in the
    POST tells it from the rule form on the same page)."""

    remind_days_before = forms.IntegerField(
        label=gettext_lazy("Remind this many working days before the deadline"),
        required=False,
        min_value=0,
        max_value=REMIND_DAYS_MAX,
        help_text=gettext_lazy("Empty: the default."),
    )


def upcoming(rules: list[CatalogRule], today: date) -> CatalogRule | None:
    """The next rule to take effect (``rules`` newest first), if one is scheduled."""
    later = [rule for rule in rules if rule.effective_from > today]
    return later[-1] if later else None


@login_required
def index(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    rules = rules_by_entry()
    categories = list(Category.objects.order_by("order"))
    entries = CatalogEntry.objects.select_related("category").order_by("category__order", "order")
    rows = [
        (e, rule_in_force(rules.get(e.pk, []), today), upcoming(rules.get(e.pk, []), today))
        for e in entries
    ]
    return render(
        request,
        "disclosure/catalog.html",
        {
            "categories": categories,
            "rows": rows,
            "may_manage": can(request.user, Action.CATALOG_MANAGE),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def entry_detail(request: HttpRequest, code: str) -> HttpResponse:
    entry = get_object_or_404(CatalogEntry.objects.select_related("category"), code=code)
    may_manage = can(request.user, Action.CATALOG_MANAGE)
    today = timezone.localdate()
    rules = list(entry.rules.select_related("created_by").order_by("-effective_from"))
    current = rule_in_force(in_effect(rules), today)
    form = None
    reminder = None
    reminding = request.method == "POST" and request.POST.get("form") == "reminder"
    if may_manage:
        frequencies = [current.frequency] if current is not None else []
        initial: dict[str, object] = {"effective_from": next_period_start(today, frequencies)}
        if current is not None:
            initial |= {
                f: getattr(current, f)
                for f in (
                    "unit_kinds",
                    "frequency",
                    "deadline_days",
                    "default_scope",
                    "requires_procedure",
                    "requires_result",
                )
            }
        form = CatalogRuleForm(None if reminding else (request.POST or None), initial=initial)
        reminder = CatalogEntryReminderForm(
            request.POST if reminding else None,
            initial={"remind_days_before": entry.remind_days_before},
        )
    if request.method == "POST":
        require(request.user, Action.CATALOG_MANAGE)
        assert form is not None and reminder is not None  # noqa: S101
        if reminding:
            if reminder.is_valid():
                try:
                    catalog_entry_reminder_set(
                        actor=signed_in_user(request),
                        entry=entry,
                        days_before=reminder.cleaned_data["remind_days_before"],
                    )
                except ServiceError as error:
                    error.add_to_form(reminder)
                else:
                    messages.success(request, _("The reminder is set."))
                    return redirect("catalog:entry", code=entry.code)
        elif form.is_valid():
            try:
                catalog_rule_add(actor=signed_in_user(request), entry=entry, **form.cleaned_data)
            except ServiceError as error:
                error.add_to_form(form)
            else:
                messages.success(
                    request,
                    _(
                        "The new rule is recorded; earlier periods keep "
                        "the rule they were due under."
                    ),
                )
                return redirect("catalog:entry", code=entry.code)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "disclosure/catalog_entry.html",
        {
            "entry": entry,
            "rules": rules,
            "current": current,
            "replaced": replaced(rules),
            "today": today,
            "form": form,
            "reminder": reminder,
        },
        status=status,
    )
