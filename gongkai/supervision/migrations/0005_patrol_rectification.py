"""Rectification items opened from employee representatives' patrols."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("congress", "0005_motion_answers_patrol_reports"),
        ("org", "0001_initial"),
        ("supervision", "0004_round_close_reasons"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PatrolRectification",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                ("problem", models.TextField(verbose_name="problem to rectify")),
                ("due_on", models.DateField(verbose_name="due on")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("reported", "Reported"),
                            ("accepted", "Accepted"),
                            ("sent_back", "Sent back"),
                        ],
                        db_index=True,
                        default="pending",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("report", models.TextField(blank=True, verbose_name="what was done")),
                (
                    "reported_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="reported at"),
                ),
                (
                    "first_reported_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="first reported at"),
                ),
                (
                    "verified_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="verified at"),
                ),
                ("reasons", models.TextField(blank=True, verbose_name="reasons for sending back")),
                (
                    "times_sent_back",
                    models.PositiveSmallIntegerField(default=0, verbose_name="times sent back"),
                ),
                (
                    "opened_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="opened by",
                    ),
                ),
                (
                    "patrol",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="rectifications",
                        to="congress.patrol",
                        verbose_name="patrol",
                    ),
                ),
                (
                    "reported_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="reported by",
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="org.orgunit",
                        verbose_name="unit",
                    ),
                ),
                (
                    "verified_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="verified by",
                    ),
                ),
            ],
            options={
                "verbose_name": "rectification from a patrol",
                "verbose_name_plural": "rectifications from patrols",
                "ordering": ["due_on", "id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("status__in", ["pending", "reported", "accepted", "sent_back"])
                        ),
                        name="patrol_rectification_status_valid",
                    )
                ],
            },
        ),
    ]
