"""Posting a message to an enterprise chat robot or a signed webhook.

One function, :func:`post`, for four platforms, each as its own documentation has it:

- **WeCom group robot** (企业微信群机器人): ``POST`` JSON to the robot's webhook address
  (``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…``), ``msgtype`` ``markdown``
  with ``markdown.content`` at most 4096 bytes of UTF-8. WeCom robots do not sign; the key
  in the address is the credential. Accepted: HTTP 200 and ``errcode`` 0.
- **DingTalk custom robot** (钉钉自定义机器人): ``POST`` JSON to
  ``https://oapi.dingtalk.com/robot/send?access_token=…``, ``msgtype`` ``markdown`` with
  ``title`` and ``text``; the body at most 20,000 bytes. With a signing secret (加签) the
  address also carries ``timestamp`` (milliseconds) and ``sign``: the URL-encoded Base64 of
  HMAC-SHA256 keyed with the secret over ``"{timestamp}\\n{secret}"``; DingTalk refuses a
  timestamp more than an hour away. Accepted: ``errcode`` 0.
- **Feishu / Lark custom bot** (飞书自定义机器人): ``POST`` JSON to
  ``https://open.feishu.cn/open-apis/bot/v2/hook/…``, ``msg_type`` ``post`` (a title and
  lines, links as links); the body at most 20 KB. With a secret the body also carries
  ``timestamp`` (seconds, a string) and ``sign``: the Base64 of HMAC-SHA256 *keyed with*
  ``"{timestamp}\\n{secret}"`` over an empty message (the reverse of DingTalk's). Feishu
  answers HTTP 200 even for errors; accepted: ``code`` 0 (older answers: ``StatusCode`` 0).
- **Signed webhook** (any receiver of our own format): ``POST`` JSON
  ``{"event": "notice", "title", "text", "sent_at"}`` with the headers
  ``X-Gongkai-Timestamp`` (Unix seconds) and, with a secret, ``X-Gongkai-Signature:
  sha256=<hex HMAC-SHA256(secret, b"{timestamp}." + body)>``, so the receiver can refuse a
  forged or replayed message (it should refuse timestamps more than a few minutes away).
  Accepted: any 2xx.

Outbound events (``notify.events``) use the same signing (:func:`signed_headers`, one
signature function for both) with the event's JSON as the body: :func:`post_event`, which
also says the event's type and the delivery in ``X-Gongkai-Event`` and
``X-Gongkai-Delivery``.

Only ``http`` and ``https`` addresses are used; a redirect is followed only when it keeps the
method and body (307, 308) and the scheme, at most three times. Any failure raises
:class:`DeliveryError` with a short reason for the delivery log (the HTTP status, the
platform's error code and message, or why the robot was unreachable); the address (which
carries the robot's key) and the secret never appear in it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import Message
from typing import IO, Any

from django.utils.translation import gettext as _

PLATFORMS = ("wecom", "dingtalk", "feishu", "webhook")

WECOM_CONTENT_BYTES = 4096  # markdown.content, UTF-8 bytes
DINGTALK_BODY_BYTES = 20_000  # the whole request body
FEISHU_BODY_BYTES = 20_000  # "at most 20 KB", kept under 20,000 bytes to be safe
WEBHOOK_TEXT_BYTES = 32_000  # our own format: a notice is never near this
ANSWER_BYTES = 64 * 1024  # what is read of an answer
REASON_LENGTH = 200  # of a platform's error message kept in the log
ELLIPSIS = "…"
USER_AGENT = "gongkai-notify/1"
URL_LINE = re.compile(r"^https?://\S+$")
RETRIED_4XX = frozenset({408, 429})  # Request Timeout, Too Many Requests: worth another try


class DeliveryError(Exception):
    """The platform did not accept the message (unreachable, an HTTP error, or an error code
    in its answer); the message says which, for the delivery log. ``status``: the HTTP
    status when the receiver answered with an error status."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def permanent(self) -> bool:
        """Whether trying again cannot help: the receiver refused the request itself (a 4xx
        status other than 408 Request Timeout and 429 Too Many Requests)."""
        status = self.status
        return status is not None and 400 <= status < 500 and status not in RETRIED_4XX


def post(platform: str, url: str, secret: str, *, title: str, text: str, timeout: float) -> None:
    """Send ``title`` and ``text`` to the robot at ``url`` of ``platform`` (wecom, dingtalk,
    feishu, webhook), signed with ``secret`` where the platform signs; raise
    :class:`DeliveryError` unless the platform accepted it."""
    builder = BUILDERS.get(platform)
    if builder is None:
        raise DeliveryError(_("unknown platform %(platform)s") % {"platform": platform[:20]})
    if not is_web_address(url):
        raise DeliveryError(_("the robot's address is not an http or https address"))
    # Every platform shows a title (DingTalk requires one): the first line when none is given.
    title = one_line(title) or one_line(text.strip().partition("\n")[0])[:100] or "gongkai"
    target, body, headers = builder(url.strip(), secret, title, text)
    status, answer = _send(target, body, headers, timeout=timeout, secrets=(url, secret))
    CHECKS[platform](status, answer, (url, secret))


def is_web_address(url: str) -> bool:
    """Only ``http`` and ``https`` addresses with a host are ever requested."""
    parts = urllib.parse.urlsplit(url.strip())
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def post_event(
    url: str, secret: str, *, body: bytes, event: str, delivery: str, timeout: float
) -> None:
    """POST an outbound event's JSON ``body`` to ``url``, signed with ``secret`` as the
    signed webhook is (:func:`signed_headers`); raise :class:`DeliveryError` unless the
    receiver answered 2xx (its ``status`` set when it answered with an error status)."""
    if not is_web_address(url):
        raise DeliveryError(_("the endpoint's address is not an http or https address"))
    headers = {
        **json_headers(),
        "X-Gongkai-Event": one_line(event)[:100],
        "X-Gongkai-Delivery": one_line(delivery)[:100],
        **signed_headers(secret, body),
    }
    status, answer = _send(url.strip(), body, headers, timeout=timeout, secrets=(url, secret))
    _check_webhook(status, answer, (url, secret))


# --- Building each platform's request -------------------------------------------------------

Request = tuple[str, bytes, dict[str, str]]


def one_line(value: str) -> str:
    """``value`` on one line, spaces collapsed (a title, a subject)."""
    return " ".join(value.split())


def cut_bytes(value: str, limit: int) -> str:
    """``value`` cut to at most ``limit`` bytes of UTF-8 (never inside a character), with an
    ellipsis when it was cut."""
    raw = value.encode()
    if len(raw) <= limit:
        return value
    room = max(limit - len(ELLIPSIS.encode()), 0)
    return raw[:room].decode("utf-8", "ignore") + ELLIPSIS


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def fit(make: Callable[[str], dict[str, Any]], text: str, limit: int) -> bytes:
    """The body ``make(text)`` encoded, ``text`` cut until the body fits in ``limit``
    bytes."""
    body = encode(make(text))
    while len(body) > limit and text:
        excess = len(body) - limit
        text = cut_bytes(text, max(len(text.encode()) - excess - len(ELLIPSIS.encode()), 0))
        if text == ELLIPSIS:
            text = ""
        body = encode(make(text))
    return body


def without_title(title: str, text: str) -> str:
    """``text`` without its first line when that line is the title (a notice's subject is
    its first line), so the title is not shown twice."""
    first, _sep, rest = text.strip().partition("\n")
    return rest.strip("\n") if title and one_line(first) == title else text.strip()


def markdown(title: str, text: str) -> str:
    """The title in bold, then the text, each line that is a bare link made a link."""
    body = without_title(title, text)
    lines = [f"[{line}]({line})" if URL_LINE.match(line) else line for line in body.split("\n")]
    head = f"**{title}**" if title else ""
    return "\n\n".join(part for part in (head, "\n".join(lines)) if part)


def json_headers() -> dict[str, str]:
    return {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}


def build_wecom(url: str, secret: str, title: str, text: str) -> Request:
    # WeCom group robots have no signing secret: the key in the address is the credential.
    content = cut_bytes(markdown(title, text), WECOM_CONTENT_BYTES)
    return url, encode({"msgtype": "markdown", "markdown": {"content": content}}), json_headers()


def dingtalk_sign(secret: str, timestamp: str) -> str:
    """DingTalk's ``sign`` (before URL encoding): Base64 of HMAC-SHA256, key ``secret``,
    message ``"{timestamp}\\n{secret}"``."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def build_dingtalk(url: str, secret: str, title: str, text: str) -> Request:
    if secret:
        timestamp = str(int(time.time() * 1000))
        extra = urllib.parse.urlencode(
            {"timestamp": timestamp, "sign": dingtalk_sign(secret, timestamp)}
        )
        parts = urllib.parse.urlsplit(url)
        query = f"{parts.query}&{extra}" if parts.query else extra
        url = urllib.parse.urlunsplit(parts._replace(query=query))

    def make(body_text: str) -> dict[str, Any]:
        return {"msgtype": "markdown", "markdown": {"title": title, "text": body_text}}

    return url, fit(make, markdown(title, text), DINGTALK_BODY_BYTES), json_headers()


def feishu_sign(secret: str, timestamp: str) -> str:
    """Feishu's ``sign``: Base64 of HMAC-SHA256 keyed with ``"{timestamp}\\n{secret}"`` over
    an empty message."""
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_lines(text: str) -> list[list[dict[str, str]]]:
    """A ``post`` message's paragraphs: one per line that is not blank, a bare link as a
    link."""
    rows: list[list[dict[str, str]]] = []
    for line in text.strip().split("\n"):
        if not line.strip():
            continue  # each line is a paragraph already
        if URL_LINE.match(line):
            rows.append([{"tag": "a", "text": line, "href": line}])
        else:
            rows.append([{"tag": "text", "text": line}])
    return rows


def build_feishu(url: str, secret: str, title: str, text: str) -> Request:
    signed: dict[str, str] = {}
    if secret:
        timestamp = str(int(time.time()))
        signed = {"timestamp": timestamp, "sign": feishu_sign(secret, timestamp)}

    def make(body_text: str) -> dict[str, Any]:
        lines = feishu_lines(body_text) or [[{"tag": "text", "text": title}]]
        post = {"zh_cn": {"title": title, "content": lines}}
        return {**signed, "msg_type": "post", "content": {"post": post}}

    return url, fit(make, without_title(title, text), FEISHU_BODY_BYTES), json_headers()


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Gongkai-Signature`` of ``body`` sent at ``timestamp``: ``sha256=`` and the hex
    HMAC-SHA256, keyed with ``secret``, of ``"{timestamp}."`` followed by the body's bytes.
    The one signature of the signed webhook and of outbound events."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def signed_headers(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """``X-Gongkai-Timestamp`` (Unix seconds, now) and, with a secret, the
    ``X-Gongkai-Signature`` of ``body`` at that timestamp."""
    timestamp = str(int(time.time() if now is None else now))
    headers = {"X-Gongkai-Timestamp": timestamp}
    if secret:
        headers["X-Gongkai-Signature"] = webhook_signature(secret, timestamp, body)
    return headers


def build_webhook(url: str, secret: str, title: str, text: str) -> Request:
    now = int(time.time())
    body = encode(
        {
            "event": "notice",
            "title": title,
            "text": cut_bytes(text, WEBHOOK_TEXT_BYTES),
            "sent_at": datetime.fromtimestamp(now, UTC).isoformat(),
        }
    )
    return url, body, {**json_headers(), **signed_headers(secret, body, now=now)}


BUILDERS: dict[str, Callable[[str, str, str, str], Request]] = {
    "wecom": build_wecom,
    "dingtalk": build_dingtalk,
    "feishu": build_feishu,
    "webhook": build_webhook,
}


# --- Sending --------------------------------------------------------------------------------


class _SameSchemeRedirects(urllib.request.HTTPRedirectHandler):
    """Follow only redirects that keep the method and body (307, 308) and the scheme; any
    other redirect is an error (its HTTP status)."""

    max_redirections = 3

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> urllib.request.Request | None:
        old = urllib.parse.urlsplit(req.full_url)
        new = urllib.parse.urlsplit(newurl)
        if code not in (307, 308) or new.scheme != old.scheme:
            return None
        return urllib.request.Request(  # noqa: S310 - same scheme: http or https, checked
            newurl,
            data=req.data,
            headers=dict(req.header_items()),
            method=req.get_method(),
        )


_OPENER = urllib.request.build_opener(_SameSchemeRedirects())


def scrub(value: str, secrets: tuple[str, str]) -> str:
    """``value`` without the address, its path and query (they carry the key), or the
    secret; short."""
    url, secret = secrets
    parts = urllib.parse.urlsplit(url)
    for hidden in (url, url.strip(), parts.query, parts.path, secret):
        if hidden and len(hidden) > 3:
            value = value.replace(hidden, "…")
    for _name, hidden in urllib.parse.parse_qsl(parts.query):
        if len(hidden) > 3:
            value = value.replace(hidden, "…")
    return one_line(value)[:REASON_LENGTH]


def _reason(exc: BaseException) -> str:
    """Why a robot could not be reached, in a few words (never the address)."""
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        inner = exc.reason
        if isinstance(inner, BaseException):
            return _reason(inner)
        return str(inner)
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return _("timed out")
    if isinstance(exc, ssl.SSLError):
        return f"TLS: {exc.reason or type(exc).__name__}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


def _send(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float, secrets: tuple[str, str]
) -> tuple[int, bytes]:
    """POST ``body``; the HTTP status and (the start of) the answer. An HTTP error status is
    returned, not raised; anything else that fails raises :class:`DeliveryError`."""
    # The scheme was checked by post(): http or https only.
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read(ANSWER_BYTES)
    except urllib.error.HTTPError as exc:
        try:
            answer = exc.read(ANSWER_BYTES)
        except OSError:  # the status is what matters
            answer = b""
        finally:
            exc.close()
        return exc.code, answer
    except Exception as exc:  # every other failure means "unreachable"
        reason = scrub(_reason(exc), secrets)
        raise DeliveryError(_("unreachable: %(reason)s") % {"reason": reason}) from None


def _answer(answer: bytes) -> dict[str, Any] | None:
    try:
        found = json.loads(answer.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _refused(code: object, message: object, secrets: tuple[str, str]) -> DeliveryError:
    text = scrub(str(message or ""), secrets)
    return DeliveryError(_("refused: error %(code)s %(message)s") % {"code": code, "message": text})


def _http_error(status: int, answer: dict[str, Any] | None, secrets: tuple[str, str]) -> None:
    if 200 <= status < 300:
        return
    detail = ""
    if answer:
        code = answer.get("errcode", answer.get("code", answer.get("StatusCode")))
        message = answer.get("errmsg", answer.get("msg", answer.get("StatusMessage", "")))
        if code is not None:
            detail = f" ({code} {scrub(str(message or ''), secrets)}".rstrip() + ")"
    if 300 <= status < 400:
        raise DeliveryError(_("redirected (HTTP %(status)s), not followed") % {"status": status})
    raise DeliveryError(f"HTTP {status}{detail}", status=status)


def _check_errcode(status: int, raw: bytes, secrets: tuple[str, str]) -> None:
    """WeCom and DingTalk: HTTP 200 and ``errcode`` 0."""
    answer = _answer(raw)
    _http_error(status, answer, secrets)
    if answer is None:
        raise DeliveryError(
            _("the answer is not the platform's JSON (HTTP %(status)s)") % {"status": status}
        )
    if answer.get("errcode") != 0:
        raise _refused(answer.get("errcode"), answer.get("errmsg"), secrets)


def _check_feishu(status: int, raw: bytes, secrets: tuple[str, str]) -> None:
    """Feishu: ``code`` 0; older answers say ``StatusCode`` 0."""
    answer = _answer(raw)
    _http_error(status, answer, secrets)
    if answer is None:
        raise DeliveryError(
            _("the answer is not the platform's JSON (HTTP %(status)s)") % {"status": status}
        )
    code = answer["code"] if "code" in answer else answer.get("StatusCode")
    if code != 0:
        message = answer.get("msg", answer.get("StatusMessage"))
        raise _refused(code, message, secrets)


def _check_webhook(status: int, raw: bytes, secrets: tuple[str, str]) -> None:
    """Our own webhook: any 2xx."""
    _http_error(status, _answer(raw), secrets)


CHECKS: dict[str, Callable[[int, bytes, tuple[str, str]], None]] = {
    "wecom": _check_errcode,
    "dingtalk": _check_errcode,
    "feishu": _check_feishu,
    "webhook": _check_webhook,
}
