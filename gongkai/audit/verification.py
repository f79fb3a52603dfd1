"""Checking the audit log against its transparency log (gongkai.audit.transparency).

:func:`verify_audit_log` reads every leaf of the ``audit`` log in order (in batches: memory
stays flat, the tree is rebuilt with its compact range only) and names:

- each event whose row was deleted (its id and its leaf), and each event whose stored fields
  no longer hash to its leaf ("audit event #123 altered");
- each leaf that is not a well-formed audit leaf, or that the sequencing records
  (:class:`~gongkai.audit.models.AuditLeaf`) do not give to the same event;
- each leaf whose hash is not the one stored in its tile, each tile of a higher level that
  does not match the leaves, and a stored root (the log's row, or read from its tiles) that
  is not the root of the leaves;
- each checkpoint whose note states another origin, size or root than its row, or a root
  the leaves do not give at its size (the log rewritten), or a size past the log's end (the
  log rolled back); the newest one's signature is checked against the published keys;
- each event older than :data:`~gongkai.audit.transparency.GRACE` that is not in the log.

It only reads. Messages are rendered when shown (``str(problem)``), in the language active
then, so the daily check's notice reads in the site's language.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gongkai.audit.models import AuditLeaf
from gongkai.audit.transparency import (
    GRACE,
    LEAF_FORMAT,
    LOG,
    event_hash,
    event_rows,
    origin,
    unsequenced,
)
from gongkai.core.models import LogCheckpoint, LogTile
from gongkai.core.tlog import merkle, notes, signing, store
from gongkai.core.tlog.merkle import HASH_SIZE, TILE_HEIGHT, TILE_WIDTH, Tile

BATCH = 2_048  # leaves per batch: whole bundles and level-0 tiles
NAMED = 1_000  # events not in the log named one by one; the rest are counted


class AuditProblemKind(models.TextChoices):
    EVENT_DELETED = "event_deleted", _("audit event deleted")
    EVENT_ALTERED = "event_altered", _("audit event altered")
    NOT_IN_LOG = "not_in_log", _("audit event not in the audit log")
    LEAF = "leaf", _("audit log leaf does not match")
    TREE = "tree", _("audit log tree does not match its leaves")
    CHECKPOINT = "checkpoint", _("audit log checkpoint does not verify")


# What each problem says (rendered by AuditProblem.__str__ in the active language).
DELETED = _("audit event #%(event)s (leaf %(leaf)s) is no longer in the database")
ALTERED = _(
    "audit event #%(event)s altered: its stored fields now hash to %(now)s, but leaf "
    "%(leaf)s recorded %(recorded)s"
)
NOT_IN_LOG = _("audit event #%(event)s of %(at)s is not in the audit log")
MORE_NOT_IN_LOG = _("… and %(n)s more audit events are not in the audit log")
MALFORMED = _("leaf %(leaf)s of the audit log is not an audit leaf")
NO_RECORD = _("leaf %(leaf)s of the audit log (audit event #%(event)s) has no sequencing record")
OTHER_RECORD = _(
    "leaf %(leaf)s of the audit log names audit event #%(event)s, but its sequencing record "
    "names #%(recorded)s"
)
RECORDS_PAST_END = _(
    "sequencing records name leaves up to %(last)s, past the end of the audit log (%(size)s leaves)"
)
ENTRIES_BROKEN = _("the stored leaves of the audit log are unreadable from leaf %(leaf)s on")
LEAF_NOT_IN_TILE = _("leaf %(leaf)s of the audit log is not the hash stored in its tile")
TILE_DIFFERS = _("tile %(path)s of the audit log does not match its leaves")
TILE_MISSING = _("tile %(path)s of the audit log is missing")
ROOT_ROW = _("the stored root of the audit log is not the root of its leaves")
ROOT_TILES = _("the root read from the audit log's tiles is not the root of its leaves")
NO_CHECKPOINT = _("the audit log has %(size)s leaves but no signed checkpoint")
UNSIGNED = _("the audit log's checkpoint of size %(size)s is not signed by a published key")
ROW_DIFFERS = _(
    "the audit log's checkpoint of size %(size)s states another origin, size or root than its row"
)
ROLLED_BACK = _(
    "the audit log's checkpoint of size %(size)s is larger than the log (%(leaves)s leaves): "
    "rolled back"
)
REWRITTEN = _(
    "the audit log's checkpoint of size %(size)s has a root its leaves do not give: rewritten"
)


@dataclass(frozen=True)
class AuditProblem:
    """One thing wrong with the audit log. ``event`` and ``leaf`` name the audit event and
    the leaf index when there is one."""

    kind: AuditProblemKind
    message: Promise
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)
    event: int | None = None
    leaf: int | None = None

    def __str__(self) -> str:
        return str(self.message) % dict(self.params)


def _problem(
    kind: AuditProblemKind,
    message: Promise,
    *,
    event: int | None = None,
    leaf: int | None = None,
    **params: Any,
) -> AuditProblem:
    return AuditProblem(
        kind=kind,
        message=message,
        params={"event": event, "leaf": leaf, **params},
        event=event,
        leaf=leaf,
    )


def parse_leaf(data: bytes) -> tuple[int, str] | None:
    """(event id, hash) of an audit leaf; None for anything else."""
    try:
        leaf = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(leaf, dict) or set(leaf) != {"format", "event", "hash"}:
        return None
    event, digest = leaf["event"], leaf["hash"]
    if leaf["format"] != LEAF_FORMAT or type(event) is not int or not isinstance(digest, str):
        return None
    return event, digest


class _Tree:
    """The tree rebuilt from the leaves, and the tiles it completes on the way, to compare
    with the stored ones (one query per batch of leaves)."""

    def __init__(self) -> None:
        self.builder = merkle.TreeBuilder()
        self.filling: dict[int, tuple[int, bytearray]] = {}  # tile level → (index, hashes)
        self.done: list[tuple[Tile, bytes]] = []

    def append(self, data: bytes) -> None:
        for node in self.builder.append(merkle.leaf_hash(data)):
            if node.level % TILE_HEIGHT:
                continue
            level, index = node.level // TILE_HEIGHT, node.index >> TILE_HEIGHT
            _index, hashes = self.filling.setdefault(level, (index, bytearray()))
            hashes += node.hash
            if len(hashes) == TILE_WIDTH * HASH_SIZE:
                self.done.append((Tile(level, index), bytes(hashes)))
                del self.filling[level]

    def finish(self) -> None:
        """The partial tiles of the right edge are done too."""
        for level, (index, hashes) in sorted(self.filling.items()):
            self.done.append((Tile(level, index, len(hashes) // HASH_SIZE), bytes(hashes)))
        self.filling.clear()

    def compare(self) -> list[AuditProblem]:
        """The tiles completed since the last call against the stored ones."""
        done, self.done = self.done, []
        if not done:
            return []
        wanted = Q(pk__in=[])
        for tile, _data in done:
            wanted |= Q(level=tile.level, index=tile.index)
        stored = {
            (level, index): bytes(data)
            for level, index, data in LogTile.objects.filter(wanted, log_id=LOG).values_list(
                "level", "index", "data"
            )
        }
        problems = []
        for tile, data in done:
            found = stored.get((tile.level, tile.index), b"")[: len(data)]
            if found == data:
                continue
            if len(found) < len(data):
                problems.append(_problem(AuditProblemKind.TREE, TILE_MISSING, path=tile.path))
            elif tile.level == 0:
                problems += [
                    _problem(AuditProblemKind.TREE, LEAF_NOT_IN_TILE, leaf=tile.first_node + i)
                    for i in range(tile.width)
                    if found[i * HASH_SIZE : (i + 1) * HASH_SIZE]
                    != data[i * HASH_SIZE : (i + 1) * HASH_SIZE]
                ]
            else:
                problems.append(_problem(AuditProblemKind.TREE, TILE_DIFFERS, path=tile.path))
        return problems


def verify_audit_log(*, batch_size: int = BATCH) -> list[AuditProblem]:
    """Every problem of the audit log, leaves in order first; an empty list when intact.
    The walk stops at the log's size read first, so events sequenced meanwhile are neither
    missed nor misreported."""
    head = store.head(LOG)
    problems: list[AuditProblem] = []
    tree = _Tree()
    checkpoints = LogCheckpoint.objects.filter(log_id=LOG)
    roots: dict[int, bytes] = {}  # checkpoint size → the root the leaves give (this batch)
    recordless: set[int] = set()  # events whose leaf has no sequencing record
    broken = False
    for start in range(0, head.size, batch_size):
        stop = min(start + batch_size, head.size)
        try:
            leaves = store.entries(LOG, start, stop)
        except store.NotInLog:
            problems.append(_problem(AuditProblemKind.LEAF, ENTRIES_BROKEN, leaf=start))
            broken = True
            break
        parsed = [parse_leaf(data) for data in leaves]
        rows = event_rows([leaf[0] for leaf in parsed if leaf is not None])
        records = dict(
            AuditLeaf.objects.filter(index__gte=start, index__lt=stop).values_list(
                "index", "event_id"
            )
        )
        sizes = set(
            checkpoints.filter(size__gt=start, size__lte=stop).values_list("size", flat=True)
        )
        for index, (data, leaf) in enumerate(zip(leaves, parsed, strict=True), start):
            tree.append(data)
            if tree.builder.size in sizes:
                roots[tree.builder.size] = tree.builder.root()
            if leaf is None:
                problems.append(_problem(AuditProblemKind.LEAF, MALFORMED, leaf=index))
                continue
            event, recorded = leaf
            problems += _leaf_problems(index, event, recorded, rows.get(event), records)
            if records.get(index) is None:
                recordless.add(event)
        problems += tree.compare()
        problems += _checkpoint_roots(checkpoints.filter(size__gt=start, size__lte=stop), roots)
        roots.clear()
    if not broken:
        tree.finish()
        problems += tree.compare()
        problems += _root_problems(head, tree.builder.root())
        problems += _checkpoint_roots(checkpoints.filter(size=0), {0: merkle.EMPTY_ROOT})
        problems += [
            _problem(AuditProblemKind.CHECKPOINT, ROLLED_BACK, size=size, leaves=head.size)
            for size in checkpoints.filter(size__gt=head.size).values_list("size", flat=True)
        ]
    problems += _newest_checkpoint(head)
    problems += _records_past_end()
    problems += not_in_log(exclude=recordless)
    return problems


def _leaf_problems(
    index: int,
    event: int,
    recorded: str,
    row: Mapping[str, Any] | None,
    records: Mapping[int, int],
) -> list[AuditProblem]:
    problems = []
    if row is None:
        problems.append(_problem(AuditProblemKind.EVENT_DELETED, DELETED, event=event, leaf=index))
    else:
        now = event_hash(row)
        if now != recorded:
            problems.append(
                _problem(
                    AuditProblemKind.EVENT_ALTERED,
                    ALTERED,
                    event=event,
                    leaf=index,
                    now=now,
                    recorded=recorded,
                )
            )
    record = records.get(index)
    if record is None:
        problems.append(_problem(AuditProblemKind.LEAF, NO_RECORD, event=event, leaf=index))
    elif record != event:
        problems.append(
            _problem(AuditProblemKind.LEAF, OTHER_RECORD, event=event, leaf=index, recorded=record)
        )
    return problems


def _root_problems(head: store.TreeHead, computed: bytes) -> list[AuditProblem]:
    problems = []
    if head.root != computed:
        problems.append(_problem(AuditProblemKind.TREE, ROOT_ROW))
    try:
        from_tiles = store.tree_root(LOG, head.size)
    except (merkle.MissingNode, ValueError, store.NotInLog):
        from_tiles = b""
    if from_tiles != computed:
        problems.append(_problem(AuditProblemKind.TREE, ROOT_TILES))
    return problems


def _checkpoint_roots(
    rows: Iterable[LogCheckpoint], roots: Mapping[int, bytes]
) -> list[AuditProblem]:
    """Checkpoints whose note does not state their row, or whose root the leaves do not
    give at their size (signatures: :func:`_newest_checkpoint`)."""
    problems = []
    for row in rows:
        root = bytes(row.root)
        try:
            text, _signatures = notes.split_note(row.note)
            stated = notes.parse_checkpoint(text)
        except notes.NoteError:
            stated = None
        if stated is None or (stated.origin, stated.size, stated.root) != (
            origin(),
            row.size,
            root,
        ):
            problems.append(_problem(AuditProblemKind.CHECKPOINT, ROW_DIFFERS, size=row.size))
        elif roots.get(row.size) != root:
            problems.append(_problem(AuditProblemKind.CHECKPOINT, REWRITTEN, size=row.size))
    return problems


def _newest_checkpoint(head: store.TreeHead) -> list[AuditProblem]:
    """The newest checkpoint is signed by a published key (what it states: above); a log
    with leaves has one."""
    newest = store.latest_checkpoint(LOG)
    if newest is None:
        if head.size == 0:
            return []
        return [_problem(AuditProblemKind.CHECKPOINT, NO_CHECKPOINT, size=head.size)]
    if signing.open_signed(newest.note) is None:
        return [_problem(AuditProblemKind.CHECKPOINT, UNSIGNED, size=newest.size)]
    return []


def _records_past_end() -> list[AuditProblem]:
    """Sequencing records for leaves the log does not hold. The records are read before the
    log's size: a record and its leaf commit together, so a leaf appended meanwhile is
    counted."""
    last = AuditLeaf.objects.order_by("-index").values_list("index", flat=True).first()
    size = store.head(LOG).size
    if last is None or last < size:
        return []
    return [_problem(AuditProblemKind.LEAF, RECORDS_PAST_END, last=last, size=size)]


def not_in_log(*, exclude: Iterable[int] = (), now: datetime | None = None) -> list[AuditProblem]:
    """The events older than :data:`GRACE` that are not leaves: the first :data:`NAMED` by
    id, then how many more. ``exclude``: events in the log whose record is missing (named
    already)."""
    cutoff = (now or timezone.now()) - GRACE
    skip = set(exclude)
    missing = unsequenced().filter(at__lt=cutoff).order_by("pk").values_list("pk", "at")
    problems: list[AuditProblem] = []
    more = 0
    for pk, at in missing.iterator(chunk_size=BATCH):
        if pk in skip:
            continue
        if len(problems) == NAMED:
            more += 1
            continue
        when = timezone.localtime(at).strftime("%Y-%m-%d %H:%M")
        problems.append(_problem(AuditProblemKind.NOT_IN_LOG, NOT_IN_LOG, event=pk, at=when))
    if more:
        problems.append(_problem(AuditProblemKind.NOT_IN_LOG, MORE_NOT_IN_LOG, n=more))
    return problems
