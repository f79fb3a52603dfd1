"""Forms of the reporting pages. Limits are checked again by the services."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gongkai.org.models import OrgUnit, UnitKind
from gongkai.reporting.models import ReportSource, ReportStatus
from gongkai.reporting.services import (
    BODY_MAX,
    FILES_PER_SUBMISSION,
    MESSAGE_MAX,
    SUBJECT_MAX,
    SUMMARY_MAX,
)


def _files_help() -> str:
    return gettext(
        "Up to %(max)s files: photos (JPEG, PNG), PDF, .docx or .xlsx. Photos are re-encoded "
        "without their metadata (place, camera, time). File names are not kept. PDF and "
        "Office documents may carry the author's name in their properties: remove it first, "
        "or attach a photo or screenshot instead."
    ) % {"max": FILES_PER_SUBMISSION}


def _body_help() -> str:
    return gettext("Who, what, when, where; how you know. At most %(max)s characters.") % {
        "max": BODY_MAX
    }


FILES_HELP = lazy(_files_help, str)()
BODY_HELP = lazy(_body_help, str)()


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


def top_companies() -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(
        kind=UnitKind.COMPANY, is_active=True, parent__isnull=True
    ).order_by("order", "name")


class CompanyField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class ReportForm(forms.Form):
    company = CompanyField(
        label=_("Company"), queryset=OrgUnit.objects.none(), to_field_name="code", empty_label=None
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=SUBJECT_MAX,
        help_text=_("In a few words: what is the report about?"),
    )
    body = forms.CharField(
        label=_("What happened"),
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=BODY_HELP,
    )
    evidence = MultipleFileField(label=_("Evidence (optional)"), help_text=FILES_HELP)

    def __init__(self, *args: Any, companies: QuerySet[OrgUnit] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        field = cast(forms.ModelChoiceField, self.fields["company"])
        field.queryset = companies if companies is not None else top_companies()
        options = list(field.queryset[:2])
        if len(options) == 1:
            field.initial = options[0].code
            field.widget = forms.HiddenInput()
        else:  # several companies: the reporter picks one, nothing is preselected
            field.empty_label = gettext("Choose the company")


class EnterForm(ReportForm):
    """An inspector enters a report that came by the hotline, by letter or in person."""

    source = forms.ChoiceField(
        label=_("Arrived by"),
        choices=[
            (ReportSource.HOTLINE, ReportSource.HOTLINE.label),
            (ReportSource.LETTER, ReportSource.LETTER.label),
            (ReportSource.IN_PERSON, ReportSource.IN_PERSON.label),
        ],
    )
    field_order = ["company", "source", "subject", "body", "evidence"]


class ReceiptForm(forms.Form):
    # No max_length and no format check: a forged code must get exactly the answer a wrong
    # one gets, so the code is judged only by looking it up.
    code = forms.CharField(
        label=_("Receipt code"),
        required=False,
        widget=forms.PasswordInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


class AddInformationForm(forms.Form):
    body = forms.CharField(
        label=_("More information"),
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    evidence = MultipleFileField(label=_("Evidence (optional)"), help_text=FILES_HELP)


class TransitionForm(forms.Form):
    to = forms.ChoiceField(label=_("New status"), choices=ReportStatus.choices)
    summary = forms.CharField(
        label=_("Conclusion (the reporter reads it)"),
        required=False,
        max_length=SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Answer to the reporter"),
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class DuplicateForm(forms.Form):
    of = forms.CharField(
        label=_("Duplicate of report (reference)"),
        required=False,
        max_length=20,
        help_text=_(
            "The 8-character reference of the earlier report on the same matter, e.g. "
            "3F9A0C12. Leave it empty to remove the mark. The reporter sees it with the "
            "receipt code."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class ChannelForm(forms.Form):
    hotline = forms.CharField(label=_("Reporting hotline"), max_length=40)
    postal_address = forms.CharField(label=_("Postal address"), max_length=300)
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)


class InboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *ReportStatus.choices]
    )
    source = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All")), *ReportSource.choices]
    )
    company = forms.CharField(required=False, widget=forms.HiddenInput())
