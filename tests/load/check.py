"""Every acknowledged answer against the database, after the run.

The answer history is replayed revision by revision for each questionnaire, so each
acknowledged save is checked at the revision the server named for it, not only the last one:

- lost: an item the server acknowledged has no stored answer at that revision (or at the end);
- changed: it has one, but not the value that was sent;
- duplicated: two answer rows for one (questionnaire, item), or two history rows for one
  (questionnaire, item, revision);
- unacknowledged: a revision in the history that no acknowledgement names. Allowed only for a
  save whose answer was lost to a fault (the worker killed after the commit, before replying):
  the browser's repeat of the same form then gets the stored revision back.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import sqlalchemy as sa

from survey import create_app
from survey.extensions import db
from survey.models import Answer, AnswerHistory, Assignment
from survey.services.answering import ItemInput, is_asked
from tests.load.client import Ack
from tests.load.fixture import Plan


def _history(ids):
    rows = db.session.execute(
        sa.select(
            AnswerHistory.assignment_id,
            AnswerHistory.revision,
            AnswerHistory.item_id,
            AnswerHistory.new_option_id,
            AnswerHistory.new_comment,
        )
        .where(AnswerHistory.assignment_id.in_(ids))
        .order_by(AnswerHistory.assignment_id, AnswerHistory.revision, AnswerHistory.id)
    )
    by_assignment = defaultdict(list)
    for row in rows:
        by_assignment[row.assignment_id].append(row)
    return by_assignment


def _snapshots(rows) -> tuple[dict[int, dict], int]:
    """{revision: {item: (option id, comment)} after it}, and history rows repeated in one
    revision."""
    state: dict[int, tuple] = {}
    snapshots: dict[int, dict] = {0: {}}
    seen = Counter((row.revision, row.item_id) for row in rows)
    for row in rows:
        state[row.item_id] = (row.new_option_id, row.new_comment)
        snapshots[row.revision] = dict(state)
    return snapshots, sum(n - 1 for n in seen.values() if n > 1)


def _state_at(snapshots: dict[int, dict], revision: int) -> dict:
    return snapshots[max(r for r in snapshots if r <= revision)]


_NOT_ASKED = (None, "")  # what the server keeps of an answer to an item not asked


def _compare(expected: dict[int, tuple], found: dict[int, tuple]) -> tuple[int, int]:
    lost = changed = 0
    for item_id, value in expected.items():
        if value == _NOT_ASKED:
            changed += found.get(item_id, _NOT_ASKED) != _NOT_ASKED
        elif item_id not in found or found[item_id][0] is None and value[0] is not None:
            lost += 1
        elif found[item_id] != value:
            changed += 1
    return lost, changed


def _expected(plan: Plan, option_id: dict, values: dict[int, tuple[str, str]]) -> dict:
    """What a save of `values` leaves stored: the values, and nothing for items they leave
    unasked (answering.save)."""
    inputs = {item: ItemInput(code, comment) for item, (code, comment) in values.items()}
    by_number = {shape.number: shape for shape in plan.shapes}
    asked = {shape.id for shape in plan.shapes if is_asked(shape, inputs, by_number)}
    return {
        item: (option_id[item][code], comment) if item in asked else _NOT_ASKED
        for item, (code, comment) in values.items()
    }


def verify(database_url: str, plan: Plan, acks: list[Ack]) -> dict[str, int]:
    option_id = {item_id: dict(choices) for item_id, choices in plan.items}
    result = Counter(acknowledged_saves=len(acks))
    by_assignment = defaultdict(list)
    for ack in acks:
        by_assignment[ack.assignment_id].append(ack)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        ids = list(by_assignment)
        history = _history(ids)
        stored = defaultdict(dict)
        rows_per_key = Counter()
        for answer in db.session.execute(
            sa.select(Answer.assignment_id, Answer.item_id, Answer.option_id, Answer.comment).where(
                Answer.assignment_id.in_(ids)
            )
        ):
            stored[answer.assignment_id][answer.item_id] = (answer.option_id, answer.comment)
            rows_per_key[answer.assignment_id, answer.item_id] += 1
        revisions = dict(
            db.session.execute(
                sa.select(Assignment.id, Assignment.revision).where(Assignment.id.in_(ids))
            ).all()
        )
        db.engine.dispose()
    result["duplicated"] += sum(n - 1 for n in rows_per_key.values() if n > 1)
    for assignment_id, assignment_acks in by_assignment.items():
        snapshots, repeated = _snapshots(history[assignment_id])
        result["duplicated"] += repeated
        acked_revisions = {ack.revision for ack in assignment_acks}
        result["unacknowledged_revisions"] += len(set(snapshots) - acked_revisions - {0})
        for ack in assignment_acks:
            expected = _expected(plan, option_id, ack.values)
            result["acknowledged_values"] += len(expected)
            lost, changed = _compare(expected, _state_at(snapshots, ack.revision))
            result["lost"] += lost
            result["changed"] += changed
        last = max(assignment_acks, key=lambda ack: ack.revision)
        if revisions[assignment_id] == last.revision:
            expected = _expected(plan, option_id, last.values)
            lost, changed = _compare(expected, stored[assignment_id])
            result["lost_at_end"] += lost
            result["changed_at_end"] += changed
        else:
            result["overwritten_after_last_ack"] += 1
        if max(snapshots) != revisions[assignment_id]:
            result["revision_mismatch"] += 1
    return dict(result)


def clean(result: dict[str, int]) -> bool:
    """No acknowledged answer lost, changed or duplicated, at its revision or at the end."""
    faults = ("lost", "changed", "duplicated", "lost_at_end", "changed_at_end")
    return sum(result.get(key, 0) for key in faults) == 0
