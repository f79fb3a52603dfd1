"""Locale formats that differ from Django's (``FORMAT_MODULE_PATH``).

A date input's value must be ISO (``2026-12-07``) whatever the reader's language: browsers
drop any other value of ``<input type="date">``, and Django writes a date field's value with
the first of the language's ``DATE_INPUT_FORMATS`` (``%Y/%m/%d`` in Django's zh_Hans)."""
