"""The form of a workflow step: the public reason some steps need, and the reason of
someone who approves for a level that has nobody to approve it (acting for it)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class StepForm(forms.Form):
    def __init__(self, *args: Any, needs_reason: bool, acting_for: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if needs_reason:
            self.fields["reason"] = forms.CharField(
                label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
            )
        if acting_for:
            self.fields["acting_for"] = forms.CharField(
                label=_("Why you act for %(unit)s") % {"unit": acting_for},
                help_text=_(
                    "%(unit)s has nobody to take this approval. You take it in its place; "
                    "your reason is recorded with the step and shown on the item."
                )
                % {"unit": acting_for},
                widget=forms.Textarea(attrs={"rows": 2}),
                max_length=2000,
            )

    @property
    def empty(self) -> bool:
        return not self.fields
