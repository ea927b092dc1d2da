"""The kept counts of handed-in answers (AnswerCount), which the results read instead of the
answers (docs/performance.md).

They change only when an assignment moves into or out of COUNTED_STATUSES; answers cannot change
while it is there (access.EDITABLE, the answer sheet refuses too). Every status change of an
assignment is one guarded UPDATE in services/transitions.py, which calls `follow` in the same
transaction: the assignment's answers are counted with the SQL the check uses, and added to or
taken from the kept rows with one `INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n` — the
database adds, so two hand-ins at once both count (PostgreSQL makes the second wait for the
first's row lock, then adds to what it wrote; SQLite has one writer at a time).

Each change is added twice: to the rows of the assignment's responsible unit (a manager's
figures, the departments) and to the campaign's ALL_UNITS rows (the whole campaign's figures).
The hot ALL_UNITS rows make concurrent hand-ins of one campaign wait for each other from the
status change to the commit; they already did, for the audit trail's lock, which is therefore
taken first (`trail.hold_chain`): one order of locks, no deadlock.

Paths that write answers and statuses in bulk (the demo builder, the bench) call `recount`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from reports import queries
from survey.extensions import db
from survey.models import AnswerCount, Assignment, Campaign
from survey.models.campaigns import COUNTED_STATUSES
from survey.services import trail


def _conditions(campaign_id: int) -> list[queries.Condition]:
    conn = db.session.connection()
    checklist_id = db.session.scalar(
        sa.select(Campaign.checklist_id).where(Campaign.id == campaign_id)
    )
    return queries.conditions(queries.items(conn, checklist_id))


def follow(assignment: Assignment, was: str, now: str) -> None:
    """After `assignment`'s status moved from `was` to `now` (in this transaction): its answers
    join the counts on a hand-in, leave them on a return or a reopening."""
    counted_before, counted_now = was in COUNTED_STATUSES, now in COUNTED_STATUSES
    if counted_before != counted_now:
        _add(assignment, 1 if counted_now else -1)


def _add(assignment: Assignment, sign: int) -> None:
    db.session.flush()  # answers still pending in the session count too
    conds = _conditions(assignment.campaign_id)
    counted = db.session.execute(
        queries.counted_answers(assignment.campaign_id, conds, assignment.id)
    ).all()
    if not counted:
        return
    # The assignment's rows and the same again for the whole campaign (one unit: the same
    # counts), in key order, so that transactions adding to the same rows lock them in one
    # order and wait for each other rather than deadlock.
    rows = sorted(
        (
            {
                "campaign_id": r.campaign_id,
                "unit_id": unit,
                "item_id": r.item_id,
                "option_id": r.option_id,
                "answers": sign * r.answers,
                "asked": sign * r.asked,
            }
            for r in counted
            for unit in (r.unit_id, queries.ALL_UNITS)
        ),
        key=lambda row: tuple(row[k] for k in queries.KEPT_KEYS),
    )
    # Every status change is recorded in the audit trail in this transaction; its lock is taken
    # before these rows', as a hand-in that saved answers first has taken it already.
    trail.hold_chain()
    db.session.execute(_upsert().values(rows))


def _upsert():
    table = AnswerCount.__table__
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(queries.KEPT_KEYS),
        set_={
            "answers": table.c.answers + stmt.excluded.answers,
            "asked": table.c.asked + stmt.excluded.asked,
        },
    )


def recount(campaign_id: int) -> None:
    """Counts the campaign's handed-in answers afresh into the kept counts."""
    db.session.flush()
    queries.recount(db.session.connection(), campaign_id, _conditions(campaign_id))


@dataclass(frozen=True)
class Difference:
    """One key where the kept counts and the answers disagree: (answers, asked) of each."""

    unit_id: int
    item_id: int
    option_id: int
    kept: tuple[int, int]
    counted: tuple[int, int]


def differences(campaign_id: int) -> list[Difference]:
    """Where the kept counts of the campaign differ from a count of its answers now."""
    conn = db.session.connection()

    def by_key(rows):
        return {(r.unit_id, r.item_id, r.option_id): (r.answers, r.asked) for r in rows}

    kept = by_key(queries.kept_rows(conn, campaign_id))
    counted = by_key(queries.counted_rows(conn, campaign_id, _conditions(campaign_id)))
    return [
        Difference(*key, kept.get(key, (0, 0)), counted.get(key, (0, 0)))
        for key in sorted(kept.keys() | counted.keys())
        if kept.get(key, (0, 0)) != counted.get(key, (0, 0))
    ]
