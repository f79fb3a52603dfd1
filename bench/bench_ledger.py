"""The publication ledger as a transparency log at 1,000,000 leaves (issue 15).

Once on SQLite and once on PostgreSQL when a server is reachable (database ``gk_ledgerbench``,
created and dropped), each in a fresh database. A child process (``python -m
bench.bench_ledger measure``, ``config.settings.local`` with the environment of
``bench.harness`` and a fresh signing key) migrates the database and times:

1. **Appending** ``LEDGER_BENCH_LEAVES`` leaves (default 1,000,000) to the ``publication``
   log through ``gongkai.core.tlog.store.append``, 2,000 per call and transaction (what
   ``gongkai.ledger.transparency.integrate`` appends at once). The leaves are real leaf
   data (``transparency.leaf_data`` of unsaved ledger entries: canonical JSON, about 420
   bytes, a valid hash chain), made before each call and not timed. Baseline: the same
   leaves hashed into an in-memory ``MemoryTree`` (the tree work without the database).
2. **Signing a checkpoint** (``signing.sign_checkpoint``: the log's head read, the note
   signed with Ed25519, the row inserted) after each of the last 20 leaves, appended one at
   a time. Baseline: ``notes.sign`` of the same text alone.
3. **Inclusion proofs** at the full size: ``store.inclusion_proof`` for 1,000 random leaves
   (its tiles read in one query, the levels between tile levels rehashed). Baseline: the same
   proofs from the in-memory tree; both are checked equal and verified. Target: median under
   5 ms. Consistency proofs and the HTTP endpoint (test client) are noted.

Then the parent serves the database with gunicorn (4 sync workers, loopback) and times
**the offline verifier**, ``tools/verify_ledger.py`` with the verifier key only, mirroring and
verifying the whole log (every entry bundle and hash tile fetched, the root and every tile
recomputed, the chain and every entry hash checked); a first run also writes the mirror.
Baseline: the same verification of that mirror served as static files by Python's
``http.server`` (the cost of Django and the database per tile removed).

``LEDGER_BENCH_LEAVES=20000 python -m bench.run bench_ledger`` runs it small.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import Measurement
from bench.harness import (
    PG_SERVER,
    ROOT,
    child_json,
    child_main,
    environment,
    free_port,
    gunicorn,
    on_sqlite_and_postgres,
    wait_for,
)

LEAVES = int(os.environ.get("LEDGER_BENCH_LEAVES", "1000000"))
BATCH = 2_000  # leaves per store.append, as transparency.integrate
SIGN_RUNS = 20
PROOFS = 1_000
CONSISTENCY_PROOFS = 200
HTTP_PROOFS = 200
VERIFY_RUNS = int(os.environ.get("LEDGER_BENCH_VERIFY_RUNS", "2"))
PG_DATABASE = "gk_ledgerbench"
ORIGIN = "bench.example/ledger"
TOOL = ROOT / "tools" / "verify_ledger.py"
TARGET_PROOF = 0.005


# --- The parent ----------------------------------------------------------------------------------


def run() -> list[Measurement]:
    return on_sqlite_and_postgres("ledger", f"{PG_SERVER}/{PG_DATABASE}", measure)


def measure(label: str, database_url: str, workdir: Path) -> list[Measurement]:
    from gongkai.core.tlog import notes  # pure: no Django in the parent

    work = workdir / ("pg" if label == "PostgreSQL" else "sqlite")
    work.mkdir(parents=True, exist_ok=True)
    skey, vkey = notes.generate_signer(ORIGIN)
    env = environment(
        database_url,
        work,
        "config.settings.local",
        STATIC_ROOT=str(work / "static"),
        LEDGER_SIGNING_KEY=skey,
        LEDGER_ORIGIN=ORIGIN,
        LEDGER_BENCH_LEAVES=str(LEAVES),
    )
    print(f"  {label}: appending {LEAVES:,} leaves", flush=True)
    r = child_json("bench_ledger", env, "measure", progress=True)
    served = work / "served"
    mirror = served / "ledger" / "log"
    verify: list[float] = []
    peak = 0.0
    with gunicorn(env, workers=4) as server:
        base = f"http://127.0.0.1:{server.port}"
        for i in range(VERIFY_RUNS):
            print(f"  {label}: offline verifier, run {i + 1} (gunicorn)", flush=True)
            extra = ["--mirror", str(mirror)] if i == 0 else []
            seconds, output, rss = verifier(base, vkey, *extra)
            verify.append(seconds)
            peak = max(peak, rss)
    mirror_bytes = sum(p.stat().st_size for p in mirror.rglob("*") if p.is_file())
    static: list[float] = []
    with static_server(served) as port:
        for i in range(VERIFY_RUNS):
            print(f"  {label}: offline verifier, run {i + 1} (static mirror)", flush=True)
            static.append(verifier(f"http://127.0.0.1:{port}", vkey)[0])
    shutil.rmtree(served, ignore_errors=True)
    return measurements(label, r, verify, static, output, mirror_bytes, peak)


def verifier(base: str, vkey: str, *extra: str) -> tuple[float, str, float]:
    """One run of the offline verifier: (seconds, its report, its peak resident memory in
    MB); the report must say OK."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, str(TOOL), base, "--key", vkey, *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        report = out.read().decode("utf-8", "replace")
    if process.returncode != 0 or f"size {LEAVES:,}," not in report:
        raise RuntimeError(f"the verifier failed:\n{report}")
    return seconds, report, usage.ru_maxrss / 1024


@contextlib.contextmanager
def static_server(folder: Path) -> Iterator[int]:
    """Python's http.server serving ``folder`` on a free loopback port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(port, "/ledger/log/checkpoint")
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def measurements(
    label: str,
    r: dict[str, Any],
    verify: list[float],
    static: list[float],
    output: str,
    mirror_bytes: int,
    peak_mb: float,
) -> list[Measurement]:
    total = sum(r["append"])
    proof_median = statistics.median(r["proof"])
    verdict = "met" if proof_median < TARGET_PROOF else "NOT met"
    data = (
        f"{LEAVES:,} leaves of real leaf JSON (mean {r['leaf_bytes']:.0f} bytes), one log; "
        f"{r['tiles']:,} tile rows and {r['bundles']:,} bundle rows"
    )
    return [
        Measurement(
            title=f"Appending {LEAVES:,} leaves to the transparency log ({label})",
            what=(
                f"store.append of {BATCH:,} leaves per call (one transaction: the log's row "
                "locked, the leaves hashed into the tree, the new hash tiles and entry bundles "
                "written, the partial ones extended, the log's size, root and compact range "
                f"saved), {len(r['append'])} calls from an empty log; the time of one call."
            ),
            samples=r["append"],
            baseline=f"the same {BATCH:,} leaves hashed into an in-memory MemoryTree",
            baseline_samples=r["memory"],
            notes={
                "Database": label,
                "Data": data,
                "Total": f"{total:.1f} s for {LEAVES:,} leaves ({LEAVES / total:,.0f} leaves/s)",
                "Database size afterwards": f"{r['db_bytes'] / 2**20:,.0f} MB",
            },
        ),
        Measurement(
            title=f"Signing a checkpoint at {LEAVES:,} leaves ({label})",
            what=(
                "signing.sign_checkpoint after one more leaf was appended: the log's head "
                "read, the checkpoint formatted and signed (Ed25519 signed note), its row "
                "inserted."
            ),
            samples=r["sign"],
            baseline="notes.sign of the same checkpoint text alone (no database)",
            baseline_samples=r["sign_bare"],
            notes={"Database": label, "Runs": f"{SIGN_RUNS}, each at a new size"},
        ),
        Measurement(
            title=f"Inclusion proof at {LEAVES:,} leaves ({label})",
            what=(
                f"store.inclusion_proof for {PROOFS:,} random leaves of the full tree: the "
                "tiles holding the proof's nodes read in one query, the levels between tile "
                "levels rehashed; every proof checked equal to the in-memory tree's and "
                "verified against the root (not timed)."
            ),
            samples=r["proof"],
            baseline="the same proofs from an in-memory MemoryTree of the same leaves",
            baseline_samples=r["proof_memory"],
            notes={
                "Database": label,
                "Data": data,
                "Target": f"median under {ms(TARGET_PROOF)} — {verdict} "
                f"(median {ms(proof_median)})",
                "Consistency proof (store.consistency_proof, random old size), median": ms(
                    statistics.median(r["consistency"])
                ),
                "GET /ledger/proof/inclusion through the test client, median": ms(
                    statistics.median(r["http_proof"])
                ),
            },
        ),
        Measurement(
            title=f"Offline verifier: mirror and verify {LEAVES:,} leaves ({label})",
            what=(
                "tools/verify_ledger.py with the verifier key only, against gunicorn (4 sync "
                "workers) on loopback: the checkpoint's signature checked, every entry bundle "
                "and hash tile fetched (4 requests at a time, a new connection each: sync "
                "workers close it), the tree rebuilt from the leaves and its root and every "
                "tile compared, each leaf parsed and its entry hash recomputed and chained. "
                "The first run also writes the mirror to disk."
            ),
            samples=verify,
            baseline=(
                "the same verification of the mirror served as static files by Python's "
                "http.server (threaded, loopback)"
            ),
            baseline_samples=static,
            notes={
                "Database": label,
                "Requests per run": f"{r['bundles'] + r['tiles'] + 1:,} (checkpoint, "
                f"{r['bundles']:,} entry bundles, {r['tiles']:,} hash tiles)",
                "Mirror on disk": f"{mirror_bytes / 2**20:,.0f} MB",
                "Largest resident memory of a verifier run": f"{peak_mb:,.0f} MB",
                "Verifier's report (last run)": "; ".join(
                    " ".join(line.split())
                    for line in output.splitlines()
                    if line.strip().startswith(("checkpoint:", "leaves:", "chain:", "hash tiles:"))
                ),
                "Caveat": "the verifier, gunicorn and the database share the same 2 cores",
            },
        ),
    ]


# --- The child (Django set up) -------------------------------------------------------------------


def leaf_batch(start: int, count: int, prev_hash: str) -> tuple[list[bytes], str]:
    """Leaves ``start`` to ``start + count`` as the ledger makes them: unsaved ledger entries
    (a chain: each names the previous entry's hash) through transparency.leaf_data."""
    import datetime as dt
    import hashlib

    from gongkai.ledger import canonical, transparency
    from gongkai.ledger.models import LedgerEntry

    first = dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC)
    leaves = []
    for sequence in range(start + 1, start + count + 1):
        withdrawn = sequence % 25 == 0
        entry = LedgerEntry(
            sequence=sequence,
            record_type=canonical.WITHDRAWAL if withdrawn else canonical.REVISION,
            record_id=sequence,
            event="withdraw" if withdrawn else "publish",
            disclosure_id=(sequence + 1) // 2,
            content_hash=hashlib.sha256(f"content {sequence}".encode()).hexdigest(),
            prev_hash=prev_hash,
            recorded_at=first + dt.timedelta(seconds=sequence * 31, microseconds=sequence),
            canonical_version=canonical.CURRENT_VERSION,
        )
        entry.entry_hash = prev_hash = entry.computed_hash()
        placement = {
            "unit": f"bc-{sequence % 10}-{sequence % 7}",
            "entry": "entertainment",
            "revision": None if withdrawn else 1 + sequence % 3,
        }
        leaves.append(transparency.leaf_data(entry, placement))
    return leaves, prev_hash


def child_measure() -> dict[str, Any]:
    import base64
    import random

    from django.db import connection
    from django.test import Client

    from bench.harness import migrated
    from gongkai.core.models import LogBundle, LogTile
    from gongkai.core.tlog import merkle, notes, signing, store
    from gongkai.ledger import canonical, transparency

    migrated()
    log = transparency.LOG
    tree = merkle.MemoryTree()
    append: list[float] = []
    memory: list[float] = []
    prev = canonical.GENESIS_HASH
    leaf_bytes = 0
    bulk = LEAVES - SIGN_RUNS
    started = time.monotonic()
    for start in range(0, bulk, BATCH):
        batch, prev = leaf_batch(start, min(BATCH, bulk - start), prev)
        leaf_bytes += sum(map(len, batch))
        t0 = time.perf_counter()
        store.append(log, lambda size, batch=batch: batch)
        append.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        tree.extend(merkle.leaf_hash(leaf) for leaf in batch)
        memory.append(time.perf_counter() - t0)
        if len(append) % 50 == 0:
            print(
                f"    {start + len(batch):,} leaves, {time.monotonic() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    signer = signing.signer()
    sign: list[float] = []
    sign_bare: list[float] = []
    for start in range(bulk, LEAVES):
        batch, prev = leaf_batch(start, 1, prev)
        leaf_bytes += len(batch[0])
        store.append(log, lambda size, batch=batch: batch)
        tree.append(merkle.leaf_hash(batch[0]))
        t0 = time.perf_counter()
        checkpoint = signing.sign_checkpoint(log, transparency.origin())
        sign.append(time.perf_counter() - t0)
        text = notes.split_note(checkpoint.note)[0]
        t0 = time.perf_counter()
        notes.sign(text, [signer])
        sign_bare.append(time.perf_counter() - t0)
    assert checkpoint.size == LEAVES and bytes(checkpoint.root) == tree.root()

    rng = random.Random(LEAVES)
    indices = [rng.randrange(LEAVES) for _ in range(PROOFS)]
    proof: list[float] = []
    proof_memory: list[float] = []
    root = tree.root()
    store.inclusion_proof(log, 0, LEAVES)  # warm-up
    for index in indices:
        t0 = time.perf_counter()
        stored = store.inclusion_proof(log, index, LEAVES)
        proof.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        in_memory = tree.inclusion_proof(index)
        proof_memory.append(time.perf_counter() - t0)
        assert stored == in_memory
        leaf = store.entry(log, index)
        assert merkle.verify_inclusion(index, LEAVES, merkle.leaf_hash(leaf), stored, root)
    consistency = []
    for _ in range(CONSISTENCY_PROOFS):
        old = rng.randrange(1, LEAVES)
        t0 = time.perf_counter()
        hashes = store.consistency_proof(log, old, LEAVES)
        consistency.append(time.perf_counter() - t0)
        assert merkle.verify_consistency(old, LEAVES, tree.root(old), root, hashes)
    client = Client()
    http_proof = []
    for index in indices[:HTTP_PROOFS]:
        t0 = time.perf_counter()
        response = client.get("/ledger/proof/inclusion", {"index": index, "size": LEAVES})
        http_proof.append(time.perf_counter() - t0)
        assert response.status_code == 200
        assert [base64.b64decode(h) for h in response.json()["hashes"]] == tree.inclusion_proof(
            index
        )

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            db_bytes = cursor.fetchone()[0]
    else:
        db_bytes = Path(connection.settings_dict["NAME"]).stat().st_size
    return {
        "append": append,
        "memory": memory,
        "sign": sign,
        "sign_bare": sign_bare,
        "proof": proof,
        "proof_memory": proof_memory,
        "consistency": consistency,
        "http_proof": http_proof,
        "leaf_bytes": leaf_bytes / LEAVES,
        "tiles": LogTile.objects.filter(log_id=log).count(),
        "bundles": LogBundle.objects.filter(log_id=log).count(),
        "db_bytes": db_bytes,
    }


if __name__ == "__main__":
    import django

    django.setup()
    child_main("bench_ledger", child_measure)
