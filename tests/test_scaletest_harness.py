"""The scale test's arithmetic (tools.scaletest.figures): which errors a fault may have."""

from __future__ import annotations

from dataclasses import dataclass

from tools.scaletest import figures


@dataclass
class R:
    t: float
    end: float
    kind: str = "board"
    status: int = 200
    error: str = ""


def test_errors_inside_the_fault_window_are_counted_but_allowed():
    fault = figures.Fault("kill", (0.0, 100.0), windows=[(10.0, 13.0)])
    records = [R(1, 1.1), R(10.5, 11, status=502), R(12.9, 14, status=0, error="ConnectionError")]
    out = figures.fault_figures(fault, records)
    assert out["requests"] == 3
    assert out["errors"] == 2
    assert out["errors_outside_windows"] == 0
    assert out["error_span"] == [10.5, 14]
    assert figures.unplaced_errors([fault], records) == []


def test_an_error_outside_every_window_fails_the_run():
    fault = figures.Fault("kill", (0.0, 100.0), windows=[(10.0, 13.0)])
    late = R(50, 50.2, status=500)
    assert figures.unplaced_errors([fault], [late]) == [late]
    assert figures.fault_figures(fault, [late])["errors_outside_windows"] == 1


def test_a_fail_closed_refusal_is_not_an_error_but_must_be_in_a_window():
    fault = figures.Fault("redis", (0.0, 100.0), windows=[(20.0, 30.0)])
    refused = R(25, 25.1, kind="login", status=503, error="refused")
    assert figures.fault_figures(fault, [refused])["errors"] == 0
    assert figures.fault_figures(fault, [refused])["refused_fail_closed"] == 1
    assert figures.unplaced_errors([fault], [refused]) == []
    stray = R(60, 60.1, kind="login", status=503, error="refused")
    assert figures.unplaced_errors([fault], [stray]) == [stray]
