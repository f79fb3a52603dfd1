"""A file published with a revision is part of the published record (its name and the SHA-256
of its bytes are in the ledger): the database refuses to change or delete its row. Files of a
draft (``published_in`` empty) stay removable. See gongkai.core.immutable."""

from django.db import migrations

from gongkai.core.immutable import refuse_changes

TABLE = "disclosure_attachment"
TRIGGER = "disclosure_attachment_published"
MESSAGE = "files of a published revision are never changed"
PUBLISHED = "OLD.published_in_id IS NOT NULL"


class Migration(migrations.Migration):
    dependencies = [("disclosure", "0007_refuse_delete_and_truncate")]
    operations = [refuse_changes(table=TABLE, trigger=TRIGGER, message=MESSAGE, when=PUBLISHED)]
