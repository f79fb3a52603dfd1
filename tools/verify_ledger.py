#!/usr/bin/env python3
"""Verify a gongkai installation's publication ledger from outside, with nothing but its
verifier key.

    python tools/verify_ledger.py https://gongkai.example.com --key 'NAME+ID+KEY' \\
        --state ~/audit/example.json --record downloaded-item.json

One file, the Python standard library and the ``cryptography`` package: an auditor, the
higher-level union or any employee copies it and runs it on their own machine. It imports
nothing of gongkai and trusts nothing the server says that it cannot check.

**What is proved.** Every publication event of the company (a publication, a correction, a
"nothing to report" attestation, a withdrawal) is a leaf of a Merkle tree log (RFC 6962),
served under ``/ledger/log/`` as C2SP tlog-tiles and committed to by a signed checkpoint
(C2SP tlog-checkpoint in a signed note). A run of this tool establishes, from outside:

1. *The checkpoint is the log's*: its Ed25519 signature verifies with the verifier key you
   were given (C2SP signed-note), its origin is the key's name, and, with ``--witness``, the
   witnesses you trust (the higher-level union's installation, a sister company) cosigned
   it (C2SP tlog-cosignature): a log cannot show you a checkpoint they did not see.
2. *The log is complete and well formed*: every leaf the checkpoint commits to was
   downloaded, the root recomputed from the leaves equals the signed one, and every hash tile
   the server serves equals the one recomputed (a lying tile is named). The leaves form the
   ledger's hash chain: leaf ``i`` is entry ``i + 1``, each names the previous entry's hash,
   and each entry hash recomputes from the leaf's fields (as gongkai.ledger.canonical
   computes it), so no entry was altered, removed or reordered.
3. *Nothing was changed or removed since you last looked* (``--state FILE``): the checkpoint
   you saw before is a prefix of today's, by the server's consistency proof (RFC 9162
   §2.1.4.2) and by the root of that size recomputed from today's leaves. A smaller log
   ("rollback") or another root at the same size ("fork") is named; the two signed
   checkpoints that contradict each other are then proof of it. Witnesses refuse the same.
4. *An item you read is in it* (``--index``, ``--record FILE``): an inclusion proof (RFC 9162
   §2.1.3.2) for the leaf, and for a record downloaded from an item's page (``{"sequence": n,
   "content": {...}}``), the SHA-256 of the canonical JSON of its content equals the content
   hash in leaf ``n - 1``: the text and files you read are the ones published then.

What it cannot prove: that the company published everything it had to (the catalog's
obligations are checked by the compliance pages, not here), or that the log you are shown is
the one others are shown, unless you keep a state file (or witnesses do it for you).

``--mirror DIR`` keeps a copy of the checkpoint, the tiles and the entry bundles at their
tlog-tiles paths, to be served by any static web server (files already in DIR must be equal
to the ones served again; a full tile never changes). The mirror and the state file are only
updated when everything verified.

Exit status: 0 when everything verified; 1 when anything did not (each problem is named);
2 for a usage error or a network failure (nothing was decided).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import http.client
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

# --- constants --------------------------------------------------------------------------------

NOTE_KEY = 0x01  # signed-note Ed25519 key (the log's)
COSIGNATURE_KEY = 0x04  # tlog-cosignature/v1 key (a witness's)
SIGNATURE_PREFIX = "— "  # em dash, space: a signature line of a signed note
MAX_SIGNATURES = 100

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 6962: the root of the empty tree
TILE_HEIGHT = 8
TILE_WIDTH = 256

LEAF_FORMAT = "gongkai-ledger-leaf/v1"
LEAF_FIELDS = frozenset(
    {
        "format", "sequence", "record_type", "record_id", "event", "disclosure", "unit",
        "entry", "revision", "content_hash", "prev_hash", "entry_hash", "recorded_at",
        "canonical_version",
    }
)  # fmt: skip
GENESIS_HASH = "0" * 64  # the prev_hash of the first entry
FIRST_VERSION = 1  # canonical version 1 does not hash the version itself

STATE_FORMAT = "gongkai-verify-ledger-state/v1"
SHOWN_PROBLEMS = 100  # problems listed; the rest are counted

# Largest bodies read from the server (a hostile one could send anything).
MAX_NOTE = 64 * 1024
MAX_TILE = TILE_WIDTH * HASH_SIZE
MAX_BUNDLE = TILE_WIDTH * (2 + 0xFFFF)
MAX_JSON = 512 * 1024

_HEX64 = re.compile(r"[0-9a-f]{64}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}\+00:00")


class UsageError(Exception):
    """Wrong arguments or input files: exit status 2."""


class NetworkError(Exception):
    """The server could not be asked: exit status 2 (nothing was decided)."""


class Failed(Exception):
    """A verification failure after which nothing further can be checked."""


# --- keys, signed notes, checkpoints, cosignatures (C2SP) -----------------------------------


def _b64decode(text: str) -> bytes:
    """Standard base64 with padding, nothing else accepted."""
    if not text.isascii():
        raise ValueError("not base64")
    return base64.b64decode(text, validate=True)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def key_id(name: str, key_type: int, public: bytes) -> bytes:
    """The 4-byte key ID: SHA-256(name || "\\n" || type || public key), first four bytes."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([key_type]) + public).digest()[:4]


@dataclass(frozen=True)
class Key:
    """A verifier key ``<name>+<8 hex digits of the key ID>+<base64(type || public key)>``."""

    name: str
    id: bytes
    type: int
    public: bytes

    @property
    def label(self) -> str:
        return f"{self.name}+{self.id.hex()}"

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


def parse_key(text: str, key_type: int) -> Key:
    """A verifier key of ``key_type`` (0x01: the log's, 0x04: a witness's); UsageError else."""
    kind = "log verifier key" if key_type == NOTE_KEY else "witness verifier key"
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or text.startswith("PRIVATE+"):
        raise UsageError(f"the {kind} must read <name>+<key ID>+<key>: {text!r}")
    name, hex_id, encoded = parts
    if not name or any(ch.isspace() for ch in name) or not re.fullmatch(r"[0-9a-fA-F]{8}", hex_id):
        raise UsageError(f"the {kind} has a malformed name or key ID: {text!r}")
    try:
        raw = _b64decode(encoded)
    except (ValueError, binascii.Error):
        raise UsageError(f"the {kind} is not base64: {text!r}") from None
    if len(raw) != 33 or raw[0] != key_type:
        found = f"type 0x{raw[0]:02x}" if raw else "empty"
        raise UsageError(
            f"the {kind} must be an Ed25519 key of type 0x{key_type:02x} ({found}): {text!r}"
        )
    if key_id(name, key_type, raw[1:]).hex() != hex_id.lower():
        raise UsageError(f"the {kind}'s key ID does not match its name and key: {text!r}")
    return Key(name, bytes.fromhex(hex_id), key_type, raw[1:])


@dataclass(frozen=True)
class SignatureLine:
    name: str
    id: bytes
    signature: bytes  # after the key ID


def split_note(note: bytes) -> tuple[bytes, list[SignatureLine]]:
    """A signed note's text (up to and including the newline before the last blank line)
    and its signature lines. Failed when the note is not well formed."""
    try:
        decoded = note.decode("utf-8")
    except UnicodeDecodeError:
        raise Failed("the checkpoint is not UTF-8") from None
    if any(ord(ch) < 0x20 and ch != "\n" for ch in decoded):
        raise Failed("the checkpoint contains a control character")
    split = decoded.rfind("\n\n")
    if split < 0 or not decoded.endswith("\n"):
        raise Failed("the checkpoint is not a signed note (no signature block)")
    text, block = decoded[: split + 1], decoded[split + 2 : -1]
    lines = block.split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise Failed("the checkpoint has more than 100 signature lines")
    signatures = []
    for line in lines:
        name, _, encoded = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
        try:
            raw = _b64decode(encoded)
        except (ValueError, binascii.Error):
            raw = b""
        if not line.startswith(SIGNATURE_PREFIX) or not name or len(raw) < 5:
            raise Failed(f"the checkpoint has a malformed signature line: {line[:80]!r}")
        signatures.append(SignatureLine(name, raw[:4], raw[4:]))
    return text.encode("utf-8"), signatures


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    text: bytes  # the signed note's text
    note: bytes  # the whole signed note, as served


def parse_checkpoint(text: bytes, note: bytes) -> Checkpoint:
    """The checkpoint text (C2SP tlog-checkpoint), strictly: origin, tree size in decimal
    without leading zeros, the root in canonical base64, optional non-empty extension lines."""
    lines = text.decode("utf-8")[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise Failed("the checkpoint needs an origin, a size and a root hash, no empty line")
    origin, size_line, root_line = lines[:3]
    if origin != origin.strip() or not _DECIMAL.fullmatch(size_line) or len(size_line) > 19:
        raise Failed("the checkpoint's origin or tree size is malformed")
    try:
        root = _b64decode(root_line)
    except (ValueError, binascii.Error):
        raise Failed("the checkpoint's root hash is not base64") from None
    size = int(size_line)
    if len(root) != HASH_SIZE or b64(root) != root_line or size >= 2**63:
        raise Failed("the checkpoint's root hash is not 32 bytes in canonical base64")
    if size == 0 and root != EMPTY_ROOT:
        raise Failed("the checkpoint says the tree is empty but its root is not the empty root")
    return Checkpoint(origin, size, root, text, note)


def cosigned_message(text: bytes, timestamp: int) -> bytes:
    """What a witness signs (tlog-cosignature/v1): a header, the time, the checkpoint."""
    return f"cosignature/v1\ntime {timestamp}\n".encode("ascii") + text


@dataclass
class Report:
    """What was checked (lines) and what did not verify (problems)."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def check(self, what: str, outcome: str) -> None:
        self.lines.append(f"  {what + ':':<15} {outcome}")

    def problem(self, text: str) -> None:
        self.problems.append(text)


def open_checkpoint(
    note: bytes,
    log: Key,
    witnesses: Sequence[Key],
    *,
    origin: str,
    min_cosignatures: int,
    report: Report,
    now: float,
) -> Checkpoint:
    """Verify the log's signature (required: Failed otherwise), parse the checkpoint, check
    its origin and count the witnesses' valid cosignatures."""
    text, signatures = split_note(note)
    own = [s for s in signatures if (s.name, s.id) == (log.name, log.id)]
    if not own:
        signers = ", ".join(sorted({s.name for s in signatures}))
        raise Failed(f"the checkpoint is not signed by the key {log.label} (signed by: {signers})")
    for signature in own:
        if not log.verify(signature.signature, text):
            raise Failed(f"the checkpoint's signature by {log.label} does not verify")
    checkpoint = parse_checkpoint(text, note)
    if checkpoint.origin != origin:
        raise Failed(f"the checkpoint's origin is {checkpoint.origin!r}, expected {origin!r}")
    root = f"{b64(checkpoint.root)} (hex {checkpoint.root.hex()[:16]}…)"
    report.check("checkpoint", f"size {checkpoint.size:,}, root {root}")
    report.check("signature", f"verified with {log.label}")
    valid = []
    for witness in witnesses:
        lines = [s for s in signatures if (s.name, s.id) == (witness.name, witness.id)]
        if not lines:
            report.check("cosignature", f"none from {witness.label}")
            continue
        for line in lines:
            raw = line.signature
            timestamp = int.from_bytes(raw[:8], "big") if len(raw) == 72 else -1
            if timestamp < 0 or timestamp >= 2**63:
                report.problem(f"the cosignature of {witness.label} is malformed")
            elif not witness.verify(raw[8:], cosigned_message(text, timestamp)):
                report.problem(f"the cosignature of {witness.label} does not verify")
            elif timestamp > now + 300:
                report.problem(f"the cosignature of {witness.label} is dated in the future")
            else:
                when = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
                report.check("cosignature", f"verified: {witness.label}, {when}")
                valid.append(witness)
    if witnesses or min_cosignatures:
        report.check(
            "cosignatures", f"{len(valid)} valid of {len(witnesses)}, {min_cosignatures} required"
        )
    if len(valid) < min_cosignatures:
        report.problem(
            f"the checkpoint has {len(valid)} valid cosignature(s), "
            f"{min_cosignatures} required (--min-cosignatures)"
        )
    return checkpoint


# --- the Merkle tree (RFC 6962, RFC 9162) -------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || leaf data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class TreeRebuilder:
    """The tree rebuilt from its leaves, one pass: the compact range (the full subtrees of
    the size's binary decomposition), the hashes at every tile level (tree levels 0, 8, 16…:
    what the hash tiles hold) and the roots at the sizes asked for in ``watch``."""

    def __init__(self, watch: Iterable[int] = ()) -> None:
        self.size = 0
        self._range: list[bytes] = []
        self.levels: list[bytearray] = [bytearray()]
        self._watch = set(watch)
        self.roots: dict[int, bytes] = {0: EMPTY_ROOT} if 0 in self._watch else {}

    def append(self, hashed_leaf: bytes) -> None:
        levels, compact = self.levels, self._range
        levels[0] += hashed_leaf
        node, index, level = hashed_leaf, self.size, 0
        while index & 1:  # the new leaf completes a subtree per trailing one bit
            node = hashlib.sha256(b"\x01" + compact.pop() + node).digest()
            index >>= 1
            level += 1
            if level % TILE_HEIGHT == 0:
                if level // TILE_HEIGHT == len(levels):
                    levels.append(bytearray())
                levels[level // TILE_HEIGHT] += node
        compact.append(node)
        self.size += 1
        if self.size in self._watch:
            self.roots[self.size] = self.root()

    def root(self) -> bytes:
        """MTH of the leaves so far: the compact range folded right to left."""
        if not self._range:
            return EMPTY_ROOT
        node = self._range[-1]
        for left in reversed(self._range[:-1]):
            node = node_hash(left, node)
        return node

    def tile(self, level: int, index: int, width: int) -> bytes:
        """The recomputed bytes of hash tile ``level``/``index`` of ``width`` hashes."""
        start = index * TILE_WIDTH * HASH_SIZE
        hashes = self.levels[level] if level < len(self.levels) else b""
        return bytes(hashes[start : start + width * HASH_SIZE])


def _valid_hashes(proof: Sequence[bytes]) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in proof)


def verify_inclusion(
    index: int, size: int, hashed_leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: whether ``proof`` (leaf to root) puts the leaf hash at ``index``
    of the tree of ``size`` leaves whose root is ``root``."""
    if not (0 <= index < size) or not _valid_hashes(proof) or len(hashed_leaf) != HASH_SIZE:
        return False
    fn, sn, r = index, size - 1, hashed_leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: whether ``proof`` shows the tree of ``old`` leaves (``old_root``)
    is a prefix of the tree of ``new`` leaves (``new_root``). The cases the RFC leaves out
    take an empty proof: equal sizes need equal roots, size 0 the empty root."""
    if not (0 <= old <= new) or not _valid_hashes(proof):
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # an exact power of two: the old root is a node of the path
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


# --- tlog-tiles paths -----------------------------------------------------------------------


def encode_index(n: int) -> str:
    """A tile index as path elements: 1234067 -> ``x001/x234/067``."""
    digits = str(n)
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([f"x{g}" for g in groups[:-1]] + groups[-1:])


def tile_path(level: int, index: int, width: int) -> str:
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{encode_index(index)}{suffix}"


def bundle_path(index: int, width: int) -> str:
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/entries/{encode_index(index)}{suffix}"


def tiles_of(size: int) -> list[tuple[int, int, int]]:
    """(level, index, width) of every hash tile of the tree of ``size`` leaves: per tile
    level, the full tiles and the partial one at the right edge."""
    found = []
    level = 0
    while count := size >> (TILE_HEIGHT * level):
        full, width = count >> TILE_HEIGHT, count & (TILE_WIDTH - 1)
        found += [(level, n, TILE_WIDTH) for n in range(full)]
        if width:
            found.append((level, full, width))
        level += 1
    return found


def bundles_of(size: int) -> list[tuple[int, int]]:
    """(index, width) of every entry bundle of the tree of ``size`` leaves."""
    full, width = size >> TILE_HEIGHT, size & (TILE_WIDTH - 1)
    return [(n, TILE_WIDTH) for n in range(full)] + ([(full, width)] if width else [])


def decode_bundle(data: bytes, width: int) -> list[bytes] | None:
    """The ``width`` entries of a bundle (big-endian uint16 length, bytes), None if it is
    not exactly that."""
    entries, pos = [], 0
    while pos < len(data):
        if pos + 2 > len(data):
            return None
        length = int.from_bytes(data[pos : pos + 2], "big")
        if pos + 2 + length > len(data):
            return None
        entries.append(data[pos + 2 : pos + 2 + length])
        pos += 2 + length
    return entries if len(entries) == width else None


# --- the ledger's leaves --------------------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    """Keys sorted, separators ``(",", ":")``, non-ASCII kept, UTF-8: gongkai's canonical JSON."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def content_hash(content: Any) -> str:
    """The content hash of a record: SHA-256 of the canonical JSON of its content."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


def entry_hash(leaf: dict[str, Any]) -> str:
    """The ledger entry's hash from the leaf's fields (gongkai.ledger.canonical.entry_hash):
    the canonical JSON of sequence, record, event, content and previous hash and the time as
    the leaf states it; from canonical version 2 on, the version too."""
    fields = {
        key: leaf[key]
        for key in (
            "sequence", "record_type", "record_id", "event", "content_hash", "prev_hash",
            "recorded_at",
        )
    }  # fmt: skip
    if leaf["canonical_version"] != FIRST_VERSION:
        fields["canonical_version"] = leaf["canonical_version"]
    return hashlib.sha256(canonical_json(fields)).hexdigest()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def leaf_problems(index: int, data: bytes, prev_hash: str | None) -> tuple[list[str], str | None]:
    """What is wrong with leaf ``index`` (ledger entry ``index + 1``), given the entry hash
    the previous leaf states (None: unknown, not checked); and the entry hash this leaf
    states, for the next one."""
    where = f"leaf {index}"
    try:
        leaf = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return [f"{where}: not JSON"], None
    if not isinstance(leaf, dict):
        return [f"{where}: not a JSON object"], None
    if leaf.get("format") != LEAF_FORMAT:
        return [f"{where}: unknown leaf format {leaf.get('format')!r}"], None
    if set(leaf) != LEAF_FIELDS:
        return [f"{where}: fields {sorted(set(leaf) ^ LEAF_FIELDS)} missing or unexpected"], None
    if canonical_json(leaf) != data:
        return [f"{where}: not in canonical JSON"], None
    hashes_ok = all(
        isinstance(leaf[k], str) and _HEX64.fullmatch(leaf[k])
        for k in ("content_hash", "prev_hash", "entry_hash")
    )
    types_ok = (
        all(_is_int(leaf[k]) for k in ("sequence", "record_id", "disclosure", "canonical_version"))
        and all(isinstance(leaf[k], str) for k in ("record_type", "event", "recorded_at"))
        and all(leaf[k] is None or isinstance(leaf[k], str) for k in ("unit", "entry"))
        and (leaf["revision"] is None or _is_int(leaf["revision"]))
    )
    if not (hashes_ok and types_ok and _TIME.fullmatch(leaf["recorded_at"])):
        return [f"{where}: a field has the wrong type or form"], None
    problems = []
    if leaf["sequence"] != index + 1:
        problems.append(f"{where}: sequence {leaf['sequence']}, expected {index + 1}")
    if leaf["canonical_version"] < FIRST_VERSION:
        problems.append(f"{where}: canonical version {leaf['canonical_version']}")
    if prev_hash is not None and leaf["prev_hash"] != prev_hash:
        previous = "the genesis hash" if index == 0 else f"the entry_hash of leaf {index - 1}"
        problems.append(f"{where}: prev_hash is not {previous} (the chain is broken)")
    if entry_hash(leaf) != leaf["entry_hash"]:
        problems.append(f"{where}: entry_hash does not recompute")
    return problems, leaf["entry_hash"]


# --- HTTP -----------------------------------------------------------------------------------


class Server:
    """GET requests to the installation at ``base_url``: one kept-alive connection per
    thread, one retry when the server closed it meanwhile; bodies capped in size."""

    def __init__(self, base_url: str, timeout: float) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise UsageError(f"BASE_URL must be http(s)://host[:port][/path]: {base_url!r}")
        try:
            port = parts.port
        except ValueError:
            raise UsageError(f"BASE_URL has a bad port: {base_url!r}") from None
        self.base_url = base_url.rstrip("/")
        self._scheme, self._host, self._port = parts.scheme, parts.hostname, port
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            cls = (
                http.client.HTTPSConnection
                if self._scheme == "https"
                else http.client.HTTPConnection
            )
            conn = cls(self._host, self._port, timeout=self._timeout)
            self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def get(self, path: str, limit: int) -> tuple[int, bytes]:
        """(status, body) of ``GET <base>/ledger/<path>``; NetworkError when unreachable,
        Failed when the body exceeds ``limit`` bytes."""
        target = f"{self._prefix}/ledger/{path}"
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request("GET", target, headers={"User-Agent": "gongkai-verify-ledger/1"})
                response = conn.getresponse()
                body = response.read(limit + 1)
                if len(body) > limit:
                    self._drop()
                    raise Failed(f"{path}: the server sent more than {limit:,} bytes")
                if response.will_close:
                    self._drop()
                return response.status, body
            except (
                http.client.RemoteDisconnected,
                http.client.CannotSendRequest,
                ConnectionResetError,
                BrokenPipeError,
            ) as exc:
                self._drop()
                if attempt == 2:
                    raise NetworkError(f"{self.base_url}/ledger/{path}: {exc}") from None
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                raise NetworkError(f"{self.base_url}/ledger/{path}: {exc}") from None
        raise AssertionError("unreachable")

    def fetch(self, path: str, limit: int) -> bytes | None:
        """The body of a 200 answer; None for 404; NetworkError for any other status."""
        status, body = self.get(path, limit)
        if status == 404:
            return None
        if status != 200:
            raise NetworkError(f"{self.base_url}/ledger/{path}: HTTP {status}")
        return body

    def fetch_in_order(
        self, paths: Sequence[str], limit: int, jobs: int
    ) -> Iterator[tuple[str, bytes | None]]:
        """(path, body or None for 404) of each tlog-tiles path under ``log/``, in order,
        ``jobs`` requests at a time and at most ``4 * jobs`` bodies ahead of the reader."""
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            pending: deque[tuple[str, Future[bytes | None]]] = deque()
            try:
                for path in paths:
                    pending.append((path, pool.submit(self.fetch, f"log/{path}", limit)))
                    if len(pending) >= 4 * jobs:
                        done, future = pending.popleft()
                        yield done, future.result()
                while pending:
                    done, future = pending.popleft()
                    yield done, future.result()
            finally:
                for _path, future in pending:
                    future.cancel()


def fetch_json(server: Server, path: str) -> dict[str, Any]:
    body = server.fetch(path, MAX_JSON)
    if body is None:
        raise Failed(f"{path}: the server has no answer (HTTP 404)")
    try:
        answer = json.loads(body)
    except ValueError:
        raise Failed(f"{path}: the answer is not JSON") from None
    if not isinstance(answer, dict):
        raise Failed(f"{path}: the answer is not a JSON object")
    return answer


def proof_hashes(answer: dict[str, Any], path: str) -> list[bytes]:
    hashes = answer.get("hashes")
    if not isinstance(hashes, list) or len(hashes) > 128:
        raise Failed(f"{path}: no list of hashes")
    try:
        decoded = [_b64decode(h) for h in hashes if isinstance(h, str)]
    except (ValueError, binascii.Error):
        raise Failed(f"{path}: a hash is not base64") from None
    if len(decoded) != len(hashes) or not _valid_hashes(decoded):
        raise Failed(f"{path}: a hash is not 32 bytes")
    return decoded


# --- the mirror -----------------------------------------------------------------------------


def mirror_log(
    server: Server,
    checkpoint: Checkpoint,
    report: Report,
    *,
    keep: set[int],
    roots_at: set[int],
    jobs: int,
    staging: Path | None,
    mirror_dir: Path | None,
) -> tuple[TreeRebuilder, dict[int, bytes]]:
    """Fetch every entry bundle and hash tile of the checkpoint's size; rebuild the tree
    from the leaves, check the chain, the root and every tile; → the tree and the leaves
    whose indices are in ``keep``. Files go to ``staging``."""
    size = checkpoint.size
    tree = TreeRebuilder(roots_at)
    kept: dict[int, bytes] = {}
    prev: str | None = GENESIS_HASH
    leaf_count = broken = 0
    bundles = bundles_of(size)
    paths = [bundle_path(index, width) for index, width in bundles]
    fetched = server.fetch_in_order(paths, MAX_BUNDLE, jobs)
    for (index, width), (path, data) in zip(bundles, fetched, strict=True):
        if data is None:
            raise Failed(f"{path} is not served (HTTP 404): the log cannot be mirrored")
        entries = decode_bundle(data, width)
        if entries is None:
            raise Failed(f"{path} is not an entry bundle of {width} entries")
        _stage(staging, mirror_dir, path, data, report)
        for offset, leaf in enumerate(entries):
            i = index * TILE_WIDTH + offset
            tree.append(leaf_hash(leaf))
            problems, prev = leaf_problems(i, leaf, prev)
            if problems:
                report.problems.extend(problems)
                broken += 1
            if i in keep:
                kept[i] = leaf
        leaf_count += len(entries)
    root_ok = tree.root() == checkpoint.root
    if not root_ok:
        report.problem(
            f"root: the {size:,} leaves give {b64(tree.root())}, the checkpoint says "
            f"{b64(checkpoint.root)}"
        )
    report.check(
        "leaves",
        f"{leaf_count:,} in {len(bundles):,} entry bundle(s); root recomputed: "
        + ("matches the checkpoint" if root_ok else "DIFFERS"),
    )
    report.check(
        "chain",
        "each leaf is the next ledger entry, linked to the one before, its entry_hash recomputed"
        if not broken
        else f"{broken:,} leaves NOT in order, linked or recomputing",
    )
    tiles = tiles_of(size)
    paths = [tile_path(*tile) for tile in tiles]
    lying = 0
    fetched = server.fetch_in_order(paths, MAX_TILE, jobs)
    for tile, (path, data) in zip(tiles, fetched, strict=True):
        if data is None:
            report.problem(f"tile {path} is not served (HTTP 404)")
            lying += 1
            continue
        if data != tree.tile(*tile):
            report.problem(f"tile {path} differs from the leaves")
            lying += 1
        _stage(staging, mirror_dir, path, data, report)
    report.check(
        "hash tiles",
        f"{len(tiles):,} fetched, "
        + ("each equal to the one recomputed" if not lying else f"{lying} NOT equal"),
    )
    return tree, kept


def _stage(
    staging: Path | None, mirror_dir: Path | None, path: str, data: bytes, report: Report
) -> None:
    """Write a served file to the staging folder; a copy already in the mirror must be equal
    (tiles and bundles never change once served at a path)."""
    if staging is None or mirror_dir is None:
        return
    kept = mirror_dir / path
    if kept.is_file() and kept.read_bytes() != data:
        report.problem(f"fork: {path} differs from the copy in {mirror_dir} mirrored before")
    target = staging / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def publish_mirror(staging: Path, mirror_dir: Path, checkpoint: Checkpoint) -> None:
    """Move the staged files into the mirror, the checkpoint last (atomically each)."""
    for source in sorted(p for p in staging.rglob("*") if p.is_file()):
        target = mirror_dir / source.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
    write_atomically(mirror_dir / "checkpoint", checkpoint.note)
    shutil.rmtree(staging, ignore_errors=True)


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


# --- the state file, indices and records ----------------------------------------------------


@dataclass(frozen=True)
class State:
    size: int
    root: bytes


def load_state(path: Path, origin: str) -> State | None:
    """The checkpoint seen last time (None when the file does not exist yet)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"cannot read the state file {path}: {exc}") from None
    try:
        state = json.loads(text)
        size, root = state["size"], _b64decode(state["root"])
        ok = state["format"] == STATE_FORMAT and _is_int(size) and size >= 0
    except (ValueError, KeyError, TypeError, binascii.Error):
        ok = False
    if not ok or len(root) != HASH_SIZE:
        raise UsageError(f"{path} is not a state file of this tool")
    if state.get("origin") != origin:
        raise UsageError(f"{path} is the state of the log {state.get('origin')!r}, not {origin!r}")
    return State(size, root)


def save_state(path: Path, server: Server, checkpoint: Checkpoint) -> None:
    state = {
        "format": STATE_FORMAT,
        "url": server.base_url,
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root": b64(checkpoint.root),
        "note": checkpoint.note.decode("utf-8"),
        "verified_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    write_atomically(path, (json.dumps(state, ensure_ascii=False, indent=2) + "\n").encode())


def check_state(
    server: Server, checkpoint: Checkpoint, state: State, tree: TreeRebuilder, report: Report
) -> None:
    """The log must extend the checkpoint seen before: by the consistency proof and by the
    root of the old size recomputed from today's leaves."""
    old, new = state.size, checkpoint.size
    if old > new:
        report.problem(
            f"rollback: the log now has {new:,} leaves, the state file saw {old:,} "
            f"(root {b64(state.root)}): entries were removed"
        )
        report.check("state", "ROLLBACK")
        return
    if old == new:
        if state.root != checkpoint.root:
            report.problem(
                f"fork: the log's root at size {new:,} is {b64(checkpoint.root)}, the state "
                f"file saw {b64(state.root)} at the same size"
            )
            report.check("state", "FORK")
        else:
            report.check("state", f"the same checkpoint as seen before (size {old:,})")
        return
    path = f"proof/consistency?old={old}&size={new}"
    answer = fetch_json(server, path)
    proved = answer.get("old") == old and answer.get("size") == new
    proved = proved and verify_consistency(
        old, new, state.root, checkpoint.root, proof_hashes(answer, path)
    )
    if not proved:
        report.problem(
            f"fork: the consistency proof from size {old:,} (seen before) to {new:,} "
            "does not verify"
        )
    recomputed = tree.roots.get(old) == state.root
    if not recomputed:
        report.problem(
            f"fork: the first {old:,} leaves give root {b64(tree.roots.get(old, b''))}, the "
            f"state file saw {b64(state.root)}"
        )
    outcome = "extends" if proved and recomputed else "does NOT extend"
    report.check(
        "state",
        f"{outcome} the checkpoint of size {old:,} seen before (consistency proof "
        f"{'verified' if proved else 'FAILED'}; old root from the leaves "
        f"{'matches' if recomputed else 'DIFFERS'})",
    )


def check_inclusion(
    server: Server,
    checkpoint: Checkpoint,
    index: int,
    mirrored: dict[int, bytes],
    report: Report,
    what: str,
) -> bool:
    """Fetch and verify the inclusion proof of leaf ``index``; its leaf must be the one
    mirrored."""
    if not 0 <= index < checkpoint.size:
        report.problem(f"{what}: leaf {index} is not in the log of {checkpoint.size:,} leaves")
        return False
    path = f"proof/inclusion?index={index}&size={checkpoint.size}"
    answer = fetch_json(server, path)
    hashes = proof_hashes(answer, path)
    try:
        leaf = _b64decode(answer.get("leaf", ""))
    except (ValueError, binascii.Error, AttributeError):
        raise Failed(f"{path}: the leaf is not base64") from None
    size, root = checkpoint.size, checkpoint.root
    echoed = answer.get("index") == index and answer.get("size") == size
    if not (echoed and verify_inclusion(index, size, leaf_hash(leaf), hashes, root)):
        report.problem(f"{what}: the inclusion proof of leaf {index} does not verify")
        return False
    if mirrored.get(index) != leaf:
        report.problem(f"{what}: the proof's leaf {index} is not the leaf mirrored")
        return False
    return True


def load_record(path: Path) -> tuple[int, Any]:
    """(sequence, content) of a record downloaded from an item's page: ``{"sequence": n,
    "content": {...}}`` (a ``"leaf_index"`` of ``n - 1`` is read as well)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the record {path}: {exc}") from None
    if not isinstance(record, dict) or "content" not in record:
        raise UsageError(f'{path} is not a record: {{"sequence": n, "content": {{...}}}}')
    numbers = set()
    for key, offset in (("sequence", 0), ("leaf_index", 1)):
        value = record.get(key)
        if value is not None:
            if not _is_int(value):
                raise UsageError(f"{path}: {key} is not a whole number")
            numbers.add(value + offset)
    if len(numbers) != 1 or min(numbers) < 1:
        raise UsageError(f"{path}: the record needs one sequence, a whole number from 1")
    return numbers.pop(), record["content"]


def check_record(
    server: Server,
    checkpoint: Checkpoint,
    record: tuple[Path, int, Any],
    mirrored: dict[int, bytes],
    report: Report,
) -> None:
    """A downloaded record: its leaf is included and its content hashes to the leaf's."""
    path, sequence, content = record
    index = sequence - 1
    what = f"record {path.name}"
    if not check_inclusion(server, checkpoint, index, mirrored, report, what):
        report.check(what, "NOT verified")
        return
    try:
        stated = json.loads(mirrored[index])["content_hash"]
    except (ValueError, KeyError, TypeError):
        stated = None  # the leaf itself is named among the problems
    computed = content_hash(content)
    if computed != stated:
        report.problem(
            f"{what}: its content hashes to {computed}, leaf {index} (sequence {sequence}) "
            f"says {stated}: the content differs from what was published"
        )
        report.check(what, "NOT verified")
        return
    report.check(what, f"content hash {computed[:16]}… matches leaf {index}; included")


# --- the command ----------------------------------------------------------------------------


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="verify_ledger.py",
        description=(
            "Mirror and verify a gongkai installation's publication ledger (a transparency "
            "log: RFC 6962 Merkle tree, C2SP signed checkpoints and tiles) from outside, "
            "with nothing but its verifier key. Exit 0: everything verified; 1: a "
            "verification failed (each problem is named); 2: usage or network error."
        ),
        epilog=(
            "The verifier key is on the installation's ledger page and in its README. Keep "
            "a --state file per installation and run this regularly: a log that removes or "
            "rewrites entries is caught the next time."
        ),
    )
    parser.add_argument("base_url", metavar="BASE_URL", help="e.g. https://gongkai.example.com")
    parser.add_argument(
        "--key", required=True, metavar="VERIFIER_KEY",
        help="the log's verifier key, <name>+<key ID>+<base64 key>",
    )  # fmt: skip
    parser.add_argument(
        "--witness", action="append", default=[], metavar="WITNESS_VKEY",
        help="a witness's verifier key (cosignature/v1); may be repeated",
    )  # fmt: skip
    parser.add_argument(
        "--min-cosignatures", type=int, default=0, metavar="K",
        help="require at least K valid cosignatures of the --witness keys (default 0)",
    )  # fmt: skip
    parser.add_argument(
        "--origin", help="the checkpoint's expected origin (default: the key's name)"
    )
    parser.add_argument(
        "--state", type=Path, metavar="FILE",
        help="the checkpoint seen last time: the log must extend it (rollback and fork are "
        "named); updated when everything verifies",
    )  # fmt: skip
    parser.add_argument(
        "--index", type=int, action="append", default=[], metavar="I",
        help="verify the inclusion proof of leaf I (ledger entry I + 1); may be repeated",
    )  # fmt: skip
    parser.add_argument(
        "--record", type=Path, action="append", default=[], metavar="FILE",
        help='a record downloaded from an item\'s page, {"sequence": n, "content": {...}}: '
        "its content must hash to leaf n - 1's content hash, and the leaf be included",
    )  # fmt: skip
    parser.add_argument(
        "--mirror", type=Path, metavar="DIR",
        help="keep the checkpoint, hash tiles and entry bundles in DIR at their tlog-tiles "
        "paths (to serve statically); updated when everything verifies",
    )  # fmt: skip
    parser.add_argument(
        "--jobs", type=int, default=4, metavar="N", help="parallel requests (default 4)"
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, metavar="SECONDS",
        help="per request (default 60)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.min_cosignatures < 0 or args.min_cosignatures > len(args.witness):
        parser.error("--min-cosignatures must be from 0 to the number of --witness keys")
    if any(i < 0 for i in args.index):
        parser.error("--index must not be negative")
    if not 1 <= args.jobs <= 64:
        parser.error("--jobs must be from 1 to 64")
    return args


def verify(args: argparse.Namespace, report: Report) -> None:
    """Everything a run checks, in order; problems go to ``report``; the state file and the
    mirror are updated when there is none."""
    log_key = parse_key(args.key, NOTE_KEY)
    witnesses = [parse_key(w, COSIGNATURE_KEY) for w in args.witness]
    origin = args.origin or log_key.name
    records = [(path, *load_record(path)) for path in args.record]
    state = load_state(args.state, origin) if args.state else None
    server = Server(args.base_url, args.timeout)
    report.check("log", f"{origin} at {server.base_url}")

    note = server.fetch("log/checkpoint", MAX_NOTE)
    if note is None:
        raise Failed("the log serves no checkpoint (HTTP 404)")
    checkpoint = open_checkpoint(
        note, log_key, witnesses, origin=origin, min_cosignatures=args.min_cosignatures,
        report=report, now=time.time(),
    )  # fmt: skip
    mirror: Path | None = args.mirror
    staging = None
    if mirror is not None:
        mirror.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=mirror, prefix=".incoming-"))
    try:
        tree, mirrored = mirror_log(
            server, checkpoint, report,
            keep=set(args.index) | {sequence - 1 for _path, sequence, _content in records},
            roots_at={state.size} if state is not None else set(), jobs=args.jobs,
            staging=staging, mirror_dir=mirror,
        )  # fmt: skip
        if state is not None:
            check_state(server, checkpoint, state, tree, report)
        for index in args.index:
            if check_inclusion(server, checkpoint, index, mirrored, report, f"index {index}"):
                report.check(f"index {index}", "included (inclusion proof verified)")
        for record in records:
            check_record(server, checkpoint, record, mirrored, report)
    except Failed:
        if staging is not None and mirror is not None:
            reject(staging, mirror, checkpoint, report)
        raise
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    if staging is not None and mirror is not None:
        if report.problems:
            reject(staging, mirror, checkpoint, report)
        else:
            publish_mirror(staging, mirror, checkpoint)
            report.check("mirror", f"updated in {mirror}")
    if args.state is not None and not report.problems:
        save_state(args.state, server, checkpoint)
        report.check("state", f"saved the checkpoint of size {checkpoint.size:,} to {args.state}")


def reject(staging: Path, mirror: Path, checkpoint: Checkpoint, report: Report) -> None:
    """Keep what a log that did not verify served, as evidence, beside the mirror."""
    rejected = mirror / f"rejected-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%S.%fZ')}"
    os.replace(staging, rejected)
    write_atomically(rejected / "checkpoint", checkpoint.note)
    report.check("mirror", f"NOT updated; what was served is kept in {rejected}")


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    report = Report()
    try:
        verify(args, report)
    except (UsageError, NetworkError) as exc:
        print("\n".join(report.lines))
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Failed as exc:
        report.problem(str(exc))
    print(f"gongkai ledger verification ({args.base_url})")
    print("\n".join(report.lines))
    if not report.problems:
        print("RESULT: OK: everything verified")
        return 0
    print(f"PROBLEMS ({len(report.problems)}):")
    for problem in report.problems[:SHOWN_PROBLEMS]:
        print(f"  {problem}")
    if len(report.problems) > SHOWN_PROBLEMS:
        print(f"  … and {len(report.problems) - SHOWN_PROBLEMS:,} more")
    kept = "; the state file was not updated" if args.state is not None else ""
    print(f"RESULT: FAILED: the log does NOT verify{kept}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
