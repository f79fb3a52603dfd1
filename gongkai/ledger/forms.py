from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class HeadCheckForm(forms.Form):
    """A head written down earlier: is that entry still in the chain with that hash?"""

    sequence = forms.IntegerField(label=_("Sequence"), min_value=1, max_value=10**18)
    entry_hash = forms.RegexField(
        label=_("Entry hash"),
        regex=r"^\s*[0-9a-fA-F]{64}\s*$",
        error_messages={"invalid": _("An entry hash is 64 hexadecimal digits.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_entry_hash(self) -> str:
        return self.cleaned_data["entry_hash"].strip().lower()
