"""Forms of the suggestion pages. Validation of substance lives in the services; these parse."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gongkai.core.satisfaction import Satisfaction
from gongkai.org.models import OrgUnit, UnitKind
from gongkai.voice.models import (
    BODY_MAX,
    TEXT_MAX,
    TITLE_MAX,
    SuggestionCategory,
    SuggestionStatus,
)
from gongkai.voice.services import MAX_ATTACHMENTS


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


INDENT = {UnitKind.COMPANY: "", UnitKind.DEPARTMENT: "— ", UnitKind.TEAM: "—— "}


def unit_label(unit: OrgUnit) -> str:
    return f"{INDENT.get(UnitKind(unit.kind), '')}{unit.name}"


def _units_field(field: forms.Field, units: QuerySet[OrgUnit]) -> None:
    assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
    field.queryset = units
    field.label_from_instance = unit_label  # type: ignore[method-assign,assignment]


class SubmitForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=_("Send to"),
        queryset=OrgUnit.objects.none(),
        help_text=_("Your team, your department or the company."),
    )
    category = forms.ChoiceField(label=_("Category"), choices=SuggestionCategory.choices)
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    body = forms.CharField(
        label=_("Your suggestion"),
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What is the problem, and what do you suggest? Plain text."),
    )
    attachments = MultipleFileField(
        label=_("Evidence (optional)"),
        required=False,
    )
    name_hidden = forms.BooleanField(
        label=_("Hide my name from the public"),
        required=False,
        help_text=_(
            "Your name is not shown on the board or the suggestion pages; the unit head, the "
            "union office and the supervision group still see who sent it. For anonymous "
            "reports of wrongdoing use the reporting channel instead."
        ),
    )

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _units_field(self.fields["unit"], units)
        self.fields["attachments"].help_text = gettext(
            "Up to %(n)s files: PDF, PNG or JPEG images, .xlsx or .docx."
        ) % {"n": MAX_ATTACHMENTS}


class FilterForm(forms.Form):
    unit = forms.CharField(required=False, widget=forms.HiddenInput)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *SuggestionStatus.choices],
    )
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=[("", _("All")), *SuggestionCategory.choices],
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (shown publicly)"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AssignForm(forms.Form):
    responsible_unit = forms.ModelChoiceField(
        label=_("Responsible unit"), queryset=OrgUnit.objects.none()
    )
    due_on = forms.DateField(label=_("Answer by"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _units_field(self.fields["responsible_unit"], units)


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 5})
    )
    action_taken = forms.CharField(
        label=_("What was done"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RateForm(forms.Form):
    rating = forms.ChoiceField(
        label=_("How satisfied are you with the handling?"),
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("If dissatisfied: why?"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Required for a “dissatisfied” rating. The union office reads it when it reviews "
            "the handling; it is not shown to the public."
        ),
    )


class ReviewReturnForm(forms.Form):
    due_on = forms.DateField(
        label=_("New answer by"), widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(
        label=_("Note to the responsible unit"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReviewCloseForm(forms.Form):
    note = forms.CharField(
        label=_("Review note (shown publicly)"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
