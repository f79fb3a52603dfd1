"""Forms of the supervision pages. They parse input only; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from gongkai.accounts.models import User
from gongkai.core.form_fields import IdMultipleChoiceField
from gongkai.core.text import MAX_TEXT
from gongkai.org.models import OrgUnit, UnitKind
from gongkai.supervision.models import (
    Answer,
    ChecklistItem,
    Circular,
    Finding,
    Measure,
    Severity,
)


class DateInput(forms.DateInput):
    input_type = "date"


class FindingChoiceField(forms.ModelChoiceField):
    """Findings named by their round and department (the queryset must select them)."""

    def label_from_instance(self, obj: Any) -> str:
        inspected = obj.inspected
        return f"{inspected.round.title} · {inspected.department.name}: {obj.text[:50]}"


def checklist_lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


class RoundForm(forms.Form):
    company = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Company"))
    title = forms.CharField(
        label=_("Title"), max_length=200, help_text=_("For example: 2026 first half.")
    )
    period_start = forms.DateField(label=_("Period start"), widget=DateInput)
    period_end = forms.DateField(label=_("Period end"), widget=DateInput)
    departments = IdMultipleChoiceField(
        queryset=OrgUnit.objects.none(),
        label=_("Departments to inspect"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    checklist = forms.CharField(
        label=_("Checklist"),
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_("One item per line."),
        required=False,
    )

    def __init__(self, *args: Any, companies: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        company_field = self.fields["company"]
        assert isinstance(company_field, forms.ModelChoiceField)  # noqa: S101 - for mypy
        company_field.queryset = companies
        if len(companies) == 1:
            self.fields["company"].initial = companies[0]
            self.fields["company"].widget = forms.HiddenInput()
        departments = OrgUnit.objects.none()
        for company in companies:
            departments |= OrgUnit.objects.filter(
                path__startswith=company.path, kind=UnitKind.DEPARTMENT, is_active=True
            )
        department_field = self.fields["departments"]
        assert isinstance(department_field, forms.ModelMultipleChoiceField)  # noqa: S101
        department_field.queryset = departments.order_by("path")

    def checklist_items(self) -> list[str] | None:
        return checklist_lines(self.cleaned_data.get("checklist") or "") or None


class ChecklistForm(forms.Form):
    items = forms.CharField(
        label=_("Checklist"),
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("One item per line. Items whose text is kept keep their answers."),
    )


class InspectionForm(forms.Form):
    inspected_on = forms.DateField(label=_("Inspected on"), widget=DateInput)
    self_report = forms.CharField(
        label=_("Self-report"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        max_length=MAX_TEXT,
        help_text=_("What the department reported; a file can be attached below instead."),
    )
    representative_notes = forms.CharField(
        label=_("Notes from hearing the representatives"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=MAX_TEXT,
    )

    def __init__(self, *args: Any, items: list[ChecklistItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        choices = [("", _("Not answered")), *Answer.choices]
        for item in items:
            self.fields[f"answer_{item.pk}"] = forms.ChoiceField(
                label=item.text, choices=choices, required=False
            )
            self.fields[f"note_{item.pk}"] = forms.CharField(
                label=_("Note"), max_length=500, required=False
            )

    def answer_fields(self) -> list[tuple[Any, Any]]:
        return [(self[f"answer_{item.pk}"], self[f"note_{item.pk}"]) for item in self.items]

    def answers(self) -> dict[int, tuple[str, str]]:
        return {
            item.pk: (
                self.cleaned_data.get(f"answer_{item.pk}") or "",
                self.cleaned_data.get(f"note_{item.pk}") or "",
            )
            for item in self.items
        }


class FileForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("PDF, Word, Excel or an image."))


class FindingForm(forms.Form):
    text = forms.CharField(
        label=_("Finding"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    due_on = forms.DateField(label=_("Rectify by"), widget=DateInput)
    repeat_of = FindingChoiceField(
        queryset=Finding.objects.none(),
        label=_("Repeat of an earlier finding"),
        required=False,
        empty_label=_("Not a repeat"),
    )

    def __init__(self, *args: Any, candidates: list[Finding], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["repeat_of"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - for mypy
        field.queryset = Finding.objects.filter(pk__in=[f.pk for f in candidates]).select_related(
            "inspected__round", "inspected__department"
        )


class ReportForm(forms.Form):
    report = forms.CharField(
        label=_("What was done"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=10_000,
    )
    evidence = forms.FileField(
        label=_("Evidence"), required=False, help_text=_("PDF, Word, Excel or a photo.")
    )


class VerifyForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("Accept")), ("send_back", _("Send back"))],
        widget=forms.RadioSelect,
    )
    reasons = forms.CharField(
        label=_("Reasons for sending back"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )


class PatrolRectificationForm(forms.Form):
    """Opening a rectification from a patrol: one of the units it visited, the problem, the
    due date."""

    unit = forms.ModelChoiceField(label=_("Unit"), queryset=OrgUnit.objects.none())
    problem = forms.CharField(
        label=_("Problem to rectify"), widget=forms.Textarea(attrs={"rows": 4}), max_length=10_000
    )
    due_on = forms.DateField(label=_("Rectify by"), widget=DateInput)

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - for mypy
        field.queryset = units


class CircularForm(forms.Form):
    number = forms.CharField(label=_("Document number"), max_length=60, required=False)
    title = forms.CharField(label=_("Title"), max_length=200)

    def __init__(self, *args: Any, circular: Circular, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.circular = circular
        if circular.supersedes_id is not None:
            self.fields["supersede_reason"] = forms.CharField(
                label=_("Why the earlier circular is superseded"),
                max_length=500,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        self.count = len(circular.sections) + 1  # one empty section to add
        for i in range(self.count):
            self.fields[f"heading_{i}"] = forms.CharField(
                label=_("Section heading"), max_length=200, required=False
            )
            self.fields[f"text_{i}"] = forms.CharField(
                label=_("Text"),
                widget=forms.Textarea(attrs={"rows": 6}),
                required=False,
                help_text=_("Separate paragraphs with an empty line."),
            )

    @classmethod
    def initial_for(cls, circular: Circular) -> dict[str, str]:
        initial = {
            "number": circular.number,
            "title": circular.title,
            "supersede_reason": circular.supersede_reason,
        }
        for i, section in enumerate(circular.sections):
            initial[f"heading_{i}"] = section.get("heading") or ""
            initial[f"text_{i}"] = "\n\n".join(section.get("paragraphs") or [])
        return initial

    def section_fields(self) -> list[tuple[Any, Any, dict[str, Any] | None]]:
        tables = [s.get("table") for s in self.circular.sections] + [None]
        return [(self[f"heading_{i}"], self[f"text_{i}"], tables[i]) for i in range(self.count)]

    def sections(self) -> list[dict[str, Any]]:
        tables = [s.get("table") for s in self.circular.sections] + [None]
        result = []
        for i in range(self.count):
            text = (self.cleaned_data.get(f"text_{i}") or "").replace("\r\n", "\n")
            result.append(
                {
                    "heading": self.cleaned_data.get(f"heading_{i}") or "",
                    "paragraphs": [p.strip() for p in text.split("\n\n") if p.strip()],
                    "table": tables[i],
                }
            )
        return result


class AccountabilityForm(forms.Form):
    employee_no = forms.CharField(label=_("Employee number of the person"), max_length=40)
    finding = FindingChoiceField(
        queryset=Finding.objects.none(),
        label=_("Finding it answers"),
        required=False,
        empty_label=_("No finding: describe the cause"),
    )
    cause = forms.CharField(
        label=_("Cause"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
        help_text=_("The failure the decision answers, when it is not a finding."),
    )
    measure = forms.ChoiceField(label=_("Measure taken"), choices=Measure.choices)
    decided_on = forms.DateField(label=_("Decided on"), widget=DateInput)
    details = forms.CharField(
        label=_("Details"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: Any, findings: QuerySet[Finding], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["finding"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - for mypy
        field.queryset = findings

    def clean_employee_no(self) -> User:
        value = self.cleaned_data["employee_no"].strip()
        person = User.objects.select_related("unit").filter(employee_no=value).first()
        if person is None:
            raise forms.ValidationError(_("No person has this employee number."))
        return person
