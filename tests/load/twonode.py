"""The two-node phase: nginx in front of two gunicorn nodes, each with its own instance folder and
logs, both on the same database and Redis, with the same SECRET_KEY (deploy/nginx.conf,
docs/deployment.md's "Several servers").

1. An evidence file is uploaded on node A and downloaded from node B, and through nginx: the
   same bytes (files live in the database, survey/services/files.py).
2. The journey's people answer through nginx; at 30 % of it node A is killed outright (master
   and workers SIGKILLed), and the journey goes on on node B. The evidence file is downloaded
   through nginx again once A is gone.
3. Every acknowledged answer is checked in the database (tests/load/check.py), and nginx's log
   says which node answered how many requests before and after the kill.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.load import check, report, scenario
from tests.load.balancer import Balancer
from tests.load.client import CSRF, REVISION, Browser, Run, connector_session
from tests.load.fixture import Plan
from tests.load.server import Gunicorn

EVIDENCE_FIELD = re.compile(r'name="(evidence_\d+)"')
EVIDENCE_LINK = re.compile(r'href="(/assignments/\d+/evidence/\d+)"')
# Several chunks of the database's file store (256 KB each), the last one partly filled.
EVIDENCE_SIZE = 600 * 1024


class Node:
    """One app server: gunicorn with the shared settings and a folder of its own."""

    def __init__(self, name: str, env: dict[str, str], work: Path):
        self.name = name
        folder = work / f"node-{name}"
        (folder / "instance").mkdir(parents=True, exist_ok=True)
        self.env = {
            **env,
            "SURVEY_INSTANCE_PATH": str(folder / "instance"),
            "GUNICORN_ACCESS_LOG": str(folder / "access.log"),
            "GUNICORN_ERROR_LOG": str(folder / "error.log"),
            # nginx is the one proxy in front: the client's address and scheme are its word.
            "SURVEY_PROXY_COUNT": "1",
        }
        self.server = Gunicorn("wsgi:app", self.env, "/auth/login")
        self.address = self.server.address
        self.base = self.server.base

    def kill(self) -> None:
        self.server.kill()

    def stop(self) -> None:
        self.server.stop()


@dataclass
class Evidence:
    """The file sent, where its download link is, and the cookies of the person who sent it."""

    sent: bytes = b""
    link: str = ""
    cookies: dict[str, str] = field(default_factory=dict)
    downloads: dict[str, bool] = field(default_factory=dict)  # where from -> the same bytes


async def upload(base: str, plan: Plan, run: Run) -> Evidence:
    """Sign in on `base` and attach a file to the evidence questionnaire with a draft save."""
    assignment_id, username = plan.evidence
    evidence = Evidence(sent=b"%PDF-1.4\n" + os.urandom(EVIDENCE_SIZE))
    async with connector_session(4) as http:
        browser = Browser(http, base, run)
        deadline = time.monotonic() + 60
        if not await browser.login(username, plan.password, deadline):
            raise RuntimeError(f"{username} could not sign in on {base}")
        path = f"/assignments/{assignment_id}"
        _, page, _ = await browser.request("GET", path, "questionnaire")
        form = aiohttp.FormData()
        form.add_field("csrf_token", CSRF.search(page).group(1))
        form.add_field("revision", REVISION.search(page).group(1))
        form.add_field(
            EVIDENCE_FIELD.search(page).group(1),
            evidence.sent,
            filename="二拠点試験.pdf",
            content_type="application/pdf",
        )
        status, _, _ = await browser.request("POST", path, "evidence_upload", form)
        if status != 302:
            raise RuntimeError(f"the evidence upload on {base} answered {status}")
        _, page, _ = await browser.request("GET", path, "questionnaire")
        evidence.link = EVIDENCE_LINK.search(page).group(1)
        evidence.cookies = dict(browser.cookies)
    return evidence


async def download(base: str, evidence: Evidence, where: str) -> None:
    cookie = "; ".join(f"{k}={v}" for k, v in evidence.cookies.items())
    async with connector_session(1) as http:
        async with http.get(base + evidence.link, headers={"Cookie": cookie}) as response:
            body = await response.read() if response.status == 200 else b""
    evidence.downloads[where] = body == evidence.sent


def _faults(a: Node, balancer: Balancer, evidence: Evidence, duration: float, events: dict):
    async def strike(start: float) -> None:
        await asyncio.sleep(max(0.0, start + duration * 0.3 - time.monotonic()))
        events["killed"] = (time.monotonic(), time.time())
        await asyncio.to_thread(a.kill)
        await download(balancer.base, evidence, "nginx_A_killed")

    return strike


def _served(balancer: Balancer, a: Node, b: Node, events: dict) -> dict[str, dict[str, int]]:
    """Requests each node answered through nginx before A was killed, and after."""
    killed = events["killed"][1]
    periods = {"before_kill": balancer.served(until=killed), "after_kill": balancer.served(killed)}
    return {
        period: {node.name: counts.get(node.address, 0) for node in (a, b)}
        for period, counts in periods.items()
    }


def run(backend: str, args, env: dict, plan: Plan, url: str, work: Path, people: list) -> bool:
    """The phase, printed as `LOAD backend two_node.…` lines; True if its check passed."""
    print("  two nodes behind nginx: A and B on one database and one Redis", flush=True)
    a = b = balancer = None
    journey, events = Run(), {}
    try:
        a, b = Node("A", env, work), Node("B", env, work)
        balancer = Balancer([a.address, b.address], work / "nginx")
        evidence = asyncio.run(upload(a.base, plan, Run()))
        asyncio.run(download(b.base, evidence, "node_B"))
        asyncio.run(download(balancer.base, evidence, "nginx"))
        span = asyncio.run(
            scenario.journey(
                balancer.base,
                plan,
                people,
                args.duration,
                (args.think_min, args.think_max),
                journey,
                _faults(a, balancer, evidence, args.duration, events),
            )
        )
    finally:
        for part in (balancer, a, b):
            if part is not None:
                part.stop()
    served = _served(balancer, a, b, events)  # once nginx has stopped and written every line
    return _report(backend, url, plan, journey, span, events, served, evidence)


def _report(backend, url, plan, journey, span, events, served, evidence) -> bool:
    killed = events["killed"][0]
    # Only what was under way at the kill may fail (a POST nginx had handed to A is not sent
    # again; the browser repeats it): the window closes when A's absence is a few seconds old.
    windows = [("node A SIGKILL (master and workers)", killed, killed + 3.0)]
    errors = report.print_journey(backend, "two_node", journey.records, span, windows)
    for period, counts in served.items():
        shares = ", ".join(f"{name} {count}" for name, count in counts.items())
        print(f"  answered through nginx, {period}: {shares}")
        for name, count in counts.items():
            report.emit(backend, f"two_node.served.{period}.{name}", count)
    digest = hashlib.sha256(evidence.sent).hexdigest()[:12]
    for where, same in evidence.downloads.items():
        outcome = "the same bytes" if same else "DIFFERENT BYTES"
        print(f"  evidence ({len(evidence.sent)} bytes, {digest}) on A, from {where}: {outcome}")
        report.emit(backend, f"two_node.evidence.{where}", int(same))
    result = check.verify(url, plan, journey.acks)
    for key, value in result.items():
        report.emit(backend, f"two_node.check.{key}", value)
    balanced = all(served["before_kill"].values()) and served["after_kill"]["B"] > 0
    passed = (
        errors["outside"] == 0
        and check.clean(result)
        and len(evidence.downloads) == 3
        and all(evidence.downloads.values())
        and balanced
    )
    print(f"  two-node check: {'passed' if passed else 'FAILED'}", flush=True)
    report.emit(backend, "two_node.passed", int(passed))
    return passed
