"""Append-only means append-only on both databases (gongkai.core.immutable): every table
whose model refuses save-over and delete is refused UPDATE and DELETE by the database itself
(TRUNCATE too on PostgreSQL), through raw SQL on a connection; only ``manage.py flush`` in the
test settings may empty them, and never change a row."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from gongkai.assessment.models import Ranking, Scheme
from gongkai.assessment.services import scheme_create
from gongkai.audit import transparency as audit_log
from gongkai.audit.models import AuditEvent, AuditLeaf
from gongkai.audit.services import record_event
from gongkai.core.immutable import maintenance
from gongkai.core.models import LogBundle, LogCosignature, LogTile
from gongkai.core.tlog import signing, store
from gongkai.disclosure.attachments import attachment_add, attachment_remove
from gongkai.disclosure.models import Attachment, CatalogRule, Revision
from gongkai.ledger.models import LedgerEntry
from gongkai.supervision.circulars import circular_draft, circular_issue
from gongkai.supervision.models import Circular
from gongkai.voice.models import SuggestionStep
from gongkai.voice.services import suggestion_submit
from tests.conftest import Org, ensure_catalog
from tests.factories import published_disclosure
from tests.test_attachments import PDF_BYTES, attachment_on, draft_on, upload
from tests.test_supervision import closed_round_with_findings

PG = "postgresql"
postgresql_only = pytest.mark.skipif(
    connection.vendor != PG, reason="PostgreSQL only (TRUNCATE, roles)"
)
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")


# --- One protected row of each append-only table -------------------------------------------


def audit_event(org: Org) -> int:
    return record_event(actor=org["union"], action="test.event", target=org.boiler).pk


def published_attachment(org: Org) -> int:
    return attachment_on(org.boiler_team).pk  # on a month the team has not disclosed yet


def revision(org: Org) -> int:
    published_attachment(org)
    return Revision.objects.latest("pk").pk


def ledger_entry(org: Org) -> int:
    published_attachment(org)
    return LedgerEntry.objects.latest("pk").pk


def catalog_rule(org: Org) -> int:
    return CatalogRule.objects.earliest("pk").pk


def suggestion_step(org: Org) -> int:
    suggestion_submit(
        actor=org["employee"], unit=org.boiler, category="other", title="建议", body="内容"
    )
    return SuggestionStep.objects.latest("pk").pk


def approval_step(org: Org) -> int:
    from gongkai.disclosure.models import DisclosureStep

    published_disclosure(unit=org.boiler)
    return DisclosureStep.objects.latest("pk").pk


def scheme(org: Org, on: date = date(2026, 1, 1)) -> int:
    weights = {
        "satisfaction_board": 30,
        "satisfaction_suggestions": 10,
        "satisfaction_survey": 10,
        "satisfaction_evaluation": 10,
        "disclosure_on_time": 20,
        "inspection": 10,
        "handling": 10,
    }
    return scheme_create(
        actor=org["supervisor"], company=org.company, weights=weights, effective_from=on
    ).pk


def ranking(org: Org) -> int:
    return Ranking.objects.create(
        company=org.company,
        period="2026-H1",
        scheme=Scheme.objects.get(pk=scheme(org, on=date(2025, 1, 1))),
        computed_on=date(2026, 7, 20),
        rows=[],
        published_by=org["supervisor"],
        published_at=timezone.now(),
    ).pk


def issued_circular(org: Org) -> int:
    draft = circular_draft(actor=org["supervisor"], round=closed_round_with_findings(org))
    return circular_issue(actor=org["supervisor"], circular=draft).pk


def full_log(org: Org) -> str:
    """A log of 256 entries: its first tile and bundle are full (only full ones are frozen)."""
    if not store.head("test").size:
        store.append("test", lambda size: [b"entry %d" % i for i in range(size, 256)])
    return "test"


def full_tile(org: Org) -> int:
    return LogTile.objects.get(log_id=full_log(org), level=0, index=0).pk


def full_bundle(org: Org) -> int:
    return LogBundle.objects.get(log_id=full_log(org), index=0).pk


def checkpoint(org: Org) -> int:
    return signing.sign_checkpoint(full_log(org), "example.com/test").pk


def cosignature(org: Org) -> int:
    return LogCosignature.objects.create(
        checkpoint_id=checkpoint(org), witness="example.com/witness", line="— a line"
    ).pk


def audit_leaf(org: Org) -> int:
    audit_event(org)
    audit_log.sequence()
    return AuditLeaf.objects.latest("index").pk


# table: (what its trigger says, a protected row of it)
APPEND_ONLY: dict[str, tuple[str, Callable[[Org], int]]] = {
    "audit_auditevent": ("audit events are append-only", audit_event),
    "ledger_ledgerentry": ("ledger entries are append-only", ledger_entry),
    "disclosure_revision": ("published revisions are never changed", revision),
    "disclosure_catalogrule": ("catalog rules are never changed", catalog_rule),
    "disclosure_attachment": (
        "files of a published revision are never changed",
        published_attachment,
    ),
    "voice_suggestionstep": ("suggestion handling steps are never changed", suggestion_step),
    "disclosure_disclosurestep": ("approval steps are never changed", approval_step),
    "assessment_scheme": ("assessment schemes are never changed", scheme),
    "assessment_ranking": ("a published ranking is never changed", ranking),
    "supervision_circular": ("issued circulars are never changed", issued_circular),
    "core_logtile": ("a full log tile never changes", full_tile),
    "core_logbundle": ("a full entry bundle never changes", full_bundle),
    "core_logcheckpoint": ("checkpoints are append-only", checkpoint),
    "core_logcosignature": ("cosignatures are append-only", cosignature),
    "audit_auditleaf": ("audit log leaves are append-only", audit_leaf),
}
TABLES = list(APPEND_ONLY)


def execute(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def exists(table: str, pk: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0] == 1


def count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
        return cursor.fetchone()[0]


# --- Refusals, table by table ------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_the_database_refuses_to_update_a_row(org: Org, table: str):
    message, build = APPEND_ONLY[table]
    pk = build(org)
    with pytest.raises(DatabaseError, match=message), transaction.atomic():
        execute(f"UPDATE {table} SET id = id WHERE id = %s", [pk])  # noqa: S608
    assert exists(table, pk)


@pytest.mark.parametrize("table", TABLES)
def test_the_database_refuses_to_delete_a_row(org: Org, table: str):
    message, build = APPEND_ONLY[table]
    pk = build(org)
    with pytest.raises(DatabaseError, match=message), transaction.atomic():
        execute(f"DELETE FROM {table} WHERE id = %s", [pk])  # noqa: S608
    with pytest.raises(DatabaseError, match=message), transaction.atomic():
        execute(f"DELETE FROM {table}")  # noqa: S608
    assert exists(table, pk)


@postgresql_only
@pytest.mark.parametrize("table", TABLES)
def test_postgresql_refuses_to_truncate_the_table(org: Org, table: str):
    message, build = APPEND_ONLY[table]
    pk = build(org)
    execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred foreign-key checks pending
    # CASCADE, so that no foreign key answers first: the named table's trigger fires first.
    with pytest.raises(DatabaseError, match=message), transaction.atomic():
        execute(f"TRUNCATE {table} CASCADE")
    assert exists(table, pk)


def test_every_append_only_table_carries_its_triggers(db):
    """A table rebuilt by a later migration (SQLite's ALTER TABLE) would lose its triggers;
    so would a table forgotten here."""
    with connection.cursor() as cursor:
        if connection.vendor == PG:
            cursor.execute(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE NOT t.tgisinternal AND t.tgname LIKE '%%truncate'"
            )
        else:
            cursor.execute(
                "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE '%\\_delete' ESCAPE '\\'"
            )
        guarded = {table for table, _name in cursor.fetchall()}
    assert guarded == set(TABLES)


# --- What stays possible ---------------------------------------------------------------------


def test_drafts_stay_changeable_and_removable(org: Org):
    draft = draft_on(org.boiler_team)
    attachment = attachment_add(actor=draft.author, disclosure=draft, upload=upload(PDF_BYTES))
    execute(
        "UPDATE disclosure_attachment SET original_name = %s WHERE id = %s",
        ["新.pdf", attachment.pk],
    )
    attachment_remove(actor=draft.author, attachment=Attachment.objects.get(pk=attachment.pk))
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    circular = circular_draft(actor=org["supervisor"], round=closed_round_with_findings(org))
    execute("UPDATE supervision_circular SET title = %s WHERE id = %s", ["草稿", circular.pk])
    execute("DELETE FROM supervision_circular WHERE id = %s", [circular.pk])
    assert not Circular.objects.filter(pk=circular.pk).exists()


def test_the_maintenance_marker_lets_its_connection_delete_but_never_update(org: Org):
    pk = audit_event(org)
    with maintenance(connection):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            execute("UPDATE audit_auditevent SET action = %s WHERE id = %s", ["forged", pk])
        execute("DELETE FROM audit_auditevent WHERE id = %s", [pk])
    assert not exists("audit_auditevent", pk)
    pk = audit_event(org)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        execute("DELETE FROM audit_auditevent WHERE id = %s", [pk])  # the marker is gone


@sqlite_only
def test_sqlite_a_main_table_named_like_the_marker_opens_nothing(org: Org):
    pk = audit_event(org)
    execute("CREATE TABLE main.gongkai_maintenance (since TEXT)")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        execute("DELETE FROM audit_auditevent WHERE id = %s", [pk])
    assert exists("audit_auditevent", pk)


@postgresql_only
def test_postgresql_a_role_that_does_not_own_the_table_cannot_use_the_marker(org: Org):
    """The setting is anyone's to set; it counts only for the table owner's role, which
    could drop the trigger anyway. A role merely granted DELETE gains nothing."""
    pk = audit_event(org)
    clerk = f"gk_clerk_{uuid.uuid4().hex[:12]}"
    execute(f"CREATE ROLE {clerk} NOLOGIN")  # rolled back with the test's transaction
    execute(f"GRANT SELECT, DELETE, TRUNCATE ON audit_auditevent TO {clerk}")
    execute("SET CONSTRAINTS ALL IMMEDIATE")
    execute(f"SET LOCAL ROLE {clerk}")
    try:
        execute("SELECT set_config('gongkai.maintenance', 'flush', true)")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            execute("DELETE FROM audit_auditevent WHERE id = %s", [pk])
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            execute("TRUNCATE audit_auditevent")
    finally:
        execute("RESET ROLE")
    assert exists("audit_auditevent", pk)


def test_flush_is_refused_where_the_settings_do_not_allow_it(org: Org, settings, english):
    settings.FLUSH_APPEND_ONLY_TABLES = False
    before = AuditEvent.objects.count()
    with pytest.raises(CommandError, match="append-only"):
        call_command("flush", interactive=False, verbosity=0, stdout=StringIO())
    assert AuditEvent.objects.count() == before > 0


@pytest.mark.django_db(transaction=True)
def test_the_test_flush_empties_every_append_only_table(org: Org):
    for _message, build in APPEND_ONLY.values():
        build(org)
    assert all(count(table) for table in TABLES)
    call_command("flush", interactive=False, verbosity=0)
    assert {table: count(table) for table in TABLES} == dict.fromkeys(TABLES, 0)
    with connection.cursor() as cursor:  # the marker did not outlive the flush
        if connection.vendor == PG:
            cursor.execute("SELECT current_setting('gongkai.maintenance', true)")
            assert cursor.fetchone()[0] in (None, "")
        else:
            cursor.execute("SELECT COUNT(*) FROM temp.sqlite_master")
            assert cursor.fetchone()[0] == 0
    ensure_catalog()
