"""Settings for bench_board only: the project as configured for local use, with the URLs of
``bench.board_urls`` (every page plus one bare view). Never used by the application."""

from __future__ import annotations

import os

from config.settings.local import *  # noqa: F403

ROOT_URLCONF = "bench.board_urls"
DEBUG = False
ALLOWED_HOSTS = ["*"]
# The in-process render benchmark is one process, so its LocMem cache may hold board bodies;
# the gunicorn runs leave the decision to gongkai.disclosure.boards.caching (Redis: yes).
BOARDS_CACHE = True if os.environ.get("BOARDS_CACHE") == "1" else None
