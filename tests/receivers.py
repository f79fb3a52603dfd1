"""Receivers on loopback for the messages that leave the site: an SMTP server and an HTTP
server that plays each chat platform. Both record what they accept and can be told to fail.

- :class:`MailReceiver` (fixture ``smtp_receiver``): aiosmtpd on 127.0.0.1 on a free port,
  Django's SMTP backend pointed at it. ``refuse_next(n, code=451)`` refuses the next ``n``
  messages with that reply; ``stop()`` / ``start()`` take it down and bring it back on the
  same port.
- :class:`RobotReceiver` (fixture ``robot_receiver``): ``http.server`` in a thread. Each
  robot is registered with ``add(platform, secret=…)``, which returns its address
  (the platform's path and query shape with a fresh key). It checks each request as the
  platform documents it (path and query, JSON shape and size, signature with the robot's
  secret, timestamp freshness), answers as the platform does, including its error answers,
  and records accepted messages in ``messages``. ``fail_next(n, how="http"|"platform")``
  fails the next ``n`` requests with HTTP 500 or the platform's own "busy" error;
  ``hang_next(n)`` leaves them unanswered (for timeouts); ``redirect_next(n, code,
  location)`` answers with a redirect.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage as ParsedMail
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller

# --- SMTP -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mail:
    """A message the SMTP receiver accepted."""

    sender: str
    recipients: list[str]
    message: ParsedMail

    @property
    def subject(self) -> str:
        # Python's parser keeps the space of a folded first line ("Subject:\n =?utf-8?…").
        return str(self.message["Subject"] or "").strip()

    @property
    def to(self) -> str:
        return str(self.message["To"] or "")

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",)) or self.message
        return str(part.get_content())

    @property
    def text(self) -> str:
        """Everything a reader sees: subject and body."""
        return f"{self.subject}\n{self.body}"


class MailReceiver:
    """An SMTP server on 127.0.0.1 that keeps what it accepts."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.messages: list[Mail] = []
        self.refused = 0  # messages refused so far
        self._refuse: list[str] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    # aiosmtpd calls this for each message's DATA.
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            if self._refuse:
                self.refused += 1
                return self._refuse.pop(0)
            raw = envelope.original_content or envelope.content
            parsed = BytesParser(policy=policy.default).parsebytes(raw)
            self.messages.append(
                Mail(
                    sender=envelope.mail_from,
                    recipients=list(envelope.rcpt_tos),
                    message=parsed,
                )
            )
        return "250 2.0.0 OK: queued"

    def start(self) -> None:
        if self._controller is None:
            self._controller = Controller(self, hostname=self.host, port=self.port)
            self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse_next(self, count: int = 1, *, code: int = 451) -> None:
        """Refuse the next ``count`` messages: 4xx (try later) or 5xx (refused)."""
        reply = f"{code} 4.3.0 Try again later" if code < 500 else f"{code} 5.7.1 Message refused"
        with self._lock:
            self._refuse.extend([reply] * count)

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.messages if address in m.recipients]


@pytest.fixture
def smtp_receiver(settings: Any) -> Iterator[MailReceiver]:
    """A running SMTP receiver, and Django's SMTP backend pointed at it."""
    receiver = MailReceiver()
    receiver.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = receiver.host
    settings.EMAIL_PORT = receiver.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield receiver
    finally:
        receiver.stop()


# --- Chat platforms -------------------------------------------------------------------------

WECOM_PATH = "/cgi-bin/webhook/send"
DINGTALK_PATH = "/robot/send"
FEISHU_PREFIX = "/open-apis/bot/v2/hook/"
WEBHOOK_PREFIX = "/hooks/"
WECOM_CONTENT_BYTES = 4096
DINGTALK_BODY_BYTES = 20_000
FEISHU_BODY_BYTES = 20 * 1024
WEBHOOK_FRESH = 300  # seconds a signed webhook's timestamp may be away from now
PLATFORM_FRESH = 3600  # DingTalk and Feishu: one hour

FEISHU_OK = {
    "code": 0,
    "msg": "success",
    "data": {},
    "Extra": None,
    "StatusCode": 0,
    "StatusMessage": "success",
}
FEISHU_LEGACY_OK = {"Extra": None, "StatusCode": 0, "StatusMessage": "success"}
FEISHU_BAD_SIGN = {
    "code": 19021,
    "msg": "sign match fail or timestamp is not within one hour from current time",
    "data": {},
}
FEISHU_BAD_HOOK = {
    "code": 19001,
    "msg": "param invalid: incoming webhook access token invalid",
    "data": {},
}
FEISHU_BAD_REQUEST = {"code": 9499, "msg": "Bad Request", "data": {}}
FEISHU_BUSY = {"code": 11232, "msg": "frequency limited psm", "data": {}}
DINGTALK_OK = {"errcode": 0, "errmsg": "ok"}
DINGTALK_BAD_SIGN = {"errcode": 310000, "errmsg": "sign not match, more: [https://ding-doc]"}
DINGTALK_BAD_TIME = {"errcode": 310000, "errmsg": "invalid timestamp"}
DINGTALK_BAD_TOKEN = {"errcode": 300001, "errmsg": "token is not exist"}
DINGTALK_TOO_LONG = {"errcode": 460101, "errmsg": "message too long, exceed 20000 bytes"}
DINGTALK_BAD_BODY = {"errcode": 40035, "errmsg": "缺少参数 json"}
DINGTALK_BUSY = {"errcode": -1, "errmsg": "系统繁忙"}
WECOM_OK = {"errcode": 0, "errmsg": "ok"}
WECOM_BAD_KEY = {"errcode": 93000, "errmsg": "invalid webhook url, hint: [1]"}
WECOM_TOO_LONG = {
    "errcode": 40058,
    "errmsg": "markdown.content exceed max length 4096. invalid Request Parameter",
}
WECOM_BAD_TYPE = {"errcode": 40008, "errmsg": "invalid message type"}
WECOM_BUSY = {"errcode": -1, "errmsg": "system busy"}


@dataclass
class Posted:
    """A message a platform accepted: who it went to, the title and text as the group sees
    them, and the request itself."""

    platform: str
    key: str
    title: str
    text: str
    body: dict[str, Any]
    headers: dict[str, str]
    query: dict[str, str]

    @property
    def everything(self) -> str:
        return f"{self.title}\n{self.text}"


@dataclass
class Bot:
    platform: str
    secret: str = ""


@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def as_json(status: int, payload: dict[str, Any]) -> Answer:
    return Answer(
        status,
        json.dumps(payload, ensure_ascii=False).encode(),
        {"Content-Type": "application/json; charset=utf-8"},
    )


def hmac_b64(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


class RobotReceiver:
    """A loopback HTTP server that plays WeCom, DingTalk, Feishu and the signed webhook."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.bots: dict[str, Bot] = {}
        self.messages: list[Posted] = []
        self.refusals: list[tuple[str, dict[str, Any] | int]] = []  # (platform, answer)
        self.requests = 0
        self.feishu_legacy = False  # answer as older Feishu versions did (StatusCode only)
        self.skew = 0.0  # seconds the platform's clock is ahead of ours
        self._faults: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- control ---

    def start(self) -> None:
        if self._server is not None:
            return
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            def do_GET(self) -> None:
                self.send_response(405)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._release.clear()
        server = ThreadingHTTPServer((self.host, self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def add(self, platform: str, *, secret: str = "") -> str:
        """Register a robot; its address as the platform gives it."""
        key = uuid.uuid4().hex
        self.bots[key] = Bot(platform, secret)
        return self.url_for(platform, key)

    def url_for(self, platform: str, key: str) -> str:
        if platform == "wecom":
            return f"{self.base}{WECOM_PATH}?key={key}"
        if platform == "dingtalk":
            return f"{self.base}{DINGTALK_PATH}?access_token={key}"
        if platform == "feishu":
            return f"{self.base}{FEISHU_PREFIX}{key}"
        return f"{self.base}{WEBHOOK_PREFIX}{key}"

    def fail_next(self, count: int = 1, *, how: str = "http") -> None:
        """Fail the next ``count`` requests: ``http`` (HTTP 500) or ``platform`` (the
        platform's own "busy" error in a 200 answer; 503 for the webhook)."""
        with self._lock:
            self._faults.extend([(how, None)] * count)

    def hang_next(self, count: int = 1) -> None:
        """Leave the next ``count`` requests unanswered until the receiver stops."""
        with self._lock:
            self._faults.extend([("hang", None)] * count)

    def redirect_next(self, location: str, *, code: int = 302, count: int = 1) -> None:
        with self._lock:
            self._faults.extend([("redirect", (code, location))] * count)

    def now(self) -> float:
        return time.time() + self.skew

    @staticmethod
    def key_of(url: str) -> str:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        for name in ("key", "access_token"):
            if name in query:
                return query[name][0]
        return parts.path.rsplit("/", 1)[-1]

    def to(self, url: str) -> list[Posted]:
        key = self.key_of(url)
        return [m for m in self.messages if m.key == key]

    # --- serving ---

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length)
        with self._lock:
            self.requests += 1
            fault = self._faults.pop(0) if self._faults else None
        parts = urlsplit(request.path)
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        platform = self._platform_of(parts.path)
        if fault is not None:
            answer = self._fault(platform, *fault)
        else:
            headers = {name.lower(): value for name, value in request.headers.items()}
            answer = self._answer(platform, parts.path, query, headers, raw)
        if answer is None:  # hang
            return
        try:
            request.send_response(answer.status)
            for name, value in answer.headers.items():
                request.send_header(name, value)
            request.send_header("Content-Length", str(len(answer.body)))
            request.end_headers()
            request.wfile.write(answer.body)
        except OSError:
            pass

    def _platform_of(self, path: str) -> str:
        if path == WECOM_PATH:
            return "wecom"
        if path == DINGTALK_PATH:
            return "dingtalk"
        if path.startswith(FEISHU_PREFIX):
            return "feishu"
        return "webhook"

    def _fault(self, platform: str, how: str, detail: Any) -> Answer | None:
        if how == "hang":
            self._release.wait(30)
            return None
        if how == "redirect":
            code, location = detail
            return Answer(code, b"", {"Location": location})
        if how == "http":
            return Answer(500, b"<html><body>500 Internal Server Error</body></html>")
        busy = {"wecom": WECOM_BUSY, "dingtalk": DINGTALK_BUSY, "feishu": FEISHU_BUSY}
        if platform in busy:
            return as_json(200, busy[platform])
        return Answer(503, b"busy")

    def _refuse(self, platform: str, answer: Answer) -> Answer:
        try:
            payload: dict[str, Any] | int = json.loads(answer.body)
        except ValueError:
            payload = answer.status
        with self._lock:
            self.refusals.append((platform, payload))
        return answer

    def _accept(self, posted: Posted) -> None:
        with self._lock:
            self.messages.append(posted)

    def _answer(
        self, platform: str, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes
    ) -> Answer:
        handler = {
            "wecom": self._wecom,
            "dingtalk": self._dingtalk,
            "feishu": self._feishu,
            "webhook": self._webhook,
        }[platform]
        answer, posted = handler(path, query, headers, raw)
        if posted is not None:
            self._accept(posted)
            return answer
        return self._refuse(platform, answer)

    def _bot(self, platform: str, key: str) -> Bot | None:
        bot = self.bots.get(key)
        return bot if bot is not None and bot.platform == platform else None

    @staticmethod
    def _json(raw: bytes, headers: dict[str, str]) -> dict[str, Any] | None:
        if "application/json" not in headers.get("content-type", ""):
            return None
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        return body if isinstance(body, dict) else None

    def _wecom(
        self, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes
    ) -> tuple[Answer, Posted | None]:
        key = query.get("key", "")
        if self._bot("wecom", key) is None:
            return as_json(200, WECOM_BAD_KEY), None
        body = self._json(raw, headers)
        if body is None or set(body) != {"msgtype", "markdown"} or body["msgtype"] != "markdown":
            return as_json(200, WECOM_BAD_TYPE), None
        markdown = body["markdown"]
        if not isinstance(markdown, dict) or set(markdown) != {"content"}:
            return as_json(200, WECOM_BAD_TYPE), None
        content = markdown["content"]
        if not isinstance(content, str) or not content:
            return as_json(200, WECOM_BAD_TYPE), None
        if len(content.encode()) > WECOM_CONTENT_BYTES:
            return as_json(200, WECOM_TOO_LONG), None
        title, _sep, text = content.partition("\n")
        posted = Posted("wecom", key, title, text, body, headers, query)
        return as_json(200, WECOM_OK), posted

    def _dingtalk(
        self, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes
    ) -> tuple[Answer, Posted | None]:
        key = query.get("access_token", "")
        bot = self._bot("dingtalk", key)
        if bot is None:
            return as_json(200, DINGTALK_BAD_TOKEN), None
        if bot.secret:
            timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
            if not timestamp.isdigit() or abs(self.now() * 1000 - int(timestamp)) > (
                PLATFORM_FRESH * 1000
            ):
                return as_json(200, DINGTALK_BAD_TIME), None
            expected = hmac_b64(bot.secret.encode(), f"{timestamp}\n{bot.secret}".encode())
            if not hmac.compare_digest(sign, expected):
                return as_json(200, DINGTALK_BAD_SIGN), None
        if len(raw) > DINGTALK_BODY_BYTES:
            return as_json(200, DINGTALK_TOO_LONG), None
        body = self._json(raw, headers)
        if body is None or body.get("msgtype") != "markdown":
            return as_json(200, DINGTALK_BAD_BODY), None
        markdown = body.get("markdown")
        if (
            not isinstance(markdown, dict)
            or not isinstance(markdown.get("title"), str)
            or not isinstance(markdown.get("text"), str)
            or not markdown["title"]
            or not markdown["text"]
        ):
            return as_json(200, DINGTALK_BAD_BODY), None
        posted = Posted("dingtalk", key, markdown["title"], markdown["text"], body, headers, query)
        return as_json(200, DINGTALK_OK), posted

    def _feishu(
        self, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes
    ) -> tuple[Answer, Posted | None]:
        key = path[len(FEISHU_PREFIX) :]
        bot = self._bot("feishu", key)
        if bot is None:
            return as_json(200, FEISHU_BAD_HOOK), None
        if len(raw) > FEISHU_BODY_BYTES:
            return as_json(200, FEISHU_BAD_REQUEST), None
        body = self._json(raw, headers)
        if body is None:
            return as_json(200, FEISHU_BAD_REQUEST), None
        if bot.secret:
            timestamp, sign = body.get("timestamp"), body.get("sign")
            if (
                not isinstance(timestamp, str)
                or not timestamp.isdigit()
                or not isinstance(sign, str)
                or abs(self.now() - int(timestamp)) > PLATFORM_FRESH
            ):
                return as_json(200, FEISHU_BAD_SIGN), None
            expected = hmac_b64(f"{timestamp}\n{bot.secret}".encode(), b"")
            if not hmac.compare_digest(sign, expected):
                return as_json(200, FEISHU_BAD_SIGN), None
        read = self._feishu_content(body)
        if read is None:
            return as_json(200, FEISHU_BAD_REQUEST), None
        title, text = read
        posted = Posted("feishu", key, title, text, body, headers, query)
        return as_json(200, FEISHU_LEGACY_OK if self.feishu_legacy else FEISHU_OK), posted

    @staticmethod
    def _feishu_content(body: dict[str, Any]) -> tuple[str, str] | None:
        content = body.get("content")
        if not isinstance(content, dict):
            return None
        if body.get("msg_type") == "text":
            text = content.get("text")
            return ("", text) if isinstance(text, str) and text else None
        if body.get("msg_type") != "post" or not isinstance(content.get("post"), dict):
            return None
        locales = content["post"]
        if not locales or not all(isinstance(v, dict) for v in locales.values()):
            return None
        post = locales.get("zh_cn") or next(iter(locales.values()))
        title, rows = post.get("title", ""), post.get("content")
        if not isinstance(title, str) or not isinstance(rows, list) or not rows:
            return None
        lines = []
        for row in rows:
            if not isinstance(row, list):
                return None
            pieces = []
            for element in row:
                if not isinstance(element, dict) or element.get("tag") not in ("text", "a"):
                    return None
                if not isinstance(element.get("text"), str):
                    return None
                if element["tag"] == "a" and not isinstance(element.get("href"), str):
                    return None
                pieces.append(element["text"])
            lines.append("".join(pieces))
        return title, "\n".join(lines)

    def _webhook(
        self, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes
    ) -> tuple[Answer, Posted | None]:
        key = path[len(WEBHOOK_PREFIX) :] if path.startswith(WEBHOOK_PREFIX) else ""
        bot = self._bot("webhook", key)
        if bot is None:
            return Answer(404, b"not found"), None
        timestamp = headers.get("x-gongkai-timestamp", "")
        if not timestamp.isdigit() or abs(self.now() - int(timestamp)) > WEBHOOK_FRESH:
            return as_json(401, {"error": "stale or missing timestamp"}), None
        if bot.secret:
            expected = hmac.new(
                bot.secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256
            ).hexdigest()
            given = headers.get("x-gongkai-signature", "")
            if not hmac.compare_digest(given, f"sha256={expected}"):
                return as_json(401, {"error": "bad signature"}), None
        body = self._json(raw, headers)
        if (
            body is None
            or body.get("event") != "notice"
            or not isinstance(body.get("title"), str)
            or not isinstance(body.get("text"), str)
            or not isinstance(body.get("sent_at"), str)
        ):
            return as_json(400, {"error": "bad body"}), None
        try:
            datetime.fromisoformat(body["sent_at"])
        except ValueError:
            return as_json(400, {"error": "bad sent_at"}), None
        posted = Posted("webhook", key, body["title"], body["text"], body, headers, query)
        return Answer(202), posted


@pytest.fixture
def robot_receiver() -> Iterator[RobotReceiver]:
    receiver = RobotReceiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
