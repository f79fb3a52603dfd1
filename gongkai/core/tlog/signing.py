"""The key that signs a log's checkpoints, kept outside the database, and the checkpoints it
signs.

**Where the key is.** ``settings.LEDGER_SIGNING_KEY`` (the signer key string itself, for a
deployment that keeps its secrets in the environment or a secret store) or else the file
``settings.LEDGER_SIGNING_KEY_FILE`` (default ``var/ledger-signing.key``, mode 0600), which
``manage.py ledger_key create`` writes at install time (``make run`` does it). The key is a
C2SP signed-note Ed25519 key (``PRIVATE+KEY+<name>+<id>+<base64>``); its name is the log's
origin. Whoever holds it can sign a checkpoint, so it never enters the database: a copy of
the database (a backup, a dump handed to an auditor) cannot forge one.

**Rotation** (docs/SECURITY.md): create a new key, publish its verifier key beside the old
one, sign from then on with the new key. Old checkpoints stay verifiable with the old
verifier key, which is therefore never withdrawn from the ledger page
(``settings.LEDGER_PREVIOUS_VERIFIER_KEYS``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction

from gongkai.core.models import LogCheckpoint
from gongkai.core.tlog import notes, store


class NoSigningKey(ImproperlyConfigured):
    """Neither LEDGER_SIGNING_KEY nor the key file is there."""


def key_file() -> Path:
    return Path(settings.LEDGER_SIGNING_KEY_FILE)


def read_key(inline: str, path: Path, *, what: str, setting: str, command: str) -> str:
    """A key string given in a setting (``inline``) or else in its file: the one way the
    checkpoint key and the witness key are read. NoSigningKey names the setting and the
    command that writes the file."""
    if inline:
        return inline
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise NoSigningKey(
            f"no {what} key: set {setting} or run `manage.py {command} create` (writes {path})"
        ) from None


def write_key_file(path: Path, skey: str) -> None:
    """Write a signer key string to ``path``, mode 0600, never over an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(skey + "\n")


def signer() -> notes.Signer:
    """The checkpoint signer from the settings or the key file."""
    text = read_key(
        settings.LEDGER_SIGNING_KEY,
        key_file(),
        what="ledger signing",
        setting="LEDGER_SIGNING_KEY",
        command="ledger_key",
    )
    return notes.parse_signer(text)


def verifier_key() -> str:
    """The verifier key of the signer (``<name>+<id>+<base64>``): public, for anyone."""
    return signer().verifier.encode()


def published_verifiers() -> list[notes.Verifier]:
    """The verifier keys a checkpoint of this installation may be signed with: those of
    earlier keys (``LEDGER_PREVIOUS_VERIFIER_KEYS``, after a rotation) and the current key's
    (when one is configured)."""
    keys = [notes.parse_verifier(key) for key in settings.LEDGER_PREVIOUS_VERIFIER_KEYS]
    with contextlib.suppress(NoSigningKey):
        keys.append(signer().verifier)
    return keys


def open_signed(
    note: str, keys: Sequence[notes.Verifier] | None = None
) -> notes.OpenedCheckpoint | None:
    """The checkpoint ``note`` opened with the first of ``keys`` (by default
    :func:`published_verifiers`: pass them when opening many) that signed it; None when none
    did (or it is not a checkpoint)."""
    for key in published_verifiers() if keys is None else keys:
        with contextlib.suppress(notes.NoteError):
            return notes.open_checkpoint(note, key)
    return None


def create_key_file(name: str, path: Path | None = None) -> tuple[Path, str]:
    """Write a new signer key named ``name`` to the key file (refusing to overwrite one);
    → (the file, the verifier key)."""
    path = path or key_file()
    skey, vkey = notes.generate_signer(name)
    write_key_file(path, skey)
    return path, vkey


def sign_checkpoint(name: str, origin: str) -> LogCheckpoint:
    """The checkpoint of the log as it is now, signed: stored once per size (a second call
    at the same size returns the stored one)."""
    key = signer()
    tree = store.head(name)
    found = LogCheckpoint.objects.filter(log_id=name, size=tree.size).first()
    if found is not None:
        return found
    text = notes.format_checkpoint(origin, tree.size, tree.root)
    note = notes.sign(text, [key]).decode("utf-8")
    try:
        with transaction.atomic():
            return LogCheckpoint.objects.create(
                log_id=name, size=tree.size, root=tree.root, note=note
            )
    except IntegrityError:  # signed meanwhile by another worker: the same size, one row
        return LogCheckpoint.objects.get(log_id=name, size=tree.size)
