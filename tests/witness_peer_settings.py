"""Settings of a second installation that tests/test_witness.py starts as a real server in a
child process: the test settings, with this installation's own log origin, signing key and
witness key from the environment when given there (the test's own process keeps the fixed
ones)."""

import os

from config.settings.test import *  # noqa: F403
from config.settings.test import LEDGER_ORIGIN, LEDGER_SIGNING_KEY, LEDGER_WITNESS_KEY

LEDGER_ORIGIN = os.environ.get("LEDGER_ORIGIN") or LEDGER_ORIGIN
LEDGER_SIGNING_KEY = os.environ.get("LEDGER_SIGNING_KEY") or LEDGER_SIGNING_KEY
LEDGER_WITNESS_KEY = os.environ.get("LEDGER_WITNESS_KEY") or LEDGER_WITNESS_KEY
