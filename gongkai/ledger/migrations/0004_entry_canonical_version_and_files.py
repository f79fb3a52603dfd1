"""Each entry says which canonical form it was hashed with: 1 for those written so far (files
were not part of the record), 2 from now on (gongkai.ledger.canonical), and revision entries
keep the list of files they hashed. On SQLite adding a NOT NULL column rebuilds the table,
which drops its append-only trigger; 0005 creates the triggers again."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0003_record_earlier_publications'),
    ]

    operations = [
        migrations.AddField(
            model_name='ledgerentry',
            name='canonical_version',
            field=models.PositiveSmallIntegerField(default=1, verbose_name='canonical version'),
        ),
        migrations.AddField(
            model_name='ledgerentry',
            name='files',
            field=models.JSONField(blank=True, null=True, verbose_name='files'),
        ),
    ]
