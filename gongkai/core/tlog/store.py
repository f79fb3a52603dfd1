"""Transparency logs kept in the database: the tree's state, its tiles, its entries and its
signed checkpoints (the models in :mod:`gongkai.core.models`), and the questions asked of
them: roots, inclusion and consistency proofs, tiles and entry bundles at any size.

**Layout.** A log is stored the way C2SP tlog-tiles serves it. One row per hash tile
(:class:`~gongkai.core.models.LogTile`: the hashes of one tile, end to end) and per entry
bundle (:class:`~gongkai.core.models.LogBundle`: the leaves' data, uint16 length-prefixed).
A row grows while its tile is partial and never changes once full (256 hashes or entries: a
database trigger refuses to change or delete a full row); the partial tile of any width
``W`` is the first ``W`` hashes of the row, so every tile ever served can be served again,
byte for byte. A log of a million leaves takes about 7,800 rows. The log's row
(:class:`~gongkai.core.models.TransparencyLog`) holds its size, its root and its compact
range (one hash per set bit of the size), from which the next append continues.

**Appends are serialised** by locking the log's row (SELECT … FOR UPDATE on PostgreSQL;
SQLite runs one writer at a time). :func:`append` takes a callback that is given the size
*under the lock* and returns the entries to add, so two sequencers running at once never
add the same records twice.

**Reads** ask :func:`hash_reader` for a :data:`~gongkai.core.tlog.merkle.HashAt` over a
given size: the tiles a computation needs are fetched in one query
(:func:`~gongkai.core.tlog.merkle.nodes_for_inclusion_proof` and its siblings list them
first), and levels between tile levels are recomputed from the tile below, as the spec says.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from gongkai.core.models import LogBundle, LogCheckpoint, LogTile, TransparencyLog
from gongkai.core.tlog import merkle
from gongkai.core.tlog.merkle import HASH_SIZE, TILE_HEIGHT, TILE_WIDTH, EntryBundle, Tile

FULL_TILE = TILE_WIDTH * HASH_SIZE


@dataclass(frozen=True, slots=True)
class TreeHead:
    """A log's size and root."""

    size: int
    root: bytes


class NotInLog(LookupError):
    """A size, index or tile the log does not have (yet)."""


def _split(frontier: bytes) -> list[bytes]:
    return [frontier[i : i + HASH_SIZE] for i in range(0, len(frontier), HASH_SIZE)]


def head(name: str) -> TreeHead:
    """The log's size and root now (the empty tree for a log never appended to)."""
    row = TransparencyLog.objects.filter(pk=name).values_list("size", "root").first()
    if row is None:
        return TreeHead(0, merkle.EMPTY_ROOT)
    return TreeHead(row[0], bytes(row[1]))


def _locked(name: str) -> TransparencyLog:
    """The log's row, created on first use, locked for the rest of the transaction."""
    TransparencyLog.objects.get_or_create(pk=name)
    return TransparencyLog.objects.select_for_update().get(pk=name)


def append(name: str, next_entries: Callable[[int], Sequence[bytes]]) -> TreeHead:
    """Add entries to the log: ``next_entries(size)`` is called with the log locked and
    returns the leaves' data to append after its ``size`` leaves (none: nothing changes).
    The tiles, bundles and the log's state are written in the same transaction."""
    with transaction.atomic():
        log = _locked(name)
        entries = next_entries(log.size)
        if not entries:
            return TreeHead(log.size, bytes(log.root))
        start = log.size
        builder = merkle.TreeBuilder.from_frontier(start, _split(bytes(log.frontier)))
        hashes: dict[tuple[int, int], bytearray] = defaultdict(bytearray)
        bundles: dict[int, list[bytes]] = defaultdict(list)
        for i, entry in enumerate(entries, start):
            if len(entry) > merkle.MAX_ENTRY_SIZE:
                raise ValueError(f"entry {i} has {len(entry)} bytes; at most 65535")
            bundles[i >> TILE_HEIGHT].append(entry)
            for node in builder.append(merkle.leaf_hash(entry)):
                if node.level % TILE_HEIGHT == 0:
                    tile_level = node.level // TILE_HEIGHT
                    hashes[(tile_level, node.index >> TILE_HEIGHT)] += node.hash
        _write_tiles(name, hashes)
        _write_bundles(name, bundles)
        log.size = builder.size
        log.frontier = b"".join(builder.frontier)
        log.root = builder.root()
        log.updated_at = timezone.now()
        log.save(update_fields=["size", "frontier", "root", "updated_at"])
        return TreeHead(log.size, bytes(log.root))


def _write_tiles(name: str, hashes: dict[tuple[int, int], bytearray]) -> None:
    """Append the new hashes to their tiles: the first tile of each level may exist (it was
    partial); the rest are new."""
    firsts: dict[int, int] = {}
    for level, index in hashes:
        firsts[level] = min(index, firsts.get(level, index))
    existing = {
        (tile.level, tile.index): tile
        for tile in LogTile.objects.filter(
            _any(Q(log_id=name, level=level, index=index) for level, index in firsts.items())
        )
    }
    new: list[LogTile] = []
    for (level, index), data in hashes.items():
        tile = existing.get((level, index))
        if tile is None:
            new.append(LogTile(log_id=name, level=level, index=index, data=bytes(data)))
        else:
            LogTile.objects.filter(pk=tile.pk).update(data=bytes(tile.data) + bytes(data))
    LogTile.objects.bulk_create(new, batch_size=500)


def _write_bundles(name: str, bundles: dict[int, list[bytes]]) -> None:
    first = min(bundles)
    existing = LogBundle.objects.filter(log_id=name, index=first).first()
    new: list[LogBundle] = []
    for index, entries in bundles.items():
        data = merkle.encode_entry_bundle(entries)
        if existing is not None and index == first:
            LogBundle.objects.filter(pk=existing.pk).update(
                data=bytes(existing.data) + data, count=existing.count + len(entries)
            )
        else:
            new.append(LogBundle(log_id=name, index=index, count=len(entries), data=data))
    LogBundle.objects.bulk_create(new, batch_size=500)


def _any(conditions: Iterable[Q]) -> Q:
    combined = Q(pk__in=[])
    for condition in conditions:
        combined |= condition
    return combined


def _check_size(name: str, size: int) -> None:
    if not 0 <= size <= head(name).size:
        raise NotInLog(f"the log {name!r} has no tree of size {size}")


def _tile_rows(name: str, tiles: Iterable[Tile]) -> dict[tuple[int, int], bytes]:
    wanted = {(tile.level, tile.index) for tile in tiles}
    if not wanted:
        return {}
    rows = LogTile.objects.filter(
        _any(Q(log_id=name, level=level, index=index) for level, index in wanted)
    ).values_list("level", "index", "data")
    return {(level, index): bytes(data) for level, index, data in rows}


def _cut(tile: Tile, data: bytes | None) -> bytes:
    """The bytes of ``tile`` from its row: the first ``width`` hashes."""
    length = tile.width * HASH_SIZE
    if data is None or len(data) < length:
        raise merkle.MissingNode(f"{tile.path} is not stored")
    return data[:length]


def hash_reader(name: str, size: int, nodes: Iterable[tuple[int, int]] = ()) -> merkle.HashAt:
    """A :data:`~gongkai.core.tlog.merkle.HashAt` for the log's tree of ``size`` leaves.
    The tiles holding ``nodes`` (level, index) are fetched at once; any other tile asked
    for later is fetched on its own."""
    tiles = {merkle.tile_for_node(level, index, size) for level, index in nodes}
    rows = _tile_rows(name, tiles)

    def read(tile: Tile) -> bytes:
        key = (tile.level, tile.index)
        if key not in rows:
            rows.update(_tile_rows(name, [tile]))
        return _cut(tile, rows.get(key))

    return merkle.hash_at_from_tiles(size, read)


def tree_root(name: str, size: int) -> bytes:
    """The root of the log's tree of ``size`` leaves."""
    _check_size(name, size)
    return merkle.tree_root(size, hash_reader(name, size, merkle.nodes_for_root(size)))


def inclusion_proof(name: str, index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves (RFC 6962 §2.1.1)."""
    _check_size(name, size)
    if not 0 <= index < size:
        raise NotInLog(f"leaf {index} is not in the tree of size {size}")
    nodes = merkle.nodes_for_inclusion_proof(index, size)
    return merkle.inclusion_proof(index, size, hash_reader(name, size, nodes))


def consistency_proof(name: str, old: int, size: int) -> list[bytes]:
    """The proof that the tree of ``old`` leaves is a prefix of the tree of ``size``
    (RFC 6962 §2.1.2)."""
    _check_size(name, size)
    if not 0 <= old <= size:
        raise NotInLog(f"no consistency proof from {old} to {size}")
    nodes = merkle.nodes_for_consistency_proof(old, size)
    return merkle.consistency_proof(old, size, hash_reader(name, size, nodes))


def tile_bytes(name: str, tile: Tile, size: int) -> bytes:
    """The bytes of ``tile`` if the tree of ``size`` leaves holds all of its hashes: a full
    tile it has completed, its partial tile at the right edge, or the partial tile of any
    smaller tree (a prefix of a tile never changes, so an older checkpoint's tiles are still
    served). NotInLog otherwise."""
    count = size >> (TILE_HEIGHT * tile.level)  # hashes at the tile's tree level
    if tile.index * TILE_WIDTH + tile.width > count:
        raise NotInLog(f"{tile.path} is not in the tree of size {size}")
    try:
        return _cut(tile, _tile_rows(name, [tile]).get((tile.level, tile.index)))
    except merkle.MissingNode as missing:
        raise NotInLog(str(missing)) from None


def bundle_bytes(name: str, bundle: EntryBundle, size: int) -> bytes:
    """The bytes of an entry bundle if the tree of ``size`` leaves holds all its entries."""
    if bundle.index * TILE_WIDTH + bundle.width > size:
        raise NotInLog(f"{bundle.path} is not in the tree of size {size}")
    row = LogBundle.objects.filter(log_id=name, index=bundle.index).values_list("data").first()
    if row is None:
        raise NotInLog(f"{bundle.path} is not stored")
    data = bytes(row[0])
    if bundle.width == TILE_WIDTH:
        return data
    return _first_entries(data, bundle.width)


def _first_entries(data: bytes, count: int) -> bytes:
    pos = 0
    for _ in range(count):
        pos += 2 + int.from_bytes(data[pos : pos + 2], "big")
    return data[:pos]


def entries(name: str, start: int, stop: int) -> list[bytes]:
    """The leaves' data ``start`` to ``stop`` (exclusive), in order."""
    if not 0 <= start <= stop <= head(name).size:
        raise NotInLog(f"the log {name!r} has no entries {start} to {stop}")
    if start == stop:
        return []
    rows = LogBundle.objects.filter(
        log_id=name, index__gte=start >> TILE_HEIGHT, index__lte=(stop - 1) >> TILE_HEIGHT
    ).order_by("index")
    found: list[bytes] = []
    for index, data in rows.values_list("index", "data").iterator(chunk_size=100):
        try:
            found.extend(merkle.decode_entry_bundle(bytes(data)))
        except ValueError as broken:
            raise NotInLog(f"entry bundle {index} of the log {name!r}: {broken}") from None
    first = (start >> TILE_HEIGHT) << TILE_HEIGHT
    if len(found) < stop - first:
        raise NotInLog(f"the log {name!r} is missing entries between {start} and {stop}")
    return found[start - first : stop - first]


def entry(name: str, index: int) -> bytes:
    """The data of leaf ``index``."""
    return entries(name, index, index + 1)[0]


def latest_checkpoint(name: str) -> LogCheckpoint | None:
    """The log's newest signed checkpoint."""
    return LogCheckpoint.objects.filter(log_id=name).order_by("-size").first()
