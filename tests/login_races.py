"""Sixteen requests at once against each limit, in real threads with a database connection
each (used by tests/test_login_races.py).

On PostgreSQL the test runs these in its own process. On SQLite it runs them here, in a child
process, on a fresh database *file* (threads cannot share the suite's in-memory database):
``python -m tests.login_races '<json list of LIMITS_URLs>'`` migrates it, runs every scenario
once per limits store and prints the figures as JSON on its last line.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.contrib.auth.hashers import MD5PasswordHasher

N = 16
LIMIT = 5
RIGHT = "the-right-password-7"


class SlowCountingHasher(MD5PasswordHasher):
    """MD5 that takes as long as a real hash and counts every password it checks, so a
    race has time to happen and the test can see how many guesses were really checked."""

    algorithm = "slow_counting_md5"
    checked = 0
    lock = threading.Lock()

    def verify(self, password: str, encoded: str) -> bool:
        with SlowCountingHasher.lock:
            SlowCountingHasher.checked += 1
        time.sleep(0.05)
        return super().verify(password, encoded)


HASHERS = ["tests.login_races.SlowCountingHasher"]


def at_once(calls: list[Callable[[], str]]) -> list[str]:
    """Run the calls in N threads released together; each thread has its own connection."""
    from django.db import connections
    from django.utils import translation

    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(call: Callable[[], str]) -> None:
        translation.activate("en")
        try:
            barrier.wait()
            outcome = call()
        except Exception as exc:  # reported, so the test shows it
            outcome = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def login_call(employee_no: str, password: str, address: str) -> Callable[[], str]:
    def call() -> str:
        from django.test import RequestFactory

        from gongkai.accounts.services import LoginRefused, login_attempt

        request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=address)
        try:
            login_attempt(request=request, employee_no=employee_no, password=password)
        except LoginRefused as refused:
            if refused.busy_until is not None:
                return "busy"
            return "locked" if refused.locked_until is not None else "wrong"
        return "in"

    return call


def reset_counts() -> None:
    from gongkai.core import limits

    limits.store().clear()
    SlowCountingHasher.checked = 0


def scenario_accounts(tag: str) -> dict[str, Any]:
    """16 guesses at one account, one of them right; 16 wrong guesses at an account and at
    an unknown number; 16 wrong guesses at 16 accounts from one address."""
    from gongkai.accounts.models import User
    from gongkai.audit.models import AuditEvent

    victim = User.objects.create_user(f"{tag}victim", RIGHT, name="被猜的人")
    for i in range(N):
        User.objects.create_user(f"{tag}spray{i:02d}", RIGHT, name=f"职工{i}")
    locks = AuditEvent.objects.filter(action="accounts.locked")
    result: dict[str, Any] = {}

    reset_counts()
    guesses = [
        login_call(victim.employee_no, f"wrong-{i}", f"198.51.100.{i}") for i in range(N - 1)
    ]
    guesses.insert(N // 2, login_call(victim.employee_no, RIGHT, "198.51.100.99"))
    outcomes = at_once(guesses)
    result["one_right"] = {
        "outcomes": dict(Counter(outcomes)),
        "checked": SlowCountingHasher.checked,
    }

    User.objects.filter(pk=victim.pk).update(
        failed_logins=0, failed_login_at=None, locked_until=None
    )
    events = locks.count()
    reset_counts()
    outcomes = at_once(
        [login_call(victim.employee_no, f"no-{i}", f"198.51.100.{i}") for i in range(N)]
    )
    victim.refresh_from_db()
    result["known_all_wrong"] = {
        "outcomes": dict(Counter(outcomes)),
        "checked": SlowCountingHasher.checked,
        "failed_logins": victim.failed_logins,
        "paused": victim.locked_until is not None,
        "lock_events": locks.count() - events,
    }

    reset_counts()
    outcomes = at_once([login_call(f"{tag}ghost", f"no-{i}", f"198.51.100.{i}") for i in range(N)])
    result["unknown_all_wrong"] = {"outcomes": dict(Counter(outcomes))}

    reset_counts()
    outcomes = at_once(
        [login_call(f"{tag}spray{i:02d}", "Spring-2026!", "203.0.113.5") for i in range(N)]
    )
    result["one_client_many_accounts"] = {
        "outcomes": dict(Counter(outcomes)),
        "checked": SlowCountingHasher.checked,
    }
    return result


def scenario_reporting() -> dict[str, Any]:
    """16 reports at once from one address (the page's steps around filing, which takes a
    while); 16 wrong receipt codes at once through the receipt page."""
    from django.test import Client

    from gongkai.reporting import services

    result: dict[str, Any] = {}
    lock = threading.Lock()

    def post(path: str, data: dict[str, str]) -> Callable[[], str]:
        return lambda: str(Client(REMOTE_ADDR="192.0.2.44").post(path, data).status_code)

    reset_counts()
    sent = Counter[str]()

    def submission() -> str:
        """What the report page does around the (slow) filing of a report."""
        from django.test import RequestFactory

        from gongkai.reporting import throttle

        request = RequestFactory().post("/report/", REMOTE_ADDR="192.0.2.44")
        try:
            if throttle.exhausted(throttle.SUBMIT, request):
                return "429"
            time.sleep(0.05)  # the report is being filed
            with lock:
                sent["reports"] += 1
            throttle.spend(throttle.SUBMIT, request)
            return "200"
        finally:
            throttle.settle(request)

    outcomes = at_once([submission for _ in range(N)])
    result["submit"] = {"outcomes": dict(Counter(outcomes)), "reports": sent["reports"]}

    reset_counts()
    looked_up = Counter[str]()
    real_find = services.report_find

    def counting_find(*, code: str) -> Any:
        with lock:
            looked_up["codes"] += 1
        time.sleep(0.05)
        return real_find(code=code)

    import gongkai.reporting.views as views

    views.report_find = counting_find  # type: ignore[assignment]
    try:
        codes = [f"AAAA-BBBB-CCCC-DDDD-{i:04d}" for i in range(N)]
        outcomes = at_once([post("/report/receipt/", {"code": c}) for c in codes])
    finally:
        views.report_find = real_find  # type: ignore[assignment]
    result["receipt"] = {"outcomes": dict(Counter(outcomes)), "checked": looked_up["codes"]}
    return result


def run_all(limits_url: str, tag: str) -> dict[str, Any]:
    """Every scenario with the limits in ``limits_url``, the slow hasher and limits of 5."""
    from django.test import override_settings

    with override_settings(
        LIMITS_URL=limits_url,
        PASSWORD_HASHERS=HASHERS,
        LOGIN_FAILURE_LIMIT=LIMIT,
        LOGIN_CLIENT_FAILURE_LIMIT=LIMIT,
        REPORTING_SUBMIT_PER_CLIENT=LIMIT,
        REPORTING_RECEIPT_FAILURES_PER_CLIENT=LIMIT,
    ):
        try:
            return {"accounts": scenario_accounts(tag), "reporting": scenario_reporting()}
        finally:
            reset_counts()


def main(urls: list[str]) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    assert connection.vendor == "sqlite" and not connection.is_in_memory_db()
    call_command("migrate", verbosity=0, interactive=False)
    connections.close_all()
    results = {}
    for i, url in enumerate(urls):
        results[url] = run_all(url, tag=f"r{i}")
    print(json.dumps(results))


if __name__ == "__main__":
    # Through the module's importable name: the hasher settings name that module's class.
    from tests.login_races import main as run_in_child

    run_in_child(json.loads(sys.argv[1]))
