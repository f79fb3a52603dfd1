"""Concurrent requests in real transactions (PostgreSQL; SQLite serialises writers): double
taps on check-in and second, concurrent registrations, competing committee steps."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from gongkai.congress import motions as m
from gongkai.congress import services
from gongkai.congress.models import Attendance, Motion, MotionSecond, MotionStatus
from gongkai.core.errors import ServiceError
from tests.conftest import Org
from tests.test_congress_support import build_congress, seconded_motion, submitted_motion

pytestmark = pytest.mark.django_db(transaction=True)


def race(calls: list[Callable[[], object]]) -> list[str]:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent transactions: PostgreSQL (SQLite serialises writers)")
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            call()
            outcomes.append("ok")
        except ServiceError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


def test_five_taps_on_check_in_record_one(org: Org):
    c = build_congress(org)
    outcomes = race([lambda: services.attendance_check_in(actor=org["rep"], session=c.session)] * 5)
    assert outcomes == ["ok"] + ["refused"] * 4
    assert Attendance.objects.count() == 1


def test_five_concurrent_seconds_by_one_rep_count_once(org: Org):
    c = build_congress(org)
    motion = m.motion_draft(
        actor=org["rep"], session=c.session, title="t", reasons="r", measures="x"
    )
    m.motion_seek_seconds(actor=org["rep"], motion=motion)
    outcomes = race([lambda: m.motion_second(actor=c.reps[1], motion=motion)] * 5)
    assert outcomes == ["ok"] + ["refused"] * 4
    assert MotionSecond.objects.count() == 1


def test_concurrent_registrations_get_distinct_numbers(org: Org):
    c = build_congress(org)
    motions = [submitted_motion(org, c, title=f"提案{i}") for i in range(4)]
    outcomes = race([lambda x=x: m.motion_register(actor=org["union"], motion=x) for x in motions])
    assert outcomes == ["ok"] * 4
    numbers = sorted(Motion.objects.values_list("number", flat=True))
    assert numbers == [1, 2, 3, 4]


def test_register_and_decline_at_once_one_wins(org: Org):
    c = build_congress(org)
    motion = submitted_motion(org, c)
    outcomes = race(
        [
            lambda: m.motion_register(actor=org["union"], motion=Motion.objects.get(pk=motion.pk)),
            lambda: m.motion_decline(
                actor=org["union"], motion=Motion.objects.get(pk=motion.pk), reasons="重复"
            ),
        ]
    )
    assert outcomes == ["ok", "refused"]
    motion.refresh_from_db()
    assert motion.status in (MotionStatus.REGISTERED, MotionStatus.DECLINED)
    from gongkai.voice.models import Suggestion

    # A lost decline leaves no orphan suggestion behind (its transaction rolled back).
    assert Suggestion.objects.count() == (1 if motion.status == MotionStatus.DECLINED else 0)


def test_seconds_race_against_submit(org: Org):
    c = build_congress(org)
    motion = seconded_motion(org, c)
    outcomes = race(
        [
            lambda: m.motion_submit(actor=org["rep"], motion=Motion.objects.get(pk=motion.pk)),
            lambda: m.motion_submit(actor=org["rep"], motion=Motion.objects.get(pk=motion.pk)),
        ]
    )
    assert outcomes == ["ok", "refused"]
