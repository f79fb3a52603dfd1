"""gongkai.core.limits: one atomic, shared store of counters for every limit.

Each store is tested for real: the SQLite file (the embedded default) and Redis database 15
(skipped, with the reason, when no Redis is reachable)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from gongkai.core import limits
from tests.conftest import Org

ROOT = Path(__file__).resolve().parent.parent
REDIS = "redis://127.0.0.1:6379/15"


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request, tmp_path, settings):
    """The URL of an empty store of each kind, made the settings' store for the test."""
    if request.param == "redis":
        try:
            redis_store = limits.RedisStore(REDIS)
            redis_store.client.ping()
        except Exception as exc:
            reason = f"Redis is not reachable at {REDIS}: {exc}"
            print(reason)
            pytest.skip(reason)
        redis_store.client.flushdb()  # database 15 only
        url = REDIS
    else:
        url = f"sqlite:///{tmp_path / 'limits.sqlite3'}"
    settings.LIMITS_URL = url
    limits.store().clear()
    yield url
    limits.store().clear()


def at_once(n: int, call) -> list:
    barrier = threading.Barrier(n)
    out: list = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        value = call()
        with lock:
            out.append(value)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_sixteen_concurrent_takes_grant_exactly_the_limit(store_url):
    taken = at_once(16, lambda: limits.take("t:burst", 5, 60))
    assert sum(t.granted for t in taken) == 5
    assert limits.store().get("t:burst") == 5  # the refused ones gave their unit back
    # A unit given back can be taken again, once.
    limits.give_back(next(t for t in taken if t.granted))
    again = at_once(16, lambda: limits.take("t:burst", 5, 60))
    assert sum(t.granted for t in again) == 1


def test_every_increment_gets_its_own_number(store_url):
    counts = at_once(16, lambda: limits.store().add("t:numbers", 60).value)
    assert sorted(counts) == list(range(1, 17))


def test_concurrent_updates_of_a_state_lose_nothing(store_url):
    def bump(state):
        n = (state or {}).get("n", 0) + 1
        return {"n": n}, n

    seen = at_once(16, lambda: limits.store().update("t:state", bump, ttl=60))
    assert sorted(seen) == list(range(1, 17))


def test_counters_expire_with_their_window(store_url):
    assert limits.take("t:short", 1, 1).granted
    assert not limits.take("t:short", 1, 1).granted
    time.sleep(1.2)
    assert limits.take("t:short", 1, 1).granted


def test_window_keys_are_random_shared_and_expire(store_url):
    store = limits.store()
    first = store.secret("key:test", ttl=1)
    assert len(first) == 64 and store.secret("key:test", ttl=1) == first
    time.sleep(1.2)
    assert store.secret("key:test", ttl=60) != first


def child_takes(url: str, key: str, n: int, limit: int) -> subprocess.Popen:
    """A separate Python process taking ``n`` units of ``key`` (limit ``limit``) from the
    store at ``url``; prints how many it was granted."""
    code = (
        "import sys\n"
        "from gongkai.core import limits\n"
        "url, key, n, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])\n"
        "print(sum(limits.take(key, limit, 60).granted for _ in range(n)))\n"
    )
    env = dict(
        os.environ, DJANGO_SETTINGS_MODULE="config.settings.test", GONGKAI_TEST_LIMITS_URL=url
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, url, key, str(n), str(limit)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_separate_processes_share_the_counters(store_url):
    limits.store().add("t:shared", 60)
    limits.store().add("t:shared", 60)
    child = child_takes(store_url, "t:shared", 1, 100)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert out.strip() == "1"
    assert limits.store().get("t:shared") == 3  # this process sees the child's unit
    # Two processes (plus this one) racing for one limit: 25 granted in all, never more.
    children = [child_takes(store_url, "t:race", 20, 25) for _ in range(2)]
    mine = sum(limits.take("t:race", 25, 60).granted for _ in range(10))
    granted = mine
    for c in children:
        out, err = c.communicate(timeout=120)
        assert c.returncode == 0, err
        granted += int(out.strip())
    assert granted == 25
    assert limits.store().get("t:race") == 25


@pytest.mark.django_db
def test_the_embedded_store_is_a_file_of_its_own_outside_the_main_database(settings):
    from django.db import connection

    store = limits.store()
    assert isinstance(store, limits.SQLiteStore)
    assert store.path.name == "limits.sqlite3"
    assert str(store.path) != str(connection.settings_dict["NAME"])
    assert "limits" not in connection.introspection.table_names()


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("redis://127.0.0.1:6379/0", limits.RedisStore),
        ("sqlite:////tmp/x.sqlite3", limits.SQLiteStore),
    ],
)
def test_the_store_is_chosen_by_its_url(url, kind):
    assert isinstance(limits.store_for(url), kind)


def test_an_unknown_store_is_refused():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="LIMITS_URL"):
        limits.store_for("memcached://127.0.0.1:11211")


ADDRESS = "198.51.100.173"


@pytest.mark.django_db
def test_no_address_employee_number_or_token_is_kept_in_clear(org: Org, store_url):
    """After wrong logins, an unknown number, a right login, reports and wrong receipt codes
    from a distinctive address: no store name holds any of them, and (SQLite) neither does
    any byte of the store's files."""
    client = Client(REMOTE_ADDR=ADDRESS)
    login = reverse("accounts:login")
    for _ in range(3):
        client.post(login, {"username": "employee", "password": "wrong-password"})
    client.post(login, {"username": "ghost-31337", "password": "wrong-password"})
    client.post(login, {"username": "employee", "password": "gongkai-demo"})
    client.post(reverse("accounts:logout"))
    client.post(login, {"username": "employee", "password": "typo-from-a-known-browser"})
    [[_pk, token]] = signing.loads(
        client.cookies["gongkai_device"].value, salt="gongkai.accounts.device"
    )
    Client(REMOTE_ADDR=ADDRESS).post(
        reverse("reporting:submit"), {"company": "rd", "subject": "主题", "body": "内容"}
    )
    Client(REMOTE_ADDR=ADDRESS).post(reverse("reporting:receipt"), {"code": "nope"})
    names = limits.store().keys()
    assert any(n.startswith("login-client:") for n in names)
    assert any(n.startswith("login-account:") for n in names)
    assert any(n.startswith("login-device:") for n in names)
    assert any(n.startswith("reporting:receipt:") for n in names)
    secrets_in_clear = [ADDRESS, "ghost-31337", "employee", token]
    assert not [n for n in names for s in secrets_in_clear if s in n]
    if store_url.startswith("sqlite:"):
        files = Path(store_url[len("sqlite://") :]).parent.glob("limits.sqlite3*")
        raw = b"".join(f.read_bytes() for f in files)
        assert raw and not [s for s in secrets_in_clear if s.encode() in raw]


@pytest.mark.django_db
def test_nothing_in_the_main_database_or_the_logs_names_the_address(org: Org, caplog):
    import logging

    from django.apps import apps
    from django.db import connection

    caplog.set_level(logging.DEBUG)
    client = Client(REMOTE_ADDR=ADDRESS)
    for _ in range(6):
        client.post(reverse("accounts:login"), {"username": "employee", "password": "nope"})
    assert ADDRESS not in caplog.text
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if not model._meta.managed:
                continue
            columns = [f.column for f in model._meta.concrete_fields]
            cursor.execute(f"SELECT * FROM {model._meta.db_table}")  # noqa: S608
            rows = cursor.fetchall()
            assert not [r for r in rows if ADDRESS in json.dumps(r, default=str)], (
                model._meta.db_table,
                columns,
            )
