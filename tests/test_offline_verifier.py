"""The offline verifier, tools/verify_ledger.py: what an auditor runs on their own machine
with nothing but the log's verifier key.

Its Merkle proofs, tiles, signed notes and entry hashes are its own (it may not import
gongkai); here they are checked against gongkai's (gongkai.core.tlog, gongkai.ledger.canonical).
Then the tool is run as a subprocess against this test's live server, as an auditor would run
it: an intact log verifies and later extends the state it saw; a wrong key, missing
cosignatures, a forged cosignature, an altered leaf, a lying tile, a truncated tail re-signed
with the real key (rollback), a fork, a rewritten history and reordered leaves each fail
with the problem named; an item downloaded from its page is found in the log, and altered
content is not."""

from __future__ import annotations

import ast
import base64
import contextlib
import datetime as dt
import importlib.util
import json
import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from gongkai.core.immutable import triggers_suspended
from gongkai.core.models import LogBundle, LogCheckpoint, LogTile, TransparencyLog
from gongkai.core.tlog import merkle, notes, signing, store
from gongkai.ledger import canonical, transparency
from gongkai.ledger.sources import source
from tests.conftest import Org
from tests.test_ledger import correct, publish, withdraw

TOOL = Path(__file__).resolve().parent.parent / "tools" / "verify_ledger.py"
LOG = transparency.LOG


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verify_ledger_tool", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


vl = load_tool()


# --- the tool's own parts, against gongkai's ---------------------------------------------------


def test_the_tool_needs_only_the_standard_library_and_cryptography():
    imported: set[str] = set()
    for node in ast.walk(ast.parse(TOOL.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative import"
            imported.add((node.module or "").split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"cryptography"}


def hashes_of(n: int) -> list[bytes]:
    return [merkle.leaf_hash(f"leaf {i}".encode()) for i in range(n)]


def test_roots_and_proofs_agree_with_gongkai_for_every_size_up_to_70():
    rng = random.Random(15)
    for size in range(1, 71):
        leaves = hashes_of(size)
        tree = merkle.MemoryTree(leaves)
        rebuilt = vl.TreeRebuilder(watch=range(size + 1))
        for leaf in leaves:
            rebuilt.append(leaf)
        assert rebuilt.root() == tree.root() == merkle.root(leaves)
        for old in range(size + 1):
            assert rebuilt.roots[old] == (tree.root(old) if old else merkle.EMPTY_ROOT)
        root = tree.root()
        for index in range(size):
            proof = tree.inclusion_proof(index)
            assert vl.verify_inclusion(index, size, leaves[index], proof, root)
            for other in (size - 1, size + 1):  # another size may share the path's shape
                assert vl.verify_inclusion(
                    index, other, leaves[index], proof, root
                ) == merkle.verify_inclusion(index, other, leaves[index], proof, root)
            if proof:
                bad = list(proof)
                bad[rng.randrange(len(bad))] = bytes(32)
                assert not vl.verify_inclusion(index, size, leaves[index], bad, root)
                assert not vl.verify_inclusion(index, size, leaves[index], proof[:-1], root)
        for old in range(size + 1):
            old_root = tree.root(old) if old else merkle.EMPTY_ROOT
            proof = tree.consistency_proof(old)
            assert vl.verify_consistency(old, size, old_root, root, proof)
            assert not vl.verify_consistency(old, size, old_root, root, [*proof, bytes(32)])
            if old and old < size:
                assert not vl.verify_consistency(old, size, root, root, proof)
                assert vl.verify_consistency(
                    old - 1, size, old_root, root, proof
                ) == merkle.verify_consistency(old - 1, size, old_root, root, proof)


def test_verification_agrees_with_gongkai_on_random_garbage():
    rng = random.Random(9162)
    pool = hashes_of(6)
    for _ in range(3000):
        size = rng.randrange(1, 40)
        a, b = rng.randrange(0, size + 2), rng.randrange(0, size + 2)
        proof = [rng.choice(pool) for _ in range(rng.randrange(0, 8))]
        r1, r2 = rng.choice(pool), rng.choice(pool)
        assert vl.verify_inclusion(a, size, r1, proof, r2) == merkle.verify_inclusion(
            a, size, r1, proof, r2
        )
        assert vl.verify_consistency(a, b, r1, r2, proof) == merkle.verify_consistency(
            a, b, r1, r2, proof
        )


@pytest.mark.parametrize("size", [1, 3, 255, 256, 257, 511, 512, 513, 65_536 + 300])
def test_tiles_and_bundles_are_those_gongkai_serves(size: int):
    leaves = hashes_of(size)
    tree = merkle.MemoryTree(leaves)
    rebuilt = vl.TreeRebuilder()
    for leaf in leaves:
        rebuilt.append(leaf)
    tiles = merkle.tiles(size)
    assert [vl.tile_path(*t) for t in vl.tiles_of(size)] == [t.path for t in tiles]
    for tile in tiles:
        assert rebuilt.tile(tile.level, tile.index, tile.width) == merkle.tile_data(
            tile, tree.hash_at
        ), tile.path
    assert [vl.bundle_path(*b) for b in vl.bundles_of(size)] == [
        b.path for b in merkle.entry_bundles(size)
    ]
    for n in (0, 7, 999, 1000, 1_234_067, 10**12 + 5):
        assert vl.encode_index(n) == merkle.encode_index(n)
    entries = [b"", b"x" * 300, "公开".encode()]
    assert vl.decode_bundle(merkle.encode_entry_bundle(entries), 3) == entries
    assert vl.decode_bundle(merkle.encode_entry_bundle(entries), 2) is None
    assert vl.decode_bundle(merkle.encode_entry_bundle(entries)[:-1], 3) is None


@pytest.mark.parametrize("version", [1, 2])
def test_entry_hashes_recompute_as_gongkai_computes_them(version: int):
    recorded = dt.datetime(2026, 11, 24, 9, 30, 1, 250, tzinfo=dt.UTC)
    fields = {
        "sequence": 7,
        "record_type": canonical.REVISION,
        "record_id": 42,
        "event": "publish",
        "content_hash": "ab" * 32,
        "prev_hash": "cd" * 32,
    }
    expected = canonical.entry_hash(**fields, recorded_at=recorded, version=version)
    leaf = {
        **fields,
        "format": transparency.LEAF_FORMAT,
        "disclosure": 3,
        "unit": "rd-boiler",
        "entry": "entertainment",
        "revision": 1,
        "entry_hash": expected,
        "recorded_at": canonical.iso_time(recorded),
        "canonical_version": version,
    }
    assert vl.entry_hash(leaf) == expected
    data = canonical.canonical_json(leaf)
    assert vl.leaf_problems(6, data, "cd" * 32) == ([], expected)
    assert vl.leaf_problems(5, data, "cd" * 32)[0] == ["leaf 5: sequence 7, expected 6"]
    assert vl.leaf_problems(6, data, "ef" * 32)[0] == [
        "leaf 6: prev_hash is not the entry_hash of leaf 5 (the chain is broken)"
    ]
    other = canonical.canonical_json({**leaf, "canonical_version": 3 - version})
    assert vl.leaf_problems(6, other, "cd" * 32)[0] == ["leaf 6: entry_hash does not recompute"]
    as_bool = canonical.canonical_json({**leaf, "canonical_version": True})  # == 1 in Python
    assert vl.leaf_problems(6, as_bool, None)[0] == ["leaf 6: a field has the wrong type or form"]
    spaced = data.replace(b'"event":', b'"event": ')
    assert vl.leaf_problems(6, spaced, None)[0] == ["leaf 6: not in canonical JSON"]


def signed(text: str) -> bytes:
    return notes.sign(text, [notes.parse_signer(settings.LEDGER_SIGNING_KEY)])


def opened(note: bytes, *witnesses: Any, needed: int = 0) -> tuple[Any, Any]:
    report = vl.Report()
    key = vl.parse_key(settings.LEDGER_VERIFIER_KEY_FOR_TESTS, vl.NOTE_KEY)
    checkpoint = vl.open_checkpoint(
        note, key, list(witnesses), origin=key.name, min_cosignatures=needed, report=report,
        now=2_000_000_000,
    )  # fmt: skip
    return checkpoint, report


def test_signed_checkpoints_and_cosignatures_as_gongkai_writes_them():
    root = merkle.root(hashes_of(5))
    text = notes.format_checkpoint(settings.LEDGER_ORIGIN, 5, root)
    checkpoint, report = opened(signed(text))
    assert (checkpoint.size, checkpoint.root, checkpoint.origin) == (5, root, "testserver/ledger")
    assert not report.problems

    skey, vkey = notes.generate_witness("witness.example/w1")
    witness = vl.parse_key(vkey, vl.COSIGNATURE_KEY)
    line = notes.cosign(text, notes.parse_witness_signer(skey), timestamp=1_800_000_000)
    cosigned = notes.append_signatures(signed(text), [line])
    _checkpoint, report = opened(cosigned, witness, needed=1)
    assert not report.problems and "verified: witness.example/w1" in "\n".join(report.lines)
    _checkpoint, report = opened(signed(text), witness, needed=1)
    assert report.problems == [
        "the checkpoint has 0 valid cosignature(s), 1 required (--min-cosignatures)"
    ]
    raw = bytearray(base64.b64decode(line.split()[-1]))
    raw[11] ^= 1  # the timestamp, not the signature
    forged = line.rsplit(" ", 1)[0] + " " + base64.b64encode(bytes(raw)).decode() + "\n"
    _checkpoint, report = opened(notes.append_signatures(signed(text), [forged]), witness)
    assert report.problems == [f"the cosignature of {witness.label} does not verify"]

    with pytest.raises(vl.Failed, match=r"signature by .* does not verify"):
        opened(signed(text).replace(b"\n5\n", b"\n6\n"))
    other = notes.parse_signer(notes.generate_signer("testserver/ledger")[0])
    with pytest.raises(vl.Failed, match="not signed by the key testserver/ledger"):
        opened(notes.sign(text, [other]))
    with pytest.raises(vl.Failed, match="not a signed note"):
        opened(text.encode())
    with pytest.raises(vl.Failed, match="tree size is malformed"):
        opened(signed(text.replace("\n5\n", "\n05\n")))
    with pytest.raises(vl.UsageError, match="type 0x01"):
        vl.parse_key(vkey, vl.NOTE_KEY)  # a witness key given as the log's


# --- the tool against a live server ------------------------------------------------------------


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


class Auditor:
    """Runs the tool against the live server with the log's verifier key."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.state = folder / "state.json"
        self.mirror = folder / "mirror"

    def run(self, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
        done = run_tool(self.url, "--key", key or settings.LEDGER_VERIFIER_KEY_FOR_TESTS, *args)
        print(done.stdout, done.stderr)  # shown when a test fails
        return done

    def audit(self) -> subprocess.CompletedProcess[str]:
        """The run with the state file and the mirror."""
        return self.run("--state", str(self.state), "--mirror", str(self.mirror))


@pytest.fixture
def auditor(live_server: Any, tmp_path: Path) -> Auditor:
    return Auditor(live_server.url, tmp_path)


def five_entries(org: Org) -> dict[str, Any]:
    """Five ledger entries, the log signed at size 5: publish, correct, withdraw, two more."""
    first = publish(org, title="第一期业务招待费")
    correct(org, first, result="<p>共计 1,300.00 元</p>", reason="金额更正")
    withdraw(org, first)
    second = publish(org, title="第二期业务招待费", period="2026-Q2")
    publish(org, title="第三期业务招待费", period="2026-Q1")
    assert transparency.checkpoint().size == 5
    return {"first": first, "second": second}


@contextlib.contextmanager
def as_superuser() -> Iterator[None]:
    """Change the log's rows as a database superuser could: its triggers off."""
    with contextlib.ExitStack() as stack:
        for table in ("core_logtile", "core_logbundle", "core_logcheckpoint"):
            stack.enter_context(triggers_suspended(connection, table))
        yield


def leaves() -> list[bytes]:
    return store.entries(LOG, 0, store.head(LOG).size)


def forge(data: list[bytes]) -> None:
    """Rebuild the publication log from ``data`` through gongkai's own store and sign it
    with the real key: an attacker holding the database and the signing key."""
    with as_superuser(), connection.cursor() as cursor:
        for table in ("core_logcheckpoint", "core_logtile", "core_logbundle"):
            cursor.execute(f"DELETE FROM {table} WHERE log_id = %s", [LOG])  # noqa: S608
    TransparencyLog.objects.filter(pk=LOG).update(size=0, frontier=b"", root=merkle.EMPTY_ROOT)
    store.append(LOG, lambda size: data)
    signing.sign_checkpoint(LOG, transparency.origin())
    assert LogCheckpoint.objects.get(log_id=LOG).size == len(data)


def rewritten(leaf: bytes, **changes: Any) -> bytes:
    """The leaf with ``changes``, its entry hash recomputed (the attacker knows how)."""
    fields = {**json.loads(leaf), **changes}
    fields["entry_hash"] = canonical.entry_hash(
        sequence=fields["sequence"],
        record_type=fields["record_type"],
        record_id=fields["record_id"],
        event=fields["event"],
        content_hash=fields["content_hash"],
        prev_hash=fields["prev_hash"],
        recorded_at=dt.datetime.fromisoformat(fields["recorded_at"]),
        version=fields["canonical_version"],
    )
    return canonical.canonical_json(fields)


def rechained(data: list[bytes], start: int) -> list[bytes]:
    """The leaves from ``start`` on re-linked to the (changed) ones before them."""
    out = list(data[:start])
    for leaf in data[start:]:
        out.append(rewritten(leaf, prev_hash=json.loads(out[-1])["entry_hash"]))
    return out


def test_an_intact_log_verifies_and_later_must_extend_what_was_seen(org: Org, auditor: Auditor):
    first = publish(org, title="第一期业务招待费")
    correct(org, first, result="<p>共计 1,300.00 元</p>", reason="金额更正")
    publish(org, title="第二期业务招待费", period="2026-Q2")
    transparency.checkpoint()

    done = auditor.audit()
    assert done.returncode == 0
    assert "size 3," in done.stdout and "RESULT: OK" in done.stdout
    assert "3 in 1 entry bundle(s); root recomputed: matches the checkpoint" in done.stdout
    state = json.loads(auditor.state.read_text())
    assert (state["size"], state["origin"]) == (3, settings.LEDGER_ORIGIN)
    served = LogCheckpoint.objects.get(log_id=LOG, size=3)
    assert (auditor.mirror / "checkpoint").read_text() == served.note
    assert (auditor.mirror / "tile/entries/000.p/3").read_bytes() == merkle.encode_entry_bundle(
        leaves()
    )

    withdraw(org, first)
    publish(org, title="第三期业务招待费", period="2026-Q1")
    transparency.checkpoint()
    done = auditor.audit()
    assert done.returncode == 0
    assert "extends the checkpoint of size 3 seen before" in done.stdout
    assert json.loads(auditor.state.read_text())["size"] == 5
    assert (auditor.mirror / "tile/0/000.p/5").read_bytes() == store.tile_bytes(
        LOG, merkle.Tile(0, 0, 5), 5
    )

    # the auditor's own mirror remembers what was served: a copy that differs is named
    copy = auditor.mirror / "tile/entries/000.p/5"
    copy.write_bytes(copy.read_bytes().replace(b"publish", b"PUBLISH", 1))
    done = auditor.audit()
    assert done.returncode == 1
    assert "fork: tile/entries/000.p/5 differs from the copy" in done.stdout
    assert json.loads(auditor.state.read_text())["size"] == 5


def test_keys_and_cosignatures_are_checked(org: Org, auditor: Auditor):
    publish(org)
    transparency.checkpoint()
    wrong = notes.generate_signer(settings.LEDGER_ORIGIN)[1]
    done = auditor.run(key=wrong)
    assert done.returncode == 1
    assert "the checkpoint is not signed by the key testserver/ledger+" in done.stdout

    skey, vkey = notes.generate_witness("union.example/witness")
    done = auditor.run("--witness", vkey, "--min-cosignatures", "1")
    assert done.returncode == 1
    assert "0 valid cosignature(s), 1 required" in done.stdout

    checkpoint = LogCheckpoint.objects.get(log_id=LOG)
    text = notes.split_note(checkpoint.note)[0]
    line = notes.cosign(text, notes.parse_witness_signer(skey))
    with as_superuser():
        LogCheckpoint.objects.filter(pk=checkpoint.pk).update(
            note=notes.append_signatures(checkpoint.note, [line]).decode()
        )
    done = auditor.run("--witness", vkey, "--min-cosignatures", "1")
    assert done.returncode == 0
    assert "verified: union.example/witness+" in done.stdout

    raw = bytearray(base64.b64decode(line.split()[-1]))
    raw[-1] ^= 1
    forged = line.rsplit(" ", 1)[0] + " " + base64.b64encode(bytes(raw)).decode() + "\n"
    with as_superuser():
        LogCheckpoint.objects.filter(pk=checkpoint.pk).update(
            note=notes.append_signatures(checkpoint.note, [forged]).decode()
        )
    done = auditor.run("--witness", vkey)
    assert done.returncode == 1
    assert "the cosignature of union.example/witness+" in done.stdout
    assert "does not verify" in done.stdout


def test_an_altered_leaf_is_named(org: Org, auditor: Auditor):
    five_entries(org)
    original = LogBundle.objects.get(log_id=LOG, index=0).data
    data = bytes(original)
    leaf = leaves()[1]
    stated = json.loads(leaf)["content_hash"]
    changed = leaf.replace(stated.encode(), stated[::-1].encode())  # the same length
    with as_superuser():
        LogBundle.objects.filter(log_id=LOG, index=0).update(data=data.replace(leaf, changed))
    done = auditor.audit()
    assert done.returncode == 1
    assert "root: the 5 leaves give" in done.stdout
    assert "leaf 1: entry_hash does not recompute" in done.stdout
    assert "NOT updated" in done.stdout and not auditor.state.exists()


def test_a_tile_that_lies_is_named(org: Org, auditor: Auditor):
    five_entries(org)
    tile = LogTile.objects.get(log_id=LOG, level=0, index=0)
    data = bytearray(tile.data)
    data[40] ^= 0xFF  # in the second leaf's hash
    with as_superuser():
        LogTile.objects.filter(pk=tile.pk).update(data=bytes(data))
    done = auditor.run()
    assert done.returncode == 1
    assert "tile tile/0/000.p/5 differs from the leaves" in done.stdout
    assert "root recomputed: matches the checkpoint" in done.stdout  # the leaves are intact


@pytest.mark.parametrize("attack", ["rollback", "fork", "rewritten history", "reordered"])
def test_a_log_rebuilt_and_re_signed_with_the_real_key_is_caught(
    org: Org, auditor: Auditor, attack: str
):
    five_entries(org)
    data = leaves()
    if attack in ("rollback", "fork"):
        assert auditor.audit().returncode == 0  # the state file sees size 5
    else:
        forge(data[:3])
        assert auditor.audit().returncode == 0  # the state file sees size 3

    if attack == "rollback":  # the newest entries cut off the end
        forge(data[:3])
        expected = ["rollback: the log now has 3 leaves, the state file saw 5"]
    elif attack == "fork":  # the last entry replaced by another, consistently
        forge([*data[:4], rewritten(data[4], content_hash="ee" * 32)])
        expected = ["fork: the log's root at size 5 is", "at the same size"]
    elif attack == "rewritten history":  # an old entry changed, every later one re-linked
        forge(rechained([data[0], rewritten(data[1], content_hash="ee" * 32), *data[2:]], 2))
        expected = [
            "fork: the consistency proof from size 3 (seen before) to 5 does not verify",
            "fork: the first 3 leaves give root",
        ]
    else:  # two entries swapped
        forge([data[0], data[2], data[1], *data[3:]])
        expected = [
            "leaf 1: sequence 3, expected 2",
            "leaf 2: sequence 2, expected 3",
            "leaf 1: prev_hash is not the entry_hash of leaf 0 (the chain is broken)",
            "fork: the consistency proof from size 3",
        ]
    done = auditor.audit()
    assert done.returncode == 1
    for text in expected:
        assert text in done.stdout
    assert "RESULT: FAILED" in done.stdout
    assert json.loads(auditor.state.read_text())["size"] == (
        5 if attack in ("rollback", "fork") else 3
    )


def record_file(folder: Path, name: str, sequence: int, content: dict[str, Any], **more) -> str:
    path = folder / name
    record = {"sequence": sequence, "content": content, **more}
    path.write_text(json.dumps(record, ensure_ascii=False))
    return str(path)


def test_an_item_downloaded_from_its_page_is_found_in_the_log(
    org: Org, auditor: Auditor, tmp_path: Path
):
    items = five_entries(org)
    version = canonical.CURRENT_VERSION
    revision = source(canonical.REVISION).current(items["second"].pk).content(version)
    tombstone = source(canonical.WITHDRAWAL).current(items["first"].pk).content(version)
    good = record_file(tmp_path, "second.json", 4, revision)
    gone = record_file(tmp_path, "withdrawn.json", 3, tombstone, leaf_index=2)
    done = auditor.run("--index", "0", "--index", "4", "--record", good, "--record", gone)
    assert done.returncode == 0
    assert "index 4:" in done.stdout and "included (inclusion proof verified)" in done.stdout
    assert "matches leaf 3; included" in done.stdout and "matches leaf 2; included" in done.stdout

    altered = record_file(tmp_path, "altered.json", 4, {**revision, "result": "<p>0 元</p>"})
    elsewhere = record_file(tmp_path, "elsewhere.json", 5, revision)
    missing = record_file(tmp_path, "missing.json", 9, revision)
    done = auditor.run(
        "--index", "5", "--record", altered, "--record", elsewhere, "--record", missing
    )
    assert done.returncode == 1
    assert "index 5: leaf 5 is not in the log of 5 leaves" in done.stdout
    assert "record altered.json: its content hashes to" in done.stdout
    assert "leaf 3 (sequence 4) says" in done.stdout
    assert "record elsewhere.json: its content hashes to" in done.stdout
    assert "record missing.json: leaf 8 is not in the log of 5 leaves" in done.stdout


def test_usage_and_network_errors_decide_nothing(tmp_path: Path):
    key = settings.LEDGER_VERIFIER_KEY_FOR_TESTS
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once closed
    done = run_tool(f"http://127.0.0.1:{port}", "--key", key)
    assert done.returncode == 2 and "error:" in done.stderr
    assert run_tool("http://127.0.0.1:1", "--key", "not-a-key").returncode == 2
    assert run_tool("ftp://example.org", "--key", key).returncode == 2
    assert run_tool("http://127.0.0.1:1", "--key", key, "--min-cosignatures", "1").returncode == 2
    (tmp_path / "bad.json").write_text("[]")
    done = run_tool(
        f"http://127.0.0.1:{port}", "--key", key, "--record", str(tmp_path / "bad.json")
    )
    assert done.returncode == 2 and "is not a record" in done.stderr
    disagreeing = record_file(tmp_path, "two.json", 3, {}, leaf_index=5)
    done = run_tool(f"http://127.0.0.1:{port}", "--key", key, "--record", disagreeing)
    assert done.returncode == 2 and "needs one sequence" in done.stderr
