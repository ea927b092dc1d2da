"""Saving and submitting answers: the rules of the checklist, enforced on the server.

Every way of answering — the web form, its autosave, the Excel answer sheet — comes through
`save()`, so the rules, the history and the protection against stale forms are the same for all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _

from survey.extensions import db
from survey.models import (
    Answer,
    AnswerHistory,
    Assignment,
    AssignmentEvent,
    Attachment,
    Item,
    Option,
    User,
)
from survey.models.campaigns import AssignmentStatus
from survey.models.types import utcnow
from survey.services import notify

COMMENT_MAX = 4000


@dataclass(frozen=True)
class ItemInput:
    """What a respondent entered for one item: an option code (None: not answered) and a comment."""

    option: str | None
    comment: str = ""


class Conflict(Exception):
    """Someone saved this assignment after the form was loaded; nothing was written."""

    def __init__(self, changes: list[AnswerHistory], revision: int):
        super().__init__("stale revision")
        self.changes = changes
        self.revision = revision


class Invalid(Exception):
    """The input breaks the checklist's rules; `problems` maps item ids to messages."""

    def __init__(self, problems: dict[int, list[str]]):
        super().__init__("invalid answers")
        self.problems = problems


# Control characters other than tab and newlines cannot be typed, print nothing, and a NUL is
# refused by PostgreSQL: a crafted post must not turn into a server error.
_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\t\n\r")


def _printable(text: str) -> str:
    return text.translate(_CONTROL)


def option_codes(item: Item) -> dict[str, Option]:
    return {option.code: option for option in item.scale.options}


def stored_inputs(assignment: Assignment) -> dict[int, ItemInput]:
    # One query with the option codes: through `answer.option`, each answer's option was a
    # query of its own (docs/performance.md).
    rows = db.session.execute(
        sa.select(Answer.item_id, Option.code, Answer.comment)
        .outerjoin(Option, Answer.option_id == Option.id)
        .where(Answer.assignment_id == assignment.id)
    )
    return {item_id: ItemInput(code, comment or "") for item_id, code, comment in rows}


def is_asked(item: Item, inputs: Mapping[int, ItemInput], items_by_number: dict[int, Item]) -> bool:
    """A conditional item is asked only when its condition item got one of the listed answers."""
    if item.condition_number is None:
        return True
    parent = items_by_number[item.condition_number]
    chosen = inputs.get(parent.id)
    return (
        chosen is not None
        and chosen.option in (item.condition_options or [])
        and is_asked(parent, inputs, items_by_number)
    )


class Shape(NamedTuple):
    """What `is_asked` reads of an item."""

    id: int
    number: int
    condition_number: int | None
    condition_options: list[str] | None


# A version's items and options never change once published, and the content hash covers a
# draft replaced under the same id: what a save and the counter read of them is kept per
# version, so that neither loads the items, scales and options per request.
_shapes: dict[tuple[int, str], tuple[Shape, ...]] = {}
_option_ids: dict[tuple[int, str], dict[int, dict[str, int]]] = {}


def _shape(checklist) -> tuple[Shape, ...]:
    key = (checklist.id, checklist.content_hash)
    if key not in _shapes:
        _shapes[key] = tuple(
            Shape(item.id, item.number, item.condition_number, item.condition_options)
            for item in checklist.items
        )
    return _shapes[key]


def option_ids(checklist) -> dict[int, dict[str, int]]:
    """{item id: {option code: option id}} of the checklist version."""
    key = (checklist.id, checklist.content_hash)
    if key not in _option_ids:
        _option_ids[key] = {
            item.id: {code: option.id for code, option in option_codes(item).items()}
            for item in checklist.items
        }
    return _option_ids[key]


def progress(
    assignment: Assignment, inputs: Mapping[int, ItemInput] | None = None
) -> tuple[int, int]:
    """(answered, asked) over the items asked under the current answers: `12/21 回答済`."""
    inputs = stored_inputs(assignment) if inputs is None else inputs
    items = _shape(assignment.campaign.checklist)
    by_number = {item.number: item for item in items}
    asked = [item for item in items if is_asked(item, inputs, by_number)]
    answered = sum(1 for item in asked if inputs.get(item.id) and inputs[item.id].option)
    return answered, len(asked)


def _requirement_applies(rule: str, option: Option | None) -> bool:
    if rule == "always":
        return True
    return option is not None and rule == option.klass


def check_values(assignment: Assignment, inputs: Mapping[int, ItemInput]) -> dict[int, list[str]]:
    """Problems that no save may contain, draft or not: unknown items or options, long comments."""
    codes = option_ids(assignment.campaign.checklist)
    problems: dict[int, list[str]] = {}
    for item_id, value in inputs.items():
        if item_id not in codes:
            problems.setdefault(item_id, []).append(_("この点検にない項目です。"))
            continue
        if value.option is not None and value.option not in codes[item_id]:
            problems.setdefault(item_id, []).append(_("選択肢から選んでください。"))
        if len(value.comment) > COMMENT_MAX:
            problems.setdefault(item_id, []).append(
                _("コメントは%(max)d文字以内で入力してください。", max=COMMENT_MAX)
            )
    return problems


def check_complete(assignment: Assignment, inputs: Mapping[int, ItemInput]) -> dict[int, list[str]]:
    """Problems that stop a submission: every asked item answered, comments and evidence given
    where the item requires them."""
    items = assignment.campaign.checklist.items
    by_number = {item.number: item for item in items}
    evidence = set(
        db.session.scalars(
            sa.select(Attachment.item_id).where(Attachment.assignment_id == assignment.id)
        )
    )
    problems: dict[int, list[str]] = {}
    for item in items:
        if not is_asked(item, inputs, by_number):
            continue
        value = inputs.get(item.id)
        option = option_codes(item).get(value.option) if value and value.option else None
        if option is None:
            problems.setdefault(item.id, []).append(_("回答を選んでください。"))
            continue
        if _requirement_applies(item.comment_rule, option) and not value.comment.strip():
            problems.setdefault(item.id, []).append(
                _("「%(label)s」と回答した場合は、コメントを入力してください。", label=option.label)
            )
        if _requirement_applies(item.evidence_rule, option) and item.id not in evidence:
            problems.setdefault(item.id, []).append(_("証跡ファイルを添付してください。"))
    return problems


def save(
    assignment: Assignment,
    inputs: Mapping[int, ItemInput],
    user: User,
    *,
    revision: int,
    source: str = "form",
) -> int:
    """Store what changed and return how many items changed; the caller commits.

    Posting what is already stored changes nothing and is no conflict, so a double click, a
    retry or the back button cannot store an answer twice or trip over its own earlier save.
    """
    inputs = {k: ItemInput(v.option, _printable(v.comment)) for k, v in inputs.items()}
    problems = check_values(assignment, inputs)
    if problems:
        raise Invalid(problems)
    stored = stored_inputs(assignment)
    changed = {
        item_id: value
        for item_id, value in inputs.items()
        if stored.get(item_id, ItemInput(None, "")) != ItemInput(value.option, value.comment)
    }
    if not changed:
        return 0
    new_revision = _claim_revision(assignment, revision)
    # Only the rows that change: an autosave usually changes one answer of 54.
    current = {
        answer.item_id: answer
        for answer in db.session.scalars(
            sa.select(Answer).where(
                Answer.assignment_id == assignment.id, Answer.item_id.in_(list(changed))
            )
        )
    }
    codes = option_ids(assignment.campaign.checklist)
    now = utcnow()
    for item_id, value in changed.items():
        option_id = codes[item_id][value.option] if value.option else None
        answer = current.get(item_id)
        if answer is None:
            answer = Answer(assignment=assignment, item_id=item_id, version=0)
            db.session.add(answer)
        db.session.add(
            AnswerHistory(
                assignment_id=assignment.id,
                item_id=item_id,
                revision=new_revision,
                old_option_id=answer.option_id,
                new_option_id=option_id,
                old_comment=answer.comment or "",
                new_comment=value.comment,
                source=source,
                changed_by_id=user.id,
                changed_at=now,
            )
        )
        answer.option_id = option_id
        answer.comment = value.comment
        answer.answered_by_id = user.id
        answer.answered_at = now
        answer.version += 1
    if assignment.status == AssignmentStatus.NOT_STARTED:
        assignment.status = AssignmentStatus.DRAFT
    return len(changed)


def _claim_revision(assignment: Assignment, revision: int) -> int:
    """Move the assignment to the next revision, atomically: an UPDATE that matches only the
    revision the form was loaded at. Two saves from the same stale form cannot both win."""
    claimed = db.session.execute(
        sa.update(Assignment)
        .where(Assignment.id == assignment.id, Assignment.revision == revision)
        .values(revision=revision + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        db.session.refresh(assignment)
        raise Conflict(changes_since(assignment, revision), assignment.revision)
    assignment.revision = revision + 1
    return revision + 1


def changes_since(assignment: Assignment, revision: int) -> list[AnswerHistory]:
    return list(
        db.session.scalars(
            sa.select(AnswerHistory)
            .where(AnswerHistory.assignment_id == assignment.id, AnswerHistory.revision > revision)
            .order_by(AnswerHistory.id)
        )
    )


def history(assignment: Assignment) -> list[AnswerHistory]:
    return changes_since(assignment, 0)


# --- the review workflow --------------------------------------------------------------------


def _record(assignment: Assignment, action: str, to_status: str, user: User, comment: str = ""):
    db.session.add(
        AssignmentEvent(
            assignment_id=assignment.id,
            action=action,
            from_status=assignment.status,
            to_status=to_status,
            comment=comment,
            user_id=user.id,
        )
    )
    assignment.status = to_status


def submit(assignment: Assignment, user: User) -> None:
    """Hand in the stored answers; raises Invalid, listing every problem, if any remains."""
    problems = check_complete(assignment, stored_inputs(assignment))
    if problems:
        raise Invalid(problems)
    _record(assignment, "submit", AssignmentStatus.SUBMITTED, user)
    assignment.submitted_at = utcnow()


def approve(assignment: Assignment, user: User, comment: str = "") -> None:
    _record(assignment, "approve", AssignmentStatus.APPROVED, user, comment)
    assignment.approved_at = utcnow()
    assignment.approved_by_id = user.id
    from survey.services import evaluations  # evaluations build on answering, not the reverse

    if evaluations.is_evaluation(assignment):
        evaluations.complete(assignment, user, evaluations.today())
    notify.assignment_approved(assignment, user, comment)


def return_for_correction(assignment: Assignment, user: User, comment: str) -> None:
    if not comment.strip():
        raise Invalid({0: [_("差し戻す理由を入力してください。")]})
    _record(assignment, "return", AssignmentStatus.RETURNED, user, comment.strip())
    notify.assignment_returned(assignment, user, comment)


def events(assignment: Assignment) -> list[AssignmentEvent]:
    return list(
        db.session.scalars(
            sa.select(AssignmentEvent)
            .where(AssignmentEvent.assignment_id == assignment.id)
            .order_by(AssignmentEvent.id)
        )
    )
