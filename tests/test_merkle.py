"""gongkai.core.tlog.merkle: the Merkle tree of the transparency log, checked against the
definitions themselves.

The reference below is RFC 6962 §2.1 (MTH), §2.1.1 (PATH) and §2.1.2 (PROOF / SUBPROOF)
transcribed clause by clause over the leaf *data*, recursive and deliberately naive (only
memoised on the range, so that hundreds of thousands of proofs stay fast). The module under
test computes the same things another way (iteratively, from stored full subtrees), so every
agreement is between two independent readings of the RFC, and the published test vectors pin
both to what every other implementation computes."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

import pytest

from gongkai.core.tlog import merkle
from gongkai.core.tlog.merkle import (
    EMPTY_ROOT,
    EntryBundle,
    MemoryTree,
    MissingNode,
    Tile,
    TreeBuilder,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

# --- the reference: RFC 6962 §2.1 word for word ---------------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Reference:
    """MTH, PATH and PROOF of RFC 6962 over the inputs ``d``; D[a:b] is the range (a, b)."""

    def __init__(self, d: list[bytes]) -> None:
        self.d = d
        self.memo: dict[tuple[int, int], bytes] = {}

    def mth(self, a: int, b: int) -> bytes:
        key = (a, b)
        if key not in self.memo:
            n = b - a
            if n == 0:  # MTH({}) = SHA-256()
                value = sha256(b"")
            elif n == 1:  # MTH({d(0)}) = SHA-256(0x00 || d(0))
                value = sha256(b"\x00" + self.d[a])
            else:  # MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))
                k = largest_power_of_two_below(n)
                value = sha256(b"\x01" + self.mth(a, a + k) + self.mth(a + k, b))
            self.memo[key] = value
        return self.memo[key]

    def path(self, m: int, a: int, b: int) -> list[bytes]:
        n = b - a
        if n == 1:  # PATH(0, {d(0)}) = {}
            return []
        k = largest_power_of_two_below(n)
        if m < k:  # PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])
            return [*self.path(m, a, a + k), self.mth(a + k, b)]
        # PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k])
        return [*self.path(m - k, a + k, b), self.mth(a, a + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        # PROOF(m, D[n]) = SUBPROOF(m, D[n], true)
        return self.subproof(m, 0, n, True)

    def subproof(self, m: int, a: int, b: int, known: bool) -> list[bytes]:
        n = b - a
        if m == n:  # SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}
            return [] if known else [self.mth(a, b)]
        k = largest_power_of_two_below(n)
        if m <= k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            return [*self.subproof(m, a, a + k, known), self.mth(a + k, b)]
        # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
        return [*self.subproof(m - k, a + k, b, False), self.mth(a, a + k)]

    def inclusion_shape(self, m: int, n: int) -> list[bool]:
        """For each step of PATH(m, D[n]), leaf to root: is the sibling on the left?"""
        if n == 1:
            return []
        k = largest_power_of_two_below(n)
        if m < k:
            return [*self.inclusion_shape(m, k), False]
        return [*self.inclusion_shape(m - k, n - k), True]

    def consistency_shape(self, m: int, n: int, known: bool = True) -> list[str]:
        """The steps of SUBPROOF(m, D[n], true), root first: which way it went ("left" for
        m <= k), and whether it ended on a known or an included subtree."""
        if m == n:
            return ["known" if known else "included"]
        k = largest_power_of_two_below(n)
        if m <= k:
            return ["left", *self.consistency_shape(m, k, known)]
        return ["right", *self.consistency_shape(m - k, n - k, False)]


def data(n: int, tag: str = "leaf") -> list[bytes]:
    return [f"{tag} {i}".encode() for i in range(n)]


BIG = 300
DATA = data(BIG)
REF = Reference(DATA)
LEAVES = [leaf_hash(d) for d in DATA]
TREE = MemoryTree(LEAVES)
ROOTS = [REF.mth(0, n) for n in range(BIG + 1)]


def flipped(h: bytes, bit: int) -> bytes:
    out = bytearray(h)
    out[(bit // 8) % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


def strict(tree: MemoryTree, size: int) -> Callable[[int, int], bytes]:
    """``tree.hash_at`` that fails the test if asked for a subtree beyond ``size``: a proof
    for an older checkpoint must not read nodes the tree grew afterwards."""

    def hash_at(level: int, index: int) -> bytes:
        assert (index + 1) << level <= size, (level, index, size)
        return tree.hash_at(level, index)

    return hash_at


# --- (a) agreement with the definitions ------------------------------------------------------


def test_hashing_is_rfc6962s() -> None:
    assert sha256(b"") == EMPTY_ROOT
    assert leaf_hash(b"abc") == sha256(b"\x00abc")
    assert node_hash(b"L" * 32, b"R" * 32) == sha256(b"\x01" + b"L" * 32 + b"R" * 32)
    # The split is the largest power of two *below* n, not the midpoint.
    assert [merkle.split_point(n) for n in (2, 3, 4, 5, 6, 7, 8, 9, 1000)] == [
        1,
        2,
        2,
        4,
        4,
        4,
        4,
        8,
        512,
    ]
    assert merkle.split_point(2**40 + 1) == 2**40
    with pytest.raises(ValueError):
        merkle.split_point(1)


def test_root_of_every_size_matches_mth() -> None:
    builder = TreeBuilder()
    assert builder.root() == merkle.root([]) == TREE.root(0) == EMPTY_ROOT
    for n in range(1, BIG + 1):
        builder.append(LEAVES[n - 1])
        assert merkle.root(LEAVES[:n]) == ROOTS[n], n
        assert TREE.root(n) == ROOTS[n], n
        assert builder.root() == ROOTS[n], n


def test_inclusion_proof_of_every_leaf_in_every_size_is_path_and_verifies() -> None:
    for n in range(1, BIG + 1):
        hash_at = strict(TREE, n)
        for i in range(n):
            proof = inclusion_proof(i, n, hash_at)
            assert proof == REF.path(i, 0, n), (i, n)
            assert verify_inclusion(i, n, LEAVES[i], proof, ROOTS[n]), (i, n)


def test_consistency_proof_of_every_pair_of_sizes_is_proof_and_verifies() -> None:
    for new in range(1, BIG + 1):
        hash_at = strict(TREE, new)
        for old in range(1, new + 1):
            proof = consistency_proof(old, new, hash_at)
            assert proof == REF.proof(old, new), (old, new)
            assert verify_consistency(old, new, ROOTS[old], ROOTS[new], proof), (old, new)


def test_trivial_consistency() -> None:
    assert consistency_proof(0, 5, TREE.hash_at) == []
    assert consistency_proof(5, 5, TREE.hash_at) == []
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 7, EMPTY_ROOT, ROOTS[7], [])
    assert verify_consistency(7, 7, ROOTS[7], ROOTS[7], [])
    # Equal sizes need equal roots and nothing else; size 0 has one root.
    assert not verify_consistency(7, 7, ROOTS[7], ROOTS[6], [])
    assert not verify_consistency(7, 7, ROOTS[7], ROOTS[7], [ROOTS[7]])
    assert not verify_consistency(0, 7, ROOTS[3], ROOTS[7], [])
    assert not verify_consistency(0, 7, EMPTY_ROOT, ROOTS[7], [EMPTY_ROOT])


def test_proofs_refuse_impossible_arguments() -> None:
    for index, size in [(0, 0), (5, 5), (6, 5), (-1, 5)]:
        with pytest.raises(ValueError):
            inclusion_proof(index, size, TREE.hash_at)
    for old, new in [(6, 5), (-1, 5), (1, 0)]:
        with pytest.raises(ValueError):
            consistency_proof(old, new, TREE.hash_at)
    with pytest.raises(ValueError, match="has 300 leaves"):
        TREE.inclusion_proof(0, BIG + 1)
    with pytest.raises(MissingNode):
        TREE.hash_at(0, BIG)
    with pytest.raises(MissingNode):
        TREE.hash_at(9, 0)  # 512 leaves: not complete in a tree of 300


def test_a_store_answering_garbage_is_refused() -> None:
    def hex_store(level: int, index: int) -> bytes:
        return TREE.hash_at(level, index).hex().encode()  # 64 bytes, a classic slip

    with pytest.raises(ValueError, match="32-byte"):
        inclusion_proof(3, 10, hex_store)
    with pytest.raises(ValueError, match="32-byte"):
        merkle.tree_root(10, hex_store)
    with pytest.raises(ValueError, match="32-byte"):
        TreeBuilder().append(b"short")


# --- (b) tampering is refused ----------------------------------------------------------------

SMALL = 48  # every case below is exhaustive up to this size


def test_a_flipped_bit_anywhere_in_an_inclusion_proof_is_refused() -> None:
    for n in range(2, SMALL + 1):
        for i in range(n):
            proof = TREE.inclusion_proof(i, n)
            for j in range(len(proof)):
                for bit in (0, 7, 100, 255):
                    bad = [*proof[:j], flipped(proof[j], bit), *proof[j + 1 :]]
                    assert not verify_inclusion(i, n, LEAVES[i], bad, ROOTS[n]), (i, n, j, bit)
            assert not verify_inclusion(i, n, LEAVES[i], proof, flipped(ROOTS[n], 3))
            assert not verify_inclusion(i, n, flipped(LEAVES[i], 200), proof, ROOTS[n])


def test_an_inclusion_proof_at_a_wrong_index_is_refused() -> None:
    for n in range(1, SMALL + 1):
        for i in range(n):
            proof = TREE.inclusion_proof(i, n)
            for j in range(-1, n + 2):
                if j != i:
                    assert not verify_inclusion(j, n, LEAVES[i], proof, ROOTS[n]), (i, j, n)
                    # ... and the leaf that is at j cannot borrow i's proof either.
                    if 0 <= j < n:
                        assert not verify_inclusion(j, n, LEAVES[j], proof, ROOTS[n])


def test_an_inclusion_proof_for_a_wrong_size_is_refused() -> None:
    for n in range(1, SMALL + 1):
        for i in range(n):
            proof = TREE.inclusion_proof(i, n)
            for other in range(0, 2 * SMALL + 2):
                if other == n:
                    continue
                # Against the root of the size claimed: always refused.
                if other <= BIG:
                    assert not verify_inclusion(i, other, LEAVES[i], proof, ROOTS[other])
                # Against the right root but the wrong size: refused unless both sizes give
                # the leaf an audit path of the very same shape (then the verifier computes
                # the same thing; a checkpoint signs size and root together for this).
                same_shape = other > i and REF.inclusion_shape(i, other) == REF.inclusion_shape(
                    i, n
                )
                assert verify_inclusion(i, other, LEAVES[i], proof, ROOTS[n]) == same_shape


def test_the_shape_caveat_exists_and_is_the_only_one() -> None:
    # Leaf 0 has two right-hand siblings both in the tree of 3 and in the tree of 4.
    proof = TREE.inclusion_proof(0, 3)
    assert verify_inclusion(0, 4, LEAVES[0], proof, ROOTS[3])
    assert not verify_inclusion(0, 4, LEAVES[0], proof, ROOTS[4])


def test_an_inclusion_proof_of_the_wrong_length_is_refused() -> None:
    for n in range(1, SMALL + 1):
        for i in range(n):
            proof = TREE.inclusion_proof(i, n)
            longer = [
                [*proof, ROOTS[n]],
                [*proof, LEAVES[i]],
                [ROOTS[n], *proof],
                [proof[0], *proof] if proof else [LEAVES[i]],
            ]
            for bad in longer:
                assert not verify_inclusion(i, n, LEAVES[i], bad, ROOTS[n]), (i, n)
            if proof:
                assert not verify_inclusion(i, n, LEAVES[i], proof[:-1], ROOTS[n])
                assert not verify_inclusion(i, n, LEAVES[i], proof[1:], ROOTS[n])
                assert not verify_inclusion(i, n, LEAVES[i], [], ROOTS[n])


def test_an_altered_leaf_is_refused() -> None:
    for n in range(1, SMALL + 1):
        for i in range(n):
            proof = TREE.inclusion_proof(i, n)
            altered = leaf_hash(DATA[i] + b"!")
            assert not verify_inclusion(i, n, altered, proof, ROOTS[n])
            # The data itself (unhashed) or its plain SHA-256 is not the leaf hash.
            assert not verify_inclusion(i, n, sha256(DATA[i]), proof, ROOTS[n])


def test_an_interior_node_cannot_pass_for_a_leaf() -> None:
    # Domain separation: whatever an attacker submits as an entry hashes with 0x00, so the
    # entry "left || right" never has the hash of the node over left and right.
    n01 = node_hash(LEAVES[0], LEAVES[1])
    n23 = node_hash(LEAVES[2], LEAVES[3])
    assert verify_inclusion(0, 2, n01, [n23], ROOTS[4])  # a node is a "leaf" one level up
    forged = leaf_hash(LEAVES[0] + LEAVES[1])
    assert forged != n01
    assert not verify_inclusion(0, 2, forged, [n23], ROOTS[4])
    assert leaf_hash(merkle.NODE_PREFIX + LEAVES[0] + LEAVES[1]) != n01


def test_hostile_values_are_refused_not_raised() -> None:
    proof = TREE.inclusion_proof(5, 20)
    for args in [
        (5, 20, LEAVES[5], [*proof[:-1], proof[-1].hex()], ROOTS[20]),
        (5, 20, LEAVES[5], [*proof[:-1], proof[-1][:31]], ROOTS[20]),
        (5, 20, LEAVES[5], [*proof[:-1], proof[-1] + b"\x00"], ROOTS[20]),
        (5, 20, LEAVES[5].hex(), proof, ROOTS[20]),
        (5, 20, LEAVES[5], proof, ROOTS[20].hex()),
        (5, 20, LEAVES[5], proof, None),
        (5, 20, LEAVES[5], None, ROOTS[20]),
        (5, 20, LEAVES[5], b"".join(proof), ROOTS[20]),
        (0, 1, LEAVES[0], b"", LEAVES[0]),  # bytes are not a list of hashes, even empty
        (-1, 20, LEAVES[5], proof, ROOTS[20]),
        (5, -20, LEAVES[5], proof, ROOTS[20]),
        (5.0, 20, LEAVES[5], proof, ROOTS[20]),
        (5, 0, LEAVES[5], [], EMPTY_ROOT),
    ]:
        assert not verify_inclusion(*args)  # type: ignore[arg-type]
    cproof = TREE.consistency_proof(5, 20)
    for cargs in [
        (5, 20, ROOTS[5], ROOTS[20], [*cproof[:-1], cproof[-1].hex()]),
        (5, 20, ROOTS[5].hex(), ROOTS[20], cproof),
        (5, 20, ROOTS[5], b"", cproof),
        (-5, 20, ROOTS[5], ROOTS[20], cproof),
        (5, 20.0, ROOTS[5], ROOTS[20], cproof),
        (5, 20, ROOTS[5], ROOTS[20], None),
        (5, 20, ROOTS[5], ROOTS[20], {h: 1 for h in cproof}),
        (5, 5, ROOTS[5], ROOTS[5], ""),
    ]:
        assert not verify_consistency(*cargs)  # type: ignore[arg-type]


def test_a_flipped_bit_or_a_wrong_size_in_a_consistency_proof_is_refused() -> None:
    for new in range(2, SMALL + 1):
        for old in range(1, new):
            proof = TREE.consistency_proof(old, new)
            for j in range(len(proof)):
                for bit in (0, 9, 255):
                    bad = [*proof[:j], flipped(proof[j], bit), *proof[j + 1 :]]
                    assert not verify_consistency(old, new, ROOTS[old], ROOTS[new], bad)
            assert not verify_consistency(old, new, flipped(ROOTS[old], 1), ROOTS[new], proof)
            assert not verify_consistency(old, new, ROOTS[old], flipped(ROOTS[new], 1), proof)
            assert not verify_consistency(old, new, ROOTS[new], ROOTS[old], proof)
            # Another old size or another new size, each with its own true root: never.
            others = [(o2, new) for o2 in range(1, new + 1) if o2 != old]
            others += [(old, n2) for n2 in range(old, SMALL + 1) if n2 != new]
            for o2, n2 in others:
                assert not verify_consistency(o2, n2, ROOTS[o2], ROOTS[n2], proof), (old, new, o2)


def test_a_consistency_proof_for_other_sizes_with_the_same_roots() -> None:
    # As with audit paths, the sizes are checked only through the proof's shape: another
    # (old, new) is accepted with the same roots exactly when SUBPROOF takes the same steps
    # for it. Anything else, a shorter or a longer walk, is refused.
    top = 32  # every pair against every pair: n**4 / 4 verifications
    shapes = {(o, n): REF.consistency_shape(o, n) for n in range(1, top + 1) for o in range(1, n)}
    for (old, new), shape in shapes.items():
        proof = TREE.consistency_proof(old, new)
        for o2 in range(0, top + 1):
            for n2 in range(o2, top + 1):
                if (o2, n2) != (old, new):
                    same = shapes.get((o2, n2)) == shape
                    verdict = verify_consistency(o2, n2, ROOTS[old], ROOTS[new], proof)
                    assert verdict == same, (old, new, o2, n2)


def test_a_consistency_proof_of_the_wrong_length_is_refused() -> None:
    for new in range(2, SMALL + 1):
        for old in range(1, new):
            proof = TREE.consistency_proof(old, new)
            wrong = [
                [],
                proof[:-1],
                proof[1:],
                [*proof, ROOTS[new]],
                [*proof, ROOTS[old]],
                [ROOTS[old], *proof],
                [proof[0], *proof],
            ]
            for bad in wrong:
                assert not verify_consistency(old, new, ROOTS[old], ROOTS[new], bad), (old, new)


def test_a_shrinking_tree_has_no_consistency() -> None:
    # Truncating the tail: from a larger size to a smaller one nothing verifies, whatever
    # proof is offered.
    for new in range(2, SMALL + 1):
        for old in range(1, new):
            for proof in (
                TREE.consistency_proof(old, new),
                [],
                [ROOTS[old]],
                [ROOTS[new]],
            ):
                assert not verify_consistency(new, old, ROOTS[new], ROOTS[old], proof)


def test_reordering_two_leaves_is_caught() -> None:
    n = 40
    for a, b in [(0, 1), (0, 39), (5, 6), (16, 17), (31, 32), (12, 30)]:
        swapped = list(LEAVES[:n])
        swapped[a], swapped[b] = swapped[b], swapped[a]
        other = MemoryTree(swapped)
        assert other.root() != ROOTS[n]
        # The original proofs of the moved leaves do not verify against the new root.
        assert not verify_inclusion(a, n, LEAVES[a], TREE.inclusion_proof(a, n), other.root())
        assert not verify_inclusion(b, n, LEAVES[b], TREE.inclusion_proof(b, n), other.root())
        # The reordered log cannot prove itself an extension of any checkpoint that covered
        # the first moved leaf; of one that did not, it can (its prefix is unchanged).
        for old in range(1, n + 1):
            proof = other.consistency_proof(old, n)
            honest = verify_consistency(old, n, ROOTS[old], other.root(), proof)
            assert honest == (old <= a), (a, b, old)


def test_a_fork_is_caught() -> None:
    # Two logs share the first p entries, then differ: no consistency proof between a
    # checkpoint of one past p and any checkpoint of the other.
    for p in (0, 1, 7, 8, 13, 16):
        left = MemoryTree([*LEAVES[:p], *(leaf_hash(d) for d in data(40 - p, "left"))])
        right = MemoryTree([*LEAVES[:p], *(leaf_hash(d) for d in data(40 - p, "right"))])
        for old in range(1, 41):
            for new in range(old, 41):
                for proof in (right.consistency_proof(old, new), left.consistency_proof(old, new)):
                    verdict = verify_consistency(old, new, left.root(old), right.root(new), proof)
                    assert verdict == (old <= p and proof == right.consistency_proof(old, new)), (
                        p,
                        old,
                        new,
                    )


# --- (c) the RFC 6962 test vectors -----------------------------------------------------------
# The inputs and hashes used by the Certificate Transparency reference implementation's
# tests, as published in transparency-dev/merkle (testonly/constants.go: leaves, node
# hashes, roots for sizes 0 to 8; proof/verify_test.go: inclusion and consistency proofs,
# whose leaf numbers there count from 1).

VECTOR_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
VECTOR_ROOTS = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
VECTOR_NODES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]
H = {  # the node hashes the proof vectors are made of, by their first hex digits
    name: bytes.fromhex(h)
    for name, h in {
        "6e34": VECTOR_NODES[0][0],
        "96a2": VECTOR_NODES[0][1],
        "bc1a": VECTOR_NODES[0][4],
        "b086": VECTOR_NODES[0][6],
        "fac5": VECTOR_NODES[1][0],
        "5f08": VECTOR_NODES[1][1],
        "0ebc": VECTOR_NODES[1][2],
        "ca85": VECTOR_NODES[1][3],
        "d37e": VECTOR_NODES[2][0],
        "6b47": VECTOR_NODES[2][1],
    }.items()
}
VECTOR_INCLUSION = [  # (leaf index, tree size, proof)
    (0, 8, ["96a2", "5f08", "6b47"]),
    (5, 8, ["bc1a", "ca85", "d37e"]),
    (2, 3, ["fac5"]),
    (1, 5, ["6e34", "5f08", "bc1a"]),
]
VECTOR_CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, ["96a2", "5f08", "6b47"]),
    (6, 8, ["0ebc", "ca85", "d37e"]),
    (2, 5, ["5f08", "bc1a"]),
    (6, 7, ["0ebc", "b086", "d37e"]),
]


def test_the_published_roots_for_sizes_0_to_8() -> None:
    leaves = [leaf_hash(d) for d in VECTOR_INPUTS]
    tree = MemoryTree(leaves)
    builder = TreeBuilder()
    assert builder.root() == VECTOR_ROOTS[0]
    for n in range(len(VECTOR_INPUTS) + 1):
        assert merkle.root(leaves[:n]) == VECTOR_ROOTS[n], n
        assert tree.root(n) == VECTOR_ROOTS[n], n
        assert Reference(VECTOR_INPUTS).mth(0, n) == VECTOR_ROOTS[n], n
        if n:
            builder.append(leaves[n - 1])
            assert builder.root() == VECTOR_ROOTS[n], n


def test_the_published_node_hashes() -> None:
    tree = MemoryTree(leaf_hash(d) for d in VECTOR_INPUTS)
    for level, hashes in enumerate(VECTOR_NODES):
        assert tree.stored(level) == len(hashes)
        for index, h in enumerate(hashes):
            assert tree.hash_at(level, index).hex() == h, (level, index)
    assert tree.stored(len(VECTOR_NODES)) == 0


@pytest.mark.parametrize(("index", "size", "names"), VECTOR_INCLUSION)
def test_the_published_inclusion_proofs(index: int, size: int, names: list[str]) -> None:
    tree = MemoryTree(leaf_hash(d) for d in VECTOR_INPUTS)
    expected = [H[name] for name in names]
    assert tree.inclusion_proof(index, size) == expected
    leaf = leaf_hash(VECTOR_INPUTS[index])
    assert verify_inclusion(index, size, leaf, expected, VECTOR_ROOTS[size])
    assert not verify_inclusion(index, size, leaf, expected, VECTOR_ROOTS[size - 1])


@pytest.mark.parametrize(("old", "new", "names"), VECTOR_CONSISTENCY)
def test_the_published_consistency_proofs(old: int, new: int, names: list[str]) -> None:
    tree = MemoryTree(leaf_hash(d) for d in VECTOR_INPUTS)
    expected = [H[name] for name in names]
    assert tree.consistency_proof(old, new) == expected
    assert verify_consistency(old, new, VECTOR_ROOTS[old], VECTOR_ROOTS[new], expected)
    if old < new:
        assert not verify_consistency(old, new, VECTOR_ROOTS[old - 1], VECTOR_ROOTS[new], expected)


# --- (d) the builder ---------------------------------------------------------------------------

THOUSAND = 1000


@pytest.fixture(scope="module")
def thousand() -> tuple[list[bytes], Reference, MemoryTree, list[list[merkle.Node]]]:
    inputs = data(THOUSAND, "entry")
    leaves = [leaf_hash(d) for d in inputs]
    tree = MemoryTree()
    appended = [tree.append(h) for h in leaves]
    return leaves, Reference(inputs), tree, appended


def test_the_builder_stores_exactly_the_full_subtrees(thousand) -> None:
    _, ref, tree, appended = thousand
    nodes = [node for batch in appended for node in batch]
    expected = {
        (level, index)
        for level in range(11)
        for index in range(THOUSAND >> level)  # (index + 1) << level <= 1000
    }
    assert [(n.level, n.index) for n in nodes if n.level == 0] == [(0, i) for i in range(1000)]
    assert len(nodes) == len(expected) == 2 * THOUSAND - bin(THOUSAND).count("1")
    assert {(n.level, n.index) for n in nodes} == expected
    for node in nodes:
        span = 1 << node.level
        assert node.hash == ref.mth(node.index * span, (node.index + 1) * span), node
        assert tree.hash_at(node.level, node.index) == node.hash
    # Each append returns the leaf first, then what it completes, lowest first: leaf 1023
    # would complete 10 levels; leaf 999 (0b1111100111) completes three.
    assert [(n.level, n.index) for n in appended[999]] == [(0, 999), (1, 499), (2, 249), (3, 124)]
    assert [(n.level, n.index) for n in appended[998]] == [(0, 998)]


def test_the_root_of_every_size_from_stored_subtrees(thousand) -> None:
    _, ref, tree, _ = thousand
    for size in range(THOUSAND + 1):
        asked: list[tuple[int, int]] = []

        def counting(level: int, index: int, asked=asked) -> bytes:
            asked.append((level, index))
            return tree.hash_at(level, index)

        assert merkle.tree_root(size, counting) == ref.mth(0, size), size
        assert len(asked) == bin(size).count("1")  # one lookup per full subtree


def test_proofs_from_stored_subtrees_are_the_naive_ones(thousand) -> None:
    _, ref, tree, _ = thousand
    rng = random.Random(6962)
    sizes = [1, 2, 3, 255, 256, 257, 511, 512, 513, 999, 1000, *rng.sample(range(1, 1001), 30)]
    for size in sizes:
        hash_at = strict(tree, size)
        for index in range(size) if size <= 257 else rng.sample(range(size), 60):
            asked: list[int] = []

            def counting(lvl: int, idx: int, hash_at=hash_at, asked=asked) -> bytes:
                asked.append(lvl)
                return hash_at(lvl, idx)

            assert inclusion_proof(index, size, counting) == ref.path(index, 0, size)
            assert len(asked) <= 2 * size.bit_length()  # O(log n) lookups
    for new in (1000, 999, 512, 513, 700):
        hash_at = strict(tree, new)
        for old in range(1, new + 1):
            asked = []

            def counting(lvl: int, idx: int, hash_at=hash_at, asked=asked) -> bytes:
                asked.append(lvl)
                return hash_at(lvl, idx)

            assert consistency_proof(old, new, counting) == ref.proof(old, new), (old, new)
            assert len(asked) <= 2 * new.bit_length()


def test_the_nodes_a_proof_needs_can_be_fetched_beforehand(thousand) -> None:
    _, ref, tree, _ = thousand
    rng = random.Random(1)

    def only(nodes: list[tuple[int, int]]) -> Callable[[int, int], bytes]:
        fetched = {node: tree.hash_at(*node) for node in nodes}  # "one query"
        return lambda level, index: fetched[(level, index)]  # KeyError if one was missed

    for size in [1, 2, 3, 7, 8, 9, 256, 257, 999, 1000, *rng.sample(range(1, 1001), 20)]:
        assert merkle.tree_root(size, only(merkle.nodes_for_root(size))) == ref.mth(0, size)
        for index in rng.sample(range(size), min(size, 10)):
            needed = merkle.nodes_for_inclusion_proof(index, size)
            assert len(needed) == len(set(needed))
            assert all((i + 1) << level <= size for level, i in needed)
            proof = inclusion_proof(index, size, only(needed))
            assert proof == ref.path(index, 0, size)
        for old in rng.sample(range(1, size + 1), min(size, 10)):
            needed = merkle.nodes_for_consistency_proof(old, size)
            assert consistency_proof(old, size, only(needed)) == ref.proof(old, size)
    assert merkle.nodes_for_root(0) == []
    assert merkle.nodes_for_root(1000) == [(9, 0), (8, 2), (7, 6), (6, 14), (5, 30), (3, 124)]
    assert merkle.nodes_for_consistency_proof(5, 5) == []
    with pytest.raises(ValueError):
        merkle.nodes_for_inclusion_proof(5, 5)


def test_a_builder_resumed_from_a_store_carries_on_identically(thousand) -> None:
    leaves, ref, tree, appended = thousand
    for size in [*range(0, 70), 255, 256, 511, 512, 767, 998]:
        builder = TreeBuilder.resume(size, strict(tree, size))
        assert builder.size == size
        assert builder.root() == ref.mth(0, size)
        assert len(builder.frontier) == bin(size).count("1")
        for i in range(size, min(size + 40, THOUSAND)):
            assert builder.append(leaves[i]) == appended[i], (size, i)
        assert builder.root() == ref.mth(0, min(size + 40, THOUSAND))


def test_memory_tree_sizes() -> None:
    tree = MemoryTree(LEAVES[:10])
    with pytest.raises(ValueError, match="10 leaves"):
        tree.root(11)
    with pytest.raises(ValueError, match="10 leaves"):
        tree.consistency_proof(3, 11)
    with pytest.raises(ValueError):
        TreeBuilder.resume(-1, tree.hash_at)
    with pytest.raises(MissingNode):
        TreeBuilder.resume(11, tree.hash_at)


# --- (e) C2SP tlog-tiles ---------------------------------------------------------------------


def test_tile_paths_are_the_specs() -> None:
    # "index 1234067 will be encoded as x001/x234/067"
    assert merkle.encode_index(1234067) == "x001/x234/067"
    assert merkle.tile_path(0, 1234067, 8) == "tile/0/x001/x234/067.p/8"
    assert merkle.tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert merkle.entry_bundle_path(1234067) == "tile/entries/x001/x234/067"
    assert merkle.entry_bundle_path(1234067, 8) == "tile/entries/x001/x234/067.p/8"
    assert [merkle.encode_index(n) for n in (0, 7, 67, 999, 1000, 1001, 999999, 10**6)] == [
        "000",
        "007",
        "067",
        "999",
        "x001/000",
        "x001/001",
        "x999/999",
        "x001/x000/000",
    ]
    assert merkle.tile_path(63, 0, 1) == "tile/63/000.p/1"
    assert Tile(2, 1, 17).path == "tile/2/001.p/17"
    assert Tile(1, 273).path == "tile/1/273"
    assert EntryBundle(273, 112).path == "tile/entries/273.p/112"
    assert merkle.encode_index(2**64 - 1) == "x018/x446/x744/x073/x709/x551/615"


def test_tile_paths_parse_back_and_nothing_else_does() -> None:
    for tile in [Tile(0, 1234067, 8), Tile(0, 0), Tile(5, 999), Tile(63, 10**6, 255)]:
        assert Tile.from_path(tile.path) == tile
    for bundle in [EntryBundle(0), EntryBundle(1234067, 1), EntryBundle(1000, 255)]:
        assert EntryBundle.from_path(bundle.path) == bundle
    for bad in [
        "tile/0/x000/067",  # not the one spelling of 67
        "tile/0/x001/x234/067/",
        "tile/0/67",
        "tile/0/0067",
        "tile/0/x1234/067",
        "tile/00/000",
        "tile/01/000",
        "tile/64/000",
        "tile/-1/000",
        "tile/0/000.p/0",
        "tile/0/000.p/08",
        "tile/0/000.p/256",
        "tile/0/000.p/",
        "tile/entries/000",
        "/tile/0/000",
        "tile/0/000 ",
        "tile/0/٠٠١",  # other scripts' digits
        "tile/0/../000",
    ]:
        with pytest.raises(ValueError):
            Tile.from_path(bad)
    for bad in ["tile/entries/x000/001", "tile/entries/000.p/256", "tile/0/000", "tile/entries"]:
        with pytest.raises(ValueError):
            EntryBundle.from_path(bad)
    for level, index, width in [(-1, 0, 1), (64, 0, 1), (0, -1, 1), (0, 0, 0), (0, 0, 257)]:
        with pytest.raises(ValueError):
            Tile(level, index, width)


def full(level: int, count: int) -> list[Tile]:
    return [Tile(level, n) for n in range(count)]


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, []),
        (1, [Tile(0, 0, 1)]),
        (255, [Tile(0, 0, 255)]),
        # "a tree of size 256 will be represented by a full level 0 tile and a partial
        # level 1 tile of width 1"
        (256, [Tile(0, 0), Tile(1, 0, 1)]),
        (257, [Tile(0, 0), Tile(0, 1, 1), Tile(1, 0, 1)]),
        (65536, [*full(0, 256), Tile(1, 0), Tile(2, 0, 1)]),
        # "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial
        # level 0 tile of width 112, one full level 1 tile, one partial level 1 tile of
        # width 17, and one partial level 2 tile of width 1"
        (70000, [*full(0, 273), Tile(0, 273, 112), Tile(1, 0), Tile(1, 1, 17), Tile(2, 0, 1)]),
    ],
)
def test_the_tiles_of_a_tree(size: int, expected: list[Tile]) -> None:
    assert merkle.tiles(size) == expected


def test_the_tiles_of_70000_as_the_spec_counts_them() -> None:
    got = merkle.tiles(70000)
    assert sum(1 for t in got if t.level == 0 and not t.is_partial) == 273
    assert [t.width for t in got if t.level == 0 and t.is_partial] == [112]
    assert sum(1 for t in got if t.level == 1 and not t.is_partial) == 1
    assert [t.width for t in got if t.level == 1 and t.is_partial] == [17]
    assert [(t.level, t.width) for t in got if t.level == 2] == [(2, 1)]


def test_the_entry_bundles_of_a_tree() -> None:
    assert merkle.entry_bundles(0) == []
    assert merkle.entry_bundles(1) == [EntryBundle(0, 1)]
    assert merkle.entry_bundles(256) == [EntryBundle(0)]
    assert merkle.entry_bundles(70000) == [
        *(EntryBundle(n) for n in range(273)),
        EntryBundle(273, 112),
    ]


def test_new_tiles_are_what_the_new_size_has_and_the_old_did_not() -> None:
    rng = random.Random(8)
    sizes = [0, 1, 2, 255, 256, 257, 511, 512, 65535, 65536, 65537, 70000]
    pairs = [(a, b) for a in sizes for b in sizes if a <= b]
    pairs += [tuple(sorted(rng.sample(range(200000), 2))) for _ in range(200)]
    for old, new in pairs:
        fresh = merkle.new_tiles(old, new)
        assert len(fresh) == len(set(fresh))
        assert set(fresh) == set(merkle.tiles(new)) - set(merkle.tiles(old)), (old, new)
        bundles = merkle.new_entry_bundles(old, new)
        assert set(bundles) == set(merkle.entry_bundles(new)) - set(merkle.entry_bundles(old))
    with pytest.raises(ValueError):
        merkle.new_tiles(2, 1)
    # A checkpoint after a big batch: only what changed, not the 65,793 tiles of the tree.
    assert merkle.new_tiles(16777215, 16777216) == [
        Tile(0, 65535),
        Tile(1, 255),
        Tile(2, 0),
        Tile(3, 0, 1),
    ]


@pytest.fixture(scope="module")
def big_tree() -> tuple[list[bytes], MemoryTree]:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(70000)]
    return leaves, MemoryTree(leaves)


def test_tile_contents_are_the_specs_merkle_tree_hashes(big_tree) -> None:
    leaves, tree = big_tree
    for tile in merkle.tiles(70000):
        content = merkle.tile_data(tile, tree.hash_at)
        assert len(content) == 32 * tile.width
        # "the n-th tile at level l ... MTH(D[(n * 256 + i) * 256**l : (n * 256 + i + 1) *
        # 256**l])", checked on the first and last hash (and all of the small levels).
        span = 256**tile.level
        check = range(tile.width) if tile.level else (0, tile.width - 1)
        for i in check:
            start = (tile.index * 256 + i) * span
            expected = merkle.root(leaves[start : start + span])
            assert content[32 * i : 32 * (i + 1)] == expected, (tile, i)


def test_proofs_from_tiles_are_the_proofs_from_the_store(big_tree) -> None:
    leaves, tree = big_tree
    rng = random.Random(9162)
    for size in (70000, 69999, 65536, 65537, 256, 257, 1, 300):
        store = {t: merkle.tile_data(t, strict(tree, size)) for t in merkle.tiles(size)}
        reads: list[Tile] = []

        def read(tile: Tile, store=store, reads=reads) -> bytes:
            reads.append(tile)
            return store[tile]  # only tiles of this size exist: KeyError otherwise

        hash_at = merkle.hash_at_from_tiles(size, read)
        assert merkle.tree_root(size, hash_at) == tree.root(size)
        for index in rng.sample(range(size), min(size, 40)):
            proof = inclusion_proof(index, size, hash_at)
            assert proof == tree.inclusion_proof(index, size)
            assert verify_inclusion(index, size, leaves[index], proof, tree.root(size))
        for old in rng.sample(range(1, size + 1), min(size, 40)):
            assert consistency_proof(old, size, hash_at) == tree.consistency_proof(old, size)
        assert len(reads) == len(set(reads))  # each tile read once


def test_reading_hashes_out_of_a_tile(big_tree) -> None:
    _, tree = big_tree
    tile = Tile(0, 1)
    content = merkle.tile_data(tile, tree.hash_at)
    assert merkle.hash_from_tile(tile, content, 0, 256) == tree.hash_at(0, 256)
    assert merkle.hash_from_tile(tile, content, 0, 511) == tree.hash_at(0, 511)
    assert merkle.hash_from_tile(tile, content, 3, 33) == tree.hash_at(3, 33)
    assert merkle.hash_from_tile(tile, content, 8, 1) == tree.hash_at(8, 1)
    for level, index in [(0, 255), (0, 512), (9, 0), (3, 64), (-1, 0)]:
        with pytest.raises(MissingNode):
            merkle.hash_from_tile(tile, content, level, index)
    with pytest.raises(ValueError, match="8192 bytes"):
        merkle.hash_from_tile(tile, content[:-1], 0, 256)
    assert merkle.tile_for_node(3, 33, 70000) == Tile(0, 1)
    assert merkle.tile_for_node(0, 69999, 70000) == Tile(0, 273, 112)
    assert merkle.tile_for_node(8, 272, 70000) == Tile(1, 1, 17)
    assert merkle.tile_for_node(12, 1, 70000) == Tile(1, 0)
    assert merkle.tile_for_node(16, 0, 70000) == Tile(2, 0, 1)
    with pytest.raises(MissingNode):
        merkle.tile_for_node(0, 70000, 70000)
    with pytest.raises(MissingNode):
        merkle.tile_for_node(4, 4375, 70000)  # leaves 70000..70015: not there yet


def test_entry_bundles_hash_to_the_level_0_tile() -> None:
    entries = [f"条目 {i}".encode() for i in range(300)]
    tree = MemoryTree(leaf_hash(e) for e in entries)
    level_0 = [t for t in merkle.tiles(300) if t.level == 0]
    for bundle, tile in zip(merkle.entry_bundles(300), level_0, strict=True):
        chunk = entries[bundle.first_entry : bundle.first_entry + bundle.width]
        encoded = merkle.encode_entry_bundle(chunk)
        assert encoded[:2] == len(chunk[0]).to_bytes(2, "big")
        decoded = merkle.decode_entry_bundle(encoded, bundle.width)
        assert decoded == chunk
        assert b"".join(leaf_hash(e) for e in decoded) == merkle.tile_data(tile, tree.hash_at)
    assert merkle.decode_entry_bundle(merkle.encode_entry_bundle([b"", b"x" * 65535])) == [
        b"",
        b"x" * 65535,
    ]
    good = merkle.encode_entry_bundle([b"abc", b"de"])
    for bad in [good[:-1], good[:1], good + b"\x00", b"", b"\x00\x05abc"]:
        with pytest.raises(ValueError):
            merkle.decode_entry_bundle(bad)
    with pytest.raises(ValueError):
        merkle.decode_entry_bundle(good, 3)
    with pytest.raises(ValueError):
        merkle.encode_entry_bundle([b"x" * 65536])
    with pytest.raises(ValueError):
        merkle.encode_entry_bundle([])
    with pytest.raises(ValueError):
        merkle.encode_entry_bundle([b"x"] * 257)
