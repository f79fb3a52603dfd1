"""Published rankings are refused DELETE (SQLite too) and TRUNCATE (PostgreSQL) as well as
UPDATE; assessment schemes, which the model never lets change either (a new scheme is added),
get the same triggers. Only the test suite's flush may empty them (gongkai.core.immutable)."""

from django.db import migrations

from gongkai.core.immutable import FIRST_FORM, refuse_changes

RANKING_TABLE = "assessment_ranking"
RANKING_TRIGGER = "assessment_ranking_immutable"
RANKING_MESSAGE = "a published ranking is never changed"
SCHEME_TABLE = "assessment_scheme"
SCHEME_TRIGGER = "assessment_scheme_immutable"
SCHEME_MESSAGE = "assessment schemes are never changed; add a new one"


class Migration(migrations.Migration):
    dependencies = [("assessment", "0002_ranking_immutable_trigger")]
    operations = [
        refuse_changes(
            table=RANKING_TABLE,
            trigger=RANKING_TRIGGER,
            message=RANKING_MESSAGE,
            replaces=FIRST_FORM,
        ),
        refuse_changes(table=SCHEME_TABLE, trigger=SCHEME_TRIGGER, message=SCHEME_MESSAGE),
    ]
