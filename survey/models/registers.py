"""The registers that campaigns target: information systems and outsourced contracts."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.org import Contractor, OrgUnit
from survey.models.types import utcnow


class InformationSystem(db.Model):
    __tablename__ = "information_system"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # 種別: 基幹系, 内部情報系 …
    kind: Mapped[str] = mapped_column(sa.String(32), default="", server_default="")
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    handles_personal_data: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)

    unit: Mapped[OrgUnit] = relationship()


class Subcontracting(enum.StrEnum):
    NONE = "none"  # 再委託なし
    REQUESTED = "requested"  # 承認申請中
    APPROVED = "approved"  # 事前承認済
    ALLOWED = "allowed"  # 契約で認めている


class Contract(db.Model):
    """An outsourced contract (委託業務) owned by a unit and carried out by a contractor."""

    __tablename__ = "contract"
    __table_args__ = (
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="period_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    contractor_id: Mapped[int] = mapped_column(sa.ForeignKey("contractor.id"), index=True)
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    handles_personal_data: Mapped[bool] = mapped_column(default=True)
    staff_count: Mapped[int | None]  # 取扱者数
    subcontracting: Mapped[str] = mapped_column(sa.String(16), default=Subcontracting.NONE)
    active: Mapped[bool] = mapped_column(default=True)
    # The contract binds the company's staff to sign the contractors' pledge (誓約書): its
    # accounts are asked for it at sign-in and counted in its completion (services/pledges.py).
    pledge_required: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    unit: Mapped[OrgUnit] = relationship()
    contractor: Mapped[Contractor] = relationship()
    subcontracts: Mapped[list[Subcontract]] = relationship(
        back_populates="contract", order_by="Subcontract.id"
    )


class Subcontract(db.Model):
    """A subcontractor (再委託先) on a contract, with how many of its staff handle the data."""

    __tablename__ = "subcontract"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contract.id"), index=True)
    company_name: Mapped[str] = mapped_column(sa.String(200))
    work: Mapped[str] = mapped_column(sa.String(300), default="")
    staff_count: Mapped[int | None]

    contract: Mapped[Contract] = relationship(back_populates="subcontracts")


class RegisterUpload(db.Model):
    """A register file uploaded and previewed, waiting to be applied: usable by its uploader
    only, for services/register_uploads.MAX_AGE; the row is deleted when it is applied."""

    __tablename__ = "register_upload"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # SHA-256 of the token
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    filename: Mapped[str] = mapped_column(sa.String(255))
    file_id: Mapped[int] = mapped_column(sa.ForeignKey("stored_file.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, index=True
    )
