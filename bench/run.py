"""Run every ``bench/bench_*.py`` module's ``run()`` and rewrite docs/BENCHMARKS.md."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import platform
import sqlite3
import sys
from pathlib import Path

from bench import Measurement

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "BENCHMARKS.md"


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- CPUs (nproc): {os.cpu_count()} · {cpu}",
        f"- OS: {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()} · SQLite {sqlite3.sqlite_version}",
    ]


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value >= 0.1 else f"{value * 1000:.1f} ms"


def section(m: Measurement) -> list[str]:
    lines = [
        f"## {m.title}",
        "",
        m.what,
        "",
        "| | median | min | max | runs |",
        "|---|---:|---:|---:|---:|",
        f"| measured | **{seconds(m.median)}** | {seconds(min(m.samples))} | "
        f"{seconds(max(m.samples))} | {len(m.samples)} |",
        f"| baseline: {m.baseline} | {seconds(m.baseline_median)} | "
        f"{seconds(min(m.baseline_samples))} | {seconds(max(m.baseline_samples))} | "
        f"{len(m.baseline_samples)} |",
        "",
        f"Ratio to the baseline: **{m.ratio:.1f}×**.",
    ]
    if m.target_seconds is not None:
        verdict = "met" if max(m.samples) < m.target_seconds else "NOT met"
        lines.append(f"Target: under {seconds(m.target_seconds)} — {verdict} (slowest run).")
    if m.notes:
        lines.append("")
        lines.extend(f"- {key}: {value}" for key, value in m.notes.items())
    lines.append("")
    return lines


def report(measurements: list[Measurement]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `python -m bench.run` (`make bench`); do not edit by hand. Each figure is",
        "the median of several runs, with the min and max, and a baseline measured in the same",
        "run on the same machine, so that the ratio stays meaningful on other hardware.",
        "",
        "## Machine",
        "",
        *machine(),
        "",
    ]
    for m in measurements:
        lines.extend(section(m))
    return "\n".join(lines)


def main() -> None:
    measurements: list[Measurement] = []
    for path in sorted(Path(__file__).parent.glob("bench_*.py")):
        module = importlib.import_module(f"bench.{path.stem}")
        print(f"== {path.stem}", flush=True)
        measurements.extend(module.run())
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(report(measurements), encoding="utf-8")
    for m in measurements:
        print(f"{m.title}: median {seconds(m.median)} ({m.ratio:.1f}× baseline)")
    print(f"wrote {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
