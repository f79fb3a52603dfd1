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
        f"### {m.title}",
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
    """One module's part of the report: the machine it ran on, then its sections."""
    lines = ["### Machine", "", *machine(), ""]
    for m in measurements:
        lines.extend(section(m))
    return "\n".join(lines)


HEADER = """# Benchmarks

Written by `python -m bench.run` (`make bench`); do not edit by hand. Each figure is
the median of several runs, with the min and max, and a baseline measured in the same
run on the same machine, so that the ratio stays meaningful on other hardware. Each
benchmark module's part starts with the machine and date of its last run
(`python -m bench.run bench_x` reruns one module and keeps the others' parts).
"""

RESULTS = ROOT / "bench" / "results"


def main() -> None:
    """``python -m bench.run`` runs every benchmark; ``python -m bench.run bench_board``
    runs the ones named. Either way the report is rebuilt from every module's last part,
    kept in bench/results/<module>.md."""
    names = sys.argv[1:] or [p.stem for p in sorted(Path(__file__).parent.glob("bench_*.py"))]
    if names == ["--report"]:  # only rebuild the report from the kept parts
        names = []
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}", flush=True)
        measurements = module.run()
        (RESULTS / f"{name}.md").write_text(report(measurements), encoding="utf-8")
        for m in measurements:
            print(f"{m.title}: median {seconds(m.median)} ({m.ratio:.1f}× baseline)")
    parts = [HEADER]
    for path in sorted(RESULTS.glob("bench_*.md")):
        parts.append(f"## {path.stem}\n\n" + path.read_text(encoding="utf-8"))
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
