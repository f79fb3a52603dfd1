"""Redis down: the cache degrades, rate limits fail closed, enqueued work is kept.

Each test points at a loopback port where nothing listens, which is what a stopped Redis
looks like to the app (connection refused).
"""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from gongkai.core import limits, queue
from gongkai.core.cache import DegradingRedisCache


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def down_url() -> str:
    return f"redis://127.0.0.1:{closed_port()}/0"


def test_cache_reads_miss_and_writes_do_nothing_when_redis_is_down(down_url, caplog):
    cache = DegradingRedisCache(down_url, {})
    with caplog.at_level(logging.WARNING, logger="gongkai.core.cache"):
        cache.set("board:version:1", "new")
        assert cache.get("board:version:1") is None
        assert cache.get("missing", "default") == "default"
        assert cache.get_many(["a", "b"]) == {}
        assert cache.add("a", 1) is False
        assert cache.get_or_set("computed", lambda: "fresh") == "fresh"
        cache.delete("reporting:channels:1")
        cache.delete_many(["x"])
    warnings = [r for r in caplog.records if "cannot be reached" in r.getMessage()]
    assert len(warnings) == 1  # once per interval, not once per call


def test_failed_writes_are_deleted_once_redis_answers_again(down_url, monkeypatch):
    """A set that failed may have left an older value: it must not be served afterwards."""
    cache = DegradingRedisCache(down_url, {})
    cache.set("board:version:7", "new token")  # fails: Redis still holds the old token
    deleted: list[tuple[list[str], Any]] = []
    parent = DegradingRedisCache.__mro__[1]
    monkeypatch.setattr(parent, "get", lambda self, key, default=None, version=None: "old")
    monkeypatch.setattr(
        parent,
        "delete_many",
        lambda self, keys, version=None: deleted.append((list(keys), version)),
    )
    cache.get("anything")  # Redis answers again
    assert deleted == [(["board:version:7"], None)]
    deleted.clear()
    cache.get("anything")
    assert deleted == []  # done once


def test_limits_fail_closed_and_the_page_answers_503(down_url, settings):
    settings.LIMITS_URL = down_url
    with pytest.raises(limits.Unavailable):
        limits.take("login-client:1:x", 5, 60)
    request = RequestFactory().post("/report/")
    middleware = limits.UnavailableMiddleware(lambda r: HttpResponse("ok"))
    response = middleware.process_exception(request, limits.Unavailable("down"))
    assert response is not None
    assert response.status_code == 503
    assert response["Retry-After"]
    assert "请稍后再试" in response.content.decode()
    assert middleware.process_exception(request, ValueError("other")) is None


def test_the_api_answers_503_in_its_json_shape():
    response = limits.unavailable_response(RequestFactory().post("/api/v1/reports/"))
    assert response.status_code == 503
    assert json.loads(response.content)["code"] == "unavailable"


def test_a_unit_not_given_back_only_stays_counted(down_url, settings, caplog):
    settings.LIMITS_URL = down_url
    with caplog.at_level(logging.WARNING, logger="gongkai.core.limits"):
        limits.give_back(limits.Taken("login-client:1:x", True, 0.0))  # no exception
    assert any("could not be given back" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_login_is_refused_with_503_when_the_limits_store_is_down(client, down_url, settings):
    settings.LIMITS_URL = down_url
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "gongkai.core.limits.UnavailableMiddleware"]
    response = client.post("/accounts/login/", {"username": "nobody", "password": "wrong"})
    assert response.status_code == 503


class Task:
    """A stand-in for a Huey task whose store refuses until ``up`` is set."""

    name = "fake_task"

    def __init__(self) -> None:
        self.up = False
        self.sent: list[Any] = []

    def __call__(self, *args: Any) -> None:
        if not self.up:
            import redis

            raise redis.exceptions.ConnectionError("refused")
        self.sent.append(args)


def test_an_enqueue_while_the_queue_is_down_is_kept_and_sent_later(monkeypatch):
    monkeypatch.setattr(queue.HUEY, "immediate", False)
    monkeypatch.setattr(queue, "RETRY_FIRST", 0.01)
    monkeypatch.setattr(queue, "RETRY_CAP", 0.02)
    task = Task()
    queue.enqueue(task, 1)
    queue.enqueue(task, 2)  # waits behind the first: the order is kept
    assert task.sent == []
    assert queue._kept.pending() == 2
    task.up = True
    import time

    for _ in range(500):
        if not queue._kept.pending():
            break
        time.sleep(0.01)
    assert task.sent == [(1,), (2,)]


def test_in_tests_the_task_runs_at_once_and_its_errors_are_not_hidden(monkeypatch):
    monkeypatch.setattr(queue.HUEY, "immediate", True)

    def broken() -> None:
        raise OSError("a bug in the task, not the queue")

    with pytest.raises(OSError):
        queue.enqueue(broken)


@pytest.mark.django_db
def test_an_anonymous_report_is_refused_with_503_and_nothing_is_written(client, down_url, settings):
    from gongkai.reporting.models import Report

    settings.LIMITS_URL = down_url
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "gongkai.core.limits.UnavailableMiddleware"]
    client.raise_request_exception = False  # the page turns it into its own answer
    response = client.post("/report/", {"subject": "食堂", "body": "卫生问题，请核查。"})
    assert response.status_code == 503
    assert response["Cache-Control"] == "no-store"  # the reporting page's own headers kept
    assert Report.objects.count() == 0
