"""The floor: the least a page can cost under the same gunicorn settings and database.

One row read through a SQLAlchemy pool (as the app reads), a few bytes of HTML written. The
questionnaire's throughput is reported as a fraction of this page's.
"""

import html
import os

import sqlalchemy as sa

from survey.sqlite import enable_sqlite_pragmas

_url = os.environ["SURVEY_DATABASE_URL"]
engine = sa.create_engine(_url, pool_pre_ping=True)
if _url.startswith("sqlite"):
    enable_sqlite_pragmas(engine)
QUERY = sa.text("SELECT username FROM user_account ORDER BY id LIMIT 1")


def app(environ, start_response):
    with engine.connect() as connection:
        name = connection.execute(QUERY).scalar_one()
    body = f"<!doctype html><title>floor</title><p>{html.escape(name)}</p>".encode()
    start_response(
        "200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return [body]
