"""Benchmarks: ``python -m bench.run`` runs every ``bench/bench_*.py`` and rewrites
docs/BENCHMARKS.md. Not part of the test suite."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass
class Measurement:
    """One measured figure: several timed runs, and a baseline timed in the same run."""

    title: str
    what: str  # what exactly was timed, in a sentence or two
    samples: list[float]  # seconds, one per run
    baseline: str  # what the baseline is
    baseline_samples: list[float]
    target_seconds: float | None = None
    notes: dict[str, str] = field(default_factory=dict)  # e.g. peak memory

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def baseline_median(self) -> float:
        return statistics.median(self.baseline_samples)

    @property
    def ratio(self) -> float:
        return self.median / self.baseline_median
