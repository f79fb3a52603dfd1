"""The approval timeline is append-only: the database refuses to change or delete a step
(see gongkai.core.immutable). Who approved at which level stays as it was recorded."""

from django.db import migrations

from gongkai.core.immutable import refuse_changes

TABLE = "disclosure_disclosurestep"
TRIGGER = "disclosure_disclosurestep_immutable"
MESSAGE = "approval steps are never changed"


class Migration(migrations.Migration):
    dependencies = [("disclosure", "0009_approval_steps")]
    operations = [refuse_changes(table=TABLE, trigger=TRIGGER, message=MESSAGE)]
