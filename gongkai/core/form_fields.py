"""Form fields shared by the apps: what a browser may send is not always what the database
can hold."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

# The range of a 64-bit signed integer: every primary key and integer column fits in it.
DB_INT_MIN = -(2**63)
DB_INT_MAX = 2**63 - 1


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A ModelMultipleChoiceField that refuses, before any query, an id that no database
    column can hold. Django checks the chosen values with ``pk__in``, and SQLite cannot bind
    an integer beyond 64 bits (OverflowError, a 500); such a value is invalid like ``abc``."""

    def clean(self, value: Any) -> Any:
        if (self.to_field_name or "pk") == "pk" and isinstance(value, list | tuple):
            for pk in value:
                try:
                    number = int(str(pk).strip())
                except ValueError:
                    continue  # Django reports it as an invalid value itself
                if not DB_INT_MIN <= number <= DB_INT_MAX:
                    raise ValidationError(
                        self.error_messages["invalid_pk_value"],
                        code="invalid_pk_value",
                        params={"pk": str(pk)[:40]},
                    )
        return super().clean(value)
