"""How a request that only read ends its database transaction.

Flask-SQLAlchemy ends every request by closing the session, which rolls back whatever is still
open. For a request that wrote nothing, a COMMIT ends it the same way, and on PostgreSQL it is
much cheaper: psycopg forgets the connection's prepared statements on every ROLLBACK, so each
query of every page would be parsed and planned again by the server (docs/performance.md).
"""

from __future__ import annotations

from flask import Flask, Response, request

from survey.extensions import db

READING = frozenset({"GET", "HEAD"})


def end_reading(response: Response) -> Response:
    session = db.session()
    transaction = session.get_transaction()
    if (
        request.method in READING
        and response.status_code < 400
        and not response.is_streamed  # its body may still read through the transaction
        and transaction is not None
        and transaction.is_active  # not after a database error the view dealt with
        and not (session.new or session.dirty or session.deleted)
    ):
        session.commit()
    return response


def init_app(app: Flask) -> None:
    app.after_request(end_reading)
