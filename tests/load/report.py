"""Figures from the client's records: rates, latency percentiles, errors in and out of faults."""

from __future__ import annotations

from collections import defaultdict

from tests.load.client import Record

# The targets at 64 connections: at least this many answered requests a second, p99 below this.
TARGET_CONNECTIONS = 64
TARGETS = {"questionnaire": (300, 500), "autosave": (150, 500)}


def shortfalls(endpoint: str, figures: dict) -> list[str]:
    """How the throughput figures of `endpoint` fall short of its target; empty when met."""
    rps, p99 = TARGETS[endpoint]
    found = []
    if figures["rps"] < rps:
        found.append(f"{endpoint} {figures['rps']:.1f} req/s < {rps}")
    if not figures["p99"] < p99:
        found.append(f"{endpoint} p99 {figures['p99']:.0f} ms ≥ {p99}")
    return found


def _percentile(ordered: list[float], p: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _ok(status: int) -> bool:
    return 200 <= status < 400


def summary(records: list[Record], span: tuple[float, float]) -> dict[str, dict]:
    """Per endpoint: answered requests per second over the span, and latency in ms."""
    start, end = span
    seconds = max(end - start, 1e-9)
    grouped = defaultdict(list)
    for record in records:
        if start <= record.start and record.end <= end:
            grouped[record.endpoint].append(record)
    figures = {}
    for endpoint, found in sorted(grouped.items()):
        latencies = sorted((r.end - r.start) * 1000 for r in found if _ok(r.status))
        figures[endpoint] = {
            "requests": len(found),
            "answered": len(latencies),
            "rps": len(latencies) / seconds,
            "p50": _percentile(latencies, 50),
            "p95": _percentile(latencies, 95),
            "p99": _percentile(latencies, 99),
            "4xx": sum(1 for r in found if 400 <= r.status < 500),
            "5xx": sum(1 for r in found if r.status >= 500),
            "no_answer": sum(1 for r in found if r.status == 0),
        }
    return figures


def _failed(record: Record) -> bool:
    return record.status == 0 or record.status >= 500


def _inside(record: Record, windows) -> bool:
    return any(record.start <= end and record.end >= start for _, start, end in windows)


def outside(records: list[Record], windows) -> list[Record]:
    return [r for r in records if _failed(r) and not _inside(r, windows)]


def errors_by_window(records: list[Record], windows: list[tuple[str, float, float]]) -> dict:
    """5xx and unanswered requests, inside a fault window (overlapping it) or outside all."""
    counts = {"inside": 0, "outside": 0, "4xx": 0}
    for record in records:
        if 400 <= record.status < 500:
            counts["4xx"] += 1
        if _failed(record):
            counts["inside" if _inside(record, windows) else "outside"] += 1
    return counts


def table(title: str, figures: dict[str, dict]) -> str:
    lines = [
        f"  {title}",
        f"    {'endpoint':<14}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'4xx':>6}{'5xx':>6}{'no-ans':>7}",
    ]
    for endpoint, f in figures.items():
        lines.append(
            f"    {endpoint:<14}{f['requests']:>9}{f['rps']:>9.1f}{f['p50']:>9.1f}{f['p95']:>9.1f}"
            f"{f['p99']:>9.1f}{f['4xx']:>6}{f['5xx']:>6}{f['no_answer']:>7}"
        )
    return "\n".join(lines)


def emit(backend: str, name: str, value) -> None:
    """One figure as a `LOAD backend name value` line, for scripts reading the run's output."""
    text = f"{value:.1f}" if isinstance(value, float) else str(value)
    print(f"LOAD {backend} {name} {text}", flush=True)


def print_phase(backend: str, title: str, figures: dict) -> None:
    print(table(title, figures), flush=True)
    for endpoint, f in figures.items():
        for key in ("rps", "p50", "p95", "p99"):
            emit(backend, f"{title}.{endpoint}.{key}", f[key])


def print_journey(backend: str, title: str, records: list[Record], span, windows) -> dict:
    """The journey's table, its fault windows and every error outside them; the error counts."""
    print_phase(backend, title, summary(records, span))
    for name, start, end in windows:
        print(f"  fault window: {name}: {start - span[0]:.1f} s → {end - span[0]:.1f} s")
    errors = errors_by_window(records, windows)
    for record in outside(records, windows):
        print(
            f"  error outside the fault windows: {record.endpoint} {record.status or 'no answer'}"
            f" at {record.start - span[0]:.1f} s, {record.end - record.start:.1f} s long"
        )
    for key, value in errors.items():
        emit(backend, f"{title}.errors_{key}", value)
    return errors
