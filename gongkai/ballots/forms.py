"""Forms of the ballots pages: setting up a vote (plain text lists, fit for a phone too)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gongkai.accounts.models import User
from gongkai.ballots.models import Majority, Poll, PollKind
from gongkai.ballots.services import CadreSpec, GroupSpec, parse_weight
from gongkai.congress.models import Session
from gongkai.core.errors import ServiceError
from gongkai.org.models import OrgUnit

MAX_LIST = 20_000


def closes_on_field() -> forms.DateField:
    """The planned closing date: optional; whether it is in the past is the service's to say
    (one message for the form and every other client)."""
    return forms.DateField(
        label=_("Planned closing date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "The last day to vote, shown to the voters; those who have not voted are reminded "
            "before it. The vote still closes only when you close it."
        ),
    )


class ClosingDateForm(forms.Form):
    """The planned closing date alone: what may still change once a vote is open."""

    closes_on = closes_on_field()


class PollForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=5000, widget=forms.Textarea
    )
    session: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Congress session"),
        queryset=None,
        required=False,
        help_text=_("The representatives present at this session vote."),
    )
    closes_on = closes_on_field()

    def __init__(self, *args: Any, company: OrgUnit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = Session.objects.filter(  # type: ignore[attr-defined]
            term__company=company
        )
        # After every kind's own fields: the last thing set up, as it is the last day.
        self.fields["closes_on"] = self.fields.pop("closes_on")

    def service_kwargs(self) -> dict[str, Any]:
        """The cleaned data as the service takes it: these fields of every poll; each kind
        adds its own."""
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data["description"],
            "session": data["session"],
            "closes_on": data["closes_on"],
        }

    @staticmethod
    def initial_for(poll: Poll) -> dict[str, Any]:
        """The form's initial data to change ``poll``: these fields of every poll; each kind
        adds its own."""
        return {
            "title": poll.title,
            "description": poll.description,
            "session": poll.session_id,
            "closes_on": poll.closes_on,
        }


class ResolutionForm(PollForm):
    majority = forms.ChoiceField(label=_("Majority needed"), choices=Majority.choices)
    items = forms.CharField(
        label=_("Items voted on"),
        max_length=MAX_LIST,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("One item per line."),
    )

    def __init__(self, *args: Any, company: OrgUnit, **kwargs: Any) -> None:
        super().__init__(*args, company=company, **kwargs)
        self.fields["session"].required = True

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return super().service_kwargs() | {
            "majority": data["majority"],
            "items": data["items"].splitlines(),
        }

    @staticmethod
    def initial_for(poll: Poll) -> dict[str, Any]:
        return PollForm.initial_for(poll) | {
            "majority": poll.majority,
            "items": "\n".join(i.title for i in poll.items.all()),
        }


class EvaluationForm(PollForm):
    unit: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Or: the unit whose employees evaluate"),
        queryset=None,
        required=False,
        help_text=_("For a year-end mass evaluation: all active employees of the unit vote."),
    )
    cadres = forms.CharField(
        label=_("People evaluated"),
        max_length=MAX_LIST,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("One per line: the employee number, then optionally the position."),
    )
    excellent_quota_percent = forms.IntegerField(
        label=_("Maximum share graded excellent on one ballot (%)"),
        min_value=1,
        max_value=100,
        required=False,
    )
    min_ballots = forms.IntegerField(
        label=_("Minimum ballots before results are shown"),
        min_value=1,
        max_value=1_000_000,
        initial=1,
    )
    incompetent_threshold_percent = forms.IntegerField(
        label=_("Flag when the incompetent rate passes (%)"), min_value=0, max_value=100, initial=30
    )
    groups = forms.CharField(
        label=_("Rater groups (optional)"),
        required=False,
        max_length=MAX_LIST,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "One group per line: name | weight | employee numbers separated by spaces, or "
            "“*” for the default group of everyone else. Example: 领导 | 0.3 | 1001 1002"
        ),
    )

    def __init__(self, *args: Any, company: OrgUnit, **kwargs: Any) -> None:
        super().__init__(*args, company=company, **kwargs)
        self.fields["unit"].queryset = OrgUnit.objects.filter(  # type: ignore[attr-defined]
            path__startswith=company.path
        )

    def clean_cadres(self) -> list[CadreSpec]:
        specs: list[CadreSpec] = []
        lines = [line.split(maxsplit=1) for line in self.cleaned_data["cadres"].splitlines()]
        numbers = [parts[0] for parts in lines if parts]
        users = {u.employee_no: u for u in User.objects.filter(employee_no__in=numbers)}
        for parts in lines:
            if not parts:
                continue
            user = users.get(parts[0])
            if user is None:
                raise forms.ValidationError(
                    _("No employee has the number %(no)s."), params={"no": parts[0]}
                )
            specs.append(CadreSpec(user=user, position=parts[1] if len(parts) > 1 else ""))
        return specs

    def clean_groups(self) -> list[GroupSpec]:
        groups: list[GroupSpec] = []
        for line in self.cleaned_data["groups"].splitlines():
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) != 3:
                raise forms.ValidationError(_("Write each group as: name | weight | members."))
            name, weight_text, members_text = parts
            try:
                weight = parse_weight(weight_text)
            except ServiceError as error:
                raise forms.ValidationError(error.message) from None
            is_default = members_text == "*"
            numbers = [] if is_default else members_text.split()
            members = list(User.objects.filter(employee_no__in=numbers))
            if len(members) != len(set(numbers)):
                raise forms.ValidationError(
                    _("Group %(name)s lists an unknown employee number."), params={"name": name}
                )
            groups.append(
                GroupSpec(name=name, weight=weight, members=members, is_default=is_default)
            )
        return groups

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return super().service_kwargs() | {
            "unit": data["unit"],
            "cadres": data["cadres"],
            "groups": data["groups"],
            "excellent_quota_percent": data["excellent_quota_percent"],
            "min_ballots": data["min_ballots"],
            "incompetent_threshold_percent": data["incompetent_threshold_percent"],
        }

    @staticmethod
    def initial_for(poll: Poll) -> dict[str, Any]:
        items = poll.items.select_related("cadre")
        lines = []
        for group in poll.groups.prefetch_related("members"):
            members = (
                "*" if group.is_default else " ".join(m.employee_no for m in group.members.all())
            )
            lines.append(f"{group.name} | {group.weight.normalize()} | {members}")
        return PollForm.initial_for(poll) | {
            "unit": poll.unit_id,
            "cadres": "\n".join(
                f"{i.cadre.employee_no} {i.cadre_position}".strip() for i in items if i.cadre
            ),
            "excellent_quota_percent": poll.excellent_quota_percent,
            "min_ballots": poll.min_ballots,
            "incompetent_threshold_percent": poll.incompetent_threshold_percent,
            "groups": "\n".join(lines),
        }


FORMS: dict[str, type[ResolutionForm] | type[EvaluationForm]] = {
    PollKind.RESOLUTION: ResolutionForm,
    PollKind.EVALUATION: EvaluationForm,
}
