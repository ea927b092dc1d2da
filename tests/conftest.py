"""Fixtures: a fresh app and database per test (SQLite, or PostgreSQL when TEST_DATABASE_URL is
set), a CLI runner, a login helper, and the demo ward built once per session by the same builder
that `flask demo load` uses."""

from __future__ import annotations

import contextvars
import os
import queue
import shutil
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient

from survey import create_app, demo
from survey.extensions import db
from survey.services.jobs import THREAD_PREFIX

PG_URL = os.environ.get("TEST_DATABASE_URL")

# The `smtp` fixture: a real SMTP server on 127.0.0.1 for the mail tests; `redis_server`, a
# real Redis; `ldap_server` and `directory`, a real OpenLDAP (slapd).
pytest_plugins = ["tests.smtp_server", "tests.redis_server", "tests.ldap_server"]


def _pg_admin_engine() -> sa.Engine:
    # NullPool: each connection is closed when its block ends, none is left for the GC.
    return sa.create_engine(
        sa.engine.make_url(PG_URL).set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
    )


class Databases:
    """Creates throwaway databases: SQLite files in tmp dirs, or PostgreSQL databases.

    On PostgreSQL every DROP DATABASE waits for a checkpoint (a second or so on a busy disk), and
    a run makes a thousand of them: a test's database is dropped by a background thread as soon
    as the test is done, while the next tests run, instead of all of them after the last test.
    """

    def __init__(self, tmp_path_factory: pytest.TempPathFactory):
        self.tmp = tmp_path_factory
        self.created: list[str] = []
        self._finished: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._dropper: threading.Thread | None = None
        self._drop_errors: list[BaseException] = []

    def new(self, template: str | None = None) -> str:
        if PG_URL is None:
            path = self.tmp.mktemp("db") / "tenken.db"
            if template:
                shutil.copy(sa.engine.make_url(template).database, path)
            return f"sqlite:///{path}"
        name = f"tenken_test_{uuid.uuid4().hex[:12]}"
        with _pg_admin_engine().connect() as conn:
            suffix = f' TEMPLATE "{sa.engine.make_url(template).database}"' if template else ""
            conn.execute(sa.text(f'CREATE DATABASE "{name}"{suffix}'))
        self.created.append(name)
        return sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    def finished(self, url: str) -> None:
        """The test that used this database is done with it (its engine is disposed)."""
        if PG_URL is None:
            return
        name = sa.engine.make_url(url).database
        self.created.remove(name)
        if self._dropper is None:
            self._dropper = threading.Thread(target=self._drop_finished, daemon=True)
            self._dropper.start()
        self._finished.put(name)

    def _drop_finished(self) -> None:
        while (name := self._finished.get()) is not None:
            try:
                _drop(name)
            except BaseException as error:  # noqa: BLE001 - reported by drop_all, in the main thread
                self._drop_errors.append(error)

    def drop_all(self) -> None:
        if self._dropper is not None:
            self._finished.put(None)
            self._dropper.join()
        for name in self.created:
            _drop(name)
        if self._drop_errors:
            raise self._drop_errors[0]


def _drop(name: str) -> None:
    with _pg_admin_engine().connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    dbs = Databases(tmp_path_factory)
    yield dbs
    dbs.drop_all()


class IsolatedClient(FlaskClient):
    """Each request runs as a browser's would: in its own app context, with its own database
    session and its own `g` (where Flask-Login keeps the signed-in user).

    Without this, a request would reuse the app context the test fixture pushed: two clients
    would share one signed-in user, and a view that forgot to commit would look as if it had.
    Afterwards the test's own session ends its transaction, so it reads what the request wrote.
    """

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.commit()
        return response


def make_app(url: str, instance: Path, **settings):
    os.environ["SURVEY_INSTANCE_PATH"] = str(instance)
    app = create_app(
        {
            "SURVEY_ENV": "testing",
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            # Whatever the developer's shell says: tests that need these turn them on themselves.
            "REQUIRE_2FA": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            **settings,
        }
    )
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture
def empty_database_app(databases, tmp_path):
    """An app on a database with no tables at all, for migration tests."""
    url = databases.new()
    app = make_app(url, tmp_path / "instance")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    databases.finished(url)


def finish_export_jobs() -> None:
    """Export jobs run in threads of the app when no queue is configured: a click on an
    export in a test lets its job finish before the test's database goes."""
    for thread in threading.enumerate():
        if thread.name.startswith(THREAD_PREFIX):
            thread.join()


@pytest.fixture
def app(databases, tmp_path):
    """A fresh, empty database with the schema, per test."""
    url = databases.new()
    app = make_app(url, tmp_path / "instance")
    with app.app_context():
        db.create_all()
        yield app
        finish_export_jobs()
        db.session.remove()
        db.engine.dispose()
    databases.finished(url)


@pytest.fixture(scope="session")
def demo_template(databases, tmp_path_factory):
    """The demo ward built once; tests get copies of it."""
    url = databases.new()
    app = make_app(url, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        db.create_all()
        demo.load()
        db.session.remove()
        db.engine.dispose()
    return url


@pytest.fixture
def demo_app(databases, demo_template, tmp_path):
    """A fresh copy of the demo database, per test."""
    url = databases.new(template=demo_template)
    app = make_app(url, tmp_path / "instance")
    with app.app_context():
        yield app
        finish_export_jobs()
        db.session.remove()
        db.engine.dispose()
    databases.finished(url)


@pytest.fixture
def refused_port():
    """A port on which every connection is refused, for a server that is down. It stays bound
    for the test: a port merely found free could be handed out as the source port of the very
    connection that tries it, and TCP then connects that socket to itself."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def demo_client(demo_app):
    return demo_app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def demo_runner(demo_app):
    return demo_app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str = demo.DEMO_PASSWORD):
        return self.client.post("/auth/login", data={"username": username, "password": password})

    def second_step(self, code: str):
        """The code (TOTP or recovery) asked for after the password of a two-factor account."""
        return self.client.post("/auth/2fa", data={"code": code})

    def logout(self):
        return self.client.post("/auth/logout")


@pytest.fixture
def auth(demo_client):
    return AuthActions(demo_client)


class Clock:
    """A clock the sign-in rules read instead of the real one (survey.services.signin.now)."""

    def __init__(self, start: datetime):
        self.now = start

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    from survey.services import signin

    clock = Clock(datetime(2026, 11, 24, 0, 30, tzinfo=UTC))
    monkeypatch.setattr(signin, "now", lambda: clock.now)
    return clock
