"""A live server on loopback, Debian's Chromium driven by Playwright, and a screenshot of every
step of a journey: test-output/screenshots/<test name>/NN-<step>.png (full page)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.browser.steps import sign_in

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Bounded but generous: two cores shared by several test runs make a page take seconds at worst.
EXPECT_TIMEOUT_MS = 15_000
ACTION_TIMEOUT_MS = 20_000


def _static_read_whole(app):
    """Werkzeug's development server can leave a response's file open when the browser drops
    the connection while it is written (its clean-up of the dropped socket may fail before it
    closes the body), and the file's ResourceWarning then fails whichever test is running. A
    static file is read whole here and closed at once; everything else streams as it would."""

    def wsgi(environ, start_response):
        body = app(environ, start_response)
        if not environ.get("PATH_INFO", "").startswith("/static/"):
            return body
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@contextlib.contextmanager
def serving(app):
    """The app on a free port of loopback, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, _static_read_whole(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@contextlib.contextmanager
def serving_demo_copy(databases, demo_template, instance, seed):
    """A copy of the demo ward, prepared by `seed()` and served for a whole module; yields
    (base URL, what seed returned)."""
    from survey.extensions import db
    from tests.conftest import make_app

    app = make_app(databases.new(template=demo_template), instance)
    with app.app_context():
        ids = seed()
        db.session.remove()
    with serving(app) as base:
        yield base, ids
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def live_server(demo_app):
    with serving(demo_app) as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the session (starting it costs about a second); each page gets a
    context of its own, so no cookie or storage passes from one test or user to another."""
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing: `make test` installs it (make browser-deps).")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


class Shots:
    """Numbered full-page screenshots in one folder per test, in the order the steps happen."""

    def __init__(self, folder: Path):
        shutil.rmtree(folder, ignore_errors=True)  # a rerun must not mix with an older run's steps
        folder.mkdir(parents=True)
        self.folder = folder
        self.count = 0

    def __call__(self, page, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=path, full_page=True)
        return path


@pytest.fixture
def shot(request) -> Shots:
    """`shot(page, "submitted")` saves test-output/screenshots/<test>/NN-submitted.png."""
    name = re.sub(r"[^\w.-]", "_", request.node.name)
    return Shots(request.config.rootpath / "test-output" / "screenshots" / name)


def new_context(browser):
    """A browser context of its own (cookies, storage) as a Japanese desktop user has it."""
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    return context


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_report = report
    return report


@pytest.fixture
def new_page(browser, request, shot):
    """`new_page()` opens a page in a browser context of its own: one per user of a journey.
    When the test fails, each page's last state is kept as NN-failed.png."""
    from playwright.sync_api import Error

    contexts = []

    def open_page():
        context = new_context(browser)
        contexts.append(context)
        return context.new_page()

    yield open_page
    report = getattr(request.node, "call_report", None)
    for context in contexts:
        if report is not None and report.failed:
            for page in context.pages:
                with contextlib.suppress(Error):
                    shot(page, "failed")
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def signed_in(live_server, new_page, shot):
    """`signed_in("manager")`: a page of its own, signed in as that demo user, on the home page
    (screenshot NN-<user>-home.png)."""

    def open_as(username: str):
        page = new_page()
        sign_in(page, live_server, username)
        shot(page, f"{username}-home")
        return page

    return open_as
