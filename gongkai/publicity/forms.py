"""Forms of the publicity pages. They parse input; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from gongkai.core.models import DayKind
from gongkai.publicity.models import Finding, Outcome, PublicityKind
from gongkai.publicity.services import (
    FINDING_MAX_CHARS,
    OBJECTION_MAX_CHARS,
    OUTCOME_MAX_CHARS,
)

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CalendarDayForm(forms.Form):
    day = forms.DateField(label=_("Date"), widget=DATE_WIDGET)
    kind = forms.ChoiceField(label=_("Kind"), choices=DayKind.choices)
    name = forms.CharField(
        label=_("Name"),
        max_length=60,
        required=False,
        help_text=_("For example 春节 or 国庆节调休."),
    )


class PublicityOpenForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=PublicityKind.choices, initial=PublicityKind.CADRE
    )
    starts_on = forms.DateField(label=_("First day"), widget=DATE_WIDGET)
    ends_on = forms.DateField(
        label=_("Last day"),
        widget=DATE_WIDGET,
        required=False,
        help_text=_(
            "Objections can be filed up to and including this day. For a cadre "
            "pre-appointment publicity leave it empty: the window lasts five working days "
            "after the first day (holidays and adjusted working days counted)."
        ),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class ObjectionForm(forms.Form):
    text = forms.CharField(
        label=_("Facts"),
        max_length=OBJECTION_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "State the facts you know: what, when, who can confirm it. At least 10 characters."
        ),
    )
    anonymous = forms.BooleanField(
        label=_("File anonymously"),
        required=False,
        help_text=_(
            "Your name is then shown to no one but the supervision group, which may need to "
            "ask you about the facts."
        ),
    )
    evidence = MultipleFileField(
        label=_("Evidence files"),
        required=False,
        help_text=_("Up to 5 files: PDF, PNG or JPEG images, .xlsx or .docx."),
    )


class FindingForm(forms.Form):
    finding = forms.ChoiceField(
        label=_("Finding"), choices=Finding.choices, widget=forms.RadioSelect
    )
    text = forms.CharField(
        label=_("What was checked and found"),
        max_length=FINDING_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Outcome.choices, widget=forms.RadioSelect
    )
    text = forms.CharField(
        label=_("Explanation"),
        max_length=OUTCOME_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Required unless no objection was raised."),
    )
