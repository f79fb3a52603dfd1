"""How the server's log lines look, and what they may say.

**Refused requests: one line, never a traceback.** Django logs a refusal (PermissionDenied →
403, BadRequest and SuspiciousOperation → 400) with the exception attached, so each refused
request would write a full traceback: noise that buries real errors, and a map of the code
for whoever reads the log. A 4xx is the client's doing, not a fault of the server; its line
keeps the message, the path and the status. Answers of 500 and above keep their tracebacks.

**Structured lines.** ``LOG_FORMAT=json`` (production's default) writes one JSON object per
line (:class:`JsonFormatter`) for a log collector; ``plain`` (elsewhere) the same facts for a
terminal (:class:`PlainFormatter`). Both take the request id and the signed-in user's id
from :class:`RequestContext` (see :mod:`gongkai.core.requestid`, which also says what is
left out on the anonymous reporter's pages). They write a fixed set of keys, never whatever
else a record carries: Django's request records carry the whole request, client address
included, and no line of this application names an address.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest

from gongkai.core import requestid


class RefusalsWithoutTraceback(logging.Filter):
    """Drops the traceback of a record about a 4xx answer (``status_code`` in its extra)."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True


# --- Structured lines: the request's context, JSON or plain -----------------------------------

# What a line may say beyond its message, in this order; nothing else a record carries is
# written (Django's request records carry the whole request, headers and client address
# included: only its method and path are taken).
REQUEST_FIELDS = ("method", "path", "status", "duration_ms")


class RequestContext(logging.Filter):
    """Puts the request id and the signed-in user's id (:mod:`gongkai.core.requestid`) on
    every record written during a request; on the handler, so that records of every logger
    get them. Outside a request (the task worker, commands) both are None."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = requestid.current()
        if not hasattr(record, "request_id"):
            record.request_id = context.request_id if context is not None else None
        if not hasattr(record, "user_id"):
            record.user_id = context.user_id if context is not None else None
        return True


def request_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The request's fields of a record: the access line's own, or those of Django's
    ``django.request`` records (their ``request`` and ``status_code``). Never the query
    string, never an address."""
    fields: dict[str, Any] = {
        name: getattr(record, name) for name in REQUEST_FIELDS if hasattr(record, name)
    }
    request = getattr(record, "request", None)
    if isinstance(request, HttpRequest):
        fields.setdefault("method", request.method)
        fields.setdefault("path", request.path)
    status = getattr(record, "status_code", None)
    if "status" not in fields and isinstance(status, int):
        fields["status"] = status
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message``;
    ``request_id`` and ``user_id`` when known; ``method``, ``path``, ``status``,
    ``duration_ms`` where the record is about a request; ``exc`` (the traceback as text)
    for errors. Only these keys: whatever else a record carries stays out of the log."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("request_id", "user_id"):
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        line.update(request_fields(record))
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """``time level logger message`` for a person reading a terminal, followed by the
    request's fields as ``key=value`` (the same ones the JSON lines have)."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None) -> None:
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s %(message)s", datefmt)

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        fields = request_fields(record)
        for name in ("request_id", "user_id"):
            value = getattr(record, name, None)
            if value is not None:
                fields[name] = value
        if fields:
            text += " " + " ".join(f"{name}={value}" for name, value in fields.items())
        return text
