"""Percentiles and summaries of latency samples (seconds in, milliseconds out)."""

from __future__ import annotations

import math


def percentile(samples: list[float], p: float) -> float | None:
    """Nearest-rank percentile: the smallest sample with at least p% of samples at or below."""
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(seconds: list[float]) -> dict:
    """p50, p99, max and count of samples given in seconds, in milliseconds."""
    ms = [s * 1000 for s in seconds]

    def rounded(value):
        return None if value is None else round(value, 2)

    return {
        "n": len(ms),
        "p50_ms": rounded(percentile(ms, 50)),
        "p99_ms": rounded(percentile(ms, 99)),
        "max_ms": rounded(max(ms) if ms else None),
    }


def ratio(a: float | None, b: float | None) -> float | None:
    return None if not a or not b else round(a / b, 2)
