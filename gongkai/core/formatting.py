"""Structured data shown as text: the one formatter for JSON dicts in templates.

A template must never look up the keys of a dict whose keys it does not know: Django's
template engine tries ``data["items"]`` before ``data.items()``, so a key named like a dict
method (``items``, ``keys``, ``values``, ``get``, ``update``, ``pop``, ``copy`` …) replaces
the method and the page fails or shows the wrong thing. ``pairs()`` turns such data into
(label, value) strings in Python; templates only loop over them (the ``pairs`` filter in
``gongkai.core.templatetags.formatting``). The output is plain text: templates escape it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

MAX_VALUE_CHARS = 2_000


def pairs(data: Any) -> list[tuple[str, str]]:
    """(label, value) of each entry of a mapping, in its order; anything else (a list, a
    scalar) becomes one pair with an empty label; None and empty data give no pairs."""
    if data is None or data == "" or data == {} or data == []:
        return []
    if isinstance(data, Mapping):
        return [(shown(key), shown(value)) for key, value in data.items()]
    return [("", shown(data))]


def shown(value: Any) -> str:
    """One value as text: strings as they are, None as ``—``, numbers and booleans as JSON
    writes them, lists and dicts as compact JSON; cut at MAX_VALUE_CHARS characters."""
    if value is None:
        text = "—"
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder, default=str)
    if len(text) > MAX_VALUE_CHARS:
        text = text[:MAX_VALUE_CHARS] + "…"
    return text
