"""The loopback receivers of bench_notify, in a process of their own (so that they never share
the GIL with the process that times): an SMTP server (aiosmtpd) that accepts every message,
and an HTTP server that answers as the chat platforms do.

``python -m bench.notify_sink SMTP_PORT HTTP_PORT DINGTALK_SECRET``

- SMTP: every message is accepted (``250``) and counted, with its recipients;
- ``POST /cgi-bin/webhook/send?key=…``: a WeCom group robot; accepted (``errcode`` 0) when the
  key is there and the body is a markdown message;
- ``POST /robot/send?access_token=…&timestamp=…&sign=…``: a DingTalk custom robot with a
  signing secret; accepted only when the signature is DingTalk's (HMAC-SHA256 of
  ``"{timestamp}\\n{secret}"``, Base64) and the timestamp within an hour, as DingTalk does;
  otherwise ``errcode`` 310000, as DingTalk answers;
- ``GET /stats``: the counts as JSON, with the ``time.monotonic()`` of the last accepted e-mail
  and robot message (CLOCK_MONOTONIC is the same clock in every process of the machine, so
  the timing process subtracts its own start from them);
- ``POST /reset``: counts back to zero.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

ACCEPTED = {"errcode": 0, "errmsg": "ok"}


class Counts:
    """What the receivers accepted since the last reset."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.emails = 0
        self.recipients: set[str] = set()
        self.first_email = 0.0
        self.last_email = 0.0
        self.robots: dict[str, int] = {"wecom": 0, "dingtalk": 0}
        self.refused = 0
        self.last_robot = 0.0

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "emails": self.emails,
                "recipients": len(self.recipients),
                "first_email": self.first_email,
                "last_email": self.last_email,
                "robots": dict(self.robots),
                "refused": self.refused,
                "last_robot": self.last_robot,
            }


COUNTS = Counts()


class Mailbox:
    """aiosmtpd handler: accept and count."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.monotonic()
        with COUNTS.lock:
            COUNTS.emails += 1
            COUNTS.recipients.update(envelope.rcpt_tos)
            COUNTS.first_email = COUNTS.first_email or now
            COUNTS.last_email = now
        return "250 Message accepted for delivery"


def dingtalk_ok(query: dict[str, list[str]], secret: str) -> bool:
    timestamp = query.get("timestamp", [""])[0]
    sign = query.get("sign", [""])[0]
    if not query.get("access_token", [""])[0] or not timestamp.isdigit():
        return False
    if abs(time.time() * 1000 - int(timestamp)) > 3600 * 1000:
        return False
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return hmac.compare_digest(base64.b64encode(digest.digest()).decode(), sign)


class Robots(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    secret = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def answer(self, payload: dict[str, Any], status: int = 200) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/stats":
            self.answer(COUNTS.stats())
        else:
            self.answer({"errcode": 404, "errmsg": "not found"}, 404)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parts.query)
        if parts.path == "/reset":
            with COUNTS.lock:
                COUNTS.reset()
            self.answer({"reset": True})
            return
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = {}
        markdown = payload.get("msgtype") == "markdown" and payload.get("markdown")
        if parts.path.endswith("/cgi-bin/webhook/send"):
            platform, ok = "wecom", bool(query.get("key", [""])[0] and markdown)
        elif parts.path.endswith("/robot/send"):
            platform, ok = "dingtalk", bool(markdown) and dingtalk_ok(query, self.secret)
        else:
            self.answer({"errcode": 404, "errmsg": "not found"}, 404)
            return
        now = time.monotonic()
        with COUNTS.lock:
            if ok:
                COUNTS.robots[platform] += 1
                COUNTS.last_robot = now
            else:
                COUNTS.refused += 1
        self.answer(ACCEPTED if ok else {"errcode": 310000, "errmsg": "sign not match"})


def main() -> None:
    smtp_port, http_port, secret = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    controller = Controller(Mailbox(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    Robots.secret = secret
    server = ThreadingHTTPServer(("127.0.0.1", http_port), Robots)
    server.daemon_threads = True
    try:
        server.serve_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
