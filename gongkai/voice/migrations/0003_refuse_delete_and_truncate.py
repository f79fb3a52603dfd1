"""Suggestion handling steps are refused DELETE (SQLite too) and TRUNCATE (PostgreSQL) as well
as UPDATE; only the test suite's flush may empty the table (see gongkai.core.immutable)."""

from django.db import migrations

from gongkai.core.immutable import FIRST_FORM, refuse_changes

TABLE = "voice_suggestionstep"
TRIGGER = "voice_suggestionstep_immutable"
MESSAGE = "suggestion handling steps are never changed"


class Migration(migrations.Migration):
    dependencies = [("voice", "0002_step_append_only_trigger")]
    operations = [
        refuse_changes(table=TABLE, trigger=TRIGGER, message=MESSAGE, replaces=FIRST_FORM)
    ]
