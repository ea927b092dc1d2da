"""Contractor supervision (委託先の監督): the yearly evaluation of each contractor company, the
correction recommendations (是正勧告) it leads to, requests to subcontract (再委託) and requests
to invite an address the contractor register does not hold."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.campaigns import Assignment
from survey.models.followup import CorrectiveAction
from survey.models.org import Contractor, Invitation, User
from survey.models.registers import Contract, Subcontract
from survey.models.types import utcnow

# The checklist whose campaigns are evaluations: the evaluator (the security office) answers
# them about a company, so the company itself never answers or sees the questionnaire.
EVALUATION_CHECKLIST = "contractor-evaluation"


class ContractorEvaluation(db.Model):
    """One company's evaluation for one fiscal year (April–March), from an approved
    questionnaire of the evaluation checklist."""

    __tablename__ = "contractor_evaluation"
    __table_args__ = (sa.UniqueConstraint("contractor_id", "fiscal_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contractor_id: Mapped[int] = mapped_column(sa.ForeignKey("contractor.id"), index=True)
    fiscal_year: Mapped[int]  # the calendar year in which the fiscal year begins
    assignment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assignment.id"), unique=True)
    points: Mapped[int]
    points_possible: Mapped[int]
    score: Mapped[float | None]  # percent; None when every item was 該当なし
    grade: Mapped[str] = mapped_column(sa.String(8))
    evaluated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    evaluated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    contractor: Mapped[Contractor] = relationship()
    assignment: Mapped[Assignment | None] = relationship()
    evaluated_by: Mapped[User | None] = relationship()
    recommendation: Mapped[Recommendation | None] = relationship(back_populates="evaluation")


class Recommendation(db.Model):
    """A correction recommendation (是正勧告) to a company whose grade fell below the line.

    Its progress is the corrective action's: the status shown is derived from the action, so
    the two never disagree. `contract_end_noticed_on` records that the security office gave
    notice that the contracts will end because the correction was not made in time."""

    __tablename__ = "recommendation"

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contractor_evaluation.id"), unique=True
    )
    issued_on: Mapped[date]
    deadline: Mapped[date]
    text: Mapped[str] = mapped_column(sa.Text)
    corrective_action_id: Mapped[int] = mapped_column(sa.ForeignKey("corrective_action.id"))
    contract_end_noticed_on: Mapped[date | None]

    evaluation: Mapped[ContractorEvaluation] = relationship(back_populates="recommendation")
    corrective_action: Mapped[CorrectiveAction] = relationship()


class RequestStatus(enum.StrEnum):
    PENDING = "pending"  # 承認待ち
    APPROVED = "approved"  # 承認
    REJECTED = "rejected"  # 不承認


class SubcontractRequest(db.Model):
    """A contractor's request for prior approval to subcontract part of a contract's work."""

    __tablename__ = "subcontract_request"
    __table_args__ = (sa.Index("ix_subcontract_request_contract_status", "contract_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contract.id"))
    company_name: Mapped[str] = mapped_column(sa.String(200))
    work: Mapped[str] = mapped_column(sa.String(300))
    data_handled: Mapped[str] = mapped_column(sa.Text)
    staff_count: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(16), default=RequestStatus.PENDING)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    conditions: Mapped[str] = mapped_column(sa.Text, default="")  # 承認の条件・不承認の理由
    subcontract_id: Mapped[int | None] = mapped_column(sa.ForeignKey("subcontract.id"))

    contract: Mapped[Contract] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    subcontract: Mapped[Subcontract | None] = relationship()


class InvitationRequest(db.Model):
    """A division's wish to invite an address the register does not hold for the company: the
    security office approves it (the invitation is then made and mailed) or refuses it."""

    __tablename__ = "invitation_request"
    __table_args__ = (sa.Index("ix_invitation_request_status", "status", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    contractor_id: Mapped[int] = mapped_column(sa.ForeignKey("contractor.id"))
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignment.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=RequestStatus.PENDING)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # why it was refused
    invitation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invitation.id"))

    contractor: Mapped[Contractor] = relationship()
    assignment: Mapped[Assignment] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    invitation: Mapped[Invitation | None] = relationship()
