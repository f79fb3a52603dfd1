"""The backup drill (gongkai.ops.backup): the demo company is backed up with `manage.py
backup` and restored with `manage.py restore` into a fresh database of the same engine (a
new PostgreSQL database, or a new SQLite file), where `manage.py verify_ledger` passes,
every table holds the rows the archive counted, the newest checkpoints are the archived
ones and the media files come back byte for byte. And the refusals: a non-empty
installation, a damaged archive, another engine's archive, a missing file.

The demo is loaded once for the module (about 85 s), outside the per-test transactions
(pg_dump reads it through a connection of its own, which sees only committed rows), and
flushed afterwards. The restores run as `manage.py` in a child process pointed at the fresh
database by DATABASE_URL, with the default storage on a folder of its own (the test
settings keep files in memory, which a child process could not share)."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from gongkai.audit.models import AuditEvent
from gongkai.core.tlog import signing
from gongkai.ops import backup
from tests.conftest import ensure_catalog

# Each test runs in a transaction rolled back after it (the demo stays); the mark also makes
# pytest-django create the test database this module's fixture loads the demo into.
pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
VENDOR = connection.vendor
# Files the demo does not have: uploads of every kind, in folders, with Chinese names.
UPLOADS = {
    "attachments/2026/05/年度经营情况报告.pdf": b"%PDF-1.7\n" + os.urandom(200_000),
    "evidence/patrol/现场照片-01.jpg": b"\xff\xd8\xff\xe0" + os.urandom(50_000),
    "rosters/roster.xlsx": b"PK\x03\x04" + os.urandom(10_000),
    "empty.txt": b"",
}
SETTINGS_MODULE = """\
import os
from config.settings.test import *  # noqa: F403
MEDIA_ROOT = os.environ["BACKUP_DRILL_MEDIA_ROOT"]
STORAGES = {
    **STORAGES,  # noqa: F405
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
}
"""


@dataclass
class Site:
    root: Path
    media: Path
    archive: Path
    output: str
    empty_before_seeding: dict[str, int]
    live_counts: dict[str, int]

    @property
    def manifest(self) -> dict[str, Any]:
        with tarfile.open(self.archive) as tar:
            handle = tar.extractfile(backup.MANIFEST)
            assert handle is not None
            return dict(json.load(handle))


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("backup")
    media = root / "media"
    (root / "archives").mkdir()
    (root / "backup_drill_settings.py").write_text(SETTINGS_MODULE, encoding="utf-8")
    storages = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    with override_settings(MEDIA_ROOT=str(media), STORAGES=storages), django_db_blocker.unblock():
        ensure_catalog()
        with connection.cursor() as cursor:
            empty = backup.occupied_tables(cursor, VENDOR)
        call_command("seed_demo")
        for name, data in UPLOADS.items():
            assert default_storage.save(name, ContentFile(data)) == name
        out = io.StringIO()
        started = time.monotonic()
        call_command("backup", str(root / "archives"), stdout=out)
        took = time.monotonic() - started
        (archive,) = (root / "archives").iterdir()
        print(f"backup took {took:.1f} s, {archive.stat().st_size} bytes")  # for the docs
        with connection.cursor() as cursor:
            counts = backup.table_counts(cursor, VENDOR)
        try:
            yield Site(root, media, archive, out.getvalue(), empty, counts)
        finally:
            call_command("flush", "--noinput")
            ensure_catalog()


# --- Fresh databases and child processes ------------------------------------------------------


@dataclass
class Fresh:
    """A new, empty database of the test's engine and an empty media folder."""

    url: str
    media: Path
    connect: Callable[[], Any]


def pg_params() -> dict[str, str]:
    db = connection.settings_dict
    return {
        "host": db["HOST"] or "localhost",
        "port": str(db["PORT"] or 5432),
        "user": db["USER"] or "",
        "password": db["PASSWORD"] or "",
    }


@pytest.fixture
def fresh(tmp_path) -> Iterator[Fresh]:
    media = tmp_path / "media"
    if VENDOR == "sqlite":
        file = tmp_path / "restored.sqlite3"
        yield Fresh(f"sqlite:///{file}", media, lambda: sqlite3.connect(file))
        return
    params = pg_params()
    name = f"gk_backup_drill_{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "PGPASSWORD": params["password"]}
    where = ["-h", params["host"], "-p", params["port"], "-U", params["user"]]
    subprocess.run(["createdb", *where, name], check=True, env=env)
    auth = f"{params['user']}:{params['password']}@" if params["password"] else f"{params['user']}@"
    try:
        yield Fresh(
            f"postgres://{auth}{params['host']}:{params['port']}/{name}",
            media,
            lambda: psycopg.connect(dbname=name, **params),
        )
    finally:
        subprocess.run(["dropdb", *where, "--if-exists", "--force", name], check=True, env=env)


def manage(site: Site, fresh: Fresh, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": fresh.url,
        "DJANGO_SETTINGS_MODULE": "backup_drill_settings",
        "BACKUP_DRILL_MEDIA_ROOT": str(fresh.media),
        "PYTHONPATH": os.pathsep.join([str(site.root), str(ROOT)]),
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    print(f"manage.py {args[0]} took {time.monotonic() - started:.1f} s")  # for the docs
    return result


def read(fresh: Fresh) -> tuple[dict[str, int], dict[str, backup.Checkpoint], list[str]]:
    """Counts, newest checkpoints and the audit actions (newest first) of the fresh DB."""
    conn = fresh.connect()
    try:
        cursor = conn.cursor()
        counts = backup.table_counts(cursor, VENDOR)
        checkpoints = backup.latest_checkpoints(cursor, VENDOR)
        actions = []
        if "audit_auditevent" in counts:
            cursor.execute("SELECT action FROM audit_auditevent ORDER BY id DESC")
            actions = [row[0] for row in cursor.fetchall()]
        return counts, checkpoints, actions
    finally:
        conn.close()


def files_in(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


def rewrite(
    archive: Path,
    dest: Path,
    *,
    manifest: Callable[[dict[str, Any]], None] | None = None,
    member: tuple[str, bytes] | None = None,
) -> Path:
    """A copy of the archive (uncompressed) with its manifest or one member changed."""
    with tarfile.open(archive) as source, tarfile.open(dest, "w") as out:
        for info in source:
            handle = source.extractfile(info)
            assert handle is not None
            data = handle.read()
            if info.name == backup.MANIFEST and manifest is not None:
                changed = json.loads(data)
                manifest(changed)
                data = json.dumps(changed).encode()
            if member is not None and info.name == member[0]:
                data = member[1]
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return dest


# --- The backup -------------------------------------------------------------------------------


def test_the_archive_is_private_and_its_manifest_counts_the_snapshot(site, django_db_blocker):
    assert site.empty_before_seeding == {}, "a freshly migrated installation counts as empty"
    assert site.archive.stat().st_mode & 0o777 == 0o600
    assert site.archive.name.startswith("gongkai-backup-")
    assert site.archive.name.endswith(".tar.gz")
    manifest = site.manifest
    assert manifest["format"] == backup.FORMAT
    assert manifest["engine"] == VENDOR
    assert manifest["created_at"].endswith("Z")
    assert any(name.startswith("ledger.") for name in manifest["migrations"])
    assert manifest["media"]["files"] == len(UPLOADS)
    # The backup's own audit event was written after the snapshot: the live installation
    # has one event more than the archive, and otherwise every count is the archive's.
    expected = dict(manifest["tables"], audit_auditevent=manifest["tables"]["audit_auditevent"] + 1)
    assert site.live_counts == expected
    assert manifest["tables"]["accounts_user"] > 300
    with django_db_blocker.unblock():
        event = AuditEvent.objects.filter(action=backup.ACTION_BACKUP).get()
        newest = {
            log: cp.size
            for log, cp in backup.latest_checkpoints(connection.cursor(), VENDOR).items()
        }
    assert event.after["sha256"] == backup.file_sha256(site.archive)
    checkpoints = manifest["ledger"]["checkpoints"]
    assert checkpoints["publication"]["size"] > 300
    assert {log: cp["size"] for log, cp in checkpoints.items()} == newest
    # What was printed: the file, the tables, the files, the checkpoint.
    assert f"Wrote {site.archive}" in site.output
    assert f"{len(manifest['tables'])} tables" in site.output
    assert f"{len(UPLOADS)} files" in site.output
    assert f"checkpoint of {checkpoints['publication']['size']} entries" in site.output
    assert "SECRET_KEY" in site.output


def test_the_archive_holds_no_secret(site):
    # PRIVATE+KEY+<name>+<id>+<key>: the key's own base64 (which may hold "+" itself).
    private = settings.LEDGER_SIGNING_KEY.split("+", 4)[4].encode()
    witness = settings.LEDGER_WITNESS_KEY.split("+", 4)[4].encode()
    with tarfile.open(site.archive) as tar:
        names = tar.getnames()
        for name in names:
            handle = tar.extractfile(name)
            assert handle is not None
            data = handle.read()
            if name != "database.pgdump":  # compressed by pg_dump: nothing to find in it
                for secret in (private, witness, settings.SECRET_KEY.encode()):
                    assert secret not in data, name
    assert set(names) == {
        backup.DATABASE_MEMBERS[VENDOR],
        *(backup.MEDIA + name for name in UPLOADS),
        backup.VERIFIER_KEYS,
        # the publication log's newest checkpoint, and the audit log's once one is signed
        *(cp["member"] for cp in site.manifest["ledger"]["checkpoints"].values()),
        backup.MANIFEST,
    }
    assert "ledger/checkpoint-publication.txt" in names
    with tarfile.open(site.archive) as tar:
        keys = tar.extractfile(backup.VERIFIER_KEYS)
        assert keys is not None
        assert keys.read().decode().split() == [signing.verifier_key()]


# --- The drill --------------------------------------------------------------------------------


def test_the_drill_restores_into_a_freshly_migrated_installation(site, fresh):
    migrated = manage(site, fresh, "migrate", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    restored = manage(site, fresh, "restore", str(site.archive))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "every count matches the archive" in restored.stdout
    assert "verification passed" in restored.stdout

    verified = manage(site, fresh, "verify_ledger")
    manifest = site.manifest
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert str(manifest["tables"]["ledger_ledgerentry"]) in verified.stdout  # entries checked

    counts, checkpoints, actions = read(fresh)
    # The restore's audit event is written after its checks: one event more.
    assert actions[0] == backup.ACTION_RESTORE
    counts["audit_auditevent"] -= 1
    assert counts == manifest["tables"]
    archived = manifest["ledger"]["checkpoints"]
    assert {log: cp.sha256 for log, cp in checkpoints.items()} == {
        log: cp["sha256"] for log, cp in archived.items()
    }
    with tarfile.open(site.archive) as tar:
        note = tar.extractfile("ledger/checkpoint-publication.txt")
        assert note is not None
        assert checkpoints["publication"].note == note.read().decode()
    assert files_in(fresh.media) == files_in(site.media) == UPLOADS


def test_a_database_with_no_tables_takes_it_and_a_second_restore_is_refused(site, fresh):
    first = manage(site, fresh, "restore", "--quiet", str(site.archive))
    assert first.returncode == 0, first.stdout + first.stderr
    before = read(fresh)

    again = manage(site, fresh, "restore", str(site.archive))
    assert again.returncode == 1
    assert "this installation is not empty" in again.stderr
    assert read(fresh) == before, "nothing was touched"


# --- Refusals ---------------------------------------------------------------------------------


def test_a_non_empty_installation_is_refused(site, django_db_blocker):
    with django_db_blocker.unblock():
        with pytest.raises(CommandError, match="this installation is not empty"):
            call_command("restore", str(site.archive))
        with connection.cursor() as cursor:
            assert backup.table_counts(cursor, VENDOR) == site.live_counts


def test_a_damaged_archive_is_refused_before_anything_is_touched(site, fresh, tmp_path):
    damaged = tmp_path / "damaged.tar.gz"
    data = bytearray(site.archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))

    result = manage(site, fresh, "restore", str(damaged))
    assert result.returncode == 1
    assert "damaged" in result.stderr
    assert "Traceback" not in result.stderr
    counts, _checkpoints, _actions = read(fresh)
    assert counts == {}, "no table was created"
    assert not fresh.media.exists() or files_in(fresh.media) == {}


def test_a_changed_member_is_named(site, tmp_path, django_db_blocker):
    name = backup.MEDIA + "evidence/patrol/现场照片-01.jpg"
    changed = bytearray(UPLOADS["evidence/patrol/现场照片-01.jpg"])
    changed[100] ^= 0x01
    tampered = rewrite(site.archive, tmp_path / "tampered.tar", member=(name, bytes(changed)))
    with django_db_blocker.unblock(), pytest.raises(CommandError) as refused:
        call_command("restore", str(tampered))
    assert "damaged" in str(refused.value)
    assert name in str(refused.value)


def test_another_engines_archive_is_refused(site, tmp_path, django_db_blocker):
    other = "sqlite" if VENDOR == "postgresql" else "postgresql"

    def swap(manifest: dict[str, Any]) -> None:
        manifest["engine"] = other

    archive = rewrite(site.archive, tmp_path / "other.tar", manifest=swap)
    with django_db_blocker.unblock(), pytest.raises(CommandError) as refused:
        call_command("restore", str(archive))
    message = str(refused.value)
    assert f"holds a {backup.ENGINE_NAMES[other]} database" in message
    assert f"runs {backup.ENGINE_NAMES[VENDOR]}" in message


def test_a_missing_file_is_named(tmp_path, django_db_blocker):
    missing = tmp_path / "no-such-backup.tar.gz"
    with django_db_blocker.unblock():
        with pytest.raises(CommandError, match="no such archive file"):
            call_command("restore", str(missing))
        with pytest.raises(CommandError, match="is not a directory"):
            call_command("backup", str(tmp_path / "no-such-folder" / "x.tar.gz"))
