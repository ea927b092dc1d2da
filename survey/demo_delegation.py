"""Demo delegation (委任): the 戸籍住民課 respondent has handed the last unanswered category of
this year's questionnaire to a staff member of the division, who has not finished it yet. The
`staff` login shows what a delegate sees: that category alone.

The demo contractor (さくら情報サービス) has done the same on its side: the last category of its
contract questionnaire for 秘書課 (not started yet) is handed to `contractor-staff`, a staff
account of the company, which sees that category and nothing else of the company's contracts."""

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
    Contract,
    Delegation,
    OrgUnit,
    Role,
    User,
)
from survey.services.delegations import describe

HANDED_ON = date(2026, 11, 24)
DUE_ON = date(2026, 12, 8)
# The company's contract whose questionnaire its contact hands a part of (秘書課's, not started).
COMPANY_CONTRACT = "区長日程管理システム運用保守業務委託"
COMPANY_HANDED_ON = date(2026, 11, 25)


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
    return _handed(delegation)


def load_company_staff() -> Delegation:
    """After the training course opened (the account was made since, so it is not on it)."""
    contact = db.session.scalar(sa.select(User).where(User.username == "contractor"))
    staff = User(
        username="contractor-staff",
        display_name="桜 運用",
        role=Role.STAFF,
        contractor_id=contact.contractor_id,
        password_hash=contact.password_hash,
        email="contractor-staff@example.jp",
    )
    db.session.add(staff)
    assignment = db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .join(Contract, Contract.id == Assignment.contract_id)
        .where(Campaign.code == "2026-annual-contracts", Contract.title == COMPANY_CONTRACT)
    )
    delegation = Delegation(
        assignment=assignment,
        delegator=contact,
        delegate=staff,
        due_on=DUE_ON,
        note="運用担当として、この分類の確認と回答をお願いします。",
        created_at=office_time(COMPANY_HANDED_ON, 14),
        categories=[assignment.campaign.checklist.categories[-1]],
    )
    return _handed(delegation)


def _handed(delegation: Delegation) -> Delegation:
    """The delegation and its step in the questionnaire's history."""
    assignment = delegation.assignment
    db.session.add(delegation)
    db.session.flush()
    db.session.add(
        AssignmentEvent(
            assignment_id=assignment.id,
            action="delegate",
            from_status=assignment.status,
            to_status=assignment.status,
            comment=describe(delegation),
            user_id=delegation.delegator_id,
            at=delegation.created_at,
            delegation_id=delegation.id,
        )
    )
    return delegation
