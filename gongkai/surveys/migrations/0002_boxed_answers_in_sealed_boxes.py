# The survey ballot box holds sealed boxes (gongkai.core.ballotbox, as for secret ballots)
# instead of readable answers: a superuser can no longer link answers to the respondents'
# participation rows while the survey is open. Answers of surveys open during the upgrade are
# boxed here, and unboxed again on the way back.

import django.db.models.deletion
from django.db import migrations, models


def box_answers(apps, schema_editor):
    from gongkai.surveys.services import BOX, answer_box

    BoxedAnswer = apps.get_model("surveys", "BoxedAnswer")
    for answer in BoxedAnswer.objects.select_related("question").iterator():
        content, length = answer_box(answer.question, answer.unit_id, answer.rating, answer.text)
        answer.box = BOX.seal_box(answer.survey_id, content, length)
        answer.save(update_fields=["box"])


def unbox_answers(apps, schema_editor):
    from gongkai.surveys.services import opened_answer

    BoxedAnswer = apps.get_model("surveys", "BoxedAnswer")
    for answer in BoxedAnswer.objects.iterator():
        answer.question_id, answer.unit_id, answer.rating, answer.text = opened_answer(
            answer.survey_id, bytes(answer.box)
        )
        answer.save(update_fields=["question", "unit", "rating", "text"])


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0001_initial"),
        ("surveys", "0001_add_surveys"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="boxedanswer", name="boxedanswer_rating_valid"),
        migrations.AddField(
            model_name="boxedanswer", name="box", field=models.BinaryField(null=True)
        ),
        migrations.AlterField(
            model_name="boxedanswer",
            name="question",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="surveys.question",
            ),
        ),
        migrations.AlterField(
            model_name="boxedanswer",
            name="unit",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="org.orgunit",
            ),
        ),
        migrations.RunPython(box_answers, unbox_answers, elidable=False),
        migrations.RemoveField(model_name="boxedanswer", name="question"),
        migrations.RemoveField(model_name="boxedanswer", name="unit"),
        migrations.RemoveField(model_name="boxedanswer", name="rating"),
        migrations.RemoveField(model_name="boxedanswer", name="text"),
        migrations.AlterField(
            model_name="boxedanswer",
            name="box",
            field=models.BinaryField(default=b""),
            preserve_default=False,
        ),
    ]
