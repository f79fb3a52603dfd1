"""The working-day calendar moves to gongkai.core (the disclosure deadlines need it too):
copy every day, including the union office's own entries, then drop the old table."""

from django.db import migrations


def copy(apps, schema_editor):
    Old = apps.get_model("publicity", "CalendarDay")
    New = apps.get_model("core", "CalendarDay")
    for row in Old.objects.all():
        New.objects.update_or_create(
            day=row.day,
            defaults={
                "kind": row.kind,
                "name": row.name,
                "created_by_id": row.created_by_id,
                "created_at": row.created_at,
            },
        )


def copy_back(apps, schema_editor):
    Old = apps.get_model("publicity", "CalendarDay")
    New = apps.get_model("core", "CalendarDay")
    Old.objects.bulk_create(
        Old(day=r.day, kind=r.kind, name=r.name, created_by_id=r.created_by_id)
        for r in New.objects.all()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("publicity", "0003_guard_objections_and_outcomes"),
        ("core", "0002_add_working_day_calendar"),
    ]

    operations = [
        migrations.RunPython(copy, copy_back),
        migrations.DeleteModel(name="CalendarDay"),
    ]
