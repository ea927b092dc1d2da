"""Whether this node can serve requests, as /healthz tells the load balancer: the database
answers, and so do the Redis holding the sign-in limits and the export jobs' queue when they
are configured.

Every check gives up after SERVICE_TIMEOUT_SECONDS: a database or Redis that stops answering
becomes a 503 within seconds, rather than a probe (and a worker) held for minutes. The probe
opens a connection of its own, with those timeouts; the app's connections keep theirs (none: a
save waits for PostgreSQL as long as it must).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, current_app

from survey.extensions import limiter

DATABASE = "database"
LIMIT_STORAGE = "limit_storage"
JOB_QUEUE = "job_queue"


def _probe_url(app: Flask) -> tuple[sa.URL, dict]:
    """The app's database, opened so that it cannot wait long, nor create anything."""
    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    seconds = app.config["SERVICE_TIMEOUT_SECONDS"]
    if url.get_backend_name() == "postgresql":
        return url, {
            "connect_timeout": seconds,
            # A server that stops acknowledging (a host gone dark) fails the query too.
            "tcp_user_timeout": seconds * 1000,
            "options": f"-c statement_timeout={seconds * 1000}",
        }
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        # Read-only: a missing file is a failure, not a new empty database.
        url = url.set(database=f"file:{url.database}", query={"mode": "ro", "uri": "true"})
        return url, {"timeout": seconds}
    return url, {}


def _engine(app: Flask) -> sa.Engine:
    """Each probe opens a connection and closes it (NullPool): nothing is left idle in the
    workers between probes, and a restarted PostgreSQL needs no stale connection found out."""
    engine = app.extensions.get("health_engine")
    if engine is None:
        url, connect_args = _probe_url(app)
        engine = sa.create_engine(url, connect_args=connect_args, poolclass=sa.pool.NullPool)
        app.extensions["health_engine"] = engine
    return engine


def _database() -> None:
    with _engine(current_app).connect() as connection:
        connection.execute(sa.text("SELECT 1"))


def _limit_storage() -> None:
    if not limiter.storage.check():  # the storage the sign-in limits use, with its timeouts
        raise ConnectionError("no answer to PING")


def _job_queue() -> None:
    from survey.services import jobs

    queue = jobs.queue(
        current_app.config["JOB_QUEUE_URL"], current_app.config["SERVICE_TIMEOUT_SECONDS"]
    )
    try:
        queue.connection.ping()
    finally:
        queue.connection.close()


def _checks() -> dict[str, Callable[[], None]]:
    """The checks that apply to this configuration: memory:// is no service of its own, and
    without a job queue the exports run in the web process."""
    found = {DATABASE: _database}
    if not current_app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        found[LIMIT_STORAGE] = _limit_storage
    if current_app.config["JOB_QUEUE_URL"]:
        found[JOB_QUEUE] = _job_queue
    return found


def report() -> dict[str, bool]:
    """Each check by name, and whether it passed. Why one failed goes to the log, not to
    whoever asked."""
    passed = {}
    for name, check in _checks().items():
        try:
            check()
        except Exception as error:  # whatever stops the node from serving, the answer is 503
            current_app.logger.warning("healthz: %s failed: %s", name, error)
            passed[name] = False
        else:
            passed[name] = True
    return passed
