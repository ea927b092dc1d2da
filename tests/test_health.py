"""/healthz, what the load balancer asks each node: 200 while the database (and the Redis of the
sign-in limits, when there is one) answers, 503 naming what does not; within seconds when a
server stops answering; and without a session, a cookie or a line in the audit trail."""

from __future__ import annotations

import threading

import pytest
import redis
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEntry
from survey.models.org import UserSession
from tests.conftest import make_app
from tests.helpers import login

# Well above the probe's own limit (SERVICE_TIMEOUT_SECONDS, once or twice): only a probe that
# waits for the server without end misses it.
NO_ANSWER_WITHIN = 60


@pytest.fixture
def node(databases, tmp_path):
    """Makes an app on its own database with its tables (as after `flask db upgrade`), or on
    `url`; their connections are closed at the end."""
    made = []

    def make(url: str | None = None, **settings):
        app = make_app(url or databases.new(), tmp_path / f"instance{len(made)}", **settings)
        made.append(app)
        if url is None:
            with app.app_context():
                db.create_all()
        return app

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


def probe(app, client=None):
    response = (client or app.test_client()).get("/healthz")
    return response.status_code, response.get_json(), response.headers


def probe_in_time(app):
    """The probe, from a thread that is abandoned if it never returns."""
    answer = []
    worker = threading.Thread(target=lambda: answer.append(probe(app)), daemon=True)
    worker.start()
    worker.join(NO_ANSWER_WITHIN)
    assert answer, f"/healthz still waiting after {NO_ANSWER_WITHIN} s"
    return answer[0]


def test_a_node_whose_database_answers_is_healthy(app):
    status, body, headers = probe(app)

    assert status == 200
    assert body == {"status": "ok", "checks": {"database": "ok"}}
    assert "Set-Cookie" not in headers
    assert headers["Cache-Control"] == "no-store"


def test_the_probe_leaves_a_signed_in_browsers_session_alone(demo_app, clock):
    client = login(demo_app, "admin")
    before = db.session.scalars(sa.select(UserSession.seen_at)).all()
    entries = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    clock.advance(minutes=5)  # any page would now move the session's last-seen time

    status, _body, headers = probe(demo_app, client)

    assert status == 200
    assert "Set-Cookie" not in headers
    db.session.expire_all()
    assert db.session.scalars(sa.select(UserSession.seen_at)).all() == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == entries
    # The control: a page does move it, so the probe's leaving it alone means something.
    client.get("/")
    db.session.expire_all()
    assert db.session.scalars(sa.select(UserSession.seen_at)).all() != before


def test_a_pending_sign_in_is_not_sent_to_its_second_step(demo_app):
    client = demo_app.test_client()
    demo_app.config["REQUIRE_2FA"] = True
    client.post("/auth/login", data={"username": "admin", "password": "tenken-demo-2026"})

    status, body, headers = probe(demo_app, client)

    assert (status, body["status"]) == (200, "ok")
    assert "Set-Cookie" not in headers


def test_an_unreachable_postgresql_is_a_503(node, refused_port):
    app = node(f"postgresql+psycopg://tenken@127.0.0.1:{refused_port}/tenken")

    status, body, headers = probe(app)

    assert status == 503
    assert body == {"status": "unavailable", "checks": {"database": "failed"}}
    assert "Set-Cookie" not in headers


def test_a_postgresql_that_never_answers_is_a_503_within_seconds(node, silent_port):
    app = node(f"postgresql+psycopg://tenken@127.0.0.1:{silent_port}/tenken")

    status, body, _headers = probe_in_time(app)

    assert (status, body["checks"]) == (503, {"database": "failed"})


def test_a_missing_sqlite_file_is_a_503_and_is_not_created(node, tmp_path):
    path = tmp_path / "tenken.db"
    app = node(f"sqlite:///{path}")

    status, body, _headers = probe(app)

    assert (status, body["checks"]) == (503, {"database": "failed"})
    assert not path.exists()


def test_the_redis_of_the_sign_in_limits_is_checked_too(node, redis_server):
    app = node(RATELIMIT_STORAGE_URI=redis_server.url)

    status, body, _headers = probe(app)

    assert status == 200
    assert body["checks"] == {"database": "ok", "limit_storage": "ok"}


def test_a_redis_that_is_down_is_a_503(node, refused_port):
    down = f"redis://127.0.0.1:{refused_port}/0"
    app = node(RATELIMIT_STORAGE_URI=down)

    status, body, headers = probe(app)

    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "ok", "limit_storage": "failed"}
    assert "Set-Cookie" not in headers


def test_a_redis_that_never_answers_is_a_503_within_seconds(node, silent_port):
    silent = f"redis://127.0.0.1:{silent_port}/0"
    app = node(RATELIMIT_STORAGE_URI=silent)

    status, body, _headers = probe_in_time(app)

    assert (status, body["checks"]["limit_storage"]) == (503, "failed")


def test_the_sign_in_limits_count_in_redis_when_configured(node, redis_server):
    """The probe asks the very storage the limits use: the counts land in that Redis."""
    app = node(RATELIMIT_STORAGE_URI=redis_server.url, LOGIN_RATE_LIMIT="2 per minute")
    client = app.test_client()
    codes = [
        client.post("/auth/login", data={"username": "x", "password": "y"}).status_code
        for _ in range(3)
    ]
    assert codes[-1] == 429
    assert redis.Redis.from_url(redis_server.url).keys("*"), "no limit counted in Redis"
