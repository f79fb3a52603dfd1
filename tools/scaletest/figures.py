"""The figures of a run, from the request records: pure functions (unit-tested)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol


class RecordLike(Protocol):
    t: float
    end: float
    kind: str
    status: int
    error: str


@dataclass
class Fault:
    """One fault: its phase (steady load before and after included) and the windows in
    which errors are allowed (the outage itself, plus a grace for requests in flight)."""

    name: str
    phase: tuple[float, float]
    windows: list[tuple[float, float]] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    lost: int = 0
    doubled: int = 0


def is_error(record: RecordLike) -> bool:
    """No answer, or a server error; a fail-closed refusal (503 with Retry-After) is not."""
    if record.error == "refused":
        return False
    return record.status == 0 or record.status >= 500


def is_refusal(record: RecordLike) -> bool:
    return record.error == "refused"


def inside(record: RecordLike, windows: list[tuple[float, float]]) -> bool:
    """A request overlaps a window (it was in flight during it)."""
    return any(record.t <= b and record.end >= a for a, b in windows)


def describe(record: RecordLike) -> str:
    return f"{record.kind} {record.error or record.status}"


def fault_figures(fault: Fault, records: list[RecordLike]) -> dict[str, Any]:
    start, end = fault.phase
    mine = [r for r in records if start <= r.t < end]
    errors = [r for r in mine if is_error(r)]
    outside = [r for r in errors if not inside(r, fault.windows)]
    refused = [r for r in mine if is_refusal(r)]
    return {
        "fault": fault.name,
        "phase_seconds": round(end - start, 1),
        "requests": len(mine),
        "errors": len(errors),
        "error_kinds": dict(Counter(describe(r) for r in errors).most_common()),
        "error_span": (
            [round(min(r.t for r in errors), 2), round(max(r.end for r in errors), 2)]
            if errors
            else None
        ),
        "error_span_seconds": (
            round(max(r.end for r in errors) - min(r.t for r in errors), 2) if errors else 0.0
        ),
        "allowed_windows": [[round(a, 2), round(b, 2)] for a, b in fault.windows],
        "errors_outside_windows": len(outside),
        "outside_kinds": dict(Counter(describe(r) for r in outside).most_common()),
        "refused_fail_closed": len(refused),
        "refused_kinds": dict(Counter(r.kind for r in refused).most_common()),
        "lost": fault.lost,
        "doubled": fault.doubled,
        **fault.notes,
    }


def unplaced_errors(faults: list[Fault], records: list[RecordLike]) -> list[RecordLike]:
    """Errors (and refusals) outside every fault's windows: each one fails the run."""
    windows = [w for f in faults for w in f.windows]
    return [r for r in records if (is_error(r) or is_refusal(r)) and not inside(r, windows)]


def markdown(summary: dict[str, Any]) -> str:
    lines = [
        "# Scale-out test on loopback",
        "",
        f"Run {summary['started']}, {summary['duration_seconds']} s in all; {summary['setup']}.",
        "",
        f"**Result: {'PASS' if summary['passed'] else 'FAIL'}**"
        + ("" if summary["passed"] else " — " + "; ".join(summary["failures"])),
        "",
        f"Load: {summary['load']['users']} simulated users, {summary['load']['requests']} "
        f"requests in {summary['load']['seconds']} s; writes acknowledged: "
        f"{summary['load']['acked']}.",
        "",
    ]
    for fault in summary["faults"]:
        lines += [f"## {fault['fault']}", "", "| figure | value |", "|---|---|"]
        for key, value in fault.items():
            if key == "fault":
                continue
            if isinstance(value, dict):
                value = ", ".join(f"{k}: {v}" for k, v in value.items()) or "—"
            elif isinstance(value, list):
                value = ", ".join(str(v) for v in value) or "—"
            elif value is None:
                value = "—"
            lines.append(f"| {key.replace('_', ' ')} | {value} |")
        lines.append("")
    lines += ["## Database check after the run", "", "| check | value |", "|---|---|"]
    for key, value in summary["verify"].items():
        if isinstance(value, list) and key.endswith(("_vs_voters", "_x_questions")):
            value = (
                " = ".join(map(str, value))
                if value[0] == value[-1]
                else " ≠ ".join(map(str, value))
            )
        elif isinstance(value, list):
            value = f"{len(value)}" + (f" ({', '.join(map(str, value[:5]))}…)" if value else "")
        lines.append(f"| {key.replace('_', ' ')} | {value} |")
    lines.append("")
    if summary.get("notes"):
        lines += ["## Notes", ""] + [f"- {n}" for n in summary["notes"]] + [""]
    return "\n".join(lines)
