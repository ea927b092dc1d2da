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
from sqlalchemy.orm.attributes import set_committed_value

from checklists import scoring
from survey import access, clock
from survey.access import EDITABLE
from survey.extensions import db
from survey.models import (
    Answer,
    AnswerHistory,
    Assignment,
    AssignmentEvent,
    Attachment,
    Delegation,
    Item,
    Option,
    User,
)
from survey.models.campaigns import AssignmentStatus
from survey.models.types import utcnow
from survey.services import notify, transitions

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


def audience_of(user: User) -> str:
    """The kind of reader a user is to a checklist: a company's account (its contact, or its
    staff handed a part), or the ward's staff."""
    return "contractor" if user.contractor_id is not None else "staff"


def option_codes(item: Item) -> dict[str, Option]:
    return {option.code: option for option in item.scale.options}


def stored_inputs(assignment: Assignment) -> dict[int, ItemInput]:
    return _as_inputs(_version(assignment.campaign.checklist), _stored_rows(assignment))


class _Stored(NamedTuple):
    answer_id: int
    option_id: int | None
    comment: str


def _stored_rows(assignment: Assignment) -> dict[int, _Stored]:
    """What is stored, by item id: one query for plain rows, no objects, the option codes taken
    from the checklist version's (through `answer.option`, each option was a query of its own:
    docs/performance.md)."""
    return {
        item_id: _Stored(answer_id, option_id, comment or "")
        for answer_id, item_id, option_id, comment in db.session.execute(
            sa.select(Answer.id, Answer.item_id, Answer.option_id, Answer.comment).where(
                Answer.assignment_id == assignment.id
            )
        )
    }


def _as_inputs(version: _Version, rows: Mapping[int, _Stored]) -> dict[int, ItemInput]:
    return {
        item_id: ItemInput(version.codes.get(row.option_id), row.comment)
        for item_id, row in rows.items()
    }


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


@dataclass(frozen=True)
class _Version:
    """What a save and the counter read of a checklist version's items and options."""

    shapes: tuple[Shape, ...]
    option_ids: dict[int, dict[str, int]]  # item id -> option code -> option id
    codes: dict[int, str]  # option id -> option code
    numbers: dict[int, int]  # item id -> item number
    # item id -> option code -> (audience, label) of the options only one kind of reader may
    # choose
    limited: dict[int, dict[str, tuple[str, str]]]


# A version's items and options never change once published, and the content hash covers a
# draft replaced under the same id: what a save and the counter read of them is kept per
# version, so that neither loads the items, scales and options per request.
_versions: dict[tuple[int, str], _Version] = {}


def _version(checklist) -> _Version:
    key = (checklist.id, checklist.content_hash)
    if key not in _versions:
        items = checklist.items
        ids = {
            item.id: {code: option.id for code, option in option_codes(item).items()}
            for item in items
        }
        _versions[key] = _Version(
            shapes=tuple(
                Shape(item.id, item.number, item.condition_number, item.condition_options)
                for item in items
            ),
            option_ids=ids,
            codes={
                option_id: code for by_code in ids.values() for code, option_id in by_code.items()
            },
            numbers={item.id: item.number for item in items},
            limited={
                item.id: {o.code: (o.audience, o.label) for o in item.scale.options if o.audience}
                for item in items
            },
        )
    return _versions[key]


def option_ids(checklist) -> dict[int, dict[str, int]]:
    """{item id: {option code: option id}} of the checklist version."""
    return _version(checklist).option_ids


def asked_item_ids(assignment: Assignment, inputs: Mapping[int, ItemInput]) -> set[int]:
    """The items asked under these answers (a conditional item only when its condition holds)."""
    items = _version(assignment.campaign.checklist).shapes
    by_number = {item.number: item for item in items}
    return {item.id for item in items if is_asked(item, inputs, by_number)}


def progress(
    assignment: Assignment,
    inputs: Mapping[int, ItemInput] | None = None,
    part: frozenset[int] | None = None,
) -> tuple[int, int]:
    """(answered, asked) over the items asked under the current answers: `12/21 回答済`; of
    `part` only (a delegate's items), if given."""
    inputs = stored_inputs(assignment) if inputs is None else inputs
    items = _version(assignment.campaign.checklist).shapes
    by_number = {item.number: item for item in items}
    asked = [
        item
        for item in items
        if is_asked(item, inputs, by_number) and (part is None or item.id in part)
    ]
    answered = sum(1 for item in asked if inputs.get(item.id) and inputs[item.id].option)
    return answered, len(asked)


def _requirement_applies(rule: str, option: Option | None) -> bool:
    if rule == "always":
        return True
    if option is None:
        return False
    # 「いいえ」などの場合: every answer short of compliance (一部実施, わからない) says why.
    if rule == "noncompliant":
        return option.klass in scoring.SHORTFALL
    return rule == option.klass


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


class Change(NamedTuple):
    """One answer a save changed: what the history and the audit trail record of it."""

    item_id: int
    number: int
    old: ItemInput
    new: ItemInput
    dropped: bool = False  # cleared because the item is no longer asked


EMPTY = ItemInput(None, "")


def dropped_message(changes: list[Change]) -> str | None:
    """What the page says of answers a save cleared because their condition no longer holds:
    never silent, and the history keeps them."""
    dropped = sum(1 for change in changes if change.dropped)
    if not dropped:
        return None
    return _("条件により対象外となった項目 %(n)d 件の回答を消去しました。", n=dropped)


def resulting(
    assignment: Assignment, stored: Mapping[int, ItemInput], inputs: Mapping[int, ItemInput]
) -> dict[int, ItemInput | None]:
    """Every item's answer after a save of `inputs` over `stored`: None for an item not asked
    under the result, whatever was posted or stored for it (the figures leave it out, so
    keeping it would store an answer nobody was asked)."""
    shapes = _version(assignment.campaign.checklist).shapes
    merged = {**stored, **inputs}
    by_number = {shape.number: shape for shape in shapes}
    return {
        shape.id: merged.get(shape.id, EMPTY) if is_asked(shape, merged, by_number) else None
        for shape in shapes
    }


def asked_items(assignment: Assignment, inputs: Mapping[int, ItemInput]) -> set[int]:
    """Ids of the items asked under `inputs`."""
    shapes = _version(assignment.campaign.checklist).shapes
    by_number = {shape.number: shape for shape in shapes}
    return {shape.id for shape in shapes if is_asked(shape, inputs, by_number)}


def asked_inputs(assignment: Assignment, inputs: Mapping[int, ItemInput]) -> dict[int, ItemInput]:
    """`inputs` without the answers to items they leave unasked: what the answer sheet shows
    (answers stored before save() cleared them included)."""
    asked = asked_items(assignment, inputs)
    return {item_id: value for item_id, value in inputs.items() if item_id in asked}


def save(
    assignment: Assignment,
    inputs: Mapping[int, ItemInput],
    user: User,
    *,
    revision: int,
    source: str = "form",
) -> list[Change]:
    """Store what changed and return those changes (none: nothing stored); the caller commits.

    Posting what is already stored changes nothing and is no conflict, so a double click, a
    retry or the back button cannot store an answer twice or trip over its own earlier save.
    An item the result leaves unasked keeps no answer: one posted is not stored, one stored is
    cleared (a change to empty, `dropped`, so the history keeps what it was).
    """
    inputs = {k: ItemInput(v.option, _printable(v.comment)) for k, v in inputs.items()}
    problems = check_values(assignment, inputs)
    if problems:
        raise Invalid(problems)
    version = _version(assignment.campaign.checklist)
    # The few answers that change are written below by primary key, without loading 54 answers
    # as objects (docs/performance.md).
    stored = _stored_rows(assignment)
    current = _as_inputs(version, stored)
    problems = _not_offered(version, inputs, current, audience_of(user))
    if problems:
        raise Invalid(problems)
    changes = []
    for item_id, value in resulting(assignment, current, inputs).items():
        old = current.get(item_id, EMPTY)
        new = EMPTY if value is None else value
        if old != new:
            changes.append(Change(item_id, version.numbers[item_id], old, new, value is None))
    problems = _not_delegated(assignment, user, changes)
    if problems:
        raise Invalid(problems)
    if not changes:
        return []
    new_revision = _claim_revision(assignment, revision)
    now = utcnow()
    history, added = [], []
    for change in changes:
        row = stored.get(change.item_id)
        option_id = (
            version.option_ids[change.item_id][change.new.option] if change.new.option else None
        )
        written = {
            "option_id": option_id,
            "comment": change.new.comment,
            "answered_by_id": user.id,
            "answered_at": now,
        }
        if row is None:
            added.append(
                {"assignment_id": assignment.id, "item_id": change.item_id, "version": 1, **written}
            )
        else:
            db.session.execute(
                sa.update(Answer)
                .where(Answer.id == row.answer_id)
                .values(version=Answer.version + 1, **written)
            )
        history.append(
            {
                "assignment_id": assignment.id,
                "item_id": change.item_id,
                "revision": new_revision,
                "old_option_id": row.option_id if row else None,
                "new_option_id": option_id,
                "old_comment": change.old.comment,
                "new_comment": change.new.comment,
                "source": source,
                "changed_by_id": user.id,
                "changed_at": now,
            }
        )
    # render_nulls: a cleared answer's NULL is written, not left out, so that rows with and
    # without an option go in one statement rather than one per set of columns.
    if added:
        db.session.execute(sa.insert(Answer).execution_options(render_nulls=True), added)
    db.session.execute(sa.insert(AnswerHistory).execution_options(render_nulls=True), history)
    if assignment.status == AssignmentStatus.NOT_STARTED:
        assignment.status = AssignmentStatus.DRAFT
    return changes


def _not_delegated(assignment: Assignment, user: User, changes: list[Change]):
    """A delegate changes the items handed to them and no other, whatever the path (form,
    autosave, API): a change elsewhere, posted or cleared by a condition, refuses the save."""
    allowed = access.delegated_items(user, assignment, answering=True)
    if allowed is None:
        return {}
    outside = [change.item_id for change in changes if change.item_id not in allowed]
    if not outside:
        return {}
    message = _("この項目は回答を依頼されていないため、変更できません。")
    return {item_id: [message] for item_id in outside}


def _not_offered(
    version: _Version,
    inputs: Mapping[int, ItemInput],
    current: Mapping[int, ItemInput],
    audience: str,
) -> dict[int, list[str]]:
    """Options newly chosen by a reader they are not offered to. An answer another kind of
    reader gave may stay as it is: the page shows it, and posting the page keeps it."""
    problems: dict[int, list[str]] = {}
    for item_id, value in inputs.items():
        limited = version.limited.get(item_id, {}).get(value.option or "")
        if limited is None or limited[0] == audience:
            continue
        if current.get(item_id, EMPTY).option == value.option:
            continue
        label = limited[1]
        message = (
            _(
                "「%(label)s」は委託先だけが選べる選択肢です。ほかの選択肢から選んでください。",
                label=label,
            )
            if limited[0] == "contractor"
            else _(
                "「%(label)s」は職員だけが選べる選択肢です。ほかの選択肢から選んでください。",
                label=label,
            )
        )
        problems.setdefault(item_id, []).append(message)
    return problems


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
    # What the UPDATE wrote, known to the session without writing it again at the flush.
    set_committed_value(assignment, "revision", revision + 1)
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


class AlreadyMoved(Exception):
    """Another request changed the questionnaire's status first (a double click, two reviewers
    at once): nothing was written, and the assignment shows where it is now."""


# action -> (the statuses it starts from, the status it leads to)
STEPS = {
    "submit": (EDITABLE, AssignmentStatus.SUBMITTED),
    "approve": ((AssignmentStatus.SUBMITTED,), AssignmentStatus.APPROVED),
    "return": ((AssignmentStatus.SUBMITTED,), AssignmentStatus.RETURNED),
}


def _record(assignment: Assignment, action: str, user: User, comment: str = "", **values):
    """Take the step with one guarded UPDATE from the status this request saw, then record it."""
    sources, to_status = STEPS[action]
    seen = assignment.status
    if seen not in sources or not transitions.move(assignment, (seen,), to_status, **values):
        db.session.rollback()
        db.session.refresh(assignment)
        raise AlreadyMoved(assignment.status)
    db.session.add(
        AssignmentEvent(
            assignment_id=assignment.id,
            action=action,
            from_status=seen,
            to_status=to_status,
            comment=comment,
            user_id=user.id,
        )
    )


def submit(assignment: Assignment, user: User) -> None:
    """Hand in the stored answers; raises Invalid, listing every problem, if any remains, and
    AlreadyMoved if it was handed in meanwhile."""
    problems = check_complete(assignment, stored_inputs(assignment))
    if problems:
        raise Invalid(problems)
    _record(assignment, "submit", user, submitted_at=utcnow())
    notify.assignment_submitted(assignment, user)


def approve(assignment: Assignment, user: User, comment: str = "") -> None:
    _record(assignment, "approve", user, comment, approved_at=utcnow(), approved_by_id=user.id)
    from survey.services import evaluations  # evaluations build on answering, not the reverse

    if evaluations.is_evaluation(assignment):
        evaluations.complete(assignment, user, clock.today())
    notify.assignment_approved(assignment, user, comment)


def return_for_correction(assignment: Assignment, user: User, comment: str) -> None:
    if not comment.strip():
        raise Invalid({0: [_("差し戻す理由を入力してください。")]})
    _record(assignment, "return", user, comment.strip())
    notify.assignment_returned(assignment, user, comment)


def events(assignment: Assignment, delegate: User | None = None) -> list[AssignmentEvent]:
    """The questionnaire's steps; given a delegate, only those of the parts handed to them."""
    stmt = sa.select(AssignmentEvent).where(AssignmentEvent.assignment_id == assignment.id)
    if delegate is not None:
        stmt = stmt.where(
            AssignmentEvent.delegation_id.in_(
                sa.select(Delegation.id).where(Delegation.delegate_id == delegate.id)
            )
        )
    return list(db.session.scalars(stmt.order_by(AssignmentEvent.id)))


def last_return(assignment: Assignment) -> AssignmentEvent | None:
    """Why the questionnaire was sent back, while it is (the page shows it on top)."""
    if assignment.status != AssignmentStatus.RETURNED:
        return None
    return db.session.scalar(
        sa.select(AssignmentEvent)
        .where(AssignmentEvent.assignment_id == assignment.id, AssignmentEvent.action == "return")
        .order_by(AssignmentEvent.id.desc())
        .limit(1)
    )
