"""The database itself refuses to change an audit event (see gongkai.core.immutable)."""

from django.db import migrations

from gongkai.core.immutable import refuse_changes


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [
        refuse_changes(
            table="audit_auditevent",
            trigger="audit_event_append_only",
            message="audit events are append-only",
        )
    ]
