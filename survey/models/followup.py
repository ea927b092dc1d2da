"""Follow-up after an inspection: corrective actions (是正措置) and their steps."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.campaigns import Assignment, Campaign
from survey.models.checklists import Item
from survey.models.files import StoredFile
from survey.models.org import Contractor, OrgUnit, User
from survey.models.types import utcnow

if TYPE_CHECKING:
    from survey.models.audits import AuditFinding


class ActionStatus(enum.StrEnum):
    OPEN = "open"  # 未着手
    IN_PROGRESS = "in_progress"  # 対応中
    REPORTED = "reported"  # 措置報告済
    VERIFIED = "verified"  # 確認済（完了）


class ActionSource(enum.StrEnum):
    MANUAL = "manual"
    ANSWER = "answer"  # a noncompliant answer
    FINDING = "finding"  # an audit finding
    RECOMMENDATION = "recommendation"  # a 是正勧告 after a contractor evaluation
    LOG_REVIEW = "log_review"  # a look-up a head found possibly improper (ログ点検)


class CorrectiveAction(db.Model):
    """Something that must be fixed, by a unit or a contractor, before a due date.

    The owner reports the measure taken; the security office verifies it (closing the action)
    or sends it back. Overdue is not a status: it is an open action past `due_on`.
    """

    __tablename__ = "corrective_action"
    __table_args__ = (
        sa.CheckConstraint("unit_id IS NOT NULL OR contractor_id IS NOT NULL", name="has_owner"),
        sa.Index("ix_corrective_action_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    source: Mapped[str] = mapped_column(sa.String(16), default=ActionSource.MANUAL)
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaign.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assignment.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("item.id"))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    contractor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contractor.id"), index=True)
    due_on: Mapped[date]
    status: Mapped[str] = mapped_column(sa.String(16), default=ActionStatus.OPEN)
    measure: Mapped[str] = mapped_column(sa.Text, default="")  # 措置内容, reported by the owner
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    reported_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    verified_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    verified_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    # The audit finding this action answers (source "finding").
    finding_id: Mapped[int | None] = mapped_column(sa.ForeignKey("audit_finding.id"), index=True)

    campaign: Mapped[Campaign | None] = relationship()
    assignment: Mapped[Assignment | None] = relationship()
    item: Mapped[Item | None] = relationship()
    unit: Mapped[OrgUnit | None] = relationship()
    contractor: Mapped[Contractor | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    events: Mapped[list[ActionEvent]] = relationship(
        back_populates="action", order_by="ActionEvent.id"
    )
    evidence: Mapped[list[ActionEvidence]] = relationship(
        back_populates="action", order_by="ActionEvidence.id"
    )
    finding: Mapped[AuditFinding | None] = relationship(back_populates="actions")

    def is_overdue(self, today: date) -> bool:
        return self.status != ActionStatus.VERIFIED and self.due_on < today


class ActionEvent(db.Model):
    """A step of an action's life: opened, started, reported, verified, sent back …"""

    __tablename__ = "action_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("corrective_action.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    from_status: Mapped[str] = mapped_column(sa.String(16), default="")
    to_status: Mapped[str] = mapped_column(sa.String(16))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    action: Mapped[CorrectiveAction] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()


class ActionEvidence(db.Model):
    """A file the owner attached to the reported measure; stored like answer evidence (checked
    by content, its bytes in the database)."""

    __tablename__ = "action_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("corrective_action.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    file_id: Mapped[int] = mapped_column(sa.ForeignKey("stored_file.id"), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    action: Mapped[CorrectiveAction] = relationship(back_populates="evidence")
    uploaded_by: Mapped[User | None] = relationship()
    file: Mapped[StoredFile] = relationship()
