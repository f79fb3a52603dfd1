"""Materialised paths of the org tree (``/1/4/17/``: the primary keys from the root, with the
separator on both sides of every id, so that a subtree is one ``path LIKE '/1/4/%'``)."""

from __future__ import annotations

from collections.abc import Iterable


def subtree_roots(paths: Iterable[str]) -> list[str]:
    """The fewest paths whose subtrees cover every one of ``paths`` (sorted: a parent's
    path sorts before its children's)."""
    roots: list[str] = []
    for path in sorted(paths):
        if not any(path.startswith(root) for root in roots):
            roots.append(path)
    return roots
