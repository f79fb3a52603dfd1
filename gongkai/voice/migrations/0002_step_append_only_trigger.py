"""The handling timeline is append-only: the database refuses to change a step (see
gongkai.core.immutable). A second answer is a new step; the first stays public."""

from django.db import migrations

from gongkai.core.immutable import refuse_changes

TABLE = "voice_suggestionstep"
TRIGGER = "voice_suggestionstep_immutable"
MESSAGE = "suggestion handling steps are never changed"


class Migration(migrations.Migration):
    dependencies = [("voice", "0001_suggestions")]
    operations = [refuse_changes(table=TABLE, trigger=TRIGGER, message=MESSAGE)]
