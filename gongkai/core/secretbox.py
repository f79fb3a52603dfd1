"""Sealed boxes: what a person's own transaction must store durably, but nobody reading the
database may read.

A cast ballot and an anonymous report have to be written by the voter's or reporter's own
transaction (so that "has voted" and the ballot commit together, and so that a report is safe
once its receipt code is shown). PostgreSQL stamps every row version with the id of the
transaction that wrote it (``xmin``), and that id is shared with the "has voted" row, or lies
next to the ids of the signed-in reporter's own session and account rows. So the row written
by that transaction holds only a box: the content encrypted under a key that is **not in the
database** (derived from ``SECRET_KEY``), padded to a length that does not tell one content
from another. A separate transaction later opens the boxes and writes the readable rows, in a
random order, stamped with its own id (see gongkai.core.ballotbox and
gongkai.reporting.release).

Construction: AES-256-GCM (the ``cryptography`` package) under a key derived from
``SECRET_KEY``, ``purpose`` and ``key_id`` (:func:`django.utils.crypto.salted_hmac`), a fresh
random 96-bit nonce per box, and ``purpose`` and ``key_id`` as associated data, so a box
cannot be moved to another vote or report. ``SECRET_KEY_FALLBACKS`` are tried when opening,
so rotating ``SECRET_KEY`` does not lose boxes still held.

What it does not promise: whoever holds ``SECRET_KEY`` *and* a copy of the database taken
while boxes are held can open them; that is why boxes are held only until the next move and
why the holding tables are emptied with TRUNCATE (a new file) rather than left to VACUUM.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils.crypto import salted_hmac

VERSION = b"\x02"
NONCE = 12


class BoxError(Exception):
    """The box cannot be opened: damaged, or sealed under a key no longer configured."""


def _cipher(purpose: str, key_id: str, secret: str) -> AESGCM:
    key = salted_hmac(
        f"gongkai.secretbox.{purpose}", key_id, secret=secret, algorithm="sha256"
    ).digest()
    return AESGCM(key)


def _associated(purpose: str, key_id: str) -> bytes:
    return VERSION + f"{purpose}\x00{key_id}".encode()


def seal(purpose: str, key_id: str, plaintext: bytes) -> bytes:
    """The box of ``plaintext`` (its length shows: pad it first, see :func:`pad`)."""
    nonce = secrets.token_bytes(NONCE)
    body = _cipher(purpose, key_id, settings.SECRET_KEY).encrypt(
        nonce, plaintext, _associated(purpose, key_id)
    )
    return VERSION + nonce + body


def open_box(purpose: str, key_id: str, box: bytes) -> bytes:
    """The content of a box sealed by :func:`seal` with the same purpose and key id."""
    box = bytes(box)
    if len(box) < 1 + NONCE + 16 or box[:1] != VERSION:
        raise BoxError("not a box")
    nonce, body = box[1 : 1 + NONCE], box[1 + NONCE :]
    for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        try:
            return _cipher(purpose, key_id, secret).decrypt(
                nonce, body, _associated(purpose, key_id)
            )
        except InvalidTag:
            continue
    raise BoxError("no configured key opens this box")


def pad(data: bytes, length: int) -> bytes:
    """``data`` with a 4-byte length prefix, zero-padded to exactly ``length`` bytes."""
    if len(data) + 4 > length:
        raise ValueError("the content is longer than its padded length")
    return len(data).to_bytes(4, "big") + data + b"\x00" * (length - 4 - len(data))


def unpad(data: bytes) -> bytes:
    size = int.from_bytes(data[:4], "big")
    if size > len(data) - 4:
        raise BoxError("bad padding")
    return data[4 : 4 + size]


def bucket(size: int, *, smallest: int = 4096) -> int:
    """A padded length for content of ``size`` bytes that many contents share: ``smallest``,
    or the next of eight steps per doubling above it (at most 12.5 % larger)."""
    length = max(size + 4, smallest)
    if length <= smallest:
        return smallest
    step = 1 << max(length.bit_length() - 4, 0)
    return -(-length // step) * step
