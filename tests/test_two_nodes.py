"""Two app nodes behind nginx on one database and one Redis (docs/deployment.md, "Several
servers"): a file uploaded on one node downloads whole from the other, a browser's session holds
on both, and when one node is killed outright nginx serves everything from the other.

The same set-up as `make loadtest`'s two-node phase (tests/load/twonode.py), small: one gunicorn
worker per node, one browser. Debian's nginx comes from `make nginx-deps` (a prerequisite of
`make test`); only without it is this skipped.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer
from tests import helpers
from tests.load.balancer import Balancer
from tests.load.server import Gunicorn

pytestmark = pytest.mark.skipif(
    not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()),
    reason="nginx がありません (make nginx-deps)",
)

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]*)"')
REVISION = re.compile(r'name="revision"[^>]*value="([^"]*)"')
EVIDENCE_LINK = re.compile(r'href="(/assignments/\d+/evidence/\d+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Keeps its cookies and sends them to whichever address it is asked to (the Secure session
    cookie too: over loopback it plays the part of the TLS-terminating proxy)."""

    def __init__(self):
        self.cookies: dict[str, str] = {}
        self.opener = urllib.request.build_opener(_NoRedirect)

    def request(self, url: str, data: bytes | None = None, headers=None) -> tuple[int, bytes]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            response = self.opener.open(urllib.request.Request(url, data, headers), timeout=60)
        except urllib.error.HTTPError as error:  # 3xx (not followed) and errors alike
            response = error
        with response:
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, response.read()

    def form_post(self, url: str, fields: dict[str, str]) -> int:
        body = urllib.parse.urlencode(fields).encode()
        return self.request(url, body, {"Content-Type": "application/x-www-form-urlencoded"})[0]

    def multipart_post(self, url: str, fields: dict[str, str], name: str, file: bytes) -> int:
        boundary = uuid.uuid4().hex
        start = f"--{boundary}\r\nContent-Disposition: form-data; "
        parts = [
            f'{start}name="{key}"\r\n\r\n{value}\r\n'.encode() for key, value in fields.items()
        ]
        parts.append(
            f'{start}name="{name}"; filename="evidence.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n".encode()
            + file
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self.request(url, b"".join(parts), headers)[0]


def _logged(nginx: Balancer, before: Counter, requests: int) -> Counter:
    """The requests answered by each node since `before`, once nginx has logged `requests` of
    them: it writes a request's line after sending the answer."""
    deadline = time.monotonic() + 5
    while (served := nginx.served() - before).total() < requests and time.monotonic() < deadline:
        time.sleep(0.05)
    return served


def _node_env(url: str, redis_url: str, folder: Path, secret: str) -> dict[str, str]:
    folder.mkdir(parents=True)
    env = {key: value for key, value in os.environ.items() if key != "FLASK_DEBUG"}
    return env | {
        "SURVEY_ENV": "production",
        "SECRET_KEY": secret,
        "SURVEY_DATABASE_URL": url,
        "SURVEY_RATELIMIT_STORAGE_URI": redis_url,
        "SURVEY_PROXY_COUNT": "1",
        "SURVEY_INSTANCE_PATH": str(folder / "instance"),
        "MAIL_BACKEND": "outbox",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_ACCESS_LOG": str(folder / "access.log"),
        "GUNICORN_ERROR_LOG": str(folder / "error.log"),
    }


@pytest.fixture
def evidence_questionnaire(demo_app, tmp_path):
    """戸籍住民課's questionnaire whose item 3 takes an evidence file: its id, item 1's and item
    3's. The nodes read it from the database, so it is committed and this process lets go of
    its connections."""
    assignment = helpers.conditional_assignment(tmp_path)
    db.session.commit()
    items = assignment.campaign.checklist.items
    found = assignment.id, items[0].id, items[2].id
    db.session.remove()
    db.engine.dispose()
    return found


@pytest.fixture
def two_nodes(demo_app, evidence_questionnaire, redis_server, tmp_path):
    url = demo_app.config["SQLALCHEMY_DATABASE_URI"]
    secret = secrets.token_hex(32)  # the same on both nodes: it signs the session cookie
    started = []
    try:
        for name in ("a", "b"):
            env = _node_env(url, redis_server.url, tmp_path / f"node-{name}", secret)
            started.append(Gunicorn("wsgi:app", env, "/healthz"))
        started.append(Balancer([node.address for node in started], tmp_path / "nginx"))
        yield started
    finally:
        for part in reversed(started):
            part.stop()


def test_a_file_uploaded_on_one_node_downloads_from_the_other_and_a_node_can_die(
    demo_app, evidence_questionnaire, two_nodes
):
    a, b, nginx = two_nodes
    assignment_id, first_item, evidence_item = evidence_questionnaire
    page_path = f"/assignments/{assignment_id}"
    browser = Browser()

    # Signed in on node A, the file sent to node A.
    _, login_page = browser.request(a.base + "/auth/login")
    token = CSRF.search(login_page.decode()).group(1)
    signed_in = {"csrf_token": token, "username": "respondent", "password": helpers.DEMO_PASSWORD}
    assert browser.form_post(a.base + "/auth/login", signed_in) == 302
    status, page = browser.request(a.base + page_path)
    assert status == 200
    fields = {
        "csrf_token": CSRF.search(page.decode()).group(1),
        "revision": REVISION.search(page.decode()).group(1),
    }
    sent = b"%PDF-1.4\n" + os.urandom(300 * 1024)  # two chunks of the file store
    assert (
        browser.multipart_post(a.base + page_path, fields, f"evidence_{evidence_item}", sent) == 302
    )
    link = EVIDENCE_LINK.search(browser.request(a.base + page_path)[1].decode()).group(1)

    # The same session and the same bytes on node B, and through nginx on both nodes.
    assert browser.request(b.base + link) == (200, sent)
    for _ in range(4):
        assert browser.request(nginx.base + link) == (200, sent)
    assert set(_logged(nginx, Counter(), 4)) == {a.address, b.address}, "nginx did not balance"

    # Node A dies (master and worker); nginx takes everything to node B, reads and writes.
    a.kill()
    killed = _logged(nginx, Counter(), 4)
    for _ in range(3):
        assert browser.request(nginx.base + link) == (200, sent)
    status, page = browser.request(nginx.base + page_path)
    assert status == 200
    saved = browser.form_post(
        nginx.base + page_path + "/autosave",
        {
            "csrf_token": CSRF.search(page.decode()).group(1),
            "revision": REVISION.search(page.decode()).group(1),
            f"item_{first_item}": "yes",
        },
    )
    assert saved == 200
    assert _logged(nginx, killed, 5) == {b.address: 5}
    stored = db.session.scalars(
        sa.select(Answer).where(Answer.assignment_id == assignment_id, Answer.item_id == first_item)
    ).all()
    assert [answer.option.code for answer in stored] == ["yes"]
