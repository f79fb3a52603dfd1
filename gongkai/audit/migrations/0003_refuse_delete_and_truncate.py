"""Audit events are refused DELETE (SQLite too) and TRUNCATE (PostgreSQL) as well as UPDATE;
only the test suite's flush may empty the table (see gongkai.core.immutable)."""

from django.db import migrations

from gongkai.core.immutable import FIRST_FORM, refuse_changes


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]
    operations = [
        refuse_changes(
            table="audit_auditevent",
            trigger="audit_event_append_only",
            message="audit events are append-only",
            replaces=FIRST_FORM,
        )
    ]
