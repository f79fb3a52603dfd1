"""The State Council's 2026 holiday arrangement (see gongkai/publicity/holidays.py)."""

from django.db import migrations

from gongkai.core.holidays import load_year


def load(apps, schema_editor):
    load_year(apps.get_model("publicity", "CalendarDay"), 2026)


def unload(apps, schema_editor):
    CalendarDay = apps.get_model("publicity", "CalendarDay")
    CalendarDay.objects.filter(day__year=2026, created_by__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("publicity", "0001_add_publicity_windows")]

    operations = [migrations.RunPython(load, unload)]
