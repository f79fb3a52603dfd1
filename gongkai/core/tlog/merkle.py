"""The Merkle tree of the transparency log: hashing, roots, proofs, the append-only builder
and the tile layout. Pure Python, standard library only: no database, no Django. What stores
the nodes (database rows, tiles on disk, memory) is the caller's; this module asks it one
question, :data:`HashAt`: the hash of the full subtree at (level, index).

**Hashing** is RFC 6962 §2.1 (the same in RFC 9162 §2.1.1) with SHA-256:
``leaf_hash(d) = SHA-256(0x00 || d)``, ``node_hash(l, r) = SHA-256(0x01 || l || r)``, and the
empty tree's root is ``SHA-256("")``. The tree of ``n`` leaves splits at ``k``, the largest
power of two smaller than ``n``: MTH(D[n]) = node_hash(MTH(D[0:k]), MTH(D[k:n])).

**Full subtrees.** The node at (level, index) is the root of the ``2**level`` leaves
``[index * 2**level, (index + 1) * 2**level)``; it exists (and never changes again) once the
tree has ``(index + 1) * 2**level`` leaves. Every node of the RFC 6962 tree of size ``n`` that
is not such a full subtree lies on the right edge and is the fold, right to left, of the full
subtrees of its range's binary decomposition (largest first). So the root of any size, every
audit path (§2.1.1, PATH) and every consistency proof (§2.1.2, SUBPROOF) is computed from at
most ``2 * log2(n)`` full-subtree lookups, which :func:`nodes_for_inclusion_proof` and its
siblings list beforehand for a store that would rather fetch them in one query.

**Verification** follows RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency) step by step.
The verifiers return ``False`` for anything wrong, hostile input included (wrong lengths,
non-bytes, negative sizes); they never raise. Note what a proof proves: the sizes and roots
*together*. An audit path also checks for another tree size in which the leaf's path has the
same shape (index 0 in sizes 3 and 4: two right-hand siblings each), and a consistency proof
for other sizes whose SUBPROOF takes the same steps, each time with the same roots; which is
why a checkpoint signs the size with the root and a verifier takes both from one checkpoint.

**Building.** :class:`TreeBuilder` keeps the compact range of the tree (one full-subtree hash
per set bit of the size) and, on each append, returns the full subtrees the new leaf
completes: the leaf itself at level 0, then one node per level while the index's low bits are
ones. Appending ``n`` leaves costs fewer than ``2n`` hashes; a caller stores the returned
nodes (``(level, index, hash)``) and answers :data:`HashAt` from them. :class:`MemoryTree`
does that in memory (one ``bytearray`` per level).

**Tiles** follow C2SP tlog-tiles (c2sp.org/tlog-tiles): tiles of height 8 (256 hashes), the
tile at tile level ``L`` holding the hashes at tree level ``8L``; paths
``tile/<L>/<N>[.p/<W>]`` with ``N`` in zero-padded 3-digit groups, all but the last prefixed
``x`` (1234067 -> ``x001/x234/067``); entry bundles at ``tile/entries/<N>[.p/<W>]``, each a
sequence of big-endian uint16 length-prefixed entries. :func:`tiles` lists the tiles of a
tree size (the full ones and the partial right edge), :func:`tile_data` makes a tile's bytes
from stored nodes and :func:`hash_at_from_tiles` answers :data:`HashAt` from tiles.

Timing, measured once and not asserted (Python 3.11, one core of a shared development
machine, everything in memory): appending 1,000,000 leaf hashes takes about 1.5 s with
:class:`TreeBuilder` alone and 1.7 s with :class:`MemoryTree` (64 MB of stored nodes); at
that size 1,000 inclusion proofs take about 45 ms (11 ms to verify), 1,000 consistency
proofs about 35 ms, 1,000 roots of random sizes 12 ms; writing all 3,924 tiles 0.6 s, and
1,000 inclusion proofs read from tiles about 0.5 s (the levels between tile levels are
rehashed).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeGuard

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

HashAt = Callable[[int, int], bytes]
"""``hash_at(level, index)``: the hash of the full subtree of ``2**level`` leaves starting
at leaf ``index * 2**level`` (level 0: the leaf hashes). Asked only for subtrees that are
complete in the tree size the question is about."""

_sha256 = hashlib.sha256


class MissingNode(LookupError):
    """A store was asked for a full subtree it does not have (yet)."""


def leaf_hash(data: bytes) -> bytes:
    """The hash of a leaf: SHA-256(0x00 || data)."""
    return _sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right)."""
    return _sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """``k``, the largest power of two smaller than ``n`` (``n >= 2``), where RFC 6962
    splits a tree of ``n`` leaves."""
    if n < 2:
        raise ValueError(f"a tree of {n} leaves does not split")
    return 1 << ((n - 1).bit_length() - 1)


def _is_hash(value: object) -> TypeGuard[bytes]:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _require_hash(value: object, what: str) -> bytes:
    if not _is_hash(value):
        raise ValueError(f"{what} is not a {HASH_SIZE}-byte hash: {value!r}")
    return value


def _fold(parts: Sequence[bytes]) -> bytes:
    """The root over full subtrees given left to right, each smaller than the one before
    (a binary decomposition): combined right to left. No parts: the empty tree."""
    if not parts:
        return EMPTY_ROOT
    h = parts[-1]
    for left in reversed(parts[:-1]):
        h = node_hash(left, h)
    return h


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH (RFC 6962 §2.1) of the tree whose leaves have these hashes, in O(n)."""
    stack: list[bytes] = []
    for i, h in enumerate(leaf_hashes):
        _require_hash(h, f"leaf hash {i}")
        while i & 1:
            h = node_hash(stack.pop(), h)
            i >>= 1
        stack.append(h)
    return _fold(stack)


def _checked(hash_at: HashAt) -> HashAt:
    def ask(level: int, index: int) -> bytes:
        return _require_hash(hash_at(level, index), f"hash_at({level}, {index})")

    return ask


def _range_hash(start: int, size: int, hash_at: HashAt) -> bytes:
    """MTH of the ``size`` leaves from ``start``, where ``start`` is a multiple of the
    smallest power of two >= ``size`` (true of every node of an RFC 6962 tree): the full
    subtrees of ``size``'s binary decomposition, folded right to left."""
    parts = []
    offset = start
    for level in range(size.bit_length() - 1, -1, -1):
        if (size >> level) & 1:
            parts.append(hash_at(level, offset >> level))
            offset += 1 << level
    return _fold(parts)


def tree_root(size: int, hash_at: HashAt) -> bytes:
    """The root of the tree of the first ``size`` leaves, from the stored full subtrees
    (one lookup per set bit of ``size``)."""
    if size < 0:
        raise ValueError(f"negative tree size {size}")
    return _range_hash(0, size, _checked(hash_at)) if size else EMPTY_ROOT


def inclusion_proof(index: int, size: int, hash_at: HashAt) -> list[bytes]:
    """PATH(index, D[size]) of RFC 6962 §2.1.1, leaf to root: the audit path of leaf
    ``index`` in the tree of ``size`` leaves."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    ask = _checked(hash_at)
    path: list[bytes] = []  # root to leaf; reversed at the end
    start, n, m = 0, size, index
    while n > 1:
        k = split_point(n)
        if m < k:  # PATH(m, D[0:k]) : MTH(D[k:n])
            path.append(_range_hash(start + k, n - k, ask))
            n = k
        else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            path.append(_range_hash(start, k, ask))
            start, n, m = start + k, n - k, m - k
    path.reverse()
    return path


def consistency_proof(old: int, new: int, hash_at: HashAt) -> list[bytes]:
    """PROOF(old, D[new]) of RFC 6962 §2.1.2: that the tree of ``old`` leaves is a prefix of
    the tree of ``new``. Empty when ``old`` is 0 or equals ``new``."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from size {old} to size {new}")
    if old in (0, new):
        return []
    ask = _checked(hash_at)
    proof: list[bytes] = []  # top down; reversed at the end
    start, n, m, known = 0, new, old, True
    while m != n:
        k = split_point(n)
        if m <= k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            proof.append(_range_hash(start + k, n - k, ask))
            n = k
        else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            proof.append(_range_hash(start, k, ask))
            start, n, m, known = start + k, n - k, m - k, False
    if not known:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
        proof.append(_range_hash(start, n, ask))
    proof.reverse()
    return proof


def _nodes_asked(compute: Callable[[HashAt], object]) -> list[tuple[int, int]]:
    asked: list[tuple[int, int]] = []

    def record(level: int, index: int) -> bytes:
        asked.append((level, index))
        return bytes(HASH_SIZE)  # which nodes are asked never depends on their hashes

    compute(record)
    return asked


def nodes_for_root(size: int) -> list[tuple[int, int]]:
    """The (level, index) of every full subtree :func:`tree_root` asks for, in order: a
    store can fetch them in one query and answer from a dict."""
    return _nodes_asked(lambda hash_at: tree_root(size, hash_at))


def nodes_for_inclusion_proof(index: int, size: int) -> list[tuple[int, int]]:
    """The (level, index) of every full subtree :func:`inclusion_proof` asks for."""
    return _nodes_asked(lambda hash_at: inclusion_proof(index, size, hash_at))


def nodes_for_consistency_proof(old: int, new: int) -> list[tuple[int, int]]:
    """The (level, index) of every full subtree :func:`consistency_proof` asks for."""
    return _nodes_asked(lambda hash_at: consistency_proof(old, new, hash_at))


def root_from_inclusion_proof(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes]
) -> bytes | None:
    """The root that ``proof`` gives for ``leaf`` at ``index`` in a tree of ``size``
    (RFC 9162 §2.1.3.2, steps 1 to 4 and the size check of step 5), or None if the proof
    cannot be one for that index and size."""
    if not (isinstance(index, int) and isinstance(size, int) and 0 <= index < size):
        return None
    if not isinstance(proof, list | tuple) or not all(_is_hash(p) for p in proof):
        return None
    if not _is_hash(leaf):
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:  # until LSB(fn) is set or fn is 0
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    """Whether ``proof`` shows the leaf hash ``leaf`` at ``index`` in the tree of ``size``
    leaves whose root is ``root_hash`` (RFC 9162 §2.1.3.2)."""
    if not _is_hash(root_hash):
        return False
    computed = root_from_inclusion_proof(index, size, leaf, proof)
    return computed is not None and computed == root_hash


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows that the tree of ``old`` leaves with root ``old_root`` is a
    prefix of the tree of ``new`` leaves with root ``new_root`` (RFC 9162 §2.1.4.2; the
    trivial cases, which the RFC leaves out, take an empty proof: equal sizes need equal
    roots, size 0 the empty tree's root)."""
    if not (isinstance(old, int) and isinstance(new, int) and 0 <= old <= new):
        return False
    if not isinstance(proof, list | tuple) or not all(_is_hash(c) for c in proof):
        return False
    if not (_is_hash(old_root) and _is_hash(new_root)):
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof and old_root == EMPTY_ROOT
    # 1. An empty consistency_path fails.
    if not proof:
        return False
    path = list(proof)
    # 2. If first is an exact power of 2, prepend first_hash.
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    # 3. fn = first - 1, sn = second - 1.
    fn, sn = old - 1, new - 1
    # 4. While LSB(fn) is set, right-shift both.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. fr = sr = the first value.
    fr = sr = path[0]
    # 6. For each subsequent value c.
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:  # until LSB(fn) is set or fn is 0
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # 7. fr is first_hash, sr is second_hash and sn is 0.
    return sn == 0 and fr == old_root and sr == new_root


# --- building -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    """A full subtree: its level (0: a leaf), its index within the level, its hash."""

    level: int
    index: int
    hash: bytes


class TreeBuilder:
    """Appends leaf hashes in order and says which full subtrees each one completes.

    Holds only the compact range: the hashes of the full subtrees of the size's binary
    decomposition, largest (leftmost) first. :meth:`resume` rebuilds it from a store.
    """

    __slots__ = ("_frontier", "_size")

    def __init__(self) -> None:
        self._frontier: list[bytes] = []
        self._size = 0

    @classmethod
    def resume(cls, size: int, hash_at: HashAt) -> TreeBuilder:
        """A builder for a tree of ``size`` leaves whose full subtrees ``hash_at`` knows
        (one lookup per set bit of ``size``)."""
        if size < 0:
            raise ValueError(f"negative tree size {size}")
        ask = _checked(hash_at)
        builder = cls()
        offset = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if (size >> level) & 1:
                builder._frontier.append(ask(level, offset >> level))
                offset += 1 << level
        builder._size = size
        return builder

    @classmethod
    def from_frontier(cls, size: int, frontier: Sequence[bytes]) -> TreeBuilder:
        """A builder for a tree of ``size`` leaves from its compact range, as
        :attr:`frontier` gave it (one hash per set bit of ``size``, largest subtree first)."""
        if size < 0 or len(frontier) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves has {size.bit_count()} frontier hashes")
        builder = cls()
        builder._frontier = [_require_hash(h, "frontier hash") for h in frontier]
        builder._size = size
        return builder

    @property
    def size(self) -> int:
        return self._size

    @property
    def frontier(self) -> tuple[bytes, ...]:
        """The compact range: full-subtree hashes of the size's binary decomposition."""
        return tuple(self._frontier)

    def append(self, leaf: bytes) -> list[Node]:
        """Add the next leaf hash; the full subtrees it completes, lowest first."""
        h = _require_hash(leaf, "leaf hash")
        index = self._size
        nodes = [Node(0, index, h)]
        i, level = index, 0
        while i & 1:
            h = node_hash(self._frontier.pop(), h)
            i >>= 1
            level += 1
            nodes.append(Node(level, i, h))
        self._frontier.append(h)
        self._size = index + 1
        return nodes

    def extend(self, leaves: Iterable[bytes]) -> list[Node]:
        nodes: list[Node] = []
        for leaf in leaves:
            nodes.extend(self.append(leaf))
        return nodes

    def root(self) -> bytes:
        """The root of the tree as it is now."""
        return _fold(self._frontier)


class MemoryTree:
    """A :class:`TreeBuilder` that keeps every full subtree in memory: one ``bytearray``
    per level, the hashes of that level end to end (the layout of a level in tiles)."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._builder = TreeBuilder()
        self._levels: list[bytearray] = []
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        return self._builder.size

    def append(self, leaf: bytes) -> list[Node]:
        nodes = self._builder.append(leaf)
        levels = self._levels
        for node in nodes:
            if node.level == len(levels):
                levels.append(bytearray())
            levels[node.level] += node.hash
        return nodes

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def stored(self, level: int) -> int:
        """How many full subtrees of ``level`` are stored."""
        return len(self._levels[level]) // HASH_SIZE if level < len(self._levels) else 0

    def hash_at(self, level: int, index: int) -> bytes:
        if not (level >= 0 and 0 <= index < self.stored(level)):
            raise MissingNode(f"no full subtree at level {level}, index {index}")
        start = index * HASH_SIZE
        return bytes(self._levels[level][start : start + HASH_SIZE])

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of ``size`` leaves (default: all of them)."""
        return tree_root(self._size_or_all(size), self.hash_at)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, self._size_or_all(size), self.hash_at)

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        return consistency_proof(old, self._size_or_all(new), self.hash_at)

    def _size_or_all(self, size: int | None) -> int:
        if size is None:
            return self.size
        if size > self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")
        return size


# --- C2SP tlog-tiles ------------------------------------------------------------------------

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # hashes in a full tile
MAX_TILE_LEVEL = 63
MAX_ENTRY_SIZE = 0xFFFF  # entries in a bundle are uint16 length-prefixed

_INDEX = r"((?:x[0-9]{3}/){0,6}[0-9]{3})"  # up to 21 digits: every uint64 fits
_WIDTH = r"(?:\.p/([1-9][0-9]{0,2}))?"
_TILE_PATH = re.compile(r"tile/(0|[1-9][0-9]?)/" + _INDEX + _WIDTH)
_BUNDLE_PATH = re.compile(r"tile/entries/" + _INDEX + _WIDTH)


def encode_index(n: int) -> str:
    """A tile index as the spec's path elements: 1234067 -> ``x001/x234/067``."""
    if n < 0:
        raise ValueError(f"negative tile index {n}")
    digits = str(n)
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([f"x{g}" for g in groups[:-1]] + groups[-1:])


def _width_suffix(width: int) -> str:
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"a tile holds 1 to {TILE_WIDTH} hashes, not {width}")
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]`` (relative to the log's prefix)."""
    if not 0 <= level <= MAX_TILE_LEVEL:
        raise ValueError(f"tile level {level} is not 0 to {MAX_TILE_LEVEL}")
    return f"tile/{level}/{encode_index(index)}{_width_suffix(width)}"


def entry_bundle_path(index: int, width: int = TILE_WIDTH) -> str:
    """``tile/entries/<N>[.p/<W>]`` (relative to the log's prefix)."""
    return f"tile/entries/{encode_index(index)}{_width_suffix(width)}"


def _parse_index(text: str) -> int:
    n = int(text.replace("x", "").replace("/", ""))
    if encode_index(n) != text:  # one spelling per index: no x000/067 for 067
        raise ValueError(f"not the canonical spelling of tile index {n}: {text!r}")
    return n


def _parse_width(text: str | None) -> int:
    if text is None:
        return TILE_WIDTH
    width = int(text)
    if width >= TILE_WIDTH:  # a full tile has no .p/ suffix
        raise ValueError(f"a partial tile is 1 to {TILE_WIDTH - 1} wide, not {width}")
    return width


@dataclass(frozen=True, order=True)
class Tile:
    """Tile ``index`` of tile level ``level``: ``width`` consecutive hashes of tree level
    ``8 * level``, starting at node ``256 * index`` of that level."""

    level: int
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if not 0 <= self.level <= MAX_TILE_LEVEL:
            raise ValueError(f"tile level {self.level} is not 0 to {MAX_TILE_LEVEL}")
        if self.index < 0:
            raise ValueError(f"negative tile index {self.index}")
        _width_suffix(self.width)

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH

    @property
    def node_level(self) -> int:
        """The tree level of the hashes in the tile."""
        return self.level * TILE_HEIGHT

    @property
    def first_node(self) -> int:
        """The index, within :attr:`node_level`, of the tile's first hash."""
        return self.index * TILE_WIDTH

    @property
    def path(self) -> str:
        return tile_path(self.level, self.index, self.width)

    @classmethod
    def from_path(cls, path: str) -> Tile:
        """The tile at ``tile/<L>/<N>[.p/<W>]``; ValueError for anything else."""
        match = _TILE_PATH.fullmatch(path)
        if match is None:
            raise ValueError(f"not a tile path: {path!r}")
        level = int(match.group(1))
        if level > MAX_TILE_LEVEL:
            raise ValueError(f"tile level {level} is not 0 to {MAX_TILE_LEVEL}")
        return cls(level, _parse_index(match.group(2)), _parse_width(match.group(3)))


@dataclass(frozen=True, order=True)
class EntryBundle:
    """Entry bundle ``index``: the ``width`` entries from ``256 * index`` on."""

    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if self.index < 0:
            raise ValueError(f"negative bundle index {self.index}")
        _width_suffix(self.width)

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH

    @property
    def first_entry(self) -> int:
        return self.index * TILE_WIDTH

    @property
    def path(self) -> str:
        return entry_bundle_path(self.index, self.width)

    @classmethod
    def from_path(cls, path: str) -> EntryBundle:
        """The bundle at ``tile/entries/<N>[.p/<W>]``; ValueError for anything else."""
        match = _BUNDLE_PATH.fullmatch(path)
        if match is None:
            raise ValueError(f"not an entry bundle path: {path!r}")
        return cls(_parse_index(match.group(1)), _parse_width(match.group(2)))


def _level_tiles(count: int) -> tuple[int, int]:
    """For ``count`` hashes at one tree level: the number of full tiles and the width of
    the partial one (0: none)."""
    return count >> TILE_HEIGHT, count & (TILE_WIDTH - 1)


def tiles(size: int) -> list[Tile]:
    """Every tile of the tree of ``size`` leaves, level by level: the full tiles, then the
    partial one at the right edge if the level has one (tlog-tiles, "Partial Tiles")."""
    return new_tiles(0, size)


def new_tiles(old: int, new: int) -> list[Tile]:
    """The tiles of size ``new`` that size ``old`` does not have: the full tiles completed
    since, and the partial tiles of ``new`` that differ from those of ``old``."""
    if not 0 <= old <= new:
        raise ValueError(f"not a growing tree: {old} to {new}")
    result: list[Tile] = []
    level = 0
    while new >> (TILE_HEIGHT * level):
        old_full, old_width = _level_tiles(old >> (TILE_HEIGHT * level))
        new_full, new_width = _level_tiles(new >> (TILE_HEIGHT * level))
        result.extend(Tile(level, n) for n in range(old_full, new_full))
        if new_width and (new_full, new_width) != (old_full, old_width):
            result.append(Tile(level, new_full, new_width))
        level += 1
    return result


def entry_bundles(size: int) -> list[EntryBundle]:
    """Every entry bundle of the tree of ``size`` leaves: the full ones and the partial."""
    return new_entry_bundles(0, size)


def new_entry_bundles(old: int, new: int) -> list[EntryBundle]:
    """The entry bundles of size ``new`` that size ``old`` does not have."""
    if not 0 <= old <= new:
        raise ValueError(f"not a growing tree: {old} to {new}")
    old_full, old_width = _level_tiles(old)
    new_full, new_width = _level_tiles(new)
    result = [EntryBundle(n) for n in range(old_full, new_full)]
    if new_width and (new_full, new_width) != (old_full, old_width):
        result.append(EntryBundle(new_full, new_width))
    return result


def tile_data(tile: Tile, hash_at: HashAt) -> bytes:
    """The bytes of ``tile``: its hashes end to end, read from the stored full subtrees."""
    ask = _checked(hash_at)
    return b"".join(ask(tile.node_level, tile.first_node + i) for i in range(tile.width))


def tile_for_node(level: int, index: int, size: int) -> Tile:
    """The tile of the tree of ``size`` leaves from which the full subtree at (level,
    index) is read: the tile at tile level ``level // 8`` holding its descendants at tree
    level ``8 * (level // 8)`` (the subtree itself when ``level`` is a multiple of 8)."""
    if level < 0 or index < 0 or (index + 1) << level > size:
        raise MissingNode(f"no full subtree at level {level}, index {index} in size {size}")
    tile_level = level // TILE_HEIGHT
    first = index << (level - tile_level * TILE_HEIGHT)  # at tree level 8 * tile_level
    full, width = _level_tiles(size >> (tile_level * TILE_HEIGHT))
    n = first >> TILE_HEIGHT
    return Tile(tile_level, n, TILE_WIDTH if n < full else width)


def hash_from_tile(tile: Tile, data: bytes, level: int, index: int) -> bytes:
    """The full subtree at (level, index) read out of the bytes of ``tile``: one of its
    hashes when ``level`` is the tile's own, else the root over the 2, 4, ... 256 of them
    below it (the levels a tile does not store are recomputed, as the spec says)."""
    if len(data) != tile.width * HASH_SIZE:
        raise ValueError(f"{tile.path} must be {tile.width * HASH_SIZE} bytes, not {len(data)}")
    height = level - tile.node_level
    if not 0 <= height <= TILE_HEIGHT or index < 0:
        raise MissingNode(f"level {level} is not read from {tile.path}")
    first = (index << height) - tile.first_node
    count = 1 << height
    if first < 0 or first + count > tile.width:
        raise MissingNode(f"level {level}, index {index} is not in {tile.path}")
    hashes = [data[(first + i) * HASH_SIZE : (first + i + 1) * HASH_SIZE] for i in range(count)]
    return root(hashes)


def hash_at_from_tiles(size: int, read_tile: Callable[[Tile], bytes]) -> HashAt:
    """A :data:`HashAt` for the tree of ``size`` leaves backed by its tiles: ``read_tile``
    gives a tile's bytes (from storage or over HTTP); each tile is read once."""
    cache: dict[Tile, bytes] = {}

    def hash_at(level: int, index: int) -> bytes:
        tile = tile_for_node(level, index, size)
        data = cache.get(tile)
        if data is None:
            data = cache[tile] = read_tile(tile)
        return hash_from_tile(tile, data, level, index)

    return hash_at


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length and its bytes."""
    if not 1 <= len(entries) <= TILE_WIDTH:
        raise ValueError(f"a bundle holds 1 to {TILE_WIDTH} entries, not {len(entries)}")
    out = bytearray()
    for i, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY_SIZE:
            raise ValueError(f"entry {i} has {len(entry)} bytes; at most {MAX_ENTRY_SIZE}")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def decode_entry_bundle(data: bytes, width: int | None = None) -> list[bytes]:
    """The entries of a bundle; ValueError if it is cut short, holds no entry or more than
    256, or (given ``width``) not exactly ``width`` of them."""
    entries: list[bytes] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise ValueError("entry bundle cut short in a length")
        length = int.from_bytes(data[pos : pos + 2], "big")
        pos += 2
        if pos + length > len(data):
            raise ValueError("entry bundle cut short in an entry")
        entries.append(bytes(data[pos : pos + length]))
        pos += length
    if not 1 <= len(entries) <= TILE_WIDTH or (width is not None and len(entries) != width):
        raise ValueError(f"entry bundle holds {len(entries)} entries")
    return entries
