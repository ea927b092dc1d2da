"""Audits of a unit or a contractor (実地監査・書面監査), their findings and the measures taken."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.org import Contractor, OrgUnit, User
from survey.models.types import utcnow

if TYPE_CHECKING:
    from survey.models.followup import CorrectiveAction


class AuditKind(enum.StrEnum):
    ONSITE = "onsite"  # 実地監査
    DOCUMENT = "document"  # 書面監査


class FindingKind(enum.StrEnum):
    OPINION = "opinion"  # 意見（改善を求めるもの）
    PROPOSAL = "proposal"  # 提案事項


class MeasureResult(enum.StrEnum):
    DONE = "done"  # 措置済
    PARTLY = "partly"  # 一部措置済
    CONSIDERING = "considering"  # 検討中


class Audit(db.Model):
    """One audit of one unit or one contractor: when, by whom, of what."""

    __tablename__ = "audit"
    __table_args__ = (
        sa.CheckConstraint("unit_id IS NOT NULL OR contractor_id IS NOT NULL", name="has_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16), default=AuditKind.ONSITE)
    title: Mapped[str] = mapped_column(sa.String(300))
    held_on: Mapped[date]
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    contractor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contractor.id"), index=True)
    auditors: Mapped[str] = mapped_column(sa.Text, default="")
    scope: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    unit: Mapped[OrgUnit | None] = relationship()
    contractor: Mapped[Contractor | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    findings: Mapped[list[AuditFinding]] = relationship(
        back_populates="audit", order_by="AuditFinding.number"
    )

    @property
    def subject_name(self) -> str:
        names = [x.name for x in (self.unit, self.contractor) if x is not None]
        return "・".join(names)

    @property
    def settled(self) -> int:
        """Findings with a measure whose result is 措置済."""
        return sum(
            1 for f in self.findings if any(m.result == MeasureResult.DONE for m in f.measures)
        )


class AuditFinding(db.Model):
    """A finding of an audit: an opinion (意見, asks for improvement) or a proposal (提案事項)."""

    __tablename__ = "audit_finding"
    __table_args__ = (sa.UniqueConstraint("audit_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(sa.ForeignKey("audit.id"), index=True)
    number: Mapped[int]
    kind: Mapped[str] = mapped_column(sa.String(16), default=FindingKind.OPINION)
    heading: Mapped[str] = mapped_column(sa.String(300), default="")
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    audit: Mapped[Audit] = relationship(back_populates="findings")
    measures: Mapped[list[FindingMeasure]] = relationship(
        back_populates="finding", order_by="FindingMeasure.id"
    )
    actions: Mapped[list[CorrectiveAction]] = relationship(back_populates="finding")


class FindingMeasure(db.Model):
    """What was done about a finding (措置内容), by whom and when, and how it turned out."""

    __tablename__ = "finding_measure"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(sa.ForeignKey("audit_finding.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"))
    taken_on: Mapped[date | None]
    result: Mapped[str] = mapped_column(sa.String(16), default="")  # MeasureResult or "" (未確認)
    result_note: Mapped[str] = mapped_column(sa.Text, default="")
    result_on: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    finding: Mapped[AuditFinding] = relationship(back_populates="measures")
    unit: Mapped[OrgUnit | None] = relationship()
