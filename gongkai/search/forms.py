from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gongkai.search.selectors import MAX_QUERY_CHARS, SORT_CHOICES, SORT_NEWEST


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search disclosures"),
        max_length=MAX_QUERY_CHARS,
        required=False,
        error_messages={
            "max_length": _("Search for at most %(limit_value)d characters."),
        },
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "enterkeyhint": "search"}
        ),
        help_text=_("One or more words, e.g. 费, 招标 or 住房分配. Every word must appear."),
    )
    sort = forms.ChoiceField(
        label=_("Order"), choices=SORT_CHOICES, required=False, initial=SORT_NEWEST
    )

    def clean_sort(self) -> str:
        return self.cleaned_data.get("sort") or SORT_NEWEST
