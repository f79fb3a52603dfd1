from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from gongkai.accounts.models import User
from gongkai.core.uploads import too_large_message
from gongkai.org.models import OrgUnit, Role


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


class RosterUploadForm(forms.Form):
    company = forms.ModelChoiceField(
        label=_("Company"), queryset=OrgUnit.objects.none(), empty_label=None
    )
    file = forms.FileField(
        label=_("Roster file"),
        help_text=_("An .xlsx workbook (first sheet) or a CSV file."),
        allow_empty_file=True,  # the import explains an empty file itself
    )

    def __init__(self, *args: Any, companies: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.only_company = companies[0] if len(companies) == 1 else None
        if self.only_company is not None:
            del self.fields["company"]  # nothing to choose
        else:
            field = self.fields["company"]
            assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
            field.queryset = companies

    @property
    def chosen_company(self) -> OrgUnit:
        company: OrgUnit = self.only_company or self.cleaned_data["company"]
        return company

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size is not None and upload.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(too_large_message(settings.UPLOAD_MAX_BYTES))
        return upload
