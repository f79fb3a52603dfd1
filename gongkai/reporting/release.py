"""Holding and releasing what reporters send online (reports and additions).

Why: PostgreSQL stamps every row version with the id of the transaction that wrote it
(``xmin``). The ids grow with time and are shared by every table, so a report written by the
reporter's own transaction sits next to the rows that a signed-in reporter's session and
account wrote a moment earlier or later — and, placed between two audit events, it is dated
to the minute, although the report itself stores only the day. The old answer (a daily
"blur" rewriting the rows, then VACUUM) left the stamps in place until it ran, and a VACUUM
that could not remove the old versions failed silently.

Now a report is unlinkable from the moment it is written:

1. **Hold** (the reporter's transaction): one ``HeldSubmission`` row — a sealed box
   (gongkai.core.secretbox) of the content, padded to one of a few lengths, with the end of
   the current release window. Nothing readable; nothing else written.
2. **Release** (:func:`release`, a transaction of its own, at the end of each window: by
   the queue's periodic task ``gongkai.reporting.tasks.release_due``, or at once by
   ``manage.py reporting_release``; never by a page, so opening the inbox writes nothing):
   open every box that is due, write the reports **in a random order** (then the additions,
   in the order sent), remember the spent form tokens, and empty the holding table with
   TRUNCATE (gongkai.core.holding), writing back the boxes not yet due. Every report,
   message and file of a window carries the release's transaction id, shared by all of them
   and equal to no reporter's; no version of a box survives the release.
3. **Verify and retry** (:func:`deliver`): the holding table's files must have been replaced
   and nothing due left; every failure is logged (never with content) and retried; a release
   that still fails is reported (the task fails, so the queue records it and the union
   office is told, and the inbox shows it from that record; the command exits 1).

Trade-off: reports reach the inspectors at the end of the window (``REPORTING_RELEASE_SECONDS``,
an hour by default) rather than at once. The shorter the window, the more precisely the
release dates the reports in it (a window with one report in it dates that report to the
window).
"""

from __future__ import annotations

import json
import logging
import math
import random
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from gongkai.core import holding, secretbox
from gongkai.reporting import receipts, tokens
from gongkai.reporting.models import (
    Evidence,
    HeldSubmission,
    MessageSide,
    Report,
    ReportMessage,
    ReportSource,
    SpentToken,
)

logger = logging.getLogger("gongkai.reporting")

PURPOSE = "reporting.held"
KEY_ID = "submission"
REPORT = "report"
ADDITION = "addition"


class ReleaseFailed(Exception):
    """The release, retried, still failed (logged without content)."""


@dataclass(frozen=True)
class HeldFile:
    content_type: str
    extension: str
    sha256: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class Held:
    """What a box holds: a new report or an addition to one (``digest``: the report's
    receipt digest)."""

    kind: str
    digest: str
    body: str
    day: date
    company_id: int | None = None
    subject: str = ""
    files: list[HeldFile] = field(default_factory=list)
    order: float = 0.0


@dataclass(frozen=True)
class HeldReport:
    """A report still held, as its reporter reads it with the receipt code."""

    subject: str
    body: str
    received_on: date
    receipt_digest: str
    files: list[HeldFile]
    release_after: datetime
    held: bool = True
    status: str = "held"
    source: str = ReportSource.ONLINE

    def get_source_display(self) -> str:
        return str(ReportSource(self.source).label)

    @property
    def file_names(self) -> list[str]:
        return [f"evidence-{i}{f.extension}" for i, f in enumerate(self.files, start=1)]


# --- Boxes ----------------------------------------------------------------------------------


def encode(held: Held) -> bytes:
    header = {
        "kind": held.kind,
        "digest": held.digest,
        "body": held.body,
        "day": held.day.isoformat(),
        "company": held.company_id,
        "subject": held.subject,
        "order": held.order,
        "files": [
            {"type": f.content_type, "ext": f.extension, "sha256": f.sha256, "size": f.size}
            for f in held.files
        ],
    }
    head = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode()
    return len(head).to_bytes(4, "big") + head + b"".join(f.data for f in held.files)


def decode(data: bytes) -> Held:
    size = int.from_bytes(data[:4], "big")
    header = json.loads(data[4 : 4 + size])
    offset = 4 + size
    files = []
    for f in header["files"]:
        files.append(HeldFile(f["type"], f["ext"], f["sha256"], data[offset : offset + f["size"]]))
        offset += f["size"]
    return Held(
        kind=header["kind"],
        digest=header["digest"],
        body=header["body"],
        day=date.fromisoformat(header["day"]),
        company_id=header["company"],
        subject=header["subject"],
        files=files,
        order=header["order"],
    )


def seal(held: Held) -> bytes:
    data = encode(held)
    return secretbox.seal(PURPOSE, KEY_ID, secretbox.pad(data, secretbox.bucket(len(data))))


def open_held(box: bytes | memoryview) -> Held:
    return decode(secretbox.unpad(secretbox.open_box(PURPOSE, KEY_ID, bytes(box))))


# --- Holding (the reporter's transaction) ---------------------------------------------------


def window_seconds() -> int:
    return int(getattr(settings, "REPORTING_RELEASE_SECONDS", 3600))


def window_end(now: datetime | None = None) -> datetime:
    """The end of the release window ``now`` falls in (windows are aligned on the epoch, so
    on the hour for an hour). With a window of 0 seconds: ``now`` (released at once)."""
    now = now or timezone.now()
    seconds = window_seconds()
    if seconds <= 0:
        return now
    end = (math.floor(now.timestamp() / seconds) + 1) * seconds
    return datetime.fromtimestamp(end, tz=UTC)


def hold(held: Held, *, lookup: str, token: str | None) -> None:
    """Store ``held`` in a box. ``token``: the form's one-time token (None when the caller is
    not a form); a token used before raises :class:`tokens.AlreadySent`, an invalid one
    :class:`tokens.BadToken`; nothing is stored then."""
    spent = tokens.digest_of(token) if token is not None else tokens.unused_digest()
    with transaction.atomic():
        try:
            with transaction.atomic():
                HeldSubmission.objects.create(
                    lookup=lookup, token=spent, release_after=window_end(), box=seal(held)
                )
        except IntegrityError:  # the same form, still held (or sent twice at once)
            raise _already_sent() from None
        if token is not None and SpentToken.objects.filter(digest=spent).exists():
            raise _already_sent()  # the same form, already released: roll back


def _already_sent() -> tokens.AlreadySent:
    return tokens.AlreadySent(
        _(
            "This form was sent already, so nothing was sent again. A receipt code is shown "
            "only once, when the report is first sent: it cannot be shown again. If you did "
            "not keep it, send a new report and mention the earlier one."
        )
    )


def held_find(code: str) -> HeldReport | None:
    """The report of a receipt code while it is still held, or None (one indexed lookup by
    another digest of the code, the same for forged and wrong codes)."""
    digests = receipts.candidate_digests(code, salt=receipts.HELD_SALT)
    found = None
    for row in HeldSubmission.objects.filter(lookup__in=digests):
        if not receipts.matches(row.lookup, code, salt=receipts.HELD_SALT):
            continue
        try:
            content = open_held(row.box)
        except secretbox.BoxError:
            logger.error("A held report cannot be opened (SECRET_KEY changed?)")
            continue
        if content.kind == REPORT:
            found = HeldReport(
                subject=content.subject,
                body=content.body,
                received_on=content.day,
                receipt_digest=content.digest,
                files=content.files,
                release_after=row.release_after,
            )
    return found


def new_lookup() -> str:
    """The lookup of an addition: random (an addition is not looked up)."""
    return secrets.token_hex(32)


def now_order() -> float:
    return time.time()


# --- Releasing (a transaction of its own) ---------------------------------------------------


@dataclass
class Released:
    reports: int = 0
    additions: int = 0
    kept: int = 0  # not due yet
    unreadable: int = 0  # boxes no configured key opens (kept; logged)


def _store_files(report: Report, files: list[HeldFile]) -> None:
    if not files:
        return
    first = (report.evidence.aggregate(n=Max("number"))["n"] or 0) + 1
    Evidence.objects.bulk_create(
        Evidence(
            report=report,
            number=first + i,
            content_type=f.content_type,
            extension=f.extension,
            size=f.size,
            sha256=f.sha256,
            data=f.data,
        )
        for i, f in enumerate(files)
    )


def release(*, now: datetime | None = None, everything: bool = False) -> Released:
    """One release: everything due (or, with ``everything``, everything held) in one
    transaction that writes only the holding table, the reports, messages and files, and the
    spent tokens. Boxes are opened one at a time (a box may hold 50 MB of files). Not
    verified: see :func:`deliver`."""
    now = now or timezone.now()
    outcome = Released()
    with transaction.atomic():
        holding.lock(HeldSubmission)
        rows = HeldSubmission.objects.all()
        if not everything:
            outcome.kept = rows.filter(release_after__gt=now).count()
            rows = rows.filter(release_after__lte=now)
        due = list(rows.values_list("pk", "token"))
        if not due:
            return outcome
        random.SystemRandom().shuffle(due)  # the order the reports are written in
        moved: list[Any] = []
        additions: list[tuple[float, Any]] = []
        for pk, _token in due:
            held = _open(pk, outcome)
            if held is None:
                continue
            if held.kind == ADDITION:
                additions.append((held.order, pk))  # after the reports, in the order sent
                continue
            if held.company_id is None:  # pragma: no cover - a report always names its company
                raise holding.HoldingError("a held report names no company")
            report = Report.objects.create(
                company_id=held.company_id,
                source=ReportSource.ONLINE,
                subject=held.subject,
                body=held.body,
                received_on=held.day,
                updated_on=held.day,
                receipt_digest=held.digest,
            )
            _store_files(report, held.files)
            moved.append(pk)
            outcome.reports += 1
        for _order, pk in sorted(additions, key=lambda a: a[0]):
            held = _open(pk, outcome)
            if held is None:  # pragma: no cover - it opened a moment ago
                continue
            found = Report.objects.select_for_update().filter(receipt_digest=held.digest).first()
            if found is None:  # pragma: no cover - an addition is only accepted for a report
                logger.error("A held addition names no report; kept")
                outcome.unreadable += 1
                continue
            seq = (found.messages.aggregate(n=Max("seq"))["n"] or 0) + 1
            ReportMessage.objects.create(
                report=found,
                side=MessageSide.REPORTER,
                body=held.body,
                seq=seq,
                written_on=held.day,
            )
            _store_files(found, held.files)
            if held.day > found.updated_on:
                Report.objects.filter(pk=found.pk).update(updated_on=held.day)
            moved.append(pk)
            outcome.additions += 1
        today = timezone.localdate(now, timezone=timezone.get_default_timezone())
        released = set(moved)
        SpentToken.objects.bulk_create(
            [
                SpentToken(digest=token, expires_on=tokens.spent_until(today))
                for pk, token in due
                if pk in released
            ],
            ignore_conflicts=True,
        )
        SpentToken.objects.filter(expires_on__lt=today).delete()
        holding.empty(HeldSubmission, moved=moved)
    return outcome


def _open(pk: Any, outcome: Released) -> Held | None:
    box = HeldSubmission.objects.filter(pk=pk).values_list("box", flat=True).first()
    try:
        return open_held(box if box is not None else b"")
    except secretbox.BoxError:
        logger.error("A held submission cannot be opened (SECRET_KEY changed?); kept")
        outcome.unreadable += 1
        return None


def due_count(now: datetime | None = None) -> int:
    return HeldSubmission.objects.filter(release_after__lte=now or timezone.now()).count()


def deliver(
    *, now: datetime | None = None, everything: bool = False, attempts: int | None = None
) -> Released:
    """Release (:func:`release`) and verify: nothing due is left in the holding table but
    boxes no key opens, and its files were replaced (PostgreSQL; SQLite: the write-ahead log
    is checkpointed). Retried; logged; raises :class:`ReleaseFailed` when it still fails."""
    now = now or timezone.now()
    last: dict[str, Any] = {}

    def attempt() -> Released:
        before = holding.storage(HeldSubmission)
        outcome = release(now=now, everything=everything)
        last["outcome"] = outcome
        if not outcome.reports and not outcome.additions:
            return outcome
        holding.after_move()
        left = HeldSubmission.objects.count() if everything else due_count(now)
        checked = holding.verify(
            HeldSubmission,
            before=before,
            remaining=max(left - outcome.unreadable, 0),
            what="held submissions",
        )
        if not checked.ok:
            raise holding.HoldingError("; ".join(checked.problems))
        return outcome

    try:
        return holding.with_retries("Releasing the held reports", attempt, attempts=attempts)
    except holding.HoldingError as error:
        raise ReleaseFailed(str(error)) from None
