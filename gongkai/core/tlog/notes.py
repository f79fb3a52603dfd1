"""Signed notes, checkpoints and witness cosignatures in the C2SP formats.

Pure and database-free: text and keys in, text and keys out. What other tools read:

- **signed-note** (c2sp.org/signed-note, the format of Go's ``golang.org/x/mod/sumdb/note``):
  a text ending in a newline, a blank line, then one or more signature lines
  ``— <key name> <base64(4-byte key ID || signature)>``. An Ed25519 key's ID is the first four
  bytes of SHA-256(name || 0x0A || 0x01 || public key). Verifier keys read
  ``<name>+<8 hex digits of the key ID>+<base64(0x01 || public key)>``; signer keys
  ``PRIVATE+KEY+<name>+<key ID>+<base64(0x01 || 32-byte seed)>``, as the Go package writes them.
- **tlog-checkpoint** (c2sp.org/tlog-checkpoint): the note text ``<origin>\\n<tree size>\\n
  <base64 root hash>\\n`` and optional non-empty extension lines.
- **tlog-cosignature** (c2sp.org/tlog-cosignature, Ed25519 ``cosignature/v1``): a witness
  signs ``cosignature/v1\\ntime <unix seconds>\\n`` followed by the checkpoint text; its line
  carries base64(key ID || 8-byte big-endian timestamp || signature), and its key ID and keys
  use the signature type 0x04 instead of 0x01.

Opening a note is strict where a reader's trust is at stake: a line from a known key (same
name *and* key ID) that does not verify rejects the whole note, as does a note that no known
key signed; lines from unknown keys are kept, unverified. A log's keys (type 0x01) and a
witness's keys (type 0x04) are parsed by different functions, so a witness key configured by
mistake as the log's key is refused instead of letting a cosignature pass for the log's own
signature.

Errors are :class:`NoteError` (a ``ValueError``) and its subclasses; their messages are for
operators and logs, in English.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG_ED25519 = 0x01  # signed-note Ed25519 signatures
ALG_COSIGNATURE_V1 = 0x04  # tlog-cosignature timestamped Ed25519 cosignatures

MAX_SIGNATURES = 100  # signature lines in one note (the cap of Go's note package)
MAX_TIMESTAMP = 2**63 - 1  # tlog-cosignature: a timestamp MUST NOT exceed 2^63 - 1
MAX_TREE_SIZE = 2**63 - 1  # what Go's tlog package (int64) reads

SIGNATURE_PREFIX = "— "  # em dash U+2014, space
PRIVATE_PREFIX = "PRIVATE+KEY+"
COSIGNATURE_HEADER = "cosignature/v1\n"
ROOT_SIZE = 32
EMPTY_TREE_ROOT = hashlib.sha256(b"").digest()  # RFC 6962: the hash of an empty tree

_ED25519_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
_TIMESTAMP_SIZE = 8
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")
_KINDS = {ALG_ED25519: "note signing key (type 0x01)", ALG_COSIGNATURE_V1: "witness key (0x04)"}


class NoteError(ValueError):
    """Anything refused by this module."""


class KeyFormatError(NoteError):
    """A signer or verifier key string (or a key name) that is not well formed."""


class MalformedNoteError(NoteError):
    """A note whose structure is not that of a signed note."""


class UnverifiedNoteError(NoteError):
    """A well-formed note that no known key signed."""


class InvalidSignatureError(NoteError):
    """A signature line from a known key (name and key ID) that does not verify: a forgery,
    or a note altered after signing."""

    def __init__(self, name: str, key_hash: int) -> None:
        super().__init__(f"invalid signature for key {name}+{key_hash:08x}")
        self.name = name
        self.key_hash = key_hash


class CheckpointError(NoteError):
    """A checkpoint text that does not follow c2sp.org/tlog-checkpoint."""


class CosignatureError(NoteError):
    """A cosignature that is malformed, from another witness, or dated in the future."""


# --- keys -------------------------------------------------------------------------------


def is_valid_name(name: str) -> bool:
    """Key names are non-empty and contain neither Unicode spaces nor plus signs."""
    return (
        isinstance(name, str)
        and name != ""
        and "+" not in name
        and not any(ch.isspace() or ord(ch) < 0x20 for ch in name)
        and _is_utf8(name)
    )


def _is_utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def _check_name(name: str) -> None:
    if not is_valid_name(name):
        raise KeyFormatError(
            f"invalid key name {name!r}: it must be non-empty, without spaces or '+'"
        )


def key_hash(name: str, key: bytes) -> int:
    """The key ID: the first four bytes, big-endian, of SHA-256(name || 0x0A || key), where
    ``key`` is the signature type byte followed by the public key."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + key).digest()
    return int.from_bytes(digest[:4], "big")


def _b64decode(text: str) -> bytes:
    """Standard base64 with padding; any other character is an error."""
    if not text.isascii():
        raise ValueError("not base64")
    return base64.b64decode(text, validate=True)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class Verifier:
    """A public key that verifies note signatures (type 0x01) or witness cosignatures
    (type 0x04)."""

    name: str
    key_hash: int
    algorithm: int
    public_key: bytes

    @property
    def is_witness(self) -> bool:
        return self.algorithm == ALG_COSIGNATURE_V1

    def encode(self) -> str:
        """The verifier key string, ``<name>+<key ID>+<base64(type || public key)>``."""
        key = _b64(bytes([self.algorithm]) + self.public_key)
        return f"{self.name}+{self.key_hash:08x}+{key}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (the bytes after the key ID) is this key's over ``text``."""
        key = Ed25519PublicKey.from_public_bytes(self.public_key)
        if self.algorithm == ALG_COSIGNATURE_V1:
            if len(signature) != _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
                return False
            timestamp = int.from_bytes(signature[:_TIMESTAMP_SIZE], "big")
            if timestamp > MAX_TIMESTAMP:
                return False
            text = cosigned_message(text, timestamp)
            signature = signature[_TIMESTAMP_SIZE:]
        elif len(signature) != _ED25519_SIGNATURE_SIZE:
            return False
        try:
            key.verify(signature, text)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A private key that signs notes (type 0x01) or cosigns checkpoints (type 0x04)."""

    name: str
    key_hash: int
    algorithm: int
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)

    @property
    def is_witness(self) -> bool:
        return self.algorithm == ALG_COSIGNATURE_V1

    @property
    def verifier(self) -> Verifier:
        public = self.private_key.public_key().public_bytes_raw()
        return Verifier(self.name, self.key_hash, self.algorithm, public)

    def encode(self) -> str:
        """The signer key string, ``PRIVATE+KEY+<name>+<key ID>+<base64(type || seed)>``.
        Secret."""
        seed = self.private_key.private_bytes_raw()
        key = _b64(bytes([self.algorithm]) + seed)
        return f"{PRIVATE_PREFIX}{self.name}+{self.key_hash:08x}+{key}"


def _new_signer(name: str, algorithm: int) -> Signer:
    _check_name(name)
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    return Signer(name, key_hash(name, bytes([algorithm]) + public), algorithm, private)


def generate_signer(name: str) -> tuple[str, str]:
    """A new Ed25519 note key named ``name``: (signer key string, verifier key string)."""
    signer = _new_signer(name, ALG_ED25519)
    return signer.encode(), signer.verifier.encode()


def generate_witness(name: str) -> tuple[str, str]:
    """A new witness cosignature key (type 0x04): (signer key string, verifier key string)."""
    signer = _new_signer(name, ALG_COSIGNATURE_V1)
    return signer.encode(), signer.verifier.encode()


def _split_key(kind: str, name: str, hash16: str, key64: str) -> tuple[int, int, bytes]:
    _check_name(name)
    if not _HEX8.fullmatch(hash16):
        raise KeyFormatError(f"{kind}: the key ID must be 8 hexadecimal digits, not {hash16!r}")
    try:
        key = _b64decode(key64)
    except (ValueError, binascii.Error):
        raise KeyFormatError(f"{kind}: the key is not standard base64") from None
    if not key:
        raise KeyFormatError(f"{kind}: the key is empty")
    algorithm, material = key[0], key[1:]
    if algorithm not in (ALG_ED25519, ALG_COSIGNATURE_V1):
        raise KeyFormatError(f"{kind}: unknown signature type 0x{algorithm:02x}")
    if len(material) != _ED25519_KEY_SIZE:
        raise KeyFormatError(f"{kind}: an Ed25519 key has 32 bytes, this one {len(material)}")
    return int(hash16, 16), algorithm, material


def _want(kind: str, algorithm: int, wanted: int) -> None:
    if algorithm != wanted:
        raise KeyFormatError(
            f"{kind}: this is a {_KINDS[algorithm]}, a {_KINDS[wanted]} was expected"
        )


def _parse_verifier(vkey: str, wanted: int) -> Verifier:
    kind = "verifier key"
    if not isinstance(vkey, str) or vkey.startswith(PRIVATE_PREFIX):
        raise KeyFormatError(f"{kind}: expected <name>+<key ID>+<key>, not a signer key")
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise KeyFormatError(f"{kind}: expected <name>+<key ID>+<key>")
    hash_, algorithm, public = _split_key(kind, *parts)
    _want(kind, algorithm, wanted)
    if key_hash(parts[0], bytes([algorithm]) + public) != hash_:
        raise KeyFormatError(f"{kind}: the key ID does not match the name and key")
    try:
        Ed25519PublicKey.from_public_bytes(public)
    except ValueError:
        raise KeyFormatError(f"{kind}: not an Ed25519 public key") from None
    return Verifier(parts[0], hash_, algorithm, public)


def _parse_signer(skey: str, wanted: int) -> Signer:
    kind = "signer key"
    if not isinstance(skey, str) or not skey.startswith(PRIVATE_PREFIX):
        raise KeyFormatError(f"{kind}: expected PRIVATE+KEY+<name>+<key ID>+<key>")
    parts = skey[len(PRIVATE_PREFIX) :].split("+", 2)
    if len(parts) != 3:
        raise KeyFormatError(f"{kind}: expected PRIVATE+KEY+<name>+<key ID>+<key>")
    hash_, algorithm, seed = _split_key(kind, *parts)
    _want(kind, algorithm, wanted)
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = private.public_key().public_bytes_raw()
    if key_hash(parts[0], bytes([algorithm]) + public) != hash_:
        raise KeyFormatError(f"{kind}: the key ID does not match the name and key")
    return Signer(parts[0], hash_, algorithm, private)


def parse_verifier(vkey: str) -> Verifier:
    """A note verifier key (Ed25519, type 0x01), e.g. a log's public key."""
    return _parse_verifier(vkey, ALG_ED25519)


def parse_signer(skey: str) -> Signer:
    """A note signer key (Ed25519, type 0x01), e.g. a log's private key."""
    return _parse_signer(skey, ALG_ED25519)


def parse_witness_verifier(vkey: str) -> Verifier:
    """A witness's cosignature verifier key (type 0x04)."""
    return _parse_verifier(vkey, ALG_COSIGNATURE_V1)


def parse_witness_signer(skey: str) -> Signer:
    """A witness's cosignature signer key (type 0x04)."""
    return _parse_signer(skey, ALG_COSIGNATURE_V1)


# --- signed notes -----------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """One signature line of a note, verified or not."""

    name: str
    key_hash: int
    base64: str

    @property
    def line(self) -> str:
        return f"{SIGNATURE_PREFIX}{self.name} {self.base64}\n"

    @property
    def raw(self) -> bytes:
        """Key ID || signature."""
        return _b64decode(self.base64)


@dataclass(frozen=True)
class OpenedNote:
    """A note whose signatures from the known keys all verified. ``verified_by`` are the
    known keys that signed it, in the order of their lines; ``unverified`` the lines of keys
    that were not given."""

    text: str
    verified_by: tuple[Verifier, ...]
    signatures: tuple[Signature, ...]
    unverified: tuple[Signature, ...]


def _has_control(text: str) -> bool:
    return any(ord(ch) < 0x20 and ch != "\n" for ch in text)


def _check_text(text: str) -> bytes:
    if not isinstance(text, str):
        raise MalformedNoteError("the note text must be a str")
    if not text.endswith("\n"):
        raise MalformedNoteError("the note text must end with a newline")
    if _has_control(text):
        raise MalformedNoteError("the note text contains a control character other than newline")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedNoteError("the note text is not valid UTF-8") from None


def _signature_line(signer: Signer, signature: bytes) -> str:
    return Signature(
        signer.name, signer.key_hash, _b64(signer.key_hash.to_bytes(4, "big") + signature)
    ).line


def sign(text: str, signers: Sequence[Signer]) -> bytes:
    """The signed note: ``text``, a blank line and one signature line per signer (note keys,
    type 0x01; witnesses cosign with :func:`cosign`)."""
    message = _check_text(text)
    if not signers:
        raise NoteError("a note needs at least one signer")
    if len(signers) > MAX_SIGNATURES:
        raise NoteError(f"at most {MAX_SIGNATURES} signatures")
    seen: set[tuple[str, int]] = set()
    lines = []
    for signer in signers:
        if signer.algorithm != ALG_ED25519:
            raise NoteError(f"{signer.name} is a witness key: witnesses cosign with cosign()")
        _check_name(signer.name)
        if (signer.name, signer.key_hash) in seen:
            raise NoteError(f"the key {signer.name}+{signer.key_hash:08x} is given twice")
        seen.add((signer.name, signer.key_hash))
        lines.append(_signature_line(signer, signer.private_key.sign(message)))
    return message + b"\n" + "".join(lines).encode("utf-8")


def _decode_note(note: bytes | str) -> str:
    if isinstance(note, str):
        decoded = note
        if not _is_utf8(decoded):
            raise MalformedNoteError("the note is not valid UTF-8")
    elif isinstance(note, bytes | bytearray | memoryview):
        try:
            decoded = bytes(note).decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedNoteError("the note is not valid UTF-8") from None
    else:
        raise MalformedNoteError("a note is bytes or str")
    if _has_control(decoded):
        raise MalformedNoteError("the note contains a control character other than newline")
    return decoded


def _parse_line(line: str) -> Signature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise MalformedNoteError(f"not a signature line: {line[:80]!r}")
    name, sep, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not sep or not is_valid_name(name) or not b64:
        raise MalformedNoteError(f"malformed signature line: {line[:80]!r}")
    try:
        raw = _b64decode(b64)
    except (ValueError, binascii.Error):
        raise MalformedNoteError(f"the signature of {name} is not base64") from None
    if len(raw) < 5:
        raise MalformedNoteError(f"the signature of {name} is too short")
    return Signature(name, int.from_bytes(raw[:4], "big"), b64)


def split_note(note: bytes | str) -> tuple[str, tuple[Signature, ...]]:
    """The text and signature lines of a note, nothing verified. The text is separated from
    the signatures by the note's last blank line."""
    decoded = _decode_note(note)
    split = decoded.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("no blank line before the signatures")
    text, block = decoded[: split + 1], decoded[split + 2 :]
    if not block or not block.endswith("\n"):
        raise MalformedNoteError("the signatures must be lines ending in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError(f"more than {MAX_SIGNATURES} signatures")
    return text, tuple(_parse_line(line) for line in lines)


def open_note(note: bytes | str, verifiers: Iterable[Verifier]) -> OpenedNote:
    """Check a note's signatures against the known keys (note keys and witness keys alike).

    Refused: a malformed note; more than :data:`MAX_SIGNATURES` lines; a line from a known
    key (name and key ID) that does not verify (:class:`InvalidSignatureError`); and a note
    no known key signed (:class:`UnverifiedNoteError`). Lines of other keys are kept,
    unverified (repeated identical lines once)."""
    known: dict[tuple[str, int], Verifier] = {}
    for verifier in verifiers:
        slot = (verifier.name, verifier.key_hash)
        if slot in known and known[slot] != verifier:
            raise KeyFormatError(
                f"two keys share the name and key ID {verifier.name}+{verifier.key_hash:08x}"
            )
        known[slot] = verifier
    text, signatures = split_note(note)
    message = text.encode("utf-8")
    verified: list[Signature] = []
    verified_by: list[Verifier] = []
    unverified: list[Signature] = []
    for signature in signatures:
        match = known.get((signature.name, signature.key_hash))
        if match is None:
            if signature not in unverified:
                unverified.append(signature)
            continue
        if not match.verify(message, signature.raw[4:]):
            raise InvalidSignatureError(signature.name, signature.key_hash)
        if match not in verified_by:
            verified_by.append(match)
            verified.append(signature)
    if not verified_by:
        raise UnverifiedNoteError("no signature from a known key")
    return OpenedNote(text, tuple(verified_by), tuple(verified), tuple(unverified))


def append_signatures(note: bytes | str, lines: Iterable[str]) -> bytes:
    """The note with further signature lines (e.g. witnesses' cosignatures) added after its
    own; lines already there are not repeated. Nothing is verified: open the result."""
    text, signatures = split_note(note)
    block = [signature.line for signature in signatures]
    for line in lines:
        if not line.endswith("\n") or "\n" in line[:-1]:
            raise MalformedNoteError("a signature line is one line ending in a newline")
        new = _parse_line(line[:-1]).line
        if new not in block:
            block.append(new)
    if len(block) > MAX_SIGNATURES:
        raise MalformedNoteError(f"more than {MAX_SIGNATURES} signatures")
    return (text + "\n" + "".join(block)).encode("utf-8")


# --- checkpoints ------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return format_checkpoint(self.origin, self.size, self.root, self.extensions)


def _check_line(what: str, line: str, *, opaque: bool = False) -> None:
    """A non-empty line without control characters; unless ``opaque`` (extension lines,
    which the spec leaves to the log), without leading or trailing spaces."""
    if not line:
        raise CheckpointError(f"the {what} is empty")
    if _has_control(line) or "\n" in line:
        raise CheckpointError(f"the {what} contains a control character (CR, tab, newline…)")
    if not opaque and line != line.strip():
        raise CheckpointError(f"the {what} has leading or trailing spaces")
    if not _is_utf8(line):
        raise CheckpointError(f"the {what} is not valid UTF-8")


def _check_root(size: int, root: bytes) -> None:
    if len(root) != ROOT_SIZE:
        raise CheckpointError(f"the root hash has {ROOT_SIZE} bytes, not {len(root)}")
    if size == 0 and root != EMPTY_TREE_ROOT:
        raise CheckpointError("the root of an empty tree is SHA-256 of nothing")


def format_checkpoint(origin: str, size: int, root: bytes, extensions: Iterable[str] = ()) -> str:
    """The checkpoint's note text. The origin must be usable as a key name (the log's key
    name should match it): no spaces, no '+'."""
    if not is_valid_name(origin):
        raise CheckpointError(f"invalid origin {origin!r}: non-empty, without spaces or '+'")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_TREE_SIZE:
        raise CheckpointError(f"the tree size must be an integer from 0 to {MAX_TREE_SIZE}")
    if not isinstance(root, bytes):
        raise CheckpointError("the root hash must be bytes")
    _check_root(size, root)
    extra = tuple(extensions)
    for line in extra:
        if not isinstance(line, str):
            raise CheckpointError("extension lines are str")
        _check_line("extension line", line, opaque=True)
    return "".join(f"{line}\n" for line in (origin, str(size), _b64(root), *extra))


def parse_checkpoint(text: str) -> Checkpoint:
    """The checkpoint a note text states, checked strictly: a non-empty origin, the tree size
    in decimal without sign or leading zeros, a root hash of exactly 32 bytes in canonical
    standard base64 with its padding, non-empty extension lines; LF line ends only."""
    if not isinstance(text, str):
        raise CheckpointError("a checkpoint is a str")
    if not text.endswith("\n"):
        raise CheckpointError("a checkpoint ends with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("a checkpoint has an origin, a tree size and a root hash")
    origin, size_line, root_line, *extensions = lines
    _check_line("origin", origin)
    _check_line("tree size", size_line)
    _check_line("root hash", root_line)
    for line in extensions:
        _check_line("extension line", line, opaque=True)
    if not _TREE_SIZE.fullmatch(size_line):
        raise CheckpointError(f"the tree size {size_line!r} is not a decimal without leading zeros")
    size = int(size_line)
    if size > MAX_TREE_SIZE:
        raise CheckpointError("the tree size is too large")
    try:
        root = _b64decode(root_line)
    except (ValueError, binascii.Error):
        raise CheckpointError("the root hash is not standard base64 with padding") from None
    _check_root(size, root)
    if _b64(root) != root_line:
        raise CheckpointError("the root hash is not in canonical base64")
    return Checkpoint(origin, size, root, tuple(extensions))


# --- witness cosignatures ---------------------------------------------------------------


@dataclass(frozen=True)
class Cosignature:
    witness: Verifier
    timestamp: int


@dataclass(frozen=True)
class OpenedCheckpoint:
    """A checkpoint signed by its log, with the cosignatures of the known witnesses."""

    checkpoint: Checkpoint
    text: str
    cosignatures: tuple[Cosignature, ...]
    unverified: tuple[Signature, ...]


def cosigned_message(text: bytes, timestamp: int) -> bytes:
    """What a witness signs: the cosignature/v1 header, the time line, the checkpoint."""
    return f"{COSIGNATURE_HEADER}time {timestamp}\n".encode("ascii") + text


def cosign(text: str, signer: Signer, *, timestamp: int | None = None) -> str:
    """A witness's cosignature line for the checkpoint ``text`` (checked), dated
    ``timestamp`` (Unix seconds; now if omitted)."""
    if not signer.is_witness:
        raise NoteError(f"{signer.name} is not a witness key (type 0x04)")
    parse_checkpoint(text)
    if timestamp is None:
        timestamp = int(time.time())
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise CosignatureError("the timestamp is an integer")
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise CosignatureError(f"the timestamp must be from 0 to {MAX_TIMESTAMP}")
    stamp = timestamp.to_bytes(_TIMESTAMP_SIZE, "big")
    signature = signer.private_key.sign(cosigned_message(text.encode("utf-8"), timestamp))
    return _signature_line(signer, stamp + signature)


def cosignature_timestamp(signature: Signature) -> int:
    """The time a cosignature line states (not verified)."""
    raw = signature.raw
    if len(raw) != 4 + _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
        raise CosignatureError(f"{signature.name}: not an Ed25519 cosignature/v1")
    timestamp = int.from_bytes(raw[4 : 4 + _TIMESTAMP_SIZE], "big")
    if timestamp > MAX_TIMESTAMP:
        raise CosignatureError(f"{signature.name}: the timestamp is out of range")
    return timestamp


def _check_not_after(signature: Signature, timestamp: int, not_after: int | None) -> None:
    if not_after is not None and timestamp > not_after:
        raise CosignatureError(f"{signature.name}: the cosignature is dated in the future")


def verify_cosignature(
    text: str, line: str, verifier: Verifier, *, not_after: int | None = None
) -> int:
    """Check one witness's cosignature line over the checkpoint ``text`` and return its time.
    Refused: a line of another key, a malformed line, a signature that does not verify (the
    checkpoint or the time altered), and, given ``not_after`` (Unix seconds), a time after it.
    """
    if not verifier.is_witness:
        raise CosignatureError(f"{verifier.name} is not a witness key (type 0x04)")
    parse_checkpoint(text)
    if not isinstance(line, str) or not line.endswith("\n") or "\n" in line[:-1]:
        raise CosignatureError("a cosignature is one line ending in a newline")
    if _has_control(line) or not _is_utf8(line):
        raise CosignatureError("the cosignature line contains a control character")
    signature = _parse_line(line[:-1])
    if (signature.name, signature.key_hash) != (verifier.name, verifier.key_hash):
        raise CosignatureError(
            f"the line is by {signature.name}+{signature.key_hash:08x}, "
            f"not by {verifier.name}+{verifier.key_hash:08x}"
        )
    timestamp = cosignature_timestamp(signature)
    if not verifier.verify(text.encode("utf-8"), signature.raw[4:]):
        raise InvalidSignatureError(signature.name, signature.key_hash)
    _check_not_after(signature, timestamp, not_after)
    return timestamp


def open_checkpoint(
    note: bytes | str,
    log: Verifier,
    witnesses: Iterable[Verifier] = (),
    *,
    not_after: int | None = None,
) -> OpenedCheckpoint:
    """Open a signed checkpoint: the log's own signature is required, every line of a known
    witness must verify (and, given ``not_after``, not be dated after it); the checkpoint
    text is parsed strictly. The caller checks the origin is the log's."""
    if log.is_witness:
        raise KeyFormatError(f"{log.name} is a witness key, not a log's key")
    witness_list = list(witnesses)
    for witness in witness_list:
        if not witness.is_witness:
            raise KeyFormatError(f"{witness.name} is not a witness key (type 0x04)")
    try:
        opened = open_note(note, [log, *witness_list])
    except UnverifiedNoteError:
        raise UnverifiedNoteError("the checkpoint is not signed by the log") from None
    if log not in opened.verified_by:
        raise UnverifiedNoteError("the checkpoint is not signed by the log")
    checkpoint = parse_checkpoint(opened.text)
    cosignatures = []
    for verifier, signature in zip(opened.verified_by, opened.signatures, strict=True):
        if verifier.is_witness:
            timestamp = cosignature_timestamp(signature)
            _check_not_after(signature, timestamp, not_after)
            cosignatures.append(Cosignature(verifier, timestamp))
    return OpenedCheckpoint(checkpoint, opened.text, tuple(cosignatures), opened.unverified)


if __name__ == "__main__":  # a throwaway signer key, for checks: python -m … <name>
    import sys

    print(generate_signer(sys.argv[1])[0])
