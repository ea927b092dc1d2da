"""Delegation (委任): a part of a questionnaire handed by one who answers it to a colleague."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.campaigns import Assignment
from survey.models.checklists import Category
from survey.models.org import User
from survey.models.types import utcnow


class Delegation(db.Model):
    """Some categories of one questionnaire handed to a colleague (a staff account of the same
    unit, or another account of the same company), with a due date. The delegate answers those
    items only and marks the part done (`done_at`); the delegator reviews and submits, and may
    withdraw the delegation (`ended_at`), which ends the delegate's access at once."""

    __tablename__ = "delegation"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignment.id"), index=True)
    delegator_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    delegate_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    due_on: Mapped[date]
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    assignment: Mapped[Assignment] = relationship()
    delegator: Mapped[User] = relationship(foreign_keys=[delegator_id])
    delegate: Mapped[User] = relationship(foreign_keys=[delegate_id])
    ended_by: Mapped[User | None] = relationship(foreign_keys=[ended_by_id])
    categories: Mapped[list[Category]] = relationship(
        secondary="delegation_category", order_by="Category.position"
    )

    @property
    def active(self) -> bool:
        return self.ended_at is None


class DelegationCategory(db.Model):
    """One category a delegation hands over."""

    __tablename__ = "delegation_category"

    delegation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("delegation.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id"), primary_key=True)
