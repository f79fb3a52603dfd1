import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("congress", "0003_relabel_fields"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="LeaveOfAbsence",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("reason", models.CharField(blank=True, max_length=200, verbose_name="reason")),
                ("recorded_at", models.DateTimeField(verbose_name="recorded at")),
                (
                    "recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recorded by",
                    ),
                ),
                (
                    "representative",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="leaves",
                        to="congress.representative",
                        verbose_name="representative",
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="leaves",
                        to="congress.session",
                        verbose_name="session",
                    ),
                ),
            ],
            options={
                "verbose_name": "leave of absence",
                "verbose_name_plural": "leaves of absence",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("session", "representative"), name="congress_leave_once"
                    )
                ],
            },
        ),
    ]
