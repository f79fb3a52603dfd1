"""Development and demo: `make run`. Safe defaults, no HTTPS."""

import os

from .base import *  # noqa: F403
from .base import VAR_DIR, env_bool, env_list

DEBUG = env_bool("DEBUG", False)
# A development key kept out of the repository: generated once into var/.
_key_file = VAR_DIR / "secret_key.txt"
if not SECRET_KEY:  # type: ignore[used-before-def]  # noqa: F405
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    if not _key_file.exists():
        import secrets

        _key_file.write_text(secrets.token_urlsafe(50))
    SECRET_KEY = _key_file.read_text().strip()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "*"])
# Links in e-mails and chat messages: the address `make run` serves on.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
