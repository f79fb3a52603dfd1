"""Forms of the congress pages. They parse input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongkai.accounts.models import User
from gongkai.congress.models import (
    Delegation,
    MeetingKind,
    Motion,
    MotionStatus,
    SessionKind,
)
from gongkai.core.form_fields import IdMultipleChoiceField
from gongkai.core.satisfaction import Satisfaction
from gongkai.org.models import OrgUnit
from gongkai.voice.models import SuggestionCategory

DATE = forms.DateInput(attrs={"type": "date"})


def _unit_label(unit: OrgUnit) -> str:
    return f"{'　' * max(unit.depth - 1, 0)}{unit.name}"


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _unit_label(obj)


class UnitMultipleChoiceField(IdMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _unit_label(obj)


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.employee_no})"


class TermForm(forms.Form):
    number = forms.IntegerField(label=_("Term number"), min_value=1, max_value=99)
    starts_on = forms.DateField(label=_("Starts on"), widget=DATE)
    ends_on = forms.DateField(label=_("Ends on"), widget=DATE)
    motion_seconds_required = forms.IntegerField(
        label=_("Seconds a motion needs"), min_value=0, max_value=50, initial=2
    )


class DelegationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    unit = UnitChoiceField(label=_("Department"), queryset=OrgUnit.objects.none(), required=False)
    head = PersonChoiceField(
        label=_("Head of delegation"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], people: QuerySet[User], **kw: Any):
        super().__init__(*args, **kw)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["head"].queryset = people  # type: ignore[attr-defined]


class RepresentativeAddForm(forms.Form):
    employee_no = forms.CharField(label=_("Employee number"), max_length=32)
    delegation = forms.ModelChoiceField(
        label=_("Delegation"), queryset=Delegation.objects.none(), required=False
    )
    elected_on = forms.DateField(label=_("Elected on"), widget=DATE, required=False)

    def __init__(self, *args: Any, delegations: QuerySet[Delegation], **kw: Any):
        super().__init__(*args, **kw)
        self.fields["delegation"].queryset = delegations  # type: ignore[attr-defined]


class RepresentativeMoveForm(forms.Form):
    delegation = forms.ModelChoiceField(
        label=_("Delegation"), queryset=Delegation.objects.none(), required=False
    )

    def __init__(self, *args: Any, delegations: QuerySet[Delegation], **kw: Any):
        super().__init__(*args, **kw)
        self.fields["delegation"].queryset = delegations  # type: ignore[attr-defined]


class RepresentativeLeaveForm(forms.Form):
    left_on = forms.DateField(label=_("Left on"), widget=DATE, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class SessionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=SessionKind.choices)
    number = forms.IntegerField(label=_("Number"), min_value=1, max_value=999)
    title = forms.CharField(label=_("Title"), max_length=200)
    held_on = forms.DateField(label=_("Held on"), widget=DATE)
    motions_open_on = forms.DateField(
        label=_("Motions collected from"), widget=DATE, required=False
    )
    motions_close_on = forms.DateField(
        label=_("Motions collected until"), widget=DATE, required=False
    )
    agenda = forms.CharField(
        label=_("Agenda"), widget=forms.Textarea(attrs={"rows": 6}), required=False
    )


class SessionEditForm(SessionForm):
    def __init__(self, *args: Any, **kw: Any):
        super().__init__(*args, **kw)
        del self.fields["kind"]
        del self.fields["number"]


class MotionForm(forms.Form):
    title = forms.CharField(label=_("Subject"), max_length=200)
    reasons = forms.CharField(label=_("Reasons"), widget=forms.Textarea(attrs={"rows": 6}))
    measures = forms.CharField(
        label=_("Proposed measures"), widget=forms.Textarea(attrs={"rows": 6})
    )


class EmptyForm(forms.Form):
    """A step that needs no input: the page is its confirmation."""


class MergeForm(forms.Form):
    into = forms.ModelChoiceField(label=_("Merge into motion"), queryset=Motion.objects.none())

    def __init__(self, *args: Any, targets: QuerySet[Motion], **kw: Any):
        super().__init__(*args, **kw)
        self.fields["into"].queryset = targets  # type: ignore[attr-defined]
        self.fields["into"].label_from_instance = lambda m: f"No. {m.number} {m.title}"  # type: ignore[attr-defined]


class DeclineForm(forms.Form):
    reasons = forms.CharField(
        label=_("Reasons for not registering"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Shown to the proposer. The motion goes on as a suggestion."),
    )
    unit = UnitChoiceField(
        label=_("Suggestion goes to"), queryset=OrgUnit.objects.none(), required=False
    )
    category = forms.ChoiceField(
        label=_("Suggestion category"),
        choices=SuggestionCategory.choices,
        initial=SuggestionCategory.MANAGEMENT,
    )

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kw: Any):
        super().__init__(*args, **kw)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class AssignForm(forms.Form):
    lead_unit = UnitChoiceField(label=_("Lead unit"), queryset=OrgUnit.objects.none())
    assisting_units = UnitMultipleChoiceField(
        label=_("Assisting units"),
        queryset=OrgUnit.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    due_on = forms.DateField(label=_("Due on"), widget=DATE)

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kw: Any):
        super().__init__(*args, **kw)
        self.fields["lead_unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["assisting_units"].queryset = units  # type: ignore[attr-defined]


class AnswerForm(forms.Form):
    measures = forms.CharField(label=_("Measures taken"), widget=forms.Textarea(attrs={"rows": 5}))
    result = forms.CharField(label=_("Result"), widget=forms.Textarea(attrs={"rows": 5}))


class AssistForm(forms.Form):
    """An assisting unit's answer: the unit (only those the user answers for) and the text."""

    unit = UnitChoiceField(label=_("For the assisting unit"), queryset=OrgUnit.objects.none())
    text = forms.CharField(
        label=_("Your unit's answer (what it will do or has done)"),
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args: Any, units: list[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        field.queryset = OrgUnit.objects.filter(pk__in=[u.pk for u in units])  # type: ignore[attr-defined]
        if len(units) == 1:
            field.initial = units[0].pk


class RateForm(forms.Form):
    value = forms.ChoiceField(
        label=_("Your satisfaction with the answer"),
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
    )


class TrackingFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All"))] + [c for c in MotionStatus.choices if c[0] != "draft"],
    )
    unit = UnitChoiceField(label=_("Lead unit"), queryset=OrgUnit.objects.none(), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kw: Any):
        super().__init__(*args, **kw)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class PatrolForm(forms.Form):
    patrolled_on = forms.DateField(label=_("Date"), widget=DATE, initial=timezone.localdate)
    units = UnitMultipleChoiceField(
        label=_("Units visited"),
        queryset=OrgUnit.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    participants = forms.CharField(label=_("Participants"), max_length=300, required=False)
    findings = forms.CharField(label=_("Findings"), widget=forms.Textarea(attrs={"rows": 6}))
    suggestions = forms.CharField(
        label=_("Suggestions"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kw: Any):
        super().__init__(*args, **kw)
        self.fields["units"].queryset = units  # type: ignore[attr-defined]


class DirectorReportForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(label=_("Report"), widget=forms.Textarea(attrs={"rows": 14}))


class MeetingForm(forms.Form):
    unit = UnitChoiceField(label=_("Unit"), queryset=OrgUnit.objects.none())
    kind = forms.ChoiceField(label=_("Kind"), choices=MeetingKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    held_on = forms.DateField(label=_("Date"), widget=DATE)
    attendees_text = forms.CharField(
        label=_("Attendees"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("Names, or employee numbers separated by spaces or commas."),
    )
    agenda = forms.CharField(
        label=_("Agenda"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    minutes = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 8}))
    decisions = forms.CharField(
        label=_("Decisions"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    concerns_employees = forms.BooleanField(
        label=_("The decisions concern employees' interests (they must be published)"),
        required=False,
    )

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kw: Any):
        super().__init__(*args, **kw)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
