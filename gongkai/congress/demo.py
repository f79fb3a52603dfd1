"""Demo data of this app, loaded by ``seed_demo`` after the org and disclosures."""

from __future__ import annotations


def seed() -> dict[str, int]:
    """Load the demo records; return counts for the command's summary line."""
    return {}
