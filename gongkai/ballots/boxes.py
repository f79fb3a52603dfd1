"""The ballot box of votes and evaluations (gongkai.core.ballotbox): "has voted" in
``Participation``, a cast ballot sealed in ``PendingBallot`` while its vote is open, and the
readable ``SealedBallot`` rows written by the seal after the close.

Content of a box: ``{"g": rater group id or null, "c": {"<item id>": choice}}`` as compact JSON,
padded to one length for the whole poll — computed from the item ids and the longest value on
the scale, so that neither the group nor any choice shows in the length of the box. The key is
derived from SECRET_KEY and the poll's id.

The voter's receipt code travels in a box of its own (``RECEIPTS``: ``PendingReceipt`` →
``Receipt``), sealed by its own move: the code table and the ballot table are written by
different transactions, each in its own random order, so no code leads to a ballot.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from gongkai.ballots.models import (
    Choice,
    Grade,
    Participation,
    PendingBallot,
    PendingReceipt,
    PollKind,
    Receipt,
    SealedBallot,
)
from gongkai.core.ballotbox import BallotBox, padded_length

BOX = BallotBox(
    purpose="ballots.pending",
    participation=Participation,
    held=PendingBallot,
    final=SealedBallot,
    owner="poll",
)
RECEIPTS = BallotBox(
    purpose="ballots.receipt",
    participation=Participation,
    held=PendingReceipt,
    final=Receipt,
    owner="poll",
)
_GROUP_DIGITS = 20  # a bigint with its sign


def box_length(kind: str, item_ids: Iterable[str]) -> int:
    """The padded length of every ballot of a poll with these items (a multiple of 64)."""
    scale = Choice.values if kind == PollKind.RESOLUTION else Grade.values
    longest = max(len(v) for v in scale)
    size = len('{"g":,"c":{}}') + _GROUP_DIGITS
    size += sum(len(key) + len('"":"",') + longest for key in item_ids)
    return padded_length(size)


def content(group_id: int | None, choices: dict[str, str]) -> dict[str, Any]:
    return {"g": group_id, "c": choices}


def seal(poll_id: int, kind: str, group_id: int | None, choices: dict[str, str]) -> bytes:
    return BOX.seal_box(poll_id, content(group_id, choices), box_length(kind, choices.keys()))


def open_ballot(poll_id: int, box: bytes) -> tuple[int | None, dict[str, str]]:
    """(rater group id, choices) of a box. Raises secretbox.BoxError."""
    opened = BOX.open_box(poll_id, box)
    return opened["g"], opened["c"]


def sealed_ballot(poll_id: int, opened: dict[str, Any]) -> list[SealedBallot]:
    """The ballot row a box's content becomes at the seal."""
    return [SealedBallot(poll_id=poll_id, group_id=opened["g"], choices=opened["c"])]


# --- Receipt codes ----------------------------------------------------------------------------

# Crockford's base 32: no I, L, O or U, so a code read aloud or copied by hand stays right.
RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_GROUPS = 3
RECEIPT_GROUP_LENGTH = 4  # 12 characters: 60 random bits
RECEIPT_LENGTH = padded_length(len('{"r":""}') + RECEIPT_GROUPS * (RECEIPT_GROUP_LENGTH + 1))


def receipt_code() -> str:
    """A fresh random receipt code such as ``7KQ2-M9XD-40TB`` (from ``secrets``: nothing of
    the voter, the time or the ballot is in it)."""
    groups = (
        "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_GROUP_LENGTH))
        for _ in range(RECEIPT_GROUPS)
    )
    return "-".join(groups)


def receipt_content(code: str) -> dict[str, Any]:
    return {"r": code}


def receipt_row(poll_id: int, opened: dict[str, Any]) -> list[Receipt]:
    """The code row a receipt box becomes at the seal."""
    return [Receipt(poll_id=poll_id, code=str(opened["r"]))]
