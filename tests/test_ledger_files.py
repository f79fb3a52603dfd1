"""Published files are inside the record: the name and the SHA-256 of the bytes of each file
published with a revision are hashed into its ledger entry (canonical version 2), the
database refuses to change or delete their rows, and verify_ledger hashes every stored file
again and names each one changed, renamed, gone or added since."""

from __future__ import annotations

import hashlib
import importlib
from io import StringIO

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet
from django.test import Client
from django.urls import reverse
from django.utils import translation

from gongkai.core.immutable import triggers_suspended
from gongkai.disclosure.attachments import attachment_add
from gongkai.disclosure.models import Attachment, Disclosure, Revision
from gongkai.disclosure.services import Transition, disclosure_transition
from gongkai.ledger import canonical
from gongkai.ledger.models import LedgerEntry, ProblemKind
from gongkai.ledger.verification import ledger_verify
from tests.conftest import Org
from tests.test_attachments import PDF_BYTES, attachment_on, draft_on, publish, upload

FORGED = b"%PDF-1.7\n% a forged page\n%%EOF\n"


@pytest.fixture(autouse=True)
def english_commands():
    with translation.override("en"):
        yield


def verify_ledger() -> tuple[bool, list[str]]:
    """(intact, the lines printed) of ``manage.py verify_ledger``."""
    out = StringIO()
    try:
        call_command("verify_ledger", stdout=out)
    except CommandError:
        return False, out.getvalue().splitlines()
    return True, out.getvalue().splitlines()


def as_superuser(sql: str, params: list) -> None:
    """Change a published file's row as a database superuser could: triggers off."""
    with (
        triggers_suspended(connection, "disclosure_attachment"),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


def entry_of(attachment: Attachment) -> LedgerEntry:
    return LedgerEntry.objects.get(
        record_type="disclosure.revision", record_id=attachment.published_in_id
    )


@pytest.fixture
def published(org: Org) -> Attachment:
    """A PDF published with revision 1 of a team disclosure; the ledger is intact."""
    attachment = Attachment.objects.get(pk=attachment_on(org.boiler_team).pk)
    assert verify_ledger()[0]
    return attachment


# --- What the ledger vouches for -------------------------------------------------------------


def test_a_published_files_name_and_checksum_are_part_of_the_revisions_entry(
    published: Attachment,
):
    entry = entry_of(published)
    listed = {
        "id": published.pk,
        "name": "minutes.pdf",
        "type": "application/pdf",
        "sha256": hashlib.sha256(PDF_BYTES).hexdigest(),
    }
    assert entry.canonical_version == canonical.CURRENT_VERSION == 2
    assert entry.files == [listed]
    revision = Revision.objects.select_related(
        "disclosure__unit", "disclosure__entry", "published_by"
    ).get(pk=published.published_in_id)
    content = canonical.revision_content_v2(revision, [listed])
    assert content["files"] == [listed]
    assert entry.content_hash == canonical.content_hash(content)
    assert entry.content_hash != canonical.content_hash(canonical.revision_content(revision))
    assert entry.entry_hash == entry.computed_hash()


def test_a_file_added_to_a_correction_is_in_the_corrections_entry_only(published: Attachment):
    disclosure = Disclosure.objects.get(pk=published.disclosure_id)
    disclosure = disclosure_transition(
        actor=disclosure.author, disclosure=disclosure, transition=Transition.CORRECT, reason="补充"
    )
    added = attachment_add(
        actor=disclosure.author, disclosure=disclosure, upload=upload(FORGED, name="补充.pdf")
    )
    disclosure = publish(Disclosure.objects.get(pk=disclosure.pk))
    first, second = LedgerEntry.objects.filter(disclosure=disclosure).order_by("sequence")[:2]
    assert [f["id"] for f in first.files] == [published.pk]
    assert [(f["id"], f["name"]) for f in second.files] == [(added.pk, "补充.pdf")]
    assert verify_ledger()[0]


# --- Tampering, and what verify_ledger says ----------------------------------------------------


def test_bytes_replaced_on_storage_are_named(published: Attachment):
    name = published.file.name
    default_storage.delete(name)
    assert default_storage.save(name, ContentFile(FORGED)) == name
    intact, lines = verify_ledger()
    assert not intact
    [line] = [line for line in lines if "file changed" in line]
    assert "“minutes.pdf”" in line and f"file {published.pk}" in line
    assert hashlib.sha256(FORGED).hexdigest() in line
    assert hashlib.sha256(PDF_BYTES).hexdigest() in line
    assert f"#{entry_of(published).sequence}" in line


def test_bytes_and_their_recorded_checksum_replaced_together_are_named(published: Attachment):
    name = published.file.name
    default_storage.delete(name)
    default_storage.save(name, ContentFile(FORGED))
    as_superuser(
        "UPDATE disclosure_attachment SET sha256 = %s, size = %s WHERE id = %s",
        [hashlib.sha256(FORGED).hexdigest(), len(FORGED), published.pk],
    )
    problems = ledger_verify()
    assert [p.kind for p in problems] == [ProblemKind.FILE_CHANGED, ProblemKind.FILE_CHANGED]
    assert "recorded SHA-256 is now" in problems[0].detail
    assert "stored bytes now hash to" in problems[1].detail
    assert not verify_ledger()[0]


def test_a_stored_file_gone_from_storage_is_named(published: Attachment):
    default_storage.delete(published.file.name)
    intact, lines = verify_ledger()
    assert not intact
    [line] = [line for line in lines if "file missing" in line]
    assert "“minutes.pdf”" in line and published.file.name in line


def test_a_file_renamed_in_the_database_is_named(published: Attachment):
    as_superuser(
        "UPDATE disclosure_attachment SET original_name = %s WHERE id = %s",
        ["会议纪要(定稿).pdf", published.pk],
    )
    intact, lines = verify_ledger()
    assert not intact
    [line] = [line for line in lines if "file renamed" in line]
    assert "“minutes.pdf”" in line and "“会议纪要(定稿).pdf”" in line
    problems = ledger_verify()
    assert [p.kind for p in problems] == [ProblemKind.FILE_RENAMED]  # the text is intact


def test_a_published_files_row_deleted_is_named(published: Attachment):
    as_superuser("DELETE FROM disclosure_attachment WHERE id = %s", [published.pk])
    intact, lines = verify_ledger()
    assert not intact
    [line] = [line for line in lines if "file missing" in line]
    assert "“minutes.pdf”" in line and "no longer in the database" in line
    assert [p.kind for p in ledger_verify()] == [ProblemKind.FILE_MISSING]


def test_a_draft_file_slipped_into_a_published_revision_is_named(org: Org, published: Attachment):
    """Setting published_in on a draft's file is an UPDATE the trigger allows (it is how
    publishing marks files); the ledger still knows it was not published."""
    draft = draft_on(org.boiler_team, period="2026-09")  # 2026-10 is the published one's
    slipped = attachment_add(actor=draft.author, disclosure=draft, upload=upload(FORGED))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE disclosure_attachment SET published_in_id = %s WHERE id = %s",
            [published.published_in_id, slipped.pk],
        )
    [problem] = ledger_verify()
    assert problem.kind == ProblemKind.FILE_ADDED and f"file {slipped.pk}" in problem.detail


def test_the_text_and_a_file_changed_are_both_named(published: Attachment):
    with triggers_suspended(connection, "disclosure_revision"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE disclosure_revision SET title = %s WHERE id = %s",
            ["改过的标题", published.published_in_id],
        )
    as_superuser(
        "UPDATE disclosure_attachment SET original_name = %s WHERE id = %s", ["x.pdf", published.pk]
    )
    kinds = [p.kind for p in ledger_verify()]
    assert kinds == [ProblemKind.FILE_RENAMED, ProblemKind.CONTENT_CHANGED]


def test_an_entry_passed_off_as_version_1_is_caught(published: Attachment):
    entry = entry_of(published)
    with triggers_suspended(connection, "ledger_ledgerentry"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_ledgerentry SET canonical_version = 1 WHERE id = %s", [entry.pk]
        )
    kinds = [p.kind for p in ledger_verify()]
    assert kinds == [ProblemKind.ENTRY_ALTERED, ProblemKind.CONTENT_CHANGED]


def test_an_entrys_file_list_edited_to_match_a_forgery_is_caught(published: Attachment):
    """Rewriting the list an entry keeps (to hide a rename) does not help: the content hash
    covers the list that was published."""
    as_superuser(
        "UPDATE disclosure_attachment SET original_name = %s WHERE id = %s", ["x.pdf", published.pk]
    )
    entry = entry_of(published)
    forged = [{**entry.files[0], "name": "x.pdf"}]
    with triggers_suspended(connection, "ledger_ledgerentry"):
        QuerySet(model=LedgerEntry).filter(pk=entry.pk).update(files=forged)  # past the model
    assert [p.kind for p in ledger_verify()] == [ProblemKind.CONTENT_CHANGED]
    as_superuser(
        "UPDATE disclosure_attachment SET original_name = %s WHERE id = %s",
        ["minutes.pdf", published.pk],
    )
    assert [p.kind for p in ledger_verify()] == [ProblemKind.ENTRY_ALTERED]


def test_the_disclosures_ledger_page_names_a_renamed_file(
    org: Org, client: Client, published: Attachment
):
    as_superuser(
        "UPDATE disclosure_attachment SET original_name = %s WHERE id = %s", ["x.pdf", published.pk]
    )
    client.force_login(org["employee"])
    response = client.get(reverse("ledger:disclosure", args=[published.disclosure_id]))
    [(_entry, problems, _leaf)] = response.context["rows"]
    assert [p.kind for p in problems] == [ProblemKind.FILE_RENAMED]


# --- History: entries written before files were in the record --------------------------------


def test_entries_of_version_1_still_verify_and_their_files_bytes_are_checked(
    org: Org, monkeypatch: pytest.MonkeyPatch
):
    """Entries hashed before this change (the backfill migration writes them the old way)
    keep verifying; a file of theirs is still read and compared with its stored checksum."""
    monkeypatch.setattr(
        "gongkai.disclosure.publication.ledger_record_publication", lambda **kw: None
    )
    attachment = attachment_on(org.boiler_team)
    monkeypatch.undo()
    backfill = importlib.import_module("gongkai.ledger.migrations.0003_record_earlier_publications")
    backfill.record(apps, None)
    [old] = LedgerEntry.objects.all()
    assert (old.canonical_version, old.files) == (1, None)
    attachment_on(org.boiler)  # a new publication after it, of version 2
    assert LedgerEntry.objects.latest("sequence").canonical_version == 2
    assert ledger_verify() == []
    name = attachment.file.name
    default_storage.delete(name)
    default_storage.save(name, ContentFile(FORGED))
    [problem] = ledger_verify()
    assert (problem.kind, problem.sequence) == (ProblemKind.FILE_CHANGED, old.sequence)


# --- The database keeps published files' rows ----------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE disclosure_attachment SET original_name = 'forged.pdf' WHERE id = %s",
        "UPDATE disclosure_attachment SET sha256 = 'abc' WHERE id = %s",
        "UPDATE disclosure_attachment SET published_in_id = NULL WHERE id = %s",
        "DELETE FROM disclosure_attachment WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_or_delete_a_published_files_row(
    published: Attachment, sql: str
):
    with (
        pytest.raises(DatabaseError, match="files of a published revision are never changed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [published.pk])
    assert Attachment.objects.get(pk=published.pk).original_name == "minutes.pdf"
    assert verify_ledger()[0]
