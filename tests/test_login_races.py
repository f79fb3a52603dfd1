"""Sixteen at once never get past a limit of five: guesses at one account (one of them the
right password), at an unknown number, across sixteen accounts from one address; anonymous
reports and receipt codes from one address. Real threads, a database connection each, the
real limits store (the SQLite file, and Redis database 15 when it is reachable).

PostgreSQL: in this process. SQLite: in a child process on a database file
(tests/login_races.py), since threads cannot share the suite's in-memory database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tests import login_races as races

ROOT = Path(__file__).resolve().parent.parent
REDIS = "redis://127.0.0.1:6379/15"
LIMIT = races.LIMIT

pytestmark = pytest.mark.django_db(transaction=True)

_results: dict[tuple[str, str], dict[str, Any]] = {}


def redis_reachable() -> str | None:
    """Why Redis database 15 cannot be used, or None (then it has been emptied)."""
    from gongkai.core.limits import RedisStore

    try:
        store = RedisStore(REDIS)
        store.client.ping()
    except Exception as exc:
        return f"Redis is not reachable at {REDIS}: {exc}"
    store.client.flushdb()  # database 15 only
    return None


def results(store: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The figures of every scenario with the limits in ``store`` ("sqlite" or "redis"),
    computed once per database engine and store."""
    vendor = connection.vendor
    if (vendor, store) not in _results:
        unreachable = redis_reachable() if store == "redis" or vendor == "sqlite" else None
        if store == "redis" and unreachable:
            print(unreachable)
            pytest.skip(unreachable)
        if vendor == "postgresql":
            url = REDIS if store == "redis" else str(settings.LIMITS_URL)
            _results[(vendor, store)] = races.run_all(url, tag=f"t{len(_results)}")
        else:
            _results.update(in_a_child(tmp_path_factory, redis=not unreachable))
    return _results[(vendor, store)]


def in_a_child(tmp_path_factory: pytest.TempPathFactory, *, redis: bool) -> dict:
    """Run every scenario on a fresh SQLite database file in a child process, with the limits
    in a SQLite file of their own and (when reachable) in Redis."""
    work = tmp_path_factory.mktemp("login-races")
    urls = {"sqlite": f"sqlite:///{work / 'limits.sqlite3'}"} | ({"redis": REDIS} if redis else {})
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{work / 'races.sqlite3'}",
        "GONGKAI_VAR_DIR": str(work),
        "LOG_LEVEL": "ERROR",
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.login_races", json.dumps(list(urls.values()))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return {("sqlite", store): figures[url] for store, url in urls.items()}


STORES = ["sqlite", "redis"]


@pytest.mark.parametrize("store", STORES)
def test_sixteen_guesses_at_one_account_check_at_most_five(store, tmp_path_factory):
    """One of the sixteen is the right password: it logs in only if it was among the five
    checked; the other eleven are refused before any hash is computed."""
    figures = results(store, tmp_path_factory)["accounts"]
    one_right = figures["one_right"]
    assert one_right["checked"] <= LIMIT, one_right
    outcomes = one_right["outcomes"]
    assert sum(outcomes.values()) == races.N and not any(k.startswith("error") for k in outcomes)
    assert outcomes.get("wrong", 0) + outcomes.get("in", 0) <= LIMIT
    assert outcomes["locked"] >= races.N - LIMIT
    all_wrong = figures["known_all_wrong"]
    assert all_wrong["checked"] == LIMIT
    assert all_wrong["outcomes"] == {"wrong": LIMIT - 1, "locked": races.N - LIMIT + 1}
    assert all_wrong["failed_logins"] == LIMIT and all_wrong["paused"]
    assert all_wrong["lock_events"] == 1


@pytest.mark.parametrize("store", STORES)
def test_an_unknown_number_answers_a_race_like_an_account(store, tmp_path_factory):
    figures = results(store, tmp_path_factory)["accounts"]
    assert figures["unknown_all_wrong"]["outcomes"] == figures["known_all_wrong"]["outcomes"]


@pytest.mark.parametrize("store", STORES)
def test_sixteen_guesses_across_accounts_from_one_address_check_at_most_five(
    store, tmp_path_factory
):
    figures = results(store, tmp_path_factory)["accounts"]["one_client_many_accounts"]
    assert figures["checked"] == LIMIT
    assert figures["outcomes"] == {"wrong": LIMIT, "busy": races.N - LIMIT}


@pytest.mark.parametrize("store", STORES)
def test_sixteen_reports_at_once_from_one_address_file_five(store, tmp_path_factory):
    figures = results(store, tmp_path_factory)["reporting"]["submit"]
    assert figures["reports"] == LIMIT
    assert figures["outcomes"] == {"200": LIMIT, "429": races.N - LIMIT}


@pytest.mark.parametrize("store", STORES)
def test_sixteen_receipt_guesses_at_once_check_five_codes(store, tmp_path_factory):
    figures = results(store, tmp_path_factory)["reporting"]["receipt"]
    assert figures["checked"] == LIMIT
    assert figures["outcomes"] == {"200": LIMIT, "429": races.N - LIMIT}
