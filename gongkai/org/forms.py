from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gongkai.accounts.models import User
from gongkai.org.models import Role


class RoleGrantForm(forms.Form):
    employee_no = forms.CharField(label=_("Employee number"), max_length=32)
    role = forms.ChoiceField(
        label=_("Role"), choices=[c for c in Role.choices if c[0] != Role.EMPLOYEE]
    )

    def clean_employee_no(self) -> User:
        employee_no = self.cleaned_data["employee_no"].strip()
        user = User.objects.filter(employee_no=employee_no, is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("No active employee has this number."))
        return user


class MemberSearchForm(forms.Form):
    q = forms.CharField(label=_("Name or employee number"), max_length=64, required=False)
