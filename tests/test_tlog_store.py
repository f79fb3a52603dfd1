"""A transparency log kept in the database (gongkai.core.tlog.store) is the RFC 6962 tree of
its entries: roots, inclusion and consistency proofs, hash tiles and entry bundles equal
those of a tree built in memory from the same entries, at every size it passed through,
whatever the sizes of the appends; full tiles, full bundles and checkpoints cannot be
changed (database triggers, both engines); two appends never add the same entries."""

from __future__ import annotations

import random

import pytest
from django.db import DatabaseError, connection, transaction

from gongkai.core.models import LogBundle, LogCheckpoint, LogTile
from gongkai.core.tlog import merkle, notes, signing, store
from gongkai.core.tlog.merkle import EntryBundle, Tile

pytestmark = pytest.mark.django_db

LOG = "test"


def entries(start: int, stop: int) -> list[bytes]:
    return [f"entry {i}".encode() * (1 + i % 3) for i in range(start, stop)]


def grow(sizes: list[int]) -> merkle.MemoryTree:
    """Append to the stored log in steps reaching each of ``sizes``; the same in memory."""
    memory = merkle.MemoryTree()
    for size in sizes:
        batch = entries(memory.size, size)
        store.append(LOG, lambda _size, batch=batch: batch)
        memory.extend(merkle.leaf_hash(e) for e in batch)
    return memory


def test_roots_and_proofs_equal_a_tree_built_in_memory_at_every_size():
    sizes = [1, 2, 3, 7, 255, 256, 257, 300, 511, 512, 513, 600, 1000]
    memory = grow(sizes)
    assert store.head(LOG) == store.TreeHead(1000, memory.root())
    rng = random.Random(6962)
    for size in sizes:
        assert store.tree_root(LOG, size) == memory.root(size)
        for index in {0, size - 1, rng.randrange(size)}:
            proof = store.inclusion_proof(LOG, index, size)
            assert proof == memory.inclusion_proof(index, size)
            leaf = merkle.leaf_hash(store.entry(LOG, index))
            assert merkle.verify_inclusion(index, size, leaf, proof, memory.root(size))
        for old in {0, 1, size // 2, size}:
            assert store.consistency_proof(LOG, old, size) == memory.consistency_proof(old, size)


def test_tiles_and_bundles_are_served_for_every_size_the_log_passed_through():
    memory = grow([5, 256, 300, 70_000 // 100, 1000])
    for size in (5, 256, 300, 700, 1000):
        for tile in merkle.tiles(size):
            assert store.tile_bytes(LOG, tile, size) == merkle.tile_data(tile, memory.hash_at)
        for bundle in merkle.entry_bundles(size):
            data = store.bundle_bytes(LOG, bundle, size)
            first = bundle.first_entry
            assert merkle.decode_entry_bundle(data) == entries(first, first + bundle.width)


def test_what_a_size_does_not_hold_is_not_served():
    grow([300])
    with pytest.raises(store.NotInLog):
        store.tile_bytes(LOG, Tile(0, 1), 300)  # tile 1 of level 0 is partial (44) at 300
    with pytest.raises(store.NotInLog):
        store.tile_bytes(LOG, Tile(0, 1, 45), 300)
    assert len(store.tile_bytes(LOG, Tile(0, 1, 44), 300)) == 44 * 32
    with pytest.raises(store.NotInLog):
        store.bundle_bytes(LOG, EntryBundle(2, 1), 300)
    with pytest.raises(store.NotInLog):
        store.tree_root(LOG, 301)
    with pytest.raises(store.NotInLog):
        store.inclusion_proof(LOG, 300, 300)


def test_the_callback_is_given_the_size_under_the_lock_and_nothing_is_added_twice():
    seen: list[int] = []

    def next_entries(size: int) -> list[bytes]:
        seen.append(size)
        return entries(size, min(size + 10, 25))

    for _ in range(4):
        store.append(LOG, next_entries)
    assert seen == [0, 10, 20, 25]
    assert store.head(LOG).size == 25
    assert store.entries(LOG, 0, 25) == entries(0, 25)


def test_an_entry_too_long_for_a_bundle_is_refused_and_nothing_is_written():
    with pytest.raises(ValueError, match="65535"):
        store.append(LOG, lambda _size: [b"x" * 70_000])
    assert store.head(LOG).size == 0 and not LogBundle.objects.exists()


def test_full_tiles_bundles_and_checkpoints_cannot_be_changed():
    grow([300])
    full = LogTile.objects.get(log_id=LOG, level=0, index=0)
    partial = LogTile.objects.get(log_id=LOG, level=0, index=1)
    for statement, params in [
        ("UPDATE core_logtile SET data = %s WHERE id = %s", [b"\x00" * 8192, full.pk]),
        ("DELETE FROM core_logtile WHERE id = %s", [full.pk]),
        ("UPDATE core_logbundle SET count = 1 WHERE log_id = %s AND index = 0", [LOG]),
    ]:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement.replace("index", connection.ops.quote_name("index")), params)
    with connection.cursor() as cursor:  # a partial tile grows: it may be written
        cursor.execute("UPDATE core_logtile SET data = data WHERE id = %s", [partial.pk])
    checkpoint = signing.sign_checkpoint(LOG, "example.com/test")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_logcheckpoint SET size = 1 WHERE id = %s", [checkpoint.pk])


def test_a_checkpoint_is_signed_once_per_size_and_verifies_with_the_published_key(settings):
    grow([10])
    first = signing.sign_checkpoint(LOG, "example.com/test")
    assert signing.sign_checkpoint(LOG, "example.com/test").pk == first.pk
    verifier = notes.parse_verifier(settings.LEDGER_VERIFIER_KEY_FOR_TESTS)
    assert signing.verifier_key() == settings.LEDGER_VERIFIER_KEY_FOR_TESTS
    opened = notes.open_checkpoint(first.note, verifier)
    assert (opened.checkpoint.origin, opened.checkpoint.size) == ("example.com/test", 10)
    assert opened.checkpoint.root == store.tree_root(LOG, 10)
    store.append(LOG, lambda size: entries(size, 11))
    assert LogCheckpoint.objects.filter(log_id=LOG).count() == 1
    assert signing.sign_checkpoint(LOG, "example.com/test").size == 11


def test_without_a_key_nothing_is_signed_and_the_message_says_how_to_make_one(settings, tmp_path):
    settings.LEDGER_SIGNING_KEY = ""
    settings.LEDGER_SIGNING_KEY_FILE = tmp_path / "missing.key"
    with pytest.raises(signing.NoSigningKey, match="ledger_key create"):
        signing.sign_checkpoint(LOG, "example.com/test")
    path, vkey = signing.create_key_file("example.com/test")
    assert path.stat().st_mode & 0o777 == 0o600
    assert signing.verifier_key() == vkey
    with pytest.raises(FileExistsError):
        signing.create_key_file("example.com/test")


def test_the_key_command_creates_once_and_shows_the_verifier_key(settings, tmp_path):
    from io import StringIO

    from django.core.management import CommandError, call_command

    settings.LEDGER_SIGNING_KEY = ""
    settings.LEDGER_SIGNING_KEY_FILE = tmp_path / "ledger.key"
    with pytest.raises(CommandError, match="ledger_key create"):
        call_command("ledger_key", "show")
    out = StringIO()
    call_command("ledger_key", "create", stdout=out)
    shown = StringIO()
    call_command("ledger_key", "show", stdout=shown)
    assert shown.getvalue().strip() in out.getvalue()
    assert shown.getvalue().startswith(f"{settings.LEDGER_ORIGIN}+")
    with pytest.raises(CommandError, match="rotation"):
        call_command("ledger_key", "create")
    call_command("ledger_key", "create", "--if-missing")  # install scripts: no error
    assert (tmp_path / "ledger.key").read_text().startswith("PRIVATE+KEY+")
