from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongkai.api.models import AccessToken
from gongkai.api.services import NAME_MAX, SERVICE_ROLES
from gongkai.core.form_fields import IdMultipleChoiceField
from gongkai.org.models import OrgUnit

DEFAULT_DAYS = 90


class UnitsField(IdMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{'　' * max(obj.depth - 1, 0)}{obj.name}"


class UnitField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{'　' * max(obj.depth - 1, 0)}{obj.name}"


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX,
        help_text=_("What it is for, e.g. “the OA portal” or “my weekly report script”."),
    )
    scope = forms.ChoiceField(
        label=_("It may"),
        choices=AccessToken.Scope.choices,
        initial=AccessToken.Scope.READ,
        widget=forms.RadioSelect,
    )
    units = UnitsField(
        label=_("Only within these units"),
        queryset=OrgUnit.objects.none(),
        required=False,
        help_text=_("None chosen: wherever the account may act."),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    expires_on = forms.DateField(
        label=_("Expires on"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial", {"expires_on": timezone.localdate() + timedelta(days=DEFAULT_DAYS)}
        )
        super().__init__(*args, **kwargs)
        field = self.fields["units"]
        assert isinstance(field, UnitsField)  # noqa: S101 - declared above
        field.queryset = units


class ServiceAccountForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=64, help_text=_("The system, e.g. “HR system (roster)”.")
    )
    description = forms.CharField(label=_("What it is for"), max_length=200, required=False)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[(r.value, r.label) for r in SERVICE_ROLES],
        help_text=_(
            "Union office: may read every item of the unit and import the roster. "
            "Supervision group: may read every item."
        ),
    )
    unit = UnitField(label=_("On unit"), queryset=OrgUnit.objects.none())

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, UnitField)  # noqa: S101 - declared above
        field.queryset = units
