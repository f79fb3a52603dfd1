"""Forms of the compliance dashboard and the assessment pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongkai.assessment.models import CRITERIA, CRITERION_LABELS
from gongkai.core.periods import Period, PeriodKind
from gongkai.disclosure.compliance import STATE_LABELS, State

MAX_RANGE_DAYS = 5 * 366


class DateInput(forms.DateInput):
    input_type = "date"


def default_range(today: date) -> tuple[date, date]:
    """The current month and the eleven before it: a year of obligations on any day (on
    1 January "this year so far" would hold nothing that is due yet)."""
    month = Period.containing(today, PeriodKind.MONTH)
    for _month in range(11):
        month = month.previous()
    return month.start, today


class RangeForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=DateInput)
    end = forms.DateField(label=_("To"), required=False, widget=DateInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        default_start, today = default_range(timezone.localdate())
        start = data.get("start") or default_start
        end = data.get("end") or today
        if start > end:
            raise forms.ValidationError(_("The start date is after the end date."))
        if (end - start).days > MAX_RANGE_DAYS:
            raise forms.ValidationError(_("Choose a range of at most five years."))
        data["start"], data["end"] = start, end
        return data


class ObligationFilterForm(RangeForm):
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All states")), *[(s.value, STATE_LABELS[s]) for s in State]],
    )


class SchemeForm(forms.Form):
    effective_from = forms.DateField(label=_("Effective from"), widget=DateInput)
    reason = forms.CharField(label=_("Reason for the change"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for criterion in CRITERIA:
            self.fields[criterion] = forms.CharField(
                label=CRITERION_LABELS[criterion],
                max_length=4,
                widget=forms.NumberInput(attrs={"min": 0, "max": 100, "step": 1}),
            )
        self.order_fields([*CRITERIA, "effective_from", "reason"])


class PublishForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"))

    def __init__(self, *args: Any, periods: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = periods  # type: ignore[attr-defined]
