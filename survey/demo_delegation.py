"""Demo delegation (委任): the 戸籍住民課 respondent has handed the last unanswered category of
this year's questionnaire to a staff member of the division, who has not finished it yet. The
`staff` login shows what a delegate sees: that category alone."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from survey.demo_data import office_time
from survey.extensions import db
from survey.models import (
    Answer,
    Assignment,
    AssignmentEvent,
    Campaign,
    Delegation,
    OrgUnit,
    Role,
    User,
)
from survey.services.delegations import describe

HANDED_ON = date(2026, 11, 24)
DUE_ON = date(2026, 12, 8)


def load() -> Delegation:
    unit = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "戸籍住民課"))
    delegator = db.session.scalar(sa.select(User).where(User.username == "respondent"))
    staff = User(
        username="staff",
        display_name="戸籍 係員",
        role=Role.STAFF,
        unit=unit,
        password_hash=delegator.password_hash,  # the demo's one password
        email="staff@example.jp",
    )
    db.session.add(staff)
    assignment = db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .where(Campaign.code == "2026-annual-assets", Assignment.unit_id == unit.id)
    )
    answered = set(
        db.session.scalars(sa.select(Answer.item_id).where(Answer.assignment_id == assignment.id))
    )
    categories = assignment.campaign.checklist.categories
    open_ones = [c for c in categories if not any(item.id in answered for item in c.items)]
    delegation = Delegation(
        assignment=assignment,
        delegator=delegator,
        delegate=staff,
        due_on=DUE_ON,
        note="この分類の確認と回答をお願いします。",
        created_at=office_time(HANDED_ON, 10),
        categories=[(open_ones or categories)[-1]],
    )
    db.session.add(delegation)
    db.session.flush()
    db.session.add(
        AssignmentEvent(
            assignment_id=assignment.id,
            action="delegate",
            from_status=assignment.status,
            to_status=assignment.status,
            comment=describe(delegation),
            user_id=delegator.id,
            at=delegation.created_at,
        )
    )
    return delegation
