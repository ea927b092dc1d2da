"""The inbox: what a user must answer, and what waits for their approval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from survey import access
from survey.extensions import db
from survey.models import Answer, Assignment, Campaign, User
from survey.models.campaigns import AssignmentStatus, CampaignStatus
from survey.services.answering import progress


@dataclass(frozen=True)
class Row:
    assignment: Assignment
    answered: int
    asked: int
    due: date
    overdue: bool


def _rows(assignments: list[Assignment], today: date) -> list[Row]:
    rows = []
    for a in assignments:
        answered, asked = progress(a)
        due = a.due_on or a.campaign.closes_on
        overdue = due < today and a.status in access.EDITABLE
        rows.append(Row(a, answered, asked, due, overdue))
    # Overdue first, then the nearest deadline.
    return sorted(rows, key=lambda r: (not r.overdue, r.due, r.assignment.id))


def _open_in_scope(user: User, today: date) -> sa.Select:
    # A closed campaign's assignment still shows while its own window (access.accepts_work) lasts.
    reopened = sa.and_(Campaign.status == CampaignStatus.CLOSED, Assignment.open_until >= today)
    stmt = (
        sa.select(Assignment)
        .join(Campaign)
        .where(sa.or_(Campaign.status == CampaignStatus.OPEN, reopened))
        .options(
            selectinload(Assignment.campaign).selectinload(Campaign.checklist),
            selectinload(Assignment.answers).selectinload(Answer.option),
        )
    )
    return access.scope_assignments(user, stmt)


def to_answer(user: User, today: date) -> list[Row]:
    assignments = db.session.scalars(_open_in_scope(user, today)).all()
    return _rows([a for a in assignments if access.answers_for(user, a)], today)


def to_review(user: User, today: date) -> list[Row]:
    """What waits for the user's approval: the same rule as the questionnaire's buttons
    (access.reviewable), in the query itself."""
    stmt = _open_in_scope(user, today).where(
        Assignment.status == AssignmentStatus.SUBMITTED, access.reviewable(user)
    )
    return _rows(list(db.session.scalars(stmt)), today)


def awaiting_approval(user: User, today: date) -> list[Row]:
    """The approver's desk: what waits for this user's approval or confirmation, the longest
    waiting first (by when it was handed in; the assignment's id breaks ties)."""

    def waited(row: Row) -> tuple:
        handed_in = row.assignment.submitted_at
        return (handed_in is None, handed_in.isoformat() if handed_in else "", row.assignment.id)

    return sorted(to_review(user, today), key=waited)
