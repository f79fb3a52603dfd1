"""Issued circulars are refused DELETE on SQLite too, and the table TRUNCATE on PostgreSQL,
through the one mechanism of gongkai.core.immutable (which replaces the hand-written trigger
of 0002). Drafts stay editable and removable; only the test suite's flush empties the table."""

from django.db import migrations

from gongkai.core.immutable import FIRST_FORM, refuse_changes

TABLE = "supervision_circular"
TRIGGER = "supervision_circular_frozen"
MESSAGE = "issued circulars are never changed"
ISSUED = "OLD.status = 'issued'"


class Migration(migrations.Migration):
    dependencies = [("supervision", "0002_issued_circulars_frozen")]
    operations = [
        refuse_changes(
            table=TABLE, trigger=TRIGGER, message=MESSAGE, when=ISSUED, replaces=FIRST_FORM
        )
    ]
