"""Append what was published before the ledger existed, in the order it happened, so that
verify_ledger finds every published record in the chain. Entries carry the time of this
migration: the ledger vouches for the content from now on, not for the past."""

from django.db import migrations
from django.utils import timezone


def record(apps, schema_editor):
    from gongkai.ledger import canonical

    Revision = apps.get_model("disclosure", "Revision")
    Disclosure = apps.get_model("disclosure", "Disclosure")
    LedgerEntry = apps.get_model("ledger", "LedgerEntry")
    LedgerHead = apps.get_model("ledger", "LedgerHead")
    if LedgerEntry.objects.exists():
        return
    timeline = []
    revisions = Revision.objects.select_related(
        "disclosure__unit", "disclosure__entry", "published_by"
    )
    for revision in revisions:
        event = "attest" if revision.disclosure.is_nil else "publish"
        content = canonical.revision_content(revision)
        timeline.append(
            (revision.published_at, 0, revision.pk, canonical.REVISION, event, revision.disclosure_id, content)
        )
    for disclosure in Disclosure.objects.filter(withdrawn_at__isnull=False):
        content = canonical.withdrawal_content(disclosure)
        timeline.append(
            (disclosure.withdrawn_at, 1, disclosure.pk, canonical.WITHDRAWAL, "withdraw", disclosure.pk, content)
        )
    if not timeline:
        return
    timeline.sort(key=lambda item: item[:3])
    now = timezone.now()
    previous = canonical.GENESIS_HASH
    entries = []
    for sequence, (_at, _order, record_id, record_type, event, disclosure_id, content) in enumerate(
        timeline, start=1
    ):
        content_hash = canonical.content_hash(content)
        entry_hash = canonical.entry_hash(
            sequence=sequence,
            record_type=record_type,
            record_id=record_id,
            event=event,
            content_hash=content_hash,
            prev_hash=previous,
            recorded_at=now,
        )
        entries.append(
            LedgerEntry(
                sequence=sequence,
                record_type=record_type,
                record_id=record_id,
                event=event,
                disclosure_id=disclosure_id,
                content_hash=content_hash,
                prev_hash=previous,
                entry_hash=entry_hash,
                recorded_at=now,
            )
        )
        previous = entry_hash
    LedgerEntry.objects.bulk_create(entries, batch_size=1000)
    LedgerHead.objects.update_or_create(
        pk=1, defaults={"sequence": len(entries), "entry_hash": previous, "updated_at": now}
    )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_append_only_trigger")]
    operations = [migrations.RunPython(record, migrations.RunPython.noop)]
