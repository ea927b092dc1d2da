"""A private PostgreSQL cluster for the load test: its own directory and port, restarted during
the run and removed afterwards, so the shared server is never touched and a fresh machine
needs only the PostgreSQL binaries."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    raise SystemExit("PostgreSQL の pg_ctl が見つかりません (apt-get install postgresql)")


class Cluster:
    """initdb into a temporary directory; PostgreSQL refuses to run as root, so as `postgres`."""

    def __init__(self, port: int = 5499):
        self.port = port
        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="tenken-load-pg-"))
        self.data = self.root / "data"
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    @property
    def url(self) -> str:
        return self.url_of("tenken")

    def url_of(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True)

    def start(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-instructions",
        )
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c max_connections=100 -c shared_buffers=128MB"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )
        self.create("tenken")

    def create(self, database: str) -> str:
        """A new, empty database in the cluster; its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", database)
        return self.url_of(database)

    def restart(self) -> None:
        """A fast shutdown (open transactions are rolled back, connections cut) and a start."""
        # -l: a server started without a log file writes to pg_ctl's output, which would keep
        # our pipe open for as long as it runs.
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-m",
            "fast",
            "-w",
            "restart",
        )

    def ready(self) -> bool:
        probe = self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), check=False)
        return probe.returncode == 0

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def wait_ready(self, limit: float = 30) -> None:
        deadline = time.monotonic() + limit
        while not self.ready():
            if time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL did not come back")
            time.sleep(0.1)

    def remove(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)
