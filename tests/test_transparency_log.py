"""The publication ledger as a transparency log (gongkai.ledger.transparency): every ledger
entry becomes a leaf, in order, after its publication commits, and a checkpoint is signed;
an installation whose chain predates the log takes in the whole chain, in order, with its
content intact; the leaf reveals nothing an anonymous visitor may not read; and anyone, signed
in or not, fetches the checkpoint, the tiles and the proofs under /ledger/ and verifies them
with nothing but the verifier key."""

from __future__ import annotations

import base64
import json

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import translation

from gongkai.core.immutable import triggers_suspended
from gongkai.core.models import LogBundle, LogCheckpoint, TransparencyLog
from gongkai.core.tlog import merkle, notes, store
from gongkai.core.tlog.merkle import EntryBundle, Tile
from gongkai.ledger import canonical, transparency
from gongkai.ledger.models import LedgerEntry
from gongkai.ledger.verification import ledger_verify
from tests.conftest import Org
from tests.test_ledger import correct, publish, withdraw

pytestmark = pytest.mark.django_db


def verifier() -> notes.Verifier:
    return notes.parse_verifier(settings.LEDGER_VERIFIER_KEY_FOR_TESTS)


def checkpoint_of(client: Client) -> notes.Checkpoint:
    response = client.get("/ledger/log/checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    return notes.open_checkpoint(response.content, verifier()).checkpoint


def test_each_publication_becomes_a_leaf_and_a_signed_checkpoint_after_it_commits(
    org: Org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = publish(org)
    assert store.head(transparency.LOG).size == 1
    with django_capture_on_commit_callbacks(execute=True):
        correct(org, first, result="<p>共计 1,300.00 元</p>", reason="金额更正")
        withdraw(org, first)
    entries = list(LedgerEntry.objects.order_by("sequence"))
    assert [e.event for e in entries] == ["publish", "publish", "withdraw"]
    latest = transparency.latest()
    assert latest is not None and latest.size == 3
    opened = notes.open_checkpoint(latest.note, verifier())
    assert opened.checkpoint.origin == settings.LEDGER_ORIGIN
    assert opened.checkpoint.root == store.tree_root(transparency.LOG, 3)
    for index, entry in enumerate(entries):
        leaf = json.loads(store.entry(transparency.LOG, index))
        assert leaf["sequence"] == entry.sequence == index + 1
        assert leaf["entry_hash"] == entry.entry_hash
        assert leaf["content_hash"] == entry.content_hash
        assert leaf["unit"] == org.boiler.code and leaf["entry"] == "entertainment"
    assert [json.loads(store.entry(transparency.LOG, i))["revision"] for i in range(3)] == [
        1,
        2,
        None,
    ]


def test_a_chain_older_than_the_log_becomes_its_first_leaves_in_order(org: Org):
    for n in range(5):  # no commit callbacks run here: the chain grows, the log does not
        publish(org, title=f"第{n}期公开")
    assert store.head(transparency.LOG).size == 0
    checkpoint = transparency.checkpoint()
    chain = list(LedgerEntry.objects.order_by("sequence"))
    assert checkpoint.size == len(chain) == 5
    leaves = store.entries(transparency.LOG, 0, 5)
    for entry, data in zip(chain, leaves, strict=True):
        fields = json.loads(data)
        # the leaf carries the entry exactly: its hash recomputes from the leaf's fields
        assert (
            canonical.entry_hash(
                sequence=fields["sequence"],
                record_type=fields["record_type"],
                record_id=fields["record_id"],
                event=fields["event"],
                content_hash=fields["content_hash"],
                prev_hash=fields["prev_hash"],
                recorded_at=entry.recorded_at,
                version=fields["canonical_version"],
            )
            == entry.entry_hash
            == fields["entry_hash"]
        )
    assert [json.loads(d)["prev_hash"] for d in leaves[1:]] == [e.entry_hash for e in chain[:-1]]
    assert transparency.checkpoint().pk == checkpoint.pk  # nothing new: the same checkpoint


def test_a_leaf_reveals_no_title_text_or_file_name(org: Org):
    publish(org, title="机密标题绝不外泄", result="<p>内部金额 9,999 元</p>")
    transparency.checkpoint()
    leaf = store.entry(transparency.LOG, 0).decode()
    assert "机密标题" not in leaf and "9,999" not in leaf
    assert set(json.loads(leaf)) == {
        "format", "sequence", "record_type", "record_id", "event", "disclosure", "unit",
        "entry", "revision", "content_hash", "prev_hash", "entry_hash", "recorded_at",
        "canonical_version",
    }  # fmt: skip


def test_anyone_verifies_inclusion_and_consistency_from_the_served_log(org: Org):
    anonymous = Client()
    assert anonymous.get("/ledger/log/checkpoint").status_code == 404  # nothing signed yet
    for n in range(3):
        publish(org, title=f"第{n}期")
    transparency.checkpoint()
    old = checkpoint_of(anonymous)
    for n in range(3, 6):
        publish(org, title=f"第{n}期")
    transparency.checkpoint()
    new = checkpoint_of(anonymous)
    assert (old.size, new.size) == (3, 6)

    # the root recomputed from the tiles and the entry bundles alone
    def read(tile: Tile) -> bytes:
        response = anonymous.get(f"/ledger/log/{tile.path}")
        assert response.status_code == 200, tile.path
        assert "immutable" in response["Cache-Control"]
        return response.content

    bundle = anonymous.get(f"/ledger/log/{EntryBundle(0, 6).path}").content
    leaves = [merkle.leaf_hash(e) for e in merkle.decode_entry_bundle(bundle, 6)]
    assert merkle.root(leaves) == new.root
    assert merkle.tree_root(6, merkle.hash_at_from_tiles(6, read)) == new.root

    proof = anonymous.get("/ledger/proof/inclusion", {"index": 4}).json()
    assert proof["size"] == 6
    hashes = [base64.b64decode(h) for h in proof["hashes"]]
    leaf = merkle.leaf_hash(base64.b64decode(proof["leaf"]))
    assert merkle.verify_inclusion(4, 6, leaf, hashes, new.root)

    consistency = anonymous.get("/ledger/proof/consistency", {"old": 3, "size": 6}).json()
    hashes = [base64.b64decode(h) for h in consistency["hashes"]]
    assert merkle.verify_consistency(3, 6, old.root, new.root, hashes)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/ledger/proof/inclusion?index=2", 404),  # beyond the signed size
        ("/ledger/proof/inclusion?index=0&size=3", 404),
        ("/ledger/proof/inclusion?index=-1", 400),
        ("/ledger/proof/inclusion?index=1e3", 400),
        ("/ledger/proof/inclusion", 400),
        ("/ledger/proof/inclusion?index=" + "9" * 40, 400),
        ("/ledger/proof/consistency?old=2&size=1", 400),
        ("/ledger/proof/consistency?old=x", 400),
        ("/ledger/log/tile/0/000.p/3", 404),
        ("/ledger/log/tile/0/001", 404),
        ("/ledger/log/tile/entries/000.p/3", 404),
        ("/ledger/log/tile/0/00", 404),
        ("/ledger/log/tile/../../etc/passwd", 404),
        ("/ledger/log/tile/0/000.p/2", 200),
    ],
)
def test_questions_the_log_cannot_answer_get_a_clear_refusal(org: Org, path: str, status: int):
    publish(org)
    publish(org, title="第二期")
    transparency.checkpoint()
    response = Client().get(path)
    assert response.status_code == status, response.content
    if path.startswith("/ledger/proof/"):
        assert "error" in response.json() or status == 200


def test_the_log_only_answers_reads(org: Org):
    publish(org)
    transparency.checkpoint()
    client = Client(enforce_csrf_checks=True)
    for path in ("/ledger/log/checkpoint", "/ledger/proof/inclusion?index=0"):
        assert client.post(path).status_code in (403, 405)


# --- verify_ledger checks the log as well -----------------------------------------------------


def log_problems() -> list[str]:
    from gongkai.ledger.verification import log_problems as check

    with translation.override("en"):
        return [str(p) for p in check()]


def as_owner(table: str, sql: str, params: list) -> None:
    """Change rows as the database's owner could: the append-only triggers off."""
    with triggers_suspended(connection, table), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def signed_log(org: Org) -> Org:
    for n in range(3):
        publish(org, title=f"第{n}期")
    transparency.checkpoint()
    return org


def test_an_intact_log_has_no_problem(signed_log: Org):
    assert log_problems() == []
    assert ledger_verify() == []


def test_an_altered_leaf_is_named_with_its_entry(signed_log: Org):
    data = bytes(LogBundle.objects.get(log_id=transparency.LOG, index=0).data)
    forged = data.replace(b'"event":"publish"', b'"event":"publisH"', 1)  # same length
    as_owner("core_logbundle", "UPDATE core_logbundle SET data = %s", [forged])
    found = log_problems()
    assert any("leaf 0 is not what entry #1 makes" in p for p in found), found
    assert any("checkpoint of size 3 has a root the leaves do not give" in p for p in found)


def test_a_bundle_that_cannot_be_read_is_named(signed_log: Org):
    as_owner("core_logbundle", "UPDATE core_logbundle SET data = %s", [b"\x01\xf3{"])
    found = log_problems()
    assert found and "entry bundle 0" in found[0] and "cut short" in found[0], found


def test_a_forged_tile_is_named(signed_log: Org):
    as_owner("core_logtile", "UPDATE core_logtile SET data = %s", [b"\x00" * 32 * 3])
    found = log_problems()
    assert any("tile tile/0/000.p/3 does not match the leaves" in p for p in found), found


def test_a_log_rolled_back_under_a_signed_checkpoint_is_named(signed_log: Org):
    # the owner cuts the newest leaf off the log and its tiles (the chain keeps its entry)
    tree = merkle.MemoryTree(merkle.leaf_hash(e) for e in store.entries(transparency.LOG, 0, 2))
    bundle = merkle.encode_entry_bundle(store.entries(transparency.LOG, 0, 2))
    as_owner("core_logbundle", "UPDATE core_logbundle SET data = %s, count = 2", [bundle])
    as_owner(
        "core_logtile",
        "UPDATE core_logtile SET data = %s",
        [tree.hash_at(0, 0) + tree.hash_at(0, 1)],
    )
    TransparencyLog.objects.filter(pk=transparency.LOG).update(
        size=2,
        root=tree.root(),
        frontier=b"".join(merkle.TreeBuilder.resume(2, tree.hash_at).frontier),
    )
    found = log_problems()
    assert any(
        "checkpoint of size 3 is larger than the log (2 leaves): rolled back" in p for p in found
    ), found


def test_a_checkpoint_not_signed_by_the_published_key_is_named(signed_log: Org):
    other, _vkey = notes.generate_signer(settings.LEDGER_ORIGIN)
    tree = store.head(transparency.LOG)
    note = notes.sign(
        notes.format_checkpoint(settings.LEDGER_ORIGIN, 2, store.tree_root(transparency.LOG, 2)),
        [notes.parse_signer(other)],
    )
    LogCheckpoint.objects.create(
        log_id=transparency.LOG,
        size=2,
        root=store.tree_root(transparency.LOG, 2),
        note=note.decode(),
    )
    assert tree.size == 3
    found = log_problems()
    assert found == [
        "checkpoint does not verify: checkpoint of size 2 is not signed by a published key"
    ], found


# --- where people meet it ---------------------------------------------------------------------


def test_the_item_page_shows_its_leaf_and_a_verify_link_and_the_record_checks_out(org: Org):
    item = publish(org)
    correct(org, item, result="<p>共计 1,300.00 元</p>", reason="金额更正")
    transparency.checkpoint()
    reader = Client()
    reader.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    reader.force_login(org["employee"])
    page = reader.get(f"/disclosures/{item.pk}/").content.decode()
    assert "leaf 0" in page and "leaf 1" in page
    assert "/ledger/proof/inclusion?index=1&amp;size=2" in page
    ledger_page = reader.get(f"/ledger/disclosures/{item.pk}/").content.decode()
    assert "in the signed checkpoint of size 2" in ledger_page

    download = reader.get(f"/ledger/disclosures/{item.pk}/record/2.json")
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    record = download.json()
    leaf = json.loads(store.entry(transparency.LOG, record["leaf_index"]))
    assert canonical.content_hash(record["content"]) == leaf["content_hash"]
    assert record["content"]["result"] == "<p>共计 1,300.00 元</p>"


def test_the_record_is_only_for_those_who_may_read_the_item(org: Org):
    from tests.test_access_matrix import team_item

    item = team_item(org)  # internal to the boiler team
    transparency.checkpoint()
    sequence = LedgerEntry.objects.get(disclosure=item).sequence
    url = f"/ledger/disclosures/{item.pk}/record/{sequence}.json"
    assert Client().get(url).status_code == 404
    member = Client()
    member.force_login(org["teamlead"])
    assert member.get(url).status_code == 200
    assert (
        member.get(f"/ledger/disclosures/{item.pk}/record/{sequence + 99}.json").status_code == 404
    )


def test_two_leaves_swapped_are_named(signed_log: Org):
    first, second, third = store.entries(transparency.LOG, 0, 3)
    swapped = merkle.encode_entry_bundle([second, first, third])
    tree = merkle.MemoryTree(merkle.leaf_hash(e) for e in (second, first, third))
    as_owner("core_logbundle", "UPDATE core_logbundle SET data = %s", [swapped])
    as_owner(
        "core_logtile",
        "UPDATE core_logtile SET data = %s",
        [merkle.tile_data(merkle.Tile(0, 0, 3), tree.hash_at)],
    )
    TransparencyLog.objects.filter(pk=transparency.LOG).update(root=tree.root())
    found = log_problems()
    assert any("leaf 0 is not what entry #1 makes" in p for p in found), found
    assert any("leaf 1 is not what entry #2 makes" in p for p in found), found
    assert any("checkpoint of size 3 has a root the leaves do not give" in p for p in found)
