"""Built into every template: show structured data and rebuild query strings without ever
looking up user-controlled keys in a template (see ``gongkai.core.formatting``), and
punctuation in the reader's language."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest
from django.utils.translation import pgettext_lazy

from gongkai.core.formatting import pairs as format_pairs

register = template.Library()

# The marks a template puts between translated pieces ("Status: open"): full-width in
# Chinese (：，。；), as they are in English.
PUNCTUATION = {
    ":": pgettext_lazy("punctuation", ":"),
    ",": pgettext_lazy("punctuation", ","),
    ".": pgettext_lazy("punctuation", "."),
    ";": pgettext_lazy("punctuation", ";"),
}


@register.simple_tag
def punct(mark: str) -> str:
    """``{% translate "Status" %}{% punct ":" %} …``: ``mark`` in the reader's language;
    English adds the space after a colon, comma or semicolon that Chinese does not."""
    text = str(PUNCTUATION[mark])
    return text + " " if text in ":,;" else text


@register.filter
def pairs(data: Any) -> list[tuple[str, str]]:
    """``{% for label, value in event.before|pairs %}``: a JSON dict as (label, value)."""
    return format_pairs(data)


@register.simple_tag(takes_context=True)
def page_query(context: template.Context, number: int) -> str:
    """``?…&page=N``: the current query string with ``page`` replaced (every other name and
    value kept as it was, encoded again; the template escapes the result)."""
    request: HttpRequest | None = context.get("request")
    if request is None:
        return f"?page={number}"
    query = request.GET.copy()
    query["page"] = str(number)
    return "?" + query.urlencode()
