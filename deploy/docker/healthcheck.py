"""The container's health check: this container's app server answers ``/healthz`` with 200.

Asks as nginx would (the first of ALLOWED_HOSTS, X-Forwarded-Proto https), or Django would
refuse the host or redirect to HTTPS. Exits 0 when healthy, 1 otherwise.
"""

from __future__ import annotations

import os
import sys
import urllib.request

PORT = (os.environ.get("GUNICORN_BIND") or ":8000").rpartition(":")[2]


def main() -> int:
    host = (os.environ.get("ALLOWED_HOSTS") or "").split(",")[0].strip().lstrip(".")
    if not host or host == "*":
        host = "localhost"
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}/healthz",
        headers={"Host": host, "X-Forwarded-Proto": "https"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - http on loopback
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"healthz: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
