"""Witnesses (C2SP tlog-witness, c2sp.org/tlog-witness): this installation cosigns other
installations' checkpoints, and has its own cosigned by the witnesses it chose.

A higher-level union's installation witnesses each of its companies'; sister companies witness
each other. A witness cosigns a checkpoint only if it is consistent with the last one it
cosigned of that log, so a log that was rolled back or forked (a history rewritten and signed
again with the log's key) is refused by every witness that saw the earlier history: the fork
cannot be shown to anyone who asks for the witnesses' cosignatures.

**The witness side** (:func:`add_checkpoint`, served at ``POST /ledger/witness/add-checkpoint``)
follows the spec's order: a malformed body is 400; an origin it does not witness, 404; a
checkpoint not signed by the log's configured key, 403; an old size larger than the
checkpoint's, 400; an old size other than the size it last cosigned, 409 with that size
(``text/x.tlog.size``); the same size with another root, 409; a consistency proof that does
not verify, 422. Otherwise it stores the new size and root and answers with its cosignature
line. The check and the update happen in one transaction under a lock on the log's row
(SELECT … FOR UPDATE; SQLite runs one writer at a time), so two requests at once can never
roll the stored state back. A refused request that the log had signed and that shows a fork
(the same size with another root, or a proof that does not verify) is kept on the row as
evidence and written to the audit log.

**The client side** (:func:`send_checkpoint`, run by the queue: :func:`send_to_witnesses`)
sends the newest checkpoint with a consistency proof from the size the witness last cosigned
(on 409, once more from the size the witness states), checks the answer with the witness's
verifier key and stores the cosignature (:class:`~gongkai.core.models.LogCosignature`). A
refusal is recorded on the :class:`~gongkai.ledger.models.Witness` row and raised
(:class:`WitnessRefused`), so the queue's failure path tells the union office; a witness that
cannot be reached is recorded and logged, and tried again at the next run.

**The witness's own key** (type 0x04, a cosignature key) is kept outside the database, like the
checkpoint signing key: ``settings.LEDGER_WITNESS_KEY`` or the file
``settings.LEDGER_WITNESS_KEY_FILE`` that ``manage.py witness_key create`` writes.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import logging
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, NamedTuple
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError
from gongkai.core.models import LogCheckpoint, LogCosignature
from gongkai.core.text import clean_text, normalize_text
from gongkai.core.tlog import merkle, notes, signing, store
from gongkai.ledger import transparency
from gongkai.ledger.models import Witness, WitnessedLog, WitnessResult
from gongkai.policy.rules import Action, visible_scope_paths

logger = logging.getLogger(__name__)

ADD_CHECKPOINT = "add-checkpoint"  # appended to a witness's submission prefix
MAX_BODY = 64 * 1024  # an add-checkpoint request: 63 proof lines and a note fit many times
MAX_PROOF_LINES = 63  # the spec's limit
MAX_ANSWER = 64 * 1024  # what is read of a witness's answer
SIZE_TYPE = "text/x.tlog.size"  # the 409 answer: the size last cosigned
TEXT_TYPE = "text/plain; charset=utf-8"
CLOCK_SKEW = 300  # seconds a witness's clock may be ahead of ours
MAX_URL = 500
MAX_KEY = 300
MAX_NAME = 100
MAX_ERROR = 500
EVIDENCE = 16 * 1024  # characters of a refused request kept as evidence

_OLD_LINE = re.compile(r"old (0|[1-9][0-9]{0,18})")
_SIZE_ANSWER = re.compile(r"(0|[1-9][0-9]{0,18})\n?")


# --- The witness's own key ------------------------------------------------------------------


NoWitnessKey = signing.NoSigningKey  # neither LEDGER_WITNESS_KEY nor its file is there


def witness_key_file() -> Path:
    return Path(settings.LEDGER_WITNESS_KEY_FILE)


def has_witness_key() -> bool:
    return bool(settings.LEDGER_WITNESS_KEY) or witness_key_file().exists()


def witness_signer() -> notes.Signer:
    """This installation's cosignature key (type 0x04), from the settings or the key file."""
    text = signing.read_key(
        settings.LEDGER_WITNESS_KEY,
        witness_key_file(),
        what="witness",
        setting="LEDGER_WITNESS_KEY",
        command="witness_key",
    )
    return notes.parse_witness_signer(text)


def witness_verifier_key() -> str | None:
    """The verifier key of this installation's witness key, to give to the logs it witnesses
    (None when there is no key yet)."""
    try:
        return witness_signer().verifier.encode()
    except (NoWitnessKey, notes.NoteError):
        return None


def default_witness_name() -> str:
    """The witness key's default name: the host of the log's origin and ``/witness``."""
    host = str(settings.LEDGER_ORIGIN).split("/", 1)[0] or "localhost"
    return f"{host}/witness"


def create_witness_key_file(name: str, path: Path | None = None) -> tuple[Path, str]:
    """Write a new witness key named ``name`` to the key file (mode 0600, never over an
    existing one); → (the file, the verifier key)."""
    path = path or witness_key_file()
    skey, vkey = notes.generate_witness(name)
    signing.write_key_file(path, skey)
    return path, vkey


# --- The witness side: add-checkpoint --------------------------------------------------------


class Answer(NamedTuple):
    """An HTTP answer: status, body, content type."""

    status: int
    body: bytes
    content_type: str


def _text(status: int, message: str) -> Answer:
    return Answer(status, f"{message}\n".encode(), TEXT_TYPE)


def _size_conflict(size: int) -> Answer:
    return Answer(409, f"{size}\n".encode("ascii"), SIZE_TYPE)


class BadRequest(ValueError):
    """An add-checkpoint body that does not follow the spec (the message says why)."""


@dataclass(frozen=True)
class Submission:
    """An add-checkpoint request, parsed (nothing verified yet)."""

    old: int
    proof: tuple[bytes, ...]
    note: str
    checkpoint: notes.Checkpoint


def _hash_line(line: str) -> bytes:
    try:
        value = base64.b64decode(line, validate=True) if line.isascii() else b""
    except (ValueError, binascii.Error):
        value = b""
    if len(value) != merkle.HASH_SIZE or base64.b64encode(value).decode("ascii") != line:
        raise BadRequest("a consistency proof line is not one base64 SHA-256 hash")
    return value


def parse_submission(body: bytes) -> Submission:
    """The old size, the proof and the signed checkpoint of an add-checkpoint body."""
    if not isinstance(body, bytes | bytearray):
        raise BadRequest("the body is bytes")
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise BadRequest("no empty line before the checkpoint")
    lines = head.split("\n")
    match = _OLD_LINE.fullmatch(lines[0])
    if match is None:
        raise BadRequest("the first line is not 'old <size>'")
    old = int(match[1])
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise BadRequest(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = tuple(_hash_line(line) for line in lines[1:])
    try:
        checkpoint_text, _signatures = notes.split_note(note)
        checkpoint = notes.parse_checkpoint(checkpoint_text)
    except notes.NoteError as error:
        raise BadRequest(f"not a signed checkpoint: {error}") from None
    if old > notes.MAX_TREE_SIZE:
        raise BadRequest("the old size is too large")
    return Submission(old, proof, note, checkpoint)


def witnesses_any_log() -> bool:
    """Whether this installation witnesses any log (else the endpoint is not there: 404)."""
    return WitnessedLog.objects.filter(active=True).exists()


def add_checkpoint(body: bytes) -> Answer:
    """The witness's answer to an add-checkpoint request (see the module's note): the
    cosignature line, or a refusal. The state of the log moves forward only, in the same
    transaction as the checks, under the log's row lock."""
    try:
        submission = parse_submission(body)
    except BadRequest as bad:
        return _text(400, f"bad request: {bad}")
    try:
        signer = witness_signer()  # before anything is locked
    except (NoWitnessKey, notes.NoteError) as missing:
        logger.error("cannot cosign: %s", missing)
        return _text(503, "this witness has no usable key")
    checkpoint = submission.checkpoint
    with transaction.atomic():
        log = (
            WitnessedLog.objects.select_for_update()
            .filter(origin=checkpoint.origin, active=True)
            .first()
        )
        if log is None:
            return _text(404, "unknown log origin")
        try:
            notes.open_checkpoint(submission.note, notes.parse_verifier(log.verifier_key))
        except notes.NoteError:
            return _text(403, "the checkpoint is not signed by the log's key")
        if submission.old > checkpoint.size:
            return _text(400, "bad request: the old size is larger than the checkpoint's")
        if submission.old != log.size:
            return _size_conflict(log.size)
        stored_root = bytes(log.root)
        if checkpoint.size == log.size and checkpoint.root != stored_root:
            _keep_evidence(log, submission, "the same size with another root: a fork")
            return _size_conflict(log.size)
        if not merkle.verify_consistency(
            log.size, checkpoint.size, stored_root, checkpoint.root, list(submission.proof)
        ):
            _keep_evidence(log, submission, "the consistency proof does not verify")
            return _text(422, "the consistency proof does not verify")
        now = timezone.now()
        line = notes.cosign(checkpoint.text, signer, timestamp=int(now.timestamp()))
        log.size, log.root, log.cosigned_at = checkpoint.size, checkpoint.root, now
        log.save(update_fields=["size", "root", "cosigned_at", "updated_at"])
    return Answer(200, line.encode("utf-8"), TEXT_TYPE)


def _keep_evidence(log: WitnessedLog, submission: Submission, reason: str) -> None:
    """A request the log signed that contradicts what was cosigned before: keep it (the last
    one) and write it to the audit log. The size and root are not touched."""
    log.refused_at = timezone.now()
    log.refusal = f"size {submission.checkpoint.size}: {reason}"[:300]
    log.refused_request = _request_text(submission)[:EVIDENCE]
    log.save(update_fields=["refused_at", "refusal", "refused_request", "updated_at"])
    record_event(
        actor=None,
        action="ledger.witness_refused",
        target=log,
        before={"size": log.size, "root": bytes(log.root).hex()},
        after={
            "size": submission.checkpoint.size,
            "root": submission.checkpoint.root.hex(),
            "reason": reason,
        },
    )
    logger.warning("witnessed log %s: refused a checkpoint, %s", log.origin, log.refusal)


def _request_text(submission: Submission) -> str:
    return request_body(submission.old, list(submission.proof), submission.note).decode("utf-8")


# --- The client side: having our checkpoints cosigned ---------------------------------------


def request_body(old: int, proof: list[bytes], note: str) -> bytes:
    """An add-checkpoint body: the old size, one proof hash per line, an empty line, the
    signed checkpoint."""
    lines = [f"old {old}\n", *(base64.b64encode(h).decode("ascii") + "\n" for h in proof)]
    return ("".join(lines) + "\n" + note).encode("utf-8")


class WitnessError(Exception):
    """A checkpoint was not cosigned (the message says by whom and why, in the site's
    language)."""


class WitnessRefused(WitnessError):
    """A witness refused our checkpoint, or answered with no valid cosignature: the log may
    have been rolled back or forked, or the witness is configured wrongly on either side."""


class WitnessUnavailable(WitnessError):
    """A witness could not be reached, or failed (a 5xx, a time-out): tried again later."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A witness answers where it was asked: a redirect is an error (its HTTP status)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects())


def _reason(exc: BaseException) -> str:
    """Why a witness could not be reached, in a few words."""
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        return _reason(exc.reason)
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


def post(url: str, body: bytes, *, timeout: float) -> tuple[int, bytes, str]:
    """POST ``body`` to ``url``: the HTTP status, the start of the answer and its content
    type. An HTTP error status is returned; anything else raises :class:`_Unreachable`."""
    # The scheme was checked when the witness was configured: http or https only.
    request = urllib.request.Request(  # noqa: S310
        url,
        data=body,
        method="POST",
        headers={"Content-Type": TEXT_TYPE, "User-Agent": "gongkai-witness-client"},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return (
                response.status,
                response.read(MAX_ANSWER),
                response.headers.get("Content-Type", ""),
            )
    except urllib.error.HTTPError as exc:
        try:
            answer = exc.read(MAX_ANSWER)
        except OSError:
            answer = b""
        finally:
            exc.close()
        return exc.code, answer, exc.headers.get("Content-Type", "") if exc.headers else ""
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise _Unreachable(_reason(exc)[:200]) from None


class _Unreachable(Exception):
    pass


_REFUSALS = {
    400: WitnessResult.BAD_REQUEST,
    403: WitnessResult.WRONG_KEY,
    404: WitnessResult.UNKNOWN_LOG,
    409: WitnessResult.CONFLICT,
    422: WitnessResult.INCONSISTENT,
}


def _stated_size(answer: bytes) -> int | None:
    """The size a 409 answer states (``<size>\\n``), or None."""
    match = _SIZE_ANSWER.fullmatch(answer.decode("ascii", "replace"))
    return int(match[1]) if match else None


def _excerpt(answer: bytes) -> str:
    """The start of a witness's answer, on one line, for the record."""
    text = answer[:200].decode("utf-8", "replace")
    return " ".join(text.split())


def _record(
    witness: Witness,
    result: WitnessResult,
    *,
    error: str = "",
    size: int | None = None,
) -> None:
    """How the attempt went, on the witness's row (the cosigned size only moves forward)."""
    now = timezone.now()
    fields: dict[str, Any] = {
        "last_attempt_at": now,
        "last_result": result,
        "last_error": error[:MAX_ERROR],
        "updated_at": now,
    }
    Witness.objects.filter(pk=witness.pk).update(**fields)
    if size is not None:
        Witness.objects.filter(pk=witness.pk, cosigned_size__lte=size).update(
            cosigned_size=size, cosigned_at=now
        )
    witness.refresh_from_db()


def _refuse(
    witness: Witness, checkpoint: LogCheckpoint, result: WitnessResult, error: str
) -> WitnessRefused:
    _record(witness, result, error=error)
    logger.warning("witness %s refused checkpoint %s: %s", witness.name, checkpoint.size, error)
    with translation.override(settings.LANGUAGE_CODE):
        message = _(
            "The witness “%(witness)s” did not cosign the publication log's checkpoint of size "
            "%(size)s: %(result)s (%(error)s). A log a witness refuses may have been rolled "
            "back or forked: see the witnesses page."
        ) % {
            "witness": witness.name,
            "size": checkpoint.size,
            "result": result.label,
            "error": error,
        }
    return WitnessRefused(message)


def _unavailable(witness: Witness, checkpoint: LogCheckpoint, error: str) -> WitnessUnavailable:
    _record(witness, WitnessResult.UNAVAILABLE, error=error)
    logger.warning("witness %s unavailable for checkpoint %s: %s", witness.name, checkpoint, error)
    with translation.override(settings.LANGUAGE_CODE):
        message = _("The witness “%(witness)s” could not be reached: %(error)s") % {
            "witness": witness.name,
            "error": error,
        }
    return WitnessUnavailable(message)


def _cosignature_in(answer: bytes, text: str, verifier: notes.Verifier) -> str | None:
    """The witness's valid cosignature line of ``text`` in its answer (lines of other keys
    are ignored), or None."""
    try:
        lines = answer.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return None
    prefix = f"{notes.SIGNATURE_PREFIX}{verifier.name} "
    not_after = int(timezone.now().timestamp()) + CLOCK_SKEW
    for line in lines:
        if not line.startswith(prefix):
            continue
        try:
            notes.verify_cosignature(text, line + "\n", verifier, not_after=not_after)
        except notes.NoteError:
            continue
        return line + "\n"
    return None


def endpoint(witness: Witness) -> str:
    return f"{witness.url.rstrip('/')}/{ADD_CHECKPOINT}"


def send_checkpoint(witness: Witness, checkpoint: LogCheckpoint) -> LogCosignature | None:
    """Have ``checkpoint`` (of the publication log) cosigned by ``witness``: the stored
    cosignature (None when the witness has meanwhile cosigned a newer checkpoint). Raises
    :class:`WitnessRefused` (recorded) when the witness refuses it or answers with no valid
    cosignature, :class:`WitnessUnavailable` (recorded) when it cannot be reached or fails.
    Nothing is locked while the witness is asked."""
    verifier = notes.parse_witness_verifier(witness.verifier_key)
    found = LogCosignature.objects.filter(checkpoint=checkpoint, witness=verifier.name).first()
    if found is not None:
        return found
    text, _signatures = notes.split_note(checkpoint.note)
    old = witness.cosigned_size
    url = endpoint(witness)
    timeout = float(settings.LEDGER_WITNESS_TIMEOUT)
    for attempt in (1, 2):
        if old > checkpoint.size:
            if LogCheckpoint.objects.filter(log_id=checkpoint.log_id, size__gte=old).exists():
                return None  # a newer checkpoint was cosigned meanwhile: nothing to do
            raise _refuse(
                witness,
                checkpoint,
                WitnessResult.ROLLED_BACK,
                f"the witness cosigned size {old}, our newest checkpoint has {checkpoint.size}",
            )
        proof = store.consistency_proof(checkpoint.log_id, old, checkpoint.size)
        try:
            status, answer, _type = post(
                url, request_body(old, proof, checkpoint.note), timeout=timeout
            )
        except _Unreachable as unreachable:
            raise _unavailable(witness, checkpoint, str(unreachable)) from None
        if status == 409 and attempt == 1:
            stated = _stated_size(answer)
            if stated is not None and stated != old:
                old = stated  # the witness knows another size of our log: prove from it
                continue
        break
    if status == 200:
        line = _cosignature_in(answer, text, verifier)
        if line is None:
            raise _refuse(
                witness, checkpoint, WitnessResult.INVALID_ANSWER, f"HTTP 200: {_excerpt(answer)}"
            )
        with transaction.atomic():
            cosignature, _created = LogCosignature.objects.get_or_create(
                checkpoint=checkpoint, witness=verifier.name, defaults={"line": line}
            )
            _record(witness, WitnessResult.COSIGNED, size=checkpoint.size)
        return cosignature
    error = f"HTTP {status} from old size {old}: {_excerpt(answer)}"
    if status in _REFUSALS:
        raise _refuse(witness, checkpoint, _REFUSALS[status], error)
    raise _unavailable(witness, checkpoint, error)


def send_to_witnesses() -> int:
    """Send the publication log's newest checkpoint to every active witness that has not
    cosigned it (the queue's task, after each checkpoint and every few minutes); how many
    cosigned it now. Every witness is tried; then the refusals, if any, are raised together
    (:class:`WitnessRefused`) so that the union office is told. A witness that could not be
    reached is only recorded and logged: the next run tries again."""
    latest = transparency.latest()
    if latest is None:
        return 0
    done = LogCosignature.objects.filter(checkpoint=latest).values("witness")
    refusals: list[str] = []
    cosigned = 0
    for witness in Witness.objects.filter(active=True).exclude(key_name__in=done):
        try:
            if send_checkpoint(witness, latest) is not None:
                cosigned += 1
        except WitnessRefused as refused:
            refusals.append(str(refused))
        except WitnessUnavailable:
            continue  # recorded and logged by send_checkpoint
    if refusals:
        raise WitnessRefused("\n".join(refusals))
    return cosigned


# --- What the pages show --------------------------------------------------------------------


@dataclass(frozen=True)
class CosignatureRow:
    """A witness's cosignature of a checkpoint, as the ledger page shows it."""

    witness: str  # the configured witness's name, else the key's name
    key_name: str
    signed_at: datetime | None  # the time the cosignature states
    received_at: datetime


def _stated_time(line: str) -> datetime | None:
    name, _sep, encoded = line.rstrip("\n").removeprefix(notes.SIGNATURE_PREFIX).partition(" ")
    try:
        stamp = notes.cosignature_timestamp(notes.Signature(name, 0, encoded))
        return datetime.fromtimestamp(stamp, tz=timezone.get_current_timezone())
    except (ValueError, OverflowError, OSError):
        return None


def cosignatures_of(checkpoint: LogCheckpoint) -> list[CosignatureRow]:
    names = dict(Witness.objects.values_list("key_name", "name"))
    return [
        CosignatureRow(
            witness=names.get(c.witness, c.witness),
            key_name=c.witness,
            signed_at=_stated_time(c.line),
            received_at=c.received_at,
        )
        for c in checkpoint.cosignatures.order_by("received_at", "pk")
    ]


def cosignatures_context() -> dict[str, Any]:
    """What ``ledger/_cosignatures.html`` needs: the newest checkpoint of the publication log
    (``log_checkpoint``, None before the first), its cosignatures (``cosignatures``) and how
    many witnesses are active (``witnesses_active``)."""
    latest = transparency.latest()
    return {
        "log_checkpoint": latest,
        "cosignatures": cosignatures_of(latest) if latest is not None else [],
        "witnesses_active": Witness.objects.filter(active=True).count(),
    }


def cosigned_note(checkpoint: LogCheckpoint) -> bytes:
    """The checkpoint's note with its witnesses' cosignature lines after the log's own
    signature (what a verifier that asks for cosignatures reads)."""
    lines = list(checkpoint.cosignatures.order_by("pk").values_list("line", flat=True))
    return notes.append_signatures(checkpoint.note, lines)


# --- Configuration by the union office -------------------------------------------------------


def may_manage(user: Any) -> bool:
    """Witnesses concern the whole installation: the union office of a top-level unit
    (``NOTICE_MANAGE`` there, like the failed background tasks) configures them."""
    return any(path.count("/") == 2 for path in visible_scope_paths(user, Action.NOTICE_MANAGE))


def require_manage(user: Any) -> None:
    if not may_manage(user):
        raise PermissionDenied


def _check_actor(actor: User | None) -> None:
    """``None`` is the operator at the command line; a person needs the right."""
    if actor is not None and not may_manage(actor):
        raise ServiceError(_("You may not configure the ledger's witnesses."))


def _one_line(value: str | None, *, field: str, limit: int, empty: str) -> str:
    """:func:`~gongkai.core.text.clean_text`, on one line without control characters."""
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in normalize_text(value)):
        raise ServiceError(_("Enter it on one line, without control characters."), field=field)
    too_long = _("This is too long (at most %(limit)s characters).") % {"limit": limit}
    return clean_text(value, field=field, limit=limit, empty=empty, too_long=too_long)


def _check_name(value: str) -> str:
    return _one_line(value, field="name", limit=MAX_NAME, empty=_("Give it a name."))


def check_log_key(value: str) -> notes.Verifier:
    """A log's verifier key (type 0x01), or a ServiceError on ``verifier_key``."""
    value = _one_line(
        value, field="verifier_key", limit=MAX_KEY, empty=_("Enter the log's verifier key.")
    )
    try:
        return notes.parse_verifier(value)
    except notes.NoteError:
        pass
    try:
        notes.parse_witness_verifier(value)
    except notes.NoteError:
        message = _(
            "This is not a verifier key. A log's key reads name+8 hexadecimal digits+base64, "
            "for example example.com/ledger+1a2b3c4d+AbC…; copy it from the log's ledger page."
        )
    else:
        message = _("This is a witness's key; the log's own key (type 0x01) is needed here.")
    raise ServiceError(message, field="verifier_key")


def check_witness_key(value: str) -> notes.Verifier:
    """A witness's cosignature verifier key (type 0x04), or a ServiceError."""
    value = _one_line(
        value, field="verifier_key", limit=MAX_KEY, empty=_("Enter the witness's verifier key.")
    )
    try:
        return notes.parse_witness_verifier(value)
    except notes.NoteError:
        pass
    try:
        notes.parse_verifier(value)
    except notes.NoteError:
        message = _(
            "This is not a verifier key. A witness's key reads name+8 hexadecimal "
            "digits+base64, for example example.com/witness+1a2b3c4d+BAbC…; copy it from the "
            "witness's page."
        )
    else:
        message = _("This is a log's key; the witness's cosignature key (type 0x04) is needed.")
    raise ServiceError(message, field="verifier_key")


def check_origin(value: str) -> str:
    value = _one_line(
        value, field="origin", limit=255, empty=_("Enter the origin of the log's checkpoints.")
    )
    if not notes.is_valid_name(value):
        raise ServiceError(
            _("An origin has no spaces and no plus sign, for example example.com/ledger."),
            field="origin",
        )
    if value == transparency.origin():
        raise ServiceError(
            _("This is this installation's own log: another installation must witness it."),
            field="origin",
        )
    return value


def check_url(value: str) -> str:
    """A witness's submission prefix: an http(s) address without query or fragment, stored
    without a trailing slash."""
    value = _one_line(value, field="url", limit=MAX_URL, empty=_("Enter the witness's address."))
    parts = urlsplit(value)
    try:
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        host = ""
    if (
        parts.scheme.lower() not in ("http", "https")
        or not host
        or " " in value
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
    ):
        raise ServiceError(
            _(
                "Enter the witness's address starting with https:// (or http:// inside your "
                "network), without ? or #, for example https://union.example/ledger/witness."
            ),
            field="url",
        )
    return value.rstrip("/")


def _locked_log(log: WitnessedLog) -> WitnessedLog:
    return WitnessedLog.objects.select_for_update().get(pk=log.pk)


def _locked_witness(witness: Witness) -> Witness:
    return Witness.objects.select_for_update().get(pk=witness.pk)


@transaction.atomic
def witnessed_log_create(
    *, actor: User | None, origin: str, name: str, verifier_key: str
) -> WitnessedLog:
    """Start witnessing the log ``origin`` signed with ``verifier_key``: its first checkpoint
    is cosigned from size 0."""
    _check_actor(actor)
    origin = check_origin(origin)
    name = _check_name(name)
    key = check_log_key(verifier_key).encode()
    if WitnessedLog.objects.filter(origin=origin).exists():
        raise ServiceError(
            _("This log is already witnessed here (perhaps deactivated: activate it again)."),
            field="origin",
        )
    log = WitnessedLog.objects.create(origin=origin, name=name, verifier_key=key)
    record_event(
        actor=actor,
        action="ledger.witnessed_log_added",
        target=log,
        after={"origin": origin, "name": name, "verifier_key": key},
    )
    return log


@transaction.atomic
def witnessed_log_update(
    *, actor: User | None, log: WitnessedLog, name: str, verifier_key: str
) -> WitnessedLog:
    """Rename a witnessed log or give it a new verifier key (the log rotated its key). Its
    origin and the state last cosigned never change."""
    _check_actor(actor)
    log = _locked_log(log)
    name = _check_name(name)
    key = check_log_key(verifier_key).encode()
    before = {k: v for k, v in (("name", log.name), ("verifier_key", log.verifier_key))}
    after = {"name": name, "verifier_key": key}
    changed = {k for k in after if before[k] != after[k]}
    if changed:
        log.name, log.verifier_key = name, key
        log.save(update_fields=["name", "verifier_key", "updated_at"])
        record_event(
            actor=actor,
            action="ledger.witnessed_log_changed",
            target=log,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return log


@transaction.atomic
def witnessed_log_set_active(
    *, actor: User | None, log: WitnessedLog, active: bool
) -> WitnessedLog:
    """Stop or resume witnessing a log. Its state is kept: a resumed log goes on from the
    size last cosigned."""
    _check_actor(actor)
    log = _locked_log(log)
    if log.active != active:
        log.active = active
        log.save(update_fields=["active", "updated_at"])
        record_event(
            actor=actor,
            action="ledger.witnessed_log_activated" if active else "ledger.witnessed_log_stopped",
            target=log,
        )
    return log


def _unique_key_name(verifier: notes.Verifier, exclude: int | None = None) -> None:
    others = Witness.objects.filter(key_name=verifier.name)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if others.exists():
        raise ServiceError(
            _("A witness with a key of this name is already configured."), field="verifier_key"
        )


@transaction.atomic
def witness_create(*, actor: User | None, name: str, url: str, verifier_key: str) -> Witness:
    """A witness to send the publication log's checkpoints to (from the next run of the
    queue's task on)."""
    _check_actor(actor)
    name = _check_name(name)
    url = check_url(url)
    verifier = check_witness_key(verifier_key)
    _unique_key_name(verifier)
    witness = Witness.objects.create(
        name=name, url=url, verifier_key=verifier.encode(), key_name=verifier.name
    )
    record_event(
        actor=actor,
        action="ledger.witness_added",
        target=witness,
        after={"name": name, "url": url, "verifier_key": witness.verifier_key},
    )
    return witness


@transaction.atomic
def witness_update(
    *, actor: User | None, witness: Witness, name: str, url: str, verifier_key: str
) -> Witness:
    """Change a witness's name, address or key (the witness rotated its key)."""
    _check_actor(actor)
    witness = _locked_witness(witness)
    name = _check_name(name)
    url = check_url(url)
    verifier = check_witness_key(verifier_key)
    _unique_key_name(verifier, exclude=witness.pk)
    before = {"name": witness.name, "url": witness.url, "verifier_key": witness.verifier_key}
    after = {"name": name, "url": url, "verifier_key": verifier.encode()}
    changed = {k for k in after if before[k] != after[k]}
    if changed:
        witness.name, witness.url = name, url
        witness.verifier_key, witness.key_name = verifier.encode(), verifier.name
        witness.save(update_fields=["name", "url", "verifier_key", "key_name", "updated_at"])
        record_event(
            actor=actor,
            action="ledger.witness_changed",
            target=witness,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return witness


@transaction.atomic
def witness_set_active(*, actor: User | None, witness: Witness, active: bool) -> Witness:
    """Stop or resume sending checkpoints to a witness (its cosignatures stay)."""
    _check_actor(actor)
    witness = _locked_witness(witness)
    if witness.active != active:
        witness.active = active
        witness.save(update_fields=["active", "updated_at"])
        record_event(
            actor=actor,
            action="ledger.witness_activated" if active else "ledger.witness_stopped",
            target=witness,
        )
    return witness


def own_keys() -> dict[str, str | None]:
    """What the union office gives to the other installations: our log's origin and verifier
    key (for the witnesses), and our witness's verifier key (for the logs we witness)."""
    try:
        log_key: str | None = signing.verifier_key()
    except (signing.NoSigningKey, notes.NoteError):
        log_key = None
    return {
        "origin": transparency.origin(),
        "log_key": log_key,
        "witness_key": witness_verifier_key(),
    }
