"""gunicorn with the shipped production configuration (deploy/gunicorn.conf.py), on a loopback
port: one node of tenken, whose workers can be killed one at a time or all at once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """gunicorn on `port` (a free one if not given), answering 200 at `ready_path` once started."""

    def __init__(self, target: str, env: dict[str, str], ready_path: str, port: int | None = None):
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.base = f"http://{self.address}"
        env = {**env, "GUNICORN_BIND": self.address}
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [str(gunicorn), "-c", str(GUNICORN_CONF), target], env=env, cwd=ROOT
        )
        self._wait(ready_path)

    def _wait(self, path: str, limit: float = 60) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("gunicorn stopped while starting (see its log)")
            try:
                with urllib.request.urlopen(self.base + path, timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("gunicorn did not answer in time")

    def workers(self) -> set[int]:
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return {int(child) for child in children}

    def kill_worker(self) -> int:
        victim = min(self.workers())
        os.kill(victim, signal.SIGKILL)
        return victim

    def wait_replaced(self, victim: int, count: int, limit: float = 30) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            workers = self.workers()
            if victim not in workers and len(workers) >= count:
                return
            time.sleep(0.05)
        raise RuntimeError("gunicorn did not replace the killed worker")

    def kill(self) -> None:
        """The whole node at once, as a machine that lost its power: the master and every
        worker SIGKILLed, whatever they were answering cut off, nothing shut down cleanly."""
        workers = self.workers()
        self.process.kill()
        for worker in workers:
            try:
                os.kill(worker, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
