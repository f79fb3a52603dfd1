"""Published revisions are refused DELETE (SQLite too) and TRUNCATE (PostgreSQL) as well as
UPDATE; catalog rules, which the model never lets change (a new rule is added, so earlier
periods keep the rule they were due under), get the same triggers. Only the test suite's
flush may empty them (see gongkai.core.immutable)."""

from django.db import migrations

from gongkai.core.immutable import FIRST_FORM, refuse_changes

REVISION_TABLE = "disclosure_revision"
REVISION_TRIGGER = "disclosure_revision_immutable"
REVISION_MESSAGE = "published revisions are never changed"
RULE_TABLE = "disclosure_catalogrule"
RULE_TRIGGER = "disclosure_catalogrule_immutable"
RULE_MESSAGE = "catalog rules are never changed; add a new one"


class Migration(migrations.Migration):
    dependencies = [("disclosure", "0006_compliance_covering_index")]
    operations = [
        refuse_changes(
            table=REVISION_TABLE,
            trigger=REVISION_TRIGGER,
            message=REVISION_MESSAGE,
            replaces=FIRST_FORM,
        ),
        refuse_changes(table=RULE_TABLE, trigger=RULE_TRIGGER, message=RULE_MESSAGE),
    ]
