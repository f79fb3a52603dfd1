"""``manage.py check --deploy``: the ledger's checkpoint signing key is configured (the
environment or its file) and is a valid signer key."""

from __future__ import annotations

from typing import Any

from django.core import checks

from gongkai.core.tlog import notes, signing


def signing_key_present(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    try:
        signing.signer()
    except signing.NoSigningKey as missing:
        return [checks.Error(str(missing), id="gongkai.ledger.E001")]
    except notes.NoteError as bad:
        return [
            checks.Error(
                f"the ledger signing key is not a valid key: {bad}", id="gongkai.ledger.E002"
            )
        ]
    return []
