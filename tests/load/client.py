"""Simulated browsers on aiohttp: sign in, open the questionnaire, autosave drafts, submit.

A browser here does what the real one does with the server's pages: it takes the CSRF token and
the revision from the form it was served, posts the form's fields back, keeps its own cookies,
and after a network error or a 5xx posts the same form again (the server's saves are idempotent).
The session cookie is Secure in production; over loopback the client plays the part of the
TLS-terminating proxy and sends it anyway.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field

import aiohttp

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]*)"')
REVISION = re.compile(r'name="revision"[^>]*value="([^"]*)"')
RETRY_PAUSE = 0.5
# As long as the production stack waits (gunicorn's timeout 120 s, nginx's 130 s): a slower
# answer is slow, and shows in the percentiles; no answer within it counts as an error.
REQUEST_TIMEOUT = 120


@dataclass
class Record:
    endpoint: str
    status: int  # 0: no HTTP answer (connection refused or cut, timeout)
    start: float
    end: float


@dataclass
class Ack:
    """A save the server acknowledged: these values are stored at this revision."""

    assignment_id: int
    revision: int
    values: dict[int, tuple[str, str]]  # item id -> (option code, comment)
    at: float


@dataclass
class Run:
    records: list[Record] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)


def connector_session(limit: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit),
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
    )


class Browser:
    def __init__(self, http: aiohttp.ClientSession, base: str, run: Run):
        self.http = http
        self.base = base
        self.run = run
        self.cookies: dict[str, str] = {}

    async def request(self, method: str, path: str, endpoint: str, data=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        start = time.monotonic()
        status, body, location = 0, "", ""
        try:
            async with self.http.request(
                method, self.base + path, data=data, headers=headers, allow_redirects=False
            ) as response:
                body = await response.text()
                status = response.status
                location = response.headers.get("Location", "")
                for name, morsel in response.cookies.items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
        except (TimeoutError, aiohttp.ClientError):
            pass
        self.run.records.append(Record(endpoint, status, start, time.monotonic()))
        return status, body, location

    async def until_answered(self, deadline, method, path, endpoint, data=None, headers=None):
        """Repeat what got no answer or a 5xx, as a person pressing the button again would."""
        while True:
            status, body, location = await self.request(method, path, endpoint, data, headers)
            if 0 < status < 500 or time.monotonic() > deadline:
                return status, body, location
            await asyncio.sleep(RETRY_PAUSE)

    async def login(self, username: str, password: str, deadline: float) -> bool:
        while time.monotonic() < deadline:
            status, body, _ = await self.until_answered(
                deadline, "GET", "/auth/login", "login_page"
            )
            token = CSRF.search(body)
            if status != 200 or not token:
                await asyncio.sleep(RETRY_PAUSE)
                continue
            form = {"csrf_token": token.group(1), "username": username, "password": password}
            status, _, location = await self.until_answered(
                deadline, "POST", "/auth/login", "login", form
            )
            if status == 302 and "/auth/" not in location:
                return True
        return False


class Questionnaire:
    """One open questionnaire in one browser: the form's hidden fields and what is typed in it."""

    def __init__(self, browser: Browser, assignment_id: int, items, rng: random.Random):
        self.browser = browser
        self.id = assignment_id
        self.items = items  # [(item id, [(code, option id)])]
        self.rng = rng
        self.csrf = ""
        self.revision = ""
        self.values: dict[int, tuple[str, str]] = {}
        self.typed = 0

    @property
    def path(self) -> str:
        return f"/assignments/{self.id}"

    async def open(self, deadline: float) -> bool:
        status, body, _ = await self.browser.until_answered(
            deadline, "GET", self.path, "questionnaire"
        )
        csrf, revision = CSRF.search(body), REVISION.search(body)
        if status != 200 or not csrf or not revision:
            return False
        self.csrf, self.revision = csrf.group(1), revision.group(1)
        return True

    def answer_everything(self, label: str) -> None:
        for item_id, choices in self.items:
            self.values[item_id] = (self.rng.choice(choices)[0], f"{label} 初回 {item_id}")

    def change(self, label: str, count: int) -> None:
        """A person changes a few answers between two autosaves."""
        for item_id, choices in self.rng.sample(self.items, count):
            self.typed += 1
            self.values[item_id] = (self.rng.choice(choices)[0], f"{label} 変更{self.typed}")

    def form(self, action: str | None = None) -> dict[str, str]:
        fields = {"csrf_token": self.csrf, "revision": self.revision}
        for item_id, (code, comment) in self.values.items():
            fields[f"item_{item_id}"] = code
            fields[f"comment_{item_id}"] = comment
        if action:
            fields["action"] = action
        return fields

    async def autosave(self, deadline: float) -> int:
        sent = dict(self.values)
        status, body, _ = await self.browser.until_answered(
            deadline,
            "POST",
            f"{self.path}/autosave",
            "autosave",
            self.form(),
            {"X-Requested-With": "fetch"},
        )
        if status == 200:
            revision = int(re.search(r'"revision":\s*(\d+)', body).group(1))
            self.revision = str(revision)
            self.browser.run.acks.append(Ack(self.id, revision, sent, time.monotonic()))
        return status

    async def submit(self, deadline: float) -> int:
        sent, revision = dict(self.values), int(self.revision)
        status, _, location = await self.browser.until_answered(
            deadline, "POST", self.path, "submit", self.form("submit")
        )
        if status == 302 and location.endswith(self.path):
            # Posted values equal to the stored ones change nothing: stored at this revision.
            self.browser.run.acks.append(Ack(self.id, revision, sent, time.monotonic()))
        return status
