"""Backups and restores of an installation: one archive file that holds everything the
database and the default storage hold, with a manifest that says what it holds, and the
restore that puts it into an empty installation and proves that it came back whole.

**The archive** is a tar file (gzip-compressed when its name ends in ``.gz`` or ``.tgz``;
the default name does) whose members are:

- ``database.pgdump`` (PostgreSQL: ``pg_dump`` custom format) or ``database.sqlite3``
  (SQLite: a copy made with the online backup API, ``sqlite3.Connection.backup``);
- ``media/<name>``: every file of the default storage (uploads, attachments, evidence, the
  files of jobs), read through the storage API, so any storage backend is backed up alike;
- ``ledger/verifier-keys.txt``: the verifier (public) keys the checkpoints are signed with;
- ``ledger/checkpoint-<log>.txt``: the newest signed checkpoint of the publication log and
  of the audit log, as the snapshot holds them;
- ``manifest.json``, the last member: format, gongkai version, time (UTC), engine, applied
  migrations, every table's row count, and the SHA-256 and size of every other member.

**Consistency.** The counts, migrations and checkpoints in the manifest are read from the
very snapshot that is archived: on PostgreSQL a REPEATABLE READ transaction exports its
snapshot and ``pg_dump --snapshot`` dumps that one, while the counts are read in the same
transaction; on SQLite the online backup copies the database in one step (a consistent read)
and the counts are read from the copy. The site may keep running meanwhile. Media files are
read after the snapshot: a file uploaded meanwhile is included without a row naming it
(harmless), and a file deleted meanwhile (a draft's attachment removed) is missing.

**Never in the archive**: the checkpoint signing key (``LEDGER_SIGNING_KEY`` or its file),
the witness key, ``SECRET_KEY`` and any other setting from the environment. Whoever holds
the signing key can sign checkpoints, so it must not travel with a copy of the database; it
is backed up apart, once (it does not change), like ``SECRET_KEY``.

**Restore** reads every member and checks it against the manifest before touching
anything; it refuses an archive of the other engine, an archive whose migrations this code
does not know, and a target that is not empty (see :func:`occupied_tables`: a freshly
migrated installation is empty, and so is a database with no tables at all). The whole
database is replaced by the archived one (schema and rows; on PostgreSQL ``pg_restore
--clean --if-exists --single-transaction``, on SQLite the backup API into the configured
database), the media files are written through the storage, and then the restored
installation is checked: every table's count against the manifest, the newest checkpoints
against the archived ones (and their signatures against the archived verifier keys), and the
ledger's and the audit log's verification (``manage.py verify_ledger``'s logic).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from gongkai.audit import transparency as audit_log
from gongkai.audit.services import record_event
from gongkai.audit.verification import verify_audit_log
from gongkai.core.models import LogCheckpoint
from gongkai.core.tlog import notes, signing
from gongkai.ledger import transparency as publication_log
from gongkai.ledger.verification import ledger_verify

FORMAT = "gongkai-backup/1"
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
ENGINE_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
MEDIA = "media/"
VERIFIER_KEYS = "ledger/verifier-keys.txt"
LOGS = (publication_log.LOG, audit_log.LOG)
CHUNK = 1024 * 1024
SPOOL = 8 * 1024 * 1024  # a media file up to this size is copied in memory on its way in
# What the archive never holds, said in the manifest, the command's help and its output.
NOT_INCLUDED = (
    "the checkpoint signing key (LEDGER_SIGNING_KEY or LEDGER_SIGNING_KEY_FILE)",
    "the witness key (LEDGER_WITNESS_KEY or LEDGER_WITNESS_KEY_FILE)",
    "SECRET_KEY and the other settings of the environment",
)
# Tables a fresh `migrate` fills: Django's bookkeeping and the reference data of the data
# migrations (the working-day calendar, the disclosure catalog). Rows there do not make an
# installation "not empty"; rows anywhere else do.
FILLED_BY_MIGRATE = frozenset(
    {
        "django_migrations",
        "django_content_type",
        "auth_permission",
        "core_calendarday",
        "disclosure_category",
        "disclosure_catalogentry",
        "disclosure_catalogrule",
    }
)
# Audit action codes (named in gongkai/ops/labels.py).
ACTION_BACKUP = "ops.backup_written"
ACTION_RESTORE = "ops.restored"


class BackupError(Exception):
    """Something an operator must be told in one sentence (the commands print it and exit
    with status 1); never a traceback."""


class DamagedArchive(BackupError):
    """The archive is not what its manifest says: nothing was touched."""


class RestoreRefused(BackupError):
    """The archive is sound but may not be restored here: nothing was touched."""


# --- Reading a database: tables, counts, migrations, checkpoints ------------------------------


def engine() -> str:
    """``postgresql`` or ``sqlite``: the engine of the configured database."""
    vendor = connection.vendor
    if vendor not in DATABASE_MEMBERS:
        raise BackupError(f"backups support PostgreSQL and SQLite, not {vendor}")
    return vendor


def list_tables(cursor: Any, vendor: str) -> list[str]:
    """The ordinary tables of the database (on SQLite not the virtual full-text table, whose
    rows live in its shadow tables, which are listed)."""
    if vendor == "postgresql":
        cursor.execute(
            "SELECT c.relname FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() ORDER BY 1"
        )
    else:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY 1"
        )
    return [row[0] for row in cursor.fetchall()]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_counts(cursor: Any, vendor: str) -> dict[str, int]:
    """Every table's row count, by table name."""
    counts: dict[str, int] = {}
    for table in list_tables(cursor, vendor):
        cursor.execute(f"SELECT count(*) FROM {quote(table)}")  # noqa: S608 (a table name)
        counts[table] = int(cursor.fetchone()[0])
    return counts


def applied_migrations(cursor: Any, vendor: str) -> list[str]:
    """``app.name`` of every applied migration (none when there is no migrations table)."""
    if "django_migrations" not in list_tables(cursor, vendor):
        return []
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    return [f"{app}.{name}" for app, name in cursor.fetchall()]


@dataclass(frozen=True)
class Checkpoint:
    """A log's newest signed checkpoint as a snapshot holds it."""

    log: str
    size: int
    root: bytes
    note: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.note.encode("utf-8")).hexdigest()

    @property
    def member(self) -> str:
        return f"ledger/checkpoint-{self.log}.txt"


def latest_checkpoints(cursor: Any, vendor: str) -> dict[str, Checkpoint]:
    """The newest checkpoint of each log (publication, audit) that has one."""
    table = LogCheckpoint._meta.db_table
    if table not in list_tables(cursor, vendor):
        return {}
    found: dict[str, Checkpoint] = {}
    placeholder = "%s" if vendor == "postgresql" else "?"
    for log in LOGS:
        cursor.execute(
            f"SELECT size, root, note FROM {quote(table)} WHERE log_id = {placeholder} "  # noqa: S608
            "ORDER BY size DESC LIMIT 1",
            (log,),
        )
        row = cursor.fetchone()
        if row is not None:
            found[log] = Checkpoint(log, int(row[0]), bytes(row[1]), str(row[2]))
    return found


def fts_shadow_tables(cursor: Any, vendor: str) -> set[str]:
    """SQLite's full-text index keeps its own bookkeeping rows in shadow tables even when
    nothing is indexed: they are derived from the search documents, never data of their own."""
    if vendor != "sqlite":
        return set()
    cursor.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")
    return {
        f"{row[0]}_{suffix}"
        for row in cursor.fetchall()
        for suffix in ("data", "idx", "config", "docsize", "content")
    }


def occupied_tables(cursor: Any, vendor: str) -> dict[str, int]:
    """The tables with rows that make an installation not empty: every table with a row,
    except those a fresh ``migrate`` fills (:data:`FILLED_BY_MIGRATE`) and SQLite's
    full-text bookkeeping (:func:`fts_shadow_tables`)."""
    counts = table_counts(cursor, vendor)
    ignored = FILLED_BY_MIGRATE | fts_shadow_tables(cursor, vendor)
    return {table: n for table, n in counts.items() if n and table not in ignored}


# --- Snapshots --------------------------------------------------------------------------------


@dataclass
class Snapshot:
    """A consistent copy of the database in a file, with what the manifest says of it."""

    vendor: str
    file: Path
    server_version: str
    tool: str
    tables: dict[str, int]
    migrations: list[str]
    checkpoints: dict[str, Checkpoint]


def pg_major() -> int:
    connection.ensure_connection()
    return int(connection.pg_version) // 10000  # type: ignore[attr-defined]


def pg_tool(name: str, major: int) -> str:
    """The path of ``pg_dump`` or ``pg_restore`` of the server's major version: the Debian
    and Red Hat places for that version first, then the PATH. A client of another major
    version is refused (pg_dump refuses a newer server; an older pg_restore may not read a
    newer dump; a newer pg_dump may write what the server cannot restore)."""
    candidates = [
        Path(f"/usr/lib/postgresql/{major}/bin/{name}"),
        Path(f"/usr/pgsql-{major}/bin/{name}"),
    ]
    found = [str(p) for p in candidates if p.is_file() and os.access(p, os.X_OK)]
    on_path = shutil.which(name)
    if on_path:
        found.append(on_path)
    seen: list[str] = []
    for path in found:
        version = tool_version(path)
        if version and int(version.split(".")[0]) == major:
            return path
        seen.append(f"{path} ({version or 'unknown version'})")
    raise BackupError(
        f"no {name} of PostgreSQL {major} (the server's major version) was found"
        + (f"; found {', '.join(seen)}" if seen else "")
        + f": install postgresql-client-{major}"
    )


def tool_version(path: str) -> str:
    result = subprocess.run(  # noqa: S603 (a fixed program and argument)
        [path, "--version"], capture_output=True, text=True, check=False, timeout=30
    )
    match = re.search(r"(\d+(?:\.\d+)*)", result.stdout)
    return match.group(1) if match else ""


def pg_env() -> dict[str, str]:
    """The environment for pg_dump and pg_restore: the connection from Django's DATABASES,
    the password in PGPASSWORD (never on a command line, which other users may read)."""
    db = connection.settings_dict
    env = dict(os.environ)
    pairs = {
        "PGHOST": db.get("HOST"),
        "PGPORT": db.get("PORT"),
        "PGUSER": db.get("USER"),
        "PGPASSWORD": db.get("PASSWORD"),
        "PGDATABASE": db.get("NAME"),
    }
    options = db.get("OPTIONS") or {}
    for option, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
        ("service", "PGSERVICE"),
        ("passfile", "PGPASSFILE"),
    ):
        pairs[variable] = options.get(option)
    for variable, value in pairs.items():
        if value not in (None, ""):
            env[variable] = str(value)
    return env


def run_tool(args: Sequence[str], what: str) -> None:
    result = subprocess.run(  # noqa: S603 (our own arguments, no shell)
        list(args), env=pg_env(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{what} failed (exit {result.returncode}): {result.stderr.strip()}")


def snapshot_postgresql(directory: Path) -> Snapshot:
    """``pg_dump`` of the database in custom format, of a snapshot exported by a REPEATABLE
    READ transaction in which the counts, migrations and checkpoints are read too."""
    major = pg_major()
    dump = pg_tool("pg_dump", major)
    file = directory / DATABASE_MEMBERS["postgresql"]
    raw = connection.get_new_connection(connection.get_connection_params())
    try:
        raw.autocommit = True
        with raw.cursor() as cursor:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursor.execute("SELECT pg_catalog.pg_export_snapshot()")
            snapshot_id = cursor.fetchone()[0]
            tables = table_counts(cursor, "postgresql")
            migrations = applied_migrations(cursor, "postgresql")
            checkpoints = latest_checkpoints(cursor, "postgresql")
            run_tool(
                [
                    dump,
                    "--format=custom",
                    f"--snapshot={snapshot_id}",
                    "--no-password",
                    f"--file={file}",
                ],
                "pg_dump",
            )
            cursor.execute("COMMIT")
    finally:
        raw.close()
    return Snapshot(
        vendor="postgresql",
        file=file,
        server_version=str(connection.pg_version),  # type: ignore[attr-defined]
        tool=f"pg_dump {tool_version(dump)}",
        tables=tables,
        migrations=migrations,
        checkpoints=checkpoints,
    )


def snapshot_sqlite(directory: Path) -> Snapshot:
    """A copy of the database by the online backup API, in one step (a consistent read while
    the site writes), turned into a self-contained file (rollback journal, not WAL); the
    counts are read from the copy."""
    file = directory / DATABASE_MEMBERS["sqlite"]
    connection.ensure_connection()
    source = connection.connection
    target = sqlite3.connect(file)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
        cursor = target.cursor()
        tables = table_counts(cursor, "sqlite")
        migrations = applied_migrations(cursor, "sqlite")
        checkpoints = latest_checkpoints(cursor, "sqlite")
    finally:
        target.close()
    return Snapshot(
        vendor="sqlite",
        file=file,
        server_version=sqlite3.sqlite_version,
        tool=f"sqlite3 backup API {sqlite3.sqlite_version}",
        tables=tables,
        migrations=migrations,
        checkpoints=checkpoints,
    )


def take_snapshot(directory: Path) -> Snapshot:
    if engine() == "postgresql":
        return snapshot_postgresql(directory)
    return snapshot_sqlite(directory)


# --- Media ------------------------------------------------------------------------------------


def media_names(storage: Storage, directory: str = "") -> Iterator[str]:
    """Every file name in ``storage``, depth first, in name order."""
    try:
        directories, files = storage.listdir(directory)
    except FileNotFoundError:
        return
    prefix = f"{directory}/" if directory else ""
    for name in sorted(files):
        yield prefix + name
    for sub in sorted(directories):
        yield from media_names(storage, prefix + sub)


# --- Writing ----------------------------------------------------------------------------------


@dataclass
class Written:
    """An archive as written: where, how big, and its manifest."""

    path: Path
    size: int
    sha256: str
    manifest: dict[str, Any]

    @property
    def media_files(self) -> int:
        return int(self.manifest["media"]["files"])


def gongkai_version() -> str:
    try:
        return metadata.version("gongkai")
    except metadata.PackageNotFoundError:
        return "unknown"


def compressed(path: Path) -> bool:
    return path.name.endswith((".gz", ".tgz"))


def archive_path(dest: Path, created: datetime) -> Path:
    """DEST itself, or in a directory DEST a name with the time (UTC)."""
    if dest.is_dir():
        return dest / f"gongkai-backup-{created:%Y%m%dT%H%M%SZ}.tar.gz"
    if not dest.parent.is_dir():
        raise BackupError(f"{dest.parent} is not a directory")
    return dest


class _Hashing:
    """A writable file that hashes and counts what passes."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.out.write(data)


def _member(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(mtime)
    return info


def _add(
    tar: tarfile.TarFile,
    members: dict[str, dict[str, Any]],
    name: str,
    source: IO[bytes],
    mtime: float,
) -> None:
    """Add ``source`` (any readable file) as member ``name``: copied into a spooled file on
    the way, so its size and hash are those of exactly the bytes archived."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
        hashing = _Hashing(spool)
        shutil.copyfileobj(source, hashing, CHUNK)
        spool.seek(0)
        tar.addfile(_member(name, hashing.size, mtime), spool)
    members[name] = {"sha256": hashing.digest.hexdigest(), "size": hashing.size}


def write_archive(dest: Path, *, storage: Storage | None = None) -> Written:
    """Write the archive to ``dest`` (a file, or a directory for a timestamped name):
    written to a temporary file beside it (mode 0600) and moved into place when complete, so
    a backup interrupted half-way leaves no file that looks like one. An existing file is
    never overwritten. An audit event records it."""
    storage = storage or default_storage
    created = datetime.now(UTC).replace(microsecond=0)
    path = archive_path(Path(dest), created)
    if path.exists():
        raise BackupError(f"{path} exists already: give another name")
    fd, partial_name = tempfile.mkstemp(
        prefix=".gongkai-backup-", suffix=".partial", dir=path.parent
    )
    partial = Path(partial_name)
    try:
        with os.fdopen(fd, "wb") as out, tempfile.TemporaryDirectory() as work:
            snapshot = take_snapshot(Path(work))
            manifest = _fill_archive(out, snapshot, created, storage, compressed(path))
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(partial, path)  # fails if the name was taken meanwhile
        except FileExistsError:
            raise BackupError(f"{path} exists already: give another name") from None
    finally:
        partial.unlink(missing_ok=True)
    _sync_directory(path.parent)
    size, digest = path.stat().st_size, file_sha256(path)
    written = Written(path=path, size=size, sha256=digest, manifest=manifest)
    record_event(
        actor=None,
        action=ACTION_BACKUP,
        target_label=path.name,
        after={
            "file": str(path),
            "size": size,
            "sha256": digest,
            "engine": snapshot.vendor,
            "tables": len(snapshot.tables),
            "rows": sum(snapshot.tables.values()),
            "files": written.media_files,
            "checkpoint": {log: cp.size for log, cp in snapshot.checkpoints.items()},
        },
    )
    return written


def _fill_archive(
    out: IO[bytes], snapshot: Snapshot, created: datetime, storage: Storage, gz: bool
) -> dict[str, Any]:
    members: dict[str, dict[str, Any]] = {}
    media_bytes = 0
    with tarfile.open(fileobj=out, mode="w:gz" if gz else "w", format=tarfile.PAX_FORMAT) as tar:
        at = created.timestamp()
        with snapshot.file.open("rb") as db:
            _add(tar, members, DATABASE_MEMBERS[snapshot.vendor], db, at)
        files = 0
        for name in media_names(storage):
            with storage.open(name, "rb") as handle:
                _add(tar, members, MEDIA + name, handle, at)
            files += 1
            media_bytes += members[MEDIA + name]["size"]
        keys = [key.encode() for key in signing.published_verifiers()]
        listing = io.BytesIO("".join(key + "\n" for key in keys).encode())
        _add(tar, members, VERIFIER_KEYS, listing, at)
        for checkpoint in snapshot.checkpoints.values():
            note = io.BytesIO(checkpoint.note.encode("utf-8"))
            _add(tar, members, checkpoint.member, note, at)
        manifest = {
            "format": FORMAT,
            "gongkai_version": gongkai_version(),
            "created_at": created.isoformat().replace("+00:00", "Z"),
            "engine": snapshot.vendor,
            "server_version": snapshot.server_version,
            "tool": snapshot.tool,
            "database": DATABASE_MEMBERS[snapshot.vendor],
            "migrations": snapshot.migrations,
            "tables": snapshot.tables,
            "media": {
                "storage": storage_backend(storage),
                "files": files,
                "bytes": media_bytes,
            },
            "ledger": {
                "verifier_keys": keys,
                "checkpoints": {
                    log: {
                        "member": cp.member,
                        "size": cp.size,
                        "root": cp.root.hex(),
                        "sha256": cp.sha256,
                    }
                    for log, cp in snapshot.checkpoints.items()
                },
            },
            "not_included": list(NOT_INCLUDED),
            "members": members,
        }
        data = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True).encode()
        tar.addfile(_member(MANIFEST, len(data), at), io.BytesIO(data))
    return manifest


def storage_backend(storage: Storage) -> str:
    """The storage's class, as STORAGES names it."""
    if storage is default_storage:
        return str(settings.STORAGES["default"]["BACKEND"])
    return f"{type(storage).__module__}.{type(storage).__qualname__}"


def _sync_directory(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- Reading and checking ---------------------------------------------------------------------


def _safe_name(name: str) -> bool:
    """A member name that stays inside the archive's own tree."""
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name


def open_archive(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BackupError(f"{path}: no such archive file")
    try:
        return tarfile.open(path, mode="r:*")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as broken:
        raise DamagedArchive(f"{path} is not a readable backup archive: {broken}") from None


def verify_archive(path: Path) -> dict[str, Any]:
    """Read every member and check it against the manifest: its name, that it is listed,
    its size and SHA-256; that every listed member is there; the manifest's format. The
    manifest when all is well; DamagedArchive naming what is wrong otherwise."""
    hashes: dict[str, tuple[str, int]] = {}
    manifest_bytes: bytes | None = None
    with open_archive(path) as tar:
        try:
            for member in tar:
                if not member.isfile() or not _safe_name(member.name):
                    raise DamagedArchive(
                        f"{path}: unexpected member {member.name!r} (not a plain file inside)"
                    )
                if member.name in hashes or (member.name == MANIFEST and manifest_bytes):
                    raise DamagedArchive(f"{path}: member {member.name!r} appears twice")
                handle = _member_file(tar, member)
                if member.name == MANIFEST:
                    manifest_bytes = handle.read()
                    continue
                hasher = hashlib.sha256()
                while chunk := handle.read(CHUNK):
                    hasher.update(chunk)
                hashes[member.name] = (hasher.hexdigest(), member.size)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as broken:
            raise DamagedArchive(
                f"{path} is damaged (cannot be read to its end): {broken}"
            ) from None
    if manifest_bytes is None:
        raise DamagedArchive(f"{path} has no {MANIFEST}: not a gongkai backup, or cut short")
    try:
        manifest = json.loads(manifest_bytes)
        listed: dict[str, Any] = manifest["members"]
        if manifest["format"] != FORMAT:
            raise DamagedArchive(
                f"{path} is of format {manifest['format']!r}; this version reads {FORMAT!r}"
            )
    except (ValueError, KeyError, TypeError) as broken:
        raise DamagedArchive(f"{path}: the manifest is unreadable ({broken})") from None
    wrong = []
    for name, (digest, size) in hashes.items():
        expected = listed.get(name)
        if expected is None:
            wrong.append(f"{name}: not in the manifest")
        elif expected.get("sha256") != digest or expected.get("size") != size:
            wrong.append(f"{name}: SHA-256 {digest[:16]}… differs from the manifest's")
    wrong += [f"{name}: missing" for name in listed if name not in hashes]
    if wrong:
        raise DamagedArchive(
            f"{path} is damaged; nothing was restored: " + "; ".join(sorted(wrong)[:10])
        )
    return dict(manifest)


# --- Restoring --------------------------------------------------------------------------------


@dataclass
class Restored:
    """What a restore did and what its checks found."""

    manifest: dict[str, Any]
    files: int = 0
    count_mismatches: list[str] = field(default_factory=list)
    checkpoint_problems: list[str] = field(default_factory=list)
    ledger_problems: list[str] = field(default_factory=list)
    migrate_needed: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [*self.count_mismatches, *self.checkpoint_problems, *self.ledger_problems]

    @property
    def ok(self) -> bool:
        return not self.problems


def known_migrations() -> set[str]:
    loader = MigrationLoader(None, ignore_no_migrations=True, load=True)
    return {f"{app}.{name}" for app, name in loader.disk_migrations}


def check_target(manifest: Mapping[str, Any], storage: Storage) -> list[str]:
    """Refuse (RestoreRefused) unless this installation may take the archive: the same
    engine, migrations this code knows, an empty database and no archived file already in
    the storage. → the migrations this code has beyond the archive's (run ``migrate``)."""
    vendor = engine()
    archived = manifest["engine"]
    if archived != vendor:
        raise RestoreRefused(
            f"the archive holds a {ENGINE_NAMES.get(archived, archived)} database and this "
            f"installation runs {ENGINE_NAMES[vendor]}: a backup is restored into the engine "
            f"it was made from (set DATABASE_URL to a {ENGINE_NAMES.get(archived, archived)} "
            "database)"
        )
    if vendor == "postgresql" and int(manifest["server_version"]) // 10000 > pg_major():
        raise RestoreRefused(
            f"the archive was dumped from PostgreSQL {int(manifest['server_version']) // 10000}"
            f", newer than this server ({pg_major()}): restore into a server of that version"
        )
    archived_migrations = set(manifest["migrations"])
    unknown = archived_migrations - known_migrations()
    if unknown:
        raise RestoreRefused(
            f"the archive (gongkai {manifest['gongkai_version']}) has migrations this code "
            f"does not know: {', '.join(sorted(unknown)[:5])}; install that version or newer"
        )
    with connection.cursor() as cursor:
        applied = set(applied_migrations(cursor, vendor))
        occupied = occupied_tables(cursor, vendor)
    if occupied:
        named = ", ".join(f"{t} ({n})" for t, n in sorted(occupied.items())[:8])
        raise RestoreRefused(
            f"this installation is not empty ({len(occupied)} tables with rows: {named}); "
            "restore into a new, empty database"
        )
    ahead = applied - archived_migrations
    if ahead:
        raise RestoreRefused(
            "this database has migrations the archive has not "
            f"({', '.join(sorted(ahead)[:5])}): restore into a database with no tables"
        )
    media = [n[len(MEDIA) :] for n in manifest["members"] if n.startswith(MEDIA)]
    taken = [name for name in media if storage.exists(name)]
    if taken:
        raise RestoreRefused(
            f"the storage holds {len(taken)} of the archive's files already "
            f"(e.g. {taken[0]}): restore into an empty MEDIA_ROOT"
        )
    return sorted(known_migrations() - archived_migrations)


def _extract(handle: IO[bytes], name: str, expected: str, out: IO[bytes]) -> None:
    """Copy a member out, checking its hash again (the file could have changed since it was
    verified)."""
    hashing = _Hashing(out)
    shutil.copyfileobj(handle, hashing, CHUNK)
    if hashing.digest.hexdigest() != expected:
        raise DamagedArchive(f"{name} changed since the archive was checked; nothing restored")


def restore_database(file: Path, vendor: str) -> None:
    """Replace the configured database by the archived one."""
    if vendor == "postgresql":
        tool = pg_tool("pg_restore", pg_major())
        connection.close()  # pg_restore drops and creates tables: no session of ours open
        run_tool(
            [
                tool,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                "--no-password",
                f"--dbname={connection.settings_dict['NAME']}",
                str(file),
            ],
            "pg_restore",
        )
    else:
        connection.ensure_connection()
        source = sqlite3.connect(file)
        try:
            source.backup(connection.connection)
        except sqlite3.Error as error:
            raise BackupError(f"the SQLite backup API could not restore: {error}") from None
        finally:
            source.close()
    connection.close()  # the next query starts afresh on the restored database


def restore_members(path: Path, manifest: Mapping[str, Any], storage: Storage) -> int:
    """One pass over the archive (its members are in the order written: the database first,
    then the media files): the database is restored when its member has been copied out,
    each media file is written through the storage. → the number of media files."""
    members: Mapping[str, Any] = manifest["members"]
    database = manifest["database"]
    files = 0
    restored = False
    try:
        with tarfile.open(path, mode="r|*") as tar, tempfile.TemporaryDirectory() as work:
            for member in tar:
                if member.name == database:
                    file = Path(work) / database
                    with file.open("wb") as out:
                        _extract(
                            _member_file(tar, member), database, members[database]["sha256"], out
                        )
                    restore_database(file, manifest["engine"])
                    file.unlink()
                    restored = True
                elif member.name.startswith(MEDIA):
                    if not restored:
                        raise DamagedArchive(f"{path}: a media file comes before the database")
                    name = member.name[len(MEDIA) :]
                    with tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
                        expected = members[member.name]["sha256"]
                        _extract(_member_file(tar, member), member.name, expected, spool)
                        spool.seek(0)
                        saved = storage.save(name, File(spool, name=name))
                    if saved != name:
                        raise BackupError(f"the storage saved {name} as {saved}")
                    files += 1
    except (tarfile.TarError, OSError, EOFError, zlib.error) as broken:
        raise DamagedArchive(f"{path} could not be read again: {broken}") from None
    if not restored:
        raise DamagedArchive(f"{path} has no database member")
    return files


def _member_file(tar: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    handle = tar.extractfile(member)
    if handle is None:
        raise DamagedArchive(f"{member.name} is not a file")
    return handle


def check_restored(restored: Restored) -> None:
    """Counts, checkpoints, the ledger's and the audit log's verification."""
    manifest = restored.manifest
    vendor = manifest["engine"]
    with connection.cursor() as cursor:
        counts = table_counts(cursor, vendor)
        checkpoints = latest_checkpoints(cursor, vendor)
    expected: dict[str, int] = manifest["tables"]
    for table in sorted(set(expected) | set(counts)):
        if expected.get(table) != counts.get(table):
            restored.count_mismatches.append(
                f"{table}: {counts.get(table, 'missing')} rows, the archive had "
                f"{expected.get(table, 'none')}"
            )
    keys = []
    for key in manifest["ledger"]["verifier_keys"]:
        with contextlib.suppress(notes.NoteError, ValueError):
            keys.append(notes.parse_verifier(key))
    archived: dict[str, Any] = manifest["ledger"]["checkpoints"]
    for log in sorted(set(archived) | set(checkpoints)):
        now = checkpoints.get(log)
        was = archived.get(log)
        if now is None or was is None or now.sha256 != was["sha256"]:
            restored.checkpoint_problems.append(
                f"the {log} log's newest checkpoint (size {now.size if now else 'none'}) is "
                f"not the archived one (size {was['size'] if was else 'none'})"
            )
        elif keys and signing.open_signed(now.note, keys) is None:
            restored.checkpoint_problems.append(
                f"the {log} checkpoint is not signed by an archived verifier key"
            )
    restored.ledger_problems = [str(p) for p in [*ledger_verify(), *verify_audit_log()]]


def restore_archive(path: Path, *, storage: Storage | None = None) -> Restored:
    """Check the archive, check this installation, restore the database and the media,
    check the result; an audit event records the restore (written after the checks, so they
    compare the archive's own rows)."""
    storage = storage or default_storage
    manifest = verify_archive(path)
    restored = Restored(manifest=manifest)
    restored.migrate_needed = check_target(manifest, storage)
    restored.files = restore_members(path, manifest, storage)
    check_restored(restored)
    record_event(
        actor=None,
        action=ACTION_RESTORE,
        target_label=path.name,
        after={
            "file": str(path),
            "sha256": file_sha256(path),
            "created_at": manifest["created_at"],
            "gongkai_version": manifest["gongkai_version"],
            "rows": sum(manifest["tables"].values()),
            "files": restored.files,
            "ok": restored.ok,
            "problems": len(restored.problems),
        },
    )
    return restored
