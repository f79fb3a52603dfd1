"""Access-matrix rows per area: each module defines ``ROWS`` (URL name → rows), merged into
``tests.test_access_matrix.MATRIX``."""

from importlib import import_module
from types import ModuleType

NAMES = (
    "voice",
    "publicity",
    "reporting",
    "surveys",
    "ballots",
    "congress",
    "supervision",
    "assessment",
    "jobs",
    "notify",
    "witness",
    "directory",
    "api",
)
AREAS: tuple[ModuleType, ...] = tuple(import_module(f"tests.matrix.{name}") for name in NAMES)
