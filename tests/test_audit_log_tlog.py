"""The audit log is tamper-evident (gongkai.audit.transparency and .verification): every
event becomes a leaf of the ``audit`` log, exactly once, however late its transaction
commits; a signed checkpoint covers the leaves; an event deleted or altered behind the
application's back is named with its id, as is one that never reached the log; and a leaf
says nothing about anyone."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import translation

from gongkai.audit import tasks, transparency
from gongkai.audit.models import AuditEvent, AuditLeaf
from gongkai.audit.services import build_event, record_event
from gongkai.audit.verification import AuditProblemKind, verify_audit_log
from gongkai.core.immutable import triggers_suspended
from gongkai.core.models import LogCheckpoint
from gongkai.core.tlog import notes, store
from gongkai.core.tlog.merkle import Tile
from tests.conftest import Org

pytestmark = pytest.mark.django_db

LOG = transparency.LOG
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

postgresql_only = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="PostgreSQL only (real concurrent transactions)",
)


def event(action: str = "test.changed", **fields) -> AuditEvent:
    return record_event(actor=None, action=action, **fields)


def event_with_id(pk: int, action: str = "test.late") -> AuditEvent:
    """An event inserted with a chosen id: one that committed late with an id handed out
    before others that were already sequenced."""
    late = build_event(actor=None, action=action)
    late.pk = pk
    late.save(force_insert=True)
    return late


def leaves() -> list[dict]:
    return [json.loads(data) for data in store.entries(LOG, 0, store.head(LOG).size)]


def leaf_events() -> list[int]:
    return [leaf["event"] for leaf in leaves()]


def all_ids() -> list[int]:
    return list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True))


def kinds(problems) -> list[tuple[str, int | None]]:
    return [(problem.kind, problem.event) for problem in problems]


def as_superuser(table: str, sql: str, params: list) -> None:
    """Change rows as a database superuser could: the table's triggers off."""
    with triggers_suspended(connection, table), connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- Sequencing ----------------------------------------------------------------------------


def test_events_become_leaves_in_id_order_each_with_the_hash_of_its_fields(org: Org):
    event(target=org.boiler, before={"名称": "甲"}, after={"名称": "乙", "n": 1.5})
    record_event(actor=org["union"], action="test.other", target=org["employee"])
    head = transparency.sequence()
    ids = all_ids()
    assert head.size == len(ids) == AuditLeaf.objects.count()
    assert leaf_events() == ids
    stored = AuditEvent.objects.get(pk=ids[-2])
    content = {
        "id": stored.pk,
        "at": stored.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": None,
        "actor_label": "system",
        "action": "test.changed",
        "target_type": "org.orgunit",
        "target_id": str(org.boiler.pk),
        "target_label": str(org.boiler),
        "scope_path": org.boiler.path,
        "before": {"名称": "甲"},
        "after": {"名称": "乙", "n": 1.5},
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert leaves()[-2] == {
        "format": "gongkai-audit-leaf/v1",
        "event": stored.pk,
        "hash": hashlib.sha256(canonical.encode()).hexdigest(),
    }
    records = dict(AuditLeaf.objects.values_list("index", "event_id"))
    assert records == dict(enumerate(ids))
    transparency.checkpoint()
    assert verify_audit_log() == []


def test_sequencing_again_adds_nothing(org: Org):
    first = transparency.sequence()
    assert transparency.sequence() == first
    assert transparency.sequence(everything=True) == first
    event()
    assert transparency.sequence().size == first.size + 1
    assert transparency.sequence().size == first.size + 1
    assert len(leaf_events()) == len(set(leaf_events())) == len(all_ids())


def test_an_event_that_commits_late_with_a_lower_id_is_sequenced_exactly_once(db):
    first = event()
    last = event_with_id(first.pk + 1000)
    transparency.sequence()
    assert leaf_events() == [first.pk, last.pk]
    late = event_with_id(first.pk + 500)  # handed out before, committed after
    transparency.sequence()
    transparency.sequence()
    assert leaf_events() == [first.pk, last.pk, late.pk]
    transparency.checkpoint()
    assert verify_audit_log() == []


def test_events_already_sequenced_are_skipped_chunk_by_chunk(db, monkeypatch):
    monkeypatch.setattr(transparency, "SCAN", 2)  # ids looked at per query
    first = [event().pk for _n in range(3)]
    far = [event_with_id(first[0] + 100 + n).pk for n in range(3)]
    transparency.sequence(batch_size=2)
    late = [event_with_id(first[0] + 50).pk, event_with_id(first[0] + 150).pk]
    transparency.sequence(batch_size=2)
    assert leaf_events() == first + far + late


def test_many_events_in_one_transaction_become_leaves_batch_by_batch(db):
    """As a roster import writes them: bulk-created, more than a tile and a batch."""
    with transaction.atomic():
        AuditEvent.objects.bulk_create(
            [build_event(actor=None, action="org.employee_created") for _n in range(600)]
        )
    head = transparency.sequence(batch_size=256)
    assert head.size == 600
    assert leaf_events() == all_ids()
    transparency.checkpoint()
    assert verify_audit_log(batch_size=100) == []
    assert verify_audit_log() == []


def test_an_event_below_the_settled_floor_waits_for_the_daily_sweep(db):
    """The minute's scan starts above the event of the newest leaf sequenced a day ago; an
    event from a transaction open longer than that is taken in by the daily run over the
    whole table, and named by verification until then."""
    with time_machine.travel(T0, tick=False):
        first = event()
        second = event_with_id(first.pk + 10_000)  # above whatever ids earlier tests used
        transparency.checkpoint()
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        assert transparency.settled_floor() == second.pk
        straggler = event_with_id(first.pk + 1)
    with time_machine.travel(T0 + timedelta(days=2, hours=2), tick=False):
        transparency.sequence()
        assert leaf_events() == [first.pk, second.pk]
        problems = verify_audit_log()
        assert kinds(problems) == [(AuditProblemKind.NOT_IN_LOG, straggler.pk)]
        tasks.checkpoint(everything=True)
        assert leaf_events() == [first.pk, second.pk, straggler.pk]
        assert verify_audit_log() == []


def test_leaves_say_nothing_personal(org: Org):
    record_event(
        actor=org["union"],
        action="org.employee_created",
        target=org["employee"],
        after={"name": "张三丰", "employee_no": "E00417"},
        target_label="张三丰（E00417）",
    )
    transparency.sequence()
    data = store.entry(LOG, store.head(LOG).size - 1)
    assert set(json.loads(data)) == {"format", "event", "hash"}
    text = data.decode()
    for personal in ("张三丰", "E00417", str(org["union"]), "union", org.boiler_team.path):
        assert personal not in text


def test_audit_leaf_records_are_append_only_in_the_database(db):
    event()
    transparency.sequence()
    pk = AuditLeaf.objects.get().pk
    for sql in (
        "UPDATE audit_auditleaf SET event_id = 0 WHERE id = %s",
        "DELETE FROM audit_auditleaf WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [pk])
    assert AuditLeaf.objects.filter(pk=pk).exists()


# --- Checkpoints -------------------------------------------------------------------------------


def test_the_checkpoint_is_signed_for_the_audit_origin_and_verifies(org: Org):
    cp = transparency.checkpoint()
    assert transparency.latest() == cp
    assert transparency.checkpoint() == cp  # nothing new: the same checkpoint
    verifier = notes.parse_verifier(settings.LEDGER_VERIFIER_KEY_FOR_TESTS)
    opened = notes.open_checkpoint(cp.note, verifier).checkpoint
    assert opened.origin == f"{settings.LEDGER_ORIGIN}/audit" == transparency.origin()
    assert opened.size == len(all_ids())
    assert opened.root == store.tree_root(LOG, opened.size) == store.head(LOG).root
    event()
    assert transparency.checkpoint().size == opened.size + 1
    assert verify_audit_log() == []


def test_the_minute_task_sequences_without_a_signing_key_and_logs_the_error(
    db, settings, tmp_path, caplog
):
    settings.LEDGER_SIGNING_KEY = ""
    settings.LEDGER_SIGNING_KEY_FILE = tmp_path / "no-such.key"
    event()
    with caplog.at_level(logging.ERROR, logger="gongkai.audit.tasks"):
        tasks.audit_checkpoint_every_minute.call_local()
    assert "no ledger signing key" in caplog.text
    assert store.head(LOG).size == 1
    assert not LogCheckpoint.objects.filter(log_id=LOG).exists()


def test_a_checkpoint_not_signed_by_a_published_key_is_named(db):
    event()
    transparency.checkpoint()
    event()
    transparency.sequence()
    head = store.head(LOG)
    other, _vkey = notes.generate_signer(settings.LEDGER_ORIGIN)
    text = notes.format_checkpoint(transparency.origin(), head.size, head.root)
    forged = notes.sign(text, [notes.parse_signer(other)]).decode()
    LogCheckpoint.objects.create(log_id=LOG, size=head.size, root=head.root, note=forged)
    with translation.override("en"):
        assert [str(p) for p in verify_audit_log()] == [
            "the audit log's checkpoint of size 2 is not signed by a published key"
        ]


def test_a_log_with_leaves_and_no_checkpoint_is_named(db):
    event()
    transparency.sequence()
    assert kinds(verify_audit_log()) == [(AuditProblemKind.CHECKPOINT, None)]


# --- Tampering -----------------------------------------------------------------------------


def test_an_altered_event_is_named_with_its_id(org: Org):
    target = event(target=org.boiler, after={"金额": "1,200.00"})
    transparency.checkpoint()
    as_superuser(
        "audit_auditevent",
        "UPDATE audit_auditevent SET after = %s WHERE id = %s",
        ['{"金额": "12,000.00"}', target.pk],
    )
    problems = verify_audit_log()
    assert kinds(problems) == [(AuditProblemKind.EVENT_ALTERED, target.pk)]
    leaf = all_ids().index(target.pk)
    assert problems[0].leaf == leaf
    with translation.override("en"):
        assert str(problems[0]).startswith(f"audit event #{target.pk} altered:")
        assert f"leaf {leaf} recorded" in str(problems[0])


def test_a_changed_time_or_actor_label_is_named_too(org: Org):
    target = record_event(actor=org["union"], action="test.changed", target=org.boiler)
    transparency.checkpoint()
    as_superuser(
        "audit_auditevent",
        "UPDATE audit_auditevent SET actor_label = %s WHERE id = %s",
        ["someone else", target.pk],
    )
    assert kinds(verify_audit_log()) == [(AuditProblemKind.EVENT_ALTERED, target.pk)]


def test_a_deleted_event_is_named_with_its_id_and_leaf(org: Org):
    target = event(target=org.boiler)
    transparency.checkpoint()
    leaf = all_ids().index(target.pk)
    as_superuser("audit_auditevent", "DELETE FROM audit_auditevent WHERE id = %s", [target.pk])
    problems = verify_audit_log()
    assert kinds(problems) == [(AuditProblemKind.EVENT_DELETED, target.pk)]
    assert problems[0].leaf == leaf
    with translation.override("en"):
        assert str(problems[0]) == (
            f"audit event #{target.pk} (leaf {leaf}) is no longer in the database"
        )


def test_an_event_older_than_an_hour_that_is_not_in_the_log_is_named(db):
    with time_machine.travel(T0, tick=False):
        transparency.checkpoint()
        missing = event()
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        assert verify_audit_log() == []  # the sequencer has an hour
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        problems = verify_audit_log()
        assert kinds(problems) == [(AuditProblemKind.NOT_IN_LOG, missing.pk)]
        with translation.override("en"):
            assert str(problems[0]).startswith(f"audit event #{missing.pk} of 2026-03-02")
            assert str(problems[0]).endswith("is not in the audit log")
        transparency.checkpoint()
        assert verify_audit_log() == []


def test_a_leaf_that_is_not_the_hash_in_its_tile_is_named(db):
    for _n in range(3):
        event()
    transparency.checkpoint()
    forged = b"\x00" * 32
    as_superuser(
        "core_logtile",
        'UPDATE core_logtile SET data = %s WHERE log_id = %s AND level = 0 AND "index" = 0',
        [forged + store.tile_bytes(LOG, Tile(0, 0, 3), 3)[32:], LOG],
    )
    problems = verify_audit_log()
    assert (AuditProblemKind.TREE, None) in kinds(problems)
    assert [p.leaf for p in problems if p.leaf is not None] == [0]
    with translation.override("en"):
        messages = [str(p) for p in problems]
    assert "leaf 0 of the audit log is not the hash stored in its tile" in messages
    assert "the root read from the audit log's tiles is not the root of its leaves" in messages


def test_a_sequencing_record_deleted_is_named_and_not_mistaken_for_a_missing_event(db):
    with time_machine.travel(T0, tick=False):
        target = event()
        transparency.checkpoint()
    as_superuser("audit_auditleaf", "DELETE FROM audit_auditleaf WHERE event_id = %s", [target.pk])
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        problems = verify_audit_log()
    assert kinds(problems) == [(AuditProblemKind.LEAF, target.pk)]


# --- Concurrent transactions (PostgreSQL) -------------------------------------------------------


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_transaction_that_commits_after_a_later_event_was_sequenced_is_still_sequenced():
    inserted, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    held: list[int] = []

    def long_transaction() -> None:
        try:
            with transaction.atomic():
                held.append(event("test.slow").pk)
                inserted.set()
                assert release.wait(timeout=30)
        except BaseException as exc:
            errors.append(exc)
            inserted.set()
        finally:
            connection.close()

    worker = threading.Thread(target=long_transaction)
    worker.start()
    assert inserted.wait(timeout=30)
    quick = event("test.quick")
    assert quick.pk > held[0]
    transparency.sequence()
    assert leaf_events() == [quick.pk]
    release.set()
    worker.join(timeout=30)
    assert not errors, errors
    transparency.sequence()
    transparency.sequence()
    assert leaf_events() == [quick.pk, held[0]]
    transparency.checkpoint()
    assert verify_audit_log() == []


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_simultaneous_sequencers_append_each_event_once():
    AuditEvent.objects.bulk_create([build_event(actor=None, action="test.n") for _n in range(50)])
    threads_n = 4
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            transparency.sequence(batch_size=7)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert leaf_events() == all_ids()
    assert AuditLeaf.objects.count() == 50


def runs_at(task, moment: str) -> bool:
    """Whether Huey's scheduler, checking at ``moment``, enqueues the periodic ``task``."""
    naive = datetime.fromisoformat(moment).astimezone(UTC).replace(tzinfo=None)
    return bool(task.task_class().validate_datetime(naive))


def test_the_audit_log_is_checkpointed_every_minute_and_swept_daily_at_a_quiet_hour():
    for moment in ("2026-12-02 09:03 +0800", "2026-12-02 23:59:30 +0800"):
        assert runs_at(tasks.audit_checkpoint_every_minute, moment)
    assert runs_at(tasks.audit_sequence_everything_daily, "2026-12-03 02:40 +0800")
    assert not runs_at(tasks.audit_sequence_everything_daily, "2026-12-03 14:40 +0800")
    assert not runs_at(tasks.audit_sequence_everything_daily, "2026-12-03 02:41 +0800")


def test_the_daily_task_takes_in_every_event_and_signs(db):
    event()
    tasks.audit_sequence_everything_daily.call_local()
    assert store.head(LOG).size == 1
    assert transparency.latest().size == 1
