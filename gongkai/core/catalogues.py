"""Compile (and check) the translation catalogues with polib, so that installing gongkai
needs nothing but Python: ``python -m gongkai.core.catalogues compile``."""

from __future__ import annotations

import sys
from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def catalogues() -> list[Path]:
    return sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))


def compile_all() -> int:
    for po_path in catalogues():
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
    return 0


def main(argv: list[str]) -> int:
    if argv[1:] == ["compile"]:
        return compile_all()
    sys.stderr.write("usage: python -m gongkai.core.catalogues compile\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
