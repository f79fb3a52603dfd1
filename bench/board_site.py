"""Settings for bench_board only: the project as configured for local use, with the URLs of
``bench.board_urls`` (every page plus one bare view). Never used by the application."""

from __future__ import annotations

from config.settings.local import *  # noqa: F403

ROOT_URLCONF = "bench.board_urls"
DEBUG = False
ALLOWED_HOSTS = ["*"]
