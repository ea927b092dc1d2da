"""Debian's nginx (`make nginx-deps`) as the balancer in front of several gunicorn nodes, on a
free loopback port, with its configuration, pid file, logs and buffers in the folder it is
given: nothing of the system's nginx is read or touched.

The proxy settings are those of deploy/nginx.conf: a request nginx could not hand to a
node (connection refused) goes to the next one, a GET that broke off is asked again of the
next one, and a POST that reached a node is never replayed (nginx does not, for non-idempotent
methods, unless told `non_idempotent`): the browser's own retry decides, as in production.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

# One line per request: when it ended, its status, and the nodes asked (", "-separated when the
# first one failed and the next answered).
LOG_FORMAT = "$msec $status $upstream_addr"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _user_directive() -> str:
    """nginx started as root hands its workers to `nobody`, who could not write the request
    buffers in our folder: keep them as the current user (ignored when not root)."""
    if os.geteuid() != 0:
        return ""
    user = pwd.getpwuid(os.geteuid()).pw_name
    return f"user {user} {grp.getgrgid(os.getegid()).gr_name};"


def config(port: int, nodes: list[str], folder: Path) -> str:
    servers = "\n".join(f"        server {node} max_fails=1 fail_timeout=5s;" for node in nodes)
    return f"""{_user_directive()}
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format balanced '{LOG_FORMAT}';
    access_log {folder}/access.log balanced;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    client_max_body_size 11m;
    upstream tenken {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://tenken;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_connect_timeout 2s;
            proxy_read_timeout 130s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
        }}
    }}
}}
"""


class Balancer:
    def __init__(self, nodes: list[str], folder: Path):
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            raise RuntimeError("nginx が見つかりません (make nginx-deps)")
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / "nginx.conf"
        conf.write_text(config(self.port, nodes, self.folder))
        # -e: the error log from the very start, before the configuration names ours.
        self.process = subprocess.Popen(
            [binary, "-p", str(self.folder), "-c", str(conf), "-e", str(self.folder / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._wait()

    def _wait(self, limit: float = 10) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx stopped: {self.process.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not listen in time")

    def served(self, since: float = 0.0, until: float = float("inf")) -> Counter:
        """Requests answered (not a 5xx) per node address between two wall-clock times
        (time.time()); one that a node failed and the next answered counts for the latter."""
        counts: Counter = Counter()
        log = self.folder / "access.log"
        for line in log.read_text().splitlines() if log.exists() else []:
            ended, status, asked = line.split(" ", 2)
            if since <= float(ended) < until and int(status) < 500:
                counts[asked.split(", ")[-1]] += 1
        return counts

    def stop(self) -> None:
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stderr.close()
