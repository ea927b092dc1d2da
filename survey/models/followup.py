"""Follow-up after an inspection: corrective actions (是正措置) and their steps."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.campaigns import Assignment, Campaign
from survey.models.checklists import Item
from survey.models.org import Contractor, OrgUnit, User
from survey.models.types import utcnow


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


class CorrectiveAction(db.Model):
    """Something that must be fixed, by a unit or a contractor, before a due date.

    The owner reports the measure taken; the security office verifies it (closing the action)
    or sends it back. Overdue is not a status: it is an open action past `due_on`.
    """

    __tablename__ = "corrective_action"
    __table_args__ = (
        sa.CheckConstraint(
            "unit_id IS NOT NULL OR contractor_id IS NOT NULL", name="has_owner"
        ),
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
