"""The house has floors: a package imports only the packages below it (docs/ARCHITECTURE.md).

Every module under gongkai/ is parsed (imports inside functions included) and every import of
another gongkai package is checked against the order below: pointing up, or sideways between
packages of the same step, fails with the file and line. An import inside a function is
allowed only where a comment on the line above (or on the same line) says why.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "gongkai"

# From the ground up. Packages on the same step never import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("audit",),
    ("accounts",),
    ("org",),
    ("policy",),
    ("ledger", "search", "notify"),
    ("disclosure",),
    ("voice", "publicity", "reporting", "surveys"),
    ("congress",),
    ("ballots",),
    ("supervision",),
    ("assessment",),
    ("demo", "api", "ops"),
)
STEP = {package: step for step, packages in enumerate(LAYERS) for package in packages}
# Folders under gongkai/ that hold no Python package of their own.
NOT_PACKAGES = {"locale", "static", "templates", "__pycache__"}


def modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "migrations" not in p.parts)


def imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def target_package(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if parts[0] == "gongkai" and len(parts) > 1 else None


def violations(path: Path) -> list[str]:
    package = path.relative_to(ROOT).parts[0]
    if package.endswith(".py"):
        return []
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        for name in imported(node):
            target = target_package(name)
            if target is None or target == package:
                continue
            where = f"{path.relative_to(ROOT.parent)}:{node.lineno}"
            if target not in STEP:
                found.append(f"{where}: imports {name}, a package with no place in LAYERS")
            elif STEP[target] > STEP[package]:
                found.append(f"{where}: {package} imports {name}, which stands above it")
            elif STEP[target] == STEP[package]:
                found.append(f"{where}: {package} imports {name}, on the same step")
    return found


def test_every_package_has_a_place() -> None:
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and p.name not in NOT_PACKAGES}
    assert packages - set(STEP) == set(), "give each new package a step in LAYERS"


def test_imports_point_only_down() -> None:
    found = [line for path in modules() for line in violations(path)]
    assert found == [], "\n".join(found)


def uncommented_inner_imports(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    tree = ast.parse("\n".join(lines))
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            here = lines[node.lineno - 1]
            above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
            if "#" not in here and not above.startswith("#"):
                found.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}: {here.strip()}")
    return found


def test_imports_inside_functions_say_why() -> None:
    found = [line for path in modules() for line in uncommented_inner_imports(path)]
    assert found == [], "\n".join(found)


@pytest.mark.parametrize(
    ("source", "verdict"),
    [
        ("from gongkai.policy.rules import can\n", "stands above it"),
        ("from gongkai.publicity.models import Publicity\n", "on the same step"),
        ("def f():\n    from gongkai.core import text\n", "inside"),
    ],
)
def test_the_check_catches_what_it_should(tmp_path: Path, source: str, verdict: str) -> None:
    """The test itself can fail: a planted upward, sideways and uncommented import is found."""
    package = ROOT / ("org" if "policy" in source else "voice")
    planted = package / "_planted_for_test_layers.py"
    planted.write_text(source, encoding="utf-8")
    try:
        if verdict == "inside":
            assert uncommented_inner_imports(planted)
        else:
            assert any(verdict in line for line in violations(planted))
    finally:
        planted.unlink()
