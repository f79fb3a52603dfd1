"""A rectification comes from an inspection finding or from a patrol (exactly one source)."""

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
        migrations.AddField(
            model_name="rectification",
            name="opened_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="opened by",
            ),
        ),
        migrations.AddField(
            model_name="rectification",
            name="patrol",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="rectifications",
                to="congress.patrol",
                verbose_name="patrol",
            ),
        ),
        migrations.AddField(
            model_name="rectification",
            name="problem",
            field=models.TextField(blank=True, verbose_name="problem to rectify"),
        ),
        migrations.AddField(
            model_name="rectification",
            name="unit",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="org.orgunit",
                verbose_name="unit",
            ),
        ),
        migrations.AlterField(
            model_name="rectification",
            name="finding",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="rectification",
                to="supervision.finding",
                verbose_name="finding",
            ),
        ),
        migrations.AddConstraint(
            model_name="rectification",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("finding__isnull", False),
                        ("patrol__isnull", True),
                        ("problem", ""),
                        ("unit__isnull", True),
                    ),
                    models.Q(
                        ("finding__isnull", True),
                        ("opened_by__isnull", False),
                        ("patrol__isnull", False),
                        ("unit__isnull", False),
                        models.Q(("problem", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="rectification_one_source",
            ),
        ),
    ]
