"""Published revisions are never changed: the database refuses it (see
gongkai.core.immutable). The ledger detects what a superuser could still do by disabling it."""

from django.db import migrations

from gongkai.core.immutable import refuse_changes

TABLE = "disclosure_revision"
TRIGGER = "disclosure_revision_immutable"
MESSAGE = "published revisions are never changed"


class Migration(migrations.Migration):
    dependencies = [("disclosure", "0003_add_attachment_published_in")]
    operations = [refuse_changes(table=TABLE, trigger=TRIGGER, message=MESSAGE)]
