"""The database refuses to change or delete a published ranking (see gongkai.core.immutable)."""

from django.db import migrations

from gongkai.core.immutable import refuse_changes

TABLE = "assessment_ranking"
TRIGGER = "assessment_ranking_immutable"
MESSAGE = "a published ranking is never changed"


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_schemes_and_rankings")]

    operations = [refuse_changes(table=TABLE, trigger=TRIGGER, message=MESSAGE)]
