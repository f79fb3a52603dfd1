"""Notification moves to the notify app (issue 12: core imports no other package). The table
stays where it is; only Django's idea of which app owns it changes (notify 0001 takes it)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("core", "0002_add_working_day_calendar")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Notification")],
            database_operations=[],
        )
    ]
