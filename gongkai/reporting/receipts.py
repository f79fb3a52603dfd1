"""Receipt codes: 100 random bits, shown once, stored only as a keyed digest.

A code is 20 characters of Crockford's base32 (digits and letters without I, L, O, U) drawn
with :mod:`secrets`, shown in groups of four: ``7K3M-Q9XD-...``. Typing is forgiving: case,
spaces and dashes are ignored, and I/L read as 1, O as 0.

The digest is HMAC-SHA256 keyed with a key derived from SECRET_KEY. A slow password hash is
not needed: a code has 100 bits of entropy, so guessing is hopeless even at billions of
hashes per second; the key means that a copy of the database alone does not even allow that.
Keys in SECRET_KEY_FALLBACKS are tried too, so rotating SECRET_KEY keeps old codes working.
"""

from __future__ import annotations

import hmac
import secrets

from django.conf import settings
from django.utils.crypto import salted_hmac

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
LENGTH = 20  # 20 × 5 = 100 bits
GROUP = 4
SALT = "gongkai.reporting.receipt"
_TYPOS = str.maketrans({"I": "1", "L": "1", "O": "0"})
# A typed code longer than this is not read at all (it is still hashed, see normalise).
MAX_INPUT = 64


def new_code() -> str:
    """A fresh code, grouped for reading."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def normalise(typed: str) -> str:
    """The code as stored for hashing. Anything, even a malformed code, gives a string: a
    forged code goes through exactly the same steps as a wrong one."""
    cleaned = "".join(typed[:MAX_INPUT].split()).replace("-", "").upper()
    return cleaned.translate(_TYPOS)


# A report still held (gongkai.reporting.release) is found by another digest of its code, so
# that the held box and the released report share no value.
HELD_SALT = "gongkai.reporting.receipt.held"


def digest(code: str, *, key: str | None = None, salt: str = SALT) -> str:
    return salted_hmac(salt, normalise(code), secret=key, algorithm="sha256").hexdigest()


def candidate_digests(code: str, *, salt: str = SALT) -> list[str]:
    """The digest under SECRET_KEY and under each fallback key."""
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [digest(code, key=key, salt=salt) for key in keys]


def matches(stored: str, code: str, *, salt: str = SALT) -> bool:
    """Constant-time comparison of a stored digest with a typed code."""
    found = False
    for candidate in candidate_digests(code, salt=salt):
        found |= hmac.compare_digest(stored, candidate)
    return found
