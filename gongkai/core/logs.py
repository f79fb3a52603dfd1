"""What the server's log keeps of refused requests: one line, never a traceback.

Django logs a refusal (PermissionDenied → 403, BadRequest and SuspiciousOperation → 400) with
the exception attached, so each refused request would write a full traceback: noise that
buries real errors, and a map of the code for whoever reads the log. A 4xx is the client's
doing, not a fault of the server; its line keeps the message, the path and the status.
Answers of 500 and above keep their tracebacks.
"""

from __future__ import annotations

import logging


class RefusalsWithoutTraceback(logging.Filter):
    """Drops the traceback of a record about a 4xx answer (``status_code`` in its extra)."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True
