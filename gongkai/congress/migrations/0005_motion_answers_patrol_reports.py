"""Motion answers kept as a history (the lead unit's and the assisting units'), patrol
reports sent to the visited units' boards, and the per-event catalog entry they are
published under (职工代表巡视报告: the company's half-yearly "patrols" entry is not published
by departments)."""

import datetime

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

PATROL_REPORT = ("patrol-report", "职工代表巡视报告")


def backfill_answers(apps, schema_editor):
    """Each motion answered before this migration keeps its (latest) answer as a row."""
    Motion = apps.get_model("congress", "Motion")
    MotionAnswer = apps.get_model("congress", "MotionAnswer")
    rows = [
        MotionAnswer(
            motion_id=m.pk,
            unit_id=m.lead_unit_id,
            role="lead",
            round=2 if m.sent_back_at and m.answered_at and m.answered_at > m.sent_back_at else 1,
            measures=m.answer_measures,
            result=m.answer_result,
            answered_by_id=m.answered_by_id,
            answered_at=m.answered_at,
        )
        for m in Motion.objects.filter(answered_at__isnull=False, lead_unit__isnull=False)
    ]
    MotionAnswer.objects.bulk_create(rows, batch_size=500)


def add_patrol_entry(apps, schema_editor):
    """A per-event entry of the democratic-management category for companies, departments
    and teams (per-event entries create no compliance obligation). Left alone if present."""
    Category = apps.get_model("disclosure", "Category")
    CatalogEntry = apps.get_model("disclosure", "CatalogEntry")
    CatalogRule = apps.get_model("disclosure", "CatalogRule")
    category = Category.objects.filter(code="democratic").first()
    if category is None:
        category = Category.objects.create(code="democratic", name="民主管理", order=8)
    code, name = PATROL_REPORT
    entry, created = CatalogEntry.objects.get_or_create(
        code=code, defaults={"name": name, "category": category, "order": 7}
    )
    if created:
        CatalogRule.objects.create(
            entry=entry,
            effective_from=datetime.date(2020, 1, 1),
            unit_kinds=["company", "department", "team"],
            frequency="per_event",
            deadline_days=10,
            default_scope="internal",
            requires_procedure=True,
            requires_result=True,
            reason="",
        )


class Migration(migrations.Migration):
    dependencies = [
        ("congress", "0004_leave_of_absence"),
        ("disclosure", "0008_published_attachments_frozen"),
        ("org", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="MotionAnswer",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "role",
                    models.CharField(
                        choices=[("lead", "Lead unit"), ("assisting", "Assisting unit")],
                        max_length=20,
                        verbose_name="as",
                    ),
                ),
                ("round", models.PositiveSmallIntegerField(default=1, verbose_name="round")),
                ("measures", models.TextField(verbose_name="measures taken")),
                ("result", models.TextField(blank=True, verbose_name="result")),
                ("answered_at", models.DateTimeField(verbose_name="answered at")),
                (
                    "answered_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="answered by",
                    ),
                ),
                (
                    "motion",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="answers",
                        to="congress.motion",
                        verbose_name="motion",
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
            ],
            options={
                "verbose_name": "motion answer",
                "verbose_name_plural": "motion answers",
                "ordering": ["answered_at", "id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("role__in", ["lead", "assisting"])),
                        name="congress_motion_answer_role",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="PatrolReport",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("sent_at", models.DateTimeField(verbose_name="sent at")),
                (
                    "disclosure",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="disclosure.disclosure",
                        verbose_name="disclosure",
                    ),
                ),
                (
                    "patrol",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reports",
                        to="congress.patrol",
                        verbose_name="patrol",
                    ),
                ),
                (
                    "sent_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="sent by",
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
            ],
            options={
                "verbose_name": "patrol report",
                "verbose_name_plural": "patrol reports",
                "ordering": ["patrol", "unit__path"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("patrol", "unit"), name="congress_patrol_report_once"
                    )
                ],
            },
        ),
        migrations.RunPython(backfill_answers, migrations.RunPython.noop),
        migrations.RunPython(add_patrol_entry, migrations.RunPython.noop),
    ]
