"""What an approver reads first: how the answers fall (はい / いいえ / 対象外 / 未回答 over the
items asked), the いいえ with their comments, and what changed since the questionnaire was last
sent back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from checklists.schema import OPTION_CLASSES
from checklists.scoring import SHORTFALL
from survey.extensions import db
from survey.models import AnswerHistory, Assignment, AssignmentEvent
from survey.services import answering
from survey.services.answering import ItemInput

CLASSES = (*OPTION_CLASSES, "unanswered")


@dataclass(frozen=True)
class Flagged:
    """An answer the approver should read before signing: the item, the answer, the comment."""

    item: object  # respond.forms.ItemView
    label: str
    comment: str
    klass: str = "noncompliant"


@dataclass
class Summary:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CLASSES, 0))
    flagged: list[Flagged] = field(default_factory=list)
    returned: AssignmentEvent | None = None  # the last time it was sent back, if ever
    changed: list[AnswerHistory] = field(default_factory=list)  # since then

    @property
    def asked(self) -> int:
        return sum(self.counts.values())


def summary(assignment: Assignment, sheet: Sequence, values: Mapping[int, ItemInput]) -> Summary:
    """`sheet`: the questionnaire's categories of item views; `values`: the stored answers."""
    asked = answering.asked_item_ids(assignment, values)
    result = Summary()
    for category in sheet:
        for item in category.items:
            if item.id not in asked:
                continue
            value = values.get(item.id)
            option = next((o for o in item.options if value and o.code == value.option), None)
            klass = option.klass if option else "unanswered"
            result.counts[klass] = result.counts.get(klass, 0) + 1
            if klass in SHORTFALL:
                result.flagged.append(Flagged(item, option.label, value.comment, klass))
    # いいえ first, then 一部実施, then わからない: each class read together.
    result.flagged.sort(key=lambda f: ("noncompliant", "partial", "unknown").index(f.klass))
    result.returned = _last_return(assignment)
    if result.returned is not None:
        result.changed = list(
            db.session.scalars(
                sa.select(AnswerHistory)
                .where(
                    AnswerHistory.assignment_id == assignment.id,
                    AnswerHistory.changed_at >= result.returned.at,
                )
                .order_by(AnswerHistory.id)
            )
        )
    return result


def _last_return(assignment: Assignment) -> AssignmentEvent | None:
    return db.session.scalar(
        sa.select(AssignmentEvent)
        .where(
            AssignmentEvent.assignment_id == assignment.id,
            AssignmentEvent.action.in_(("return", "reopen")),
        )
        .order_by(AssignmentEvent.id.desc())
        .limit(1)
    )
