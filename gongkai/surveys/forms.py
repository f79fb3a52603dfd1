from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from gongkai.core.satisfaction import Satisfaction
from gongkai.org.models import OrgUnit, UnitKind
from gongkai.surveys.models import (
    MAX_INTRO,
    MAX_QUESTION,
    MAX_TEXT_ANSWER,
    MAX_TITLE,
    Question,
    QuestionKind,
)


def unit_label(unit: OrgUnit) -> str:
    prefix = {UnitKind.COMPANY: "", UnitKind.DEPARTMENT: "— ", UnitKind.TEAM: "—— "}
    return f"{prefix.get(UnitKind(unit.kind), '')}{unit.name}"


class SurveyForm(forms.Form):
    title = forms.CharField(
        label=_("Title"), widget=forms.TextInput(attrs={"maxlength": MAX_TITLE})
    )
    intro = forms.CharField(
        label=_("Introduction"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MAX_INTRO}),
        help_text=_("Shown above the questions: why the survey is held and that it is anonymous."),
    )
    unit = forms.ModelChoiceField(
        label=_("Addressed to"),
        queryset=OrgUnit.objects.none(),
        help_text=_("Every employee of this unit and of the units below it is asked."),
    )
    starts_on = forms.DateField(
        label=_("First day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(label=_("Last day"), widget=forms.DateInput(attrs={"type": "date"}))
    results_published = forms.BooleanField(
        label=_("Publish the results to the employees asked once the survey is closed"),
        required=False,
        help_text=_(
            "They see the figures only, never an individual answer; groups of fewer than "
            "five respondents stay withheld."
        ),
    )

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = units
        field.label_from_instance = unit_label  # type: ignore[method-assign,assignment]


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=QuestionKind.choices)
    text = forms.CharField(
        label=_("Question"),
        widget=forms.TextInput(attrs={"maxlength": MAX_QUESTION}),
    )


class AnswerForm(forms.Form):
    """One field per question, ``q<id>``. Validation is the service's (same messages for the
    form and any other client)."""

    def __init__(self, *args: Any, questions: list[Question], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for number, question in enumerate(questions, start=1):
            label = f"{number}. {question.text}"
            if question.kind == QuestionKind.RATING:
                self.fields[f"q{question.pk}"] = forms.CharField(
                    label=label,
                    required=False,
                    widget=forms.RadioSelect(
                        choices=Satisfaction.choices, attrs={"class": "scale"}
                    ),
                )
            else:
                self.fields[f"q{question.pk}"] = forms.CharField(
                    label=label,
                    required=False,
                    strip=True,
                    widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_TEXT_ANSWER}),
                    help_text=_(
                        "Optional. Do not write your name or anything that identifies you."
                    ),
                )
