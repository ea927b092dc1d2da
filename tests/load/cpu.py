"""Where the CPU went during a phase: gunicorn (master and workers), PostgreSQL (the private
cluster's processes) and the client, in milliseconds per answered request.

When every core is busy, a request costs the sum of the three: this says whether a faster page
needs less Python in the workers, less work in the database, or is held back by the client.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _seconds(pid: int, reaped: bool = False) -> float:
    """CPU seconds of `pid`; with `reaped`, also those of the children it has waited for, so
    that a gunicorn worker replaced after max_requests still counts after it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # gone since it was listed
        return 0.0
    own = int(fields[11]) + int(fields[12])  # utime + stime
    children = int(fields[13]) + int(fields[14]) if reaped else 0  # cutime + cstime
    return (own + children) / _TICK


def _children(pid: int) -> list[int]:
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in listed.split()]


class Meter:
    def __init__(self, gunicorn_pid: int, postmaster_pid: int | None):
        self.parts = {"gunicorn": gunicorn_pid, "postgresql": postmaster_pid}

    def sample(self) -> dict[str, float]:
        found = {
            part: _seconds(root, reaped=True) + sum(map(_seconds, _children(root)))
            for part, root in self.parts.items()
            if root is not None
        }
        found["client"] = time.process_time()
        return found

    @staticmethod
    def per_request(before: dict, after: dict, requests: int) -> dict[str, float]:
        return {part: (after[part] - before[part]) * 1000 / max(requests, 1) for part in after}
