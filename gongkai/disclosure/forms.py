from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from gongkai.disclosure.models import CatalogEntry, Scope
from gongkai.disclosure.tables import (
    TABLE_TEXT_HELP,
    TOTAL_AUTO,
    TOTAL_CHOICES,
    TOTAL_COLUMNS_HELP,
    TOTAL_HELP,
    Totals,
    clean_table,
)
from gongkai.org.models import OrgUnit, UnitKind

PERIOD_HELP = _(
    "Month 2026-10, quarter 2026-Q3, half-year 2026-H2 or year 2026, as the "
    "catalog entry demands. Leave empty for an event."
)


class UnitEntryPeriodForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=OrgUnit.objects.none())
    entry = forms.ModelChoiceField(
        label=_("Catalog entry"),
        queryset=CatalogEntry.objects.filter(is_active=True).select_related("category"),
    )
    period = forms.CharField(
        label=_("Period"), max_length=10, required=False, help_text=PERIOD_HELP
    )
    event_date = forms.DateField(
        label=_("Event date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("For entries published per event."),
    )

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = units
        field.label_from_instance = unit_label  # type: ignore[method-assign,assignment]
        entry_field = self.fields["entry"]
        assert isinstance(entry_field, forms.ModelChoiceField)  # noqa: S101
        entry_field.label_from_instance = entry_label  # type: ignore[method-assign,assignment]


UNIT_PREFIX: dict[str, str] = {
    UnitKind.COMPANY: "",
    UnitKind.DEPARTMENT: "— ",
    UnitKind.TEAM: "—— ",
}


def unit_label(unit: OrgUnit) -> str:
    return f"{UNIT_PREFIX.get(unit.kind, '')}{unit.name}"


def entry_label(entry: CatalogEntry) -> str:
    return f"{entry.category.name} · {entry.name}"


class ContentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    procedure = forms.CharField(
        label=_("Procedure (办事程序)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("How the matter was handled: who decided, by which rule, in which steps."),
    )
    result = forms.CharField(
        label=_("Result (办事结果)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What was decided or spent, with the figures."),
    )
    table_text = forms.CharField(
        label=_("Table"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=TABLE_TEXT_HELP,
    )
    table_file = forms.FileField(label=_("…or upload the table (.xlsx or .csv)"), required=False)
    table_total = forms.ChoiceField(
        label=_("Totals row"),
        choices=TOTAL_CHOICES,
        required=False,
        initial=TOTAL_AUTO,
        help_text=TOTAL_HELP,
    )
    table_total_columns = forms.CharField(
        label=_("Columns to total"), required=False, max_length=500, help_text=TOTAL_COLUMNS_HELP
    )
    scope = forms.ChoiceField(label=_("Who may see it"), choices=Scope.choices)

    def __init__(self, *args: Any, entry: CatalogEntry | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.catalog_entry = entry  # the draft's catalog entry: it decides the usual totals

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        entry = cleaned.get("entry") or self.catalog_entry
        total = Totals.from_form(
            cleaned.get("table_total"),
            cleaned.get("table_total_columns"),
            entry.code if isinstance(entry, CatalogEntry) else "",
        )
        try:
            cleaned["table"] = clean_table(
                cleaned.get("table_text", ""), cleaned.get("table_file"), total=total
            )
        except forms.ValidationError as error:
            self.add_error("table_text", error)
        return cleaned


class DisclosureCreateForm(UnitEntryPeriodForm, ContentForm):
    field_order = [
        "unit",
        "entry",
        "period",
        "event_date",
        "title",
        "procedure",
        "result",
        "table_text",
        "table_file",
        "table_total",
        "table_total_columns",
        "scope",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = self.fields["scope"]
        assert isinstance(scope, forms.ChoiceField)  # noqa: S101
        scope.required = False
        scope.choices = [("", _("As the catalog says")), *Scope.choices]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class AttestationForm(UnitEntryPeriodForm):
    reason = forms.CharField(
        label=_("Why there is nothing to report"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "PDF, JPEG or PNG images, .xlsx or .docx. Photos lose their location and camera data."
        ),
    )
