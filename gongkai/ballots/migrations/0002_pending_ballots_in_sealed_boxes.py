# Pending ballots hold a sealed box (gongkai.ballots.boxes) instead of a readable group and
# choices; the participation rows are no longer rewritten at close (their "sealed" flag goes).
# Ballots of votes open during the upgrade are boxed here, and unboxed again on the way back.

from django.db import migrations, models


def box_pending(apps, schema_editor):
    from gongkai.ballots import boxes

    PendingBallot = apps.get_model("ballots", "PendingBallot")
    for ballot in PendingBallot.objects.select_related("poll").iterator():
        ballot.box = boxes.seal(ballot.poll_id, ballot.poll.kind, ballot.group_id, ballot.choices)
        ballot.save(update_fields=["box"])


def unbox_pending(apps, schema_editor):
    from gongkai.ballots import boxes

    PendingBallot = apps.get_model("ballots", "PendingBallot")
    for ballot in PendingBallot.objects.iterator():
        ballot.group_id, ballot.choices = boxes.open_ballot(ballot.poll_id, bytes(ballot.box))
        ballot.save(update_fields=["group", "choices"])


class Migration(migrations.Migration):

    dependencies = [
        ("ballots", "0001_polls_and_ballots"),
    ]

    operations = [
        migrations.RemoveField(model_name="participation", name="sealed"),
        migrations.AddField(
            model_name="pendingballot", name="box", field=models.BinaryField(null=True)
        ),
        migrations.AlterField(
            model_name="pendingballot", name="choices", field=models.JSONField(null=True)
        ),
        migrations.RunPython(box_pending, unbox_pending, elidable=False),
        migrations.RemoveField(model_name="pendingballot", name="choices"),
        migrations.RemoveField(model_name="pendingballot", name="group"),
        migrations.AlterField(
            model_name="pendingballot", name="box", field=models.BinaryField(default=b""),
            preserve_default=False,
        ),
    ]
