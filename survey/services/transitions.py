"""Status changes, one way for all: a conditional UPDATE that only one request can win.

Every step of a workflow (a questionnaire handed in, approved, returned or reopened; a campaign
opened or closed; a corrective action started, reported, verified or sent back; a subcontract
request or a request to invite a contractor decided) reads the status, decides, and then moves
it with `UPDATE … WHERE id = :id AND status IN (:expected)`. Of N identical requests arriving
together (a double click, a retry, two reviewers at once) the database lets exactly one match:
PostgreSQL makes the others wait for the winner's row lock and then re-reads the row, SQLite
runs one writer at a time. Only the winner goes on to record the event, the audit entry and the
mail; the others write nothing and tell their user it was already done.

An assignment's status change is also where its answers join or leave the kept counts of the
results (services/kept_counts.py), so no path that changes the status can forget them.
"""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from survey.extensions import db
from survey.models import Assignment
from survey.services import kept_counts


def claim(record, condition: sa.ColumnElement[bool], **values) -> bool:
    """Write `values` to `record`'s row if it still meets `condition`; True if this request
    did. The caller records what follows only then, and commits.

    An assignment's status change also moves its answers into or out of the kept counts of the
    results, in the same transaction; the UPDATE then also requires the status this request
    saw, so that what the counts are told it left is what it left."""
    model = type(record)
    follows = isinstance(record, Assignment) and "status" in values
    if follows:
        was = record.status
        condition = sa.and_(condition, model.status == was)
    claimed = db.session.execute(
        sa.update(model)
        .where(model.id == record.id, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return False
    # What the UPDATE wrote, known to the session without writing it again at the flush.
    for key, value in values.items():
        set_committed_value(record, key, value)
    if follows:
        kept_counts.follow(record, was, values["status"])
    return True


def move(record, expected: Collection[str], to_status: str, **values) -> bool:
    """Move `record.status` from one of `expected` to `to_status` (with `values` in the same
    UPDATE); False when another request moved it first."""
    model = type(record)
    return claim(record, model.status.in_(list(expected)), status=to_status, **values)


def hold(record) -> None:
    """Lock `record`'s row for the rest of the transaction before reading what depends on it:
    of two requests making the same thing at once (a double click), the second waits for the
    first to commit and then reads what it made. PostgreSQL takes the row lock; SQLite's
    driver begins the transaction at the UPDATE, which takes the database's write lock."""
    model = type(record)
    db.session.execute(
        sa.update(model)
        .where(model.id == record.id)
        .values(id=model.id)
        .execution_options(synchronize_session=False)
    )
