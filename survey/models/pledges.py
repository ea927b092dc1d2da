"""Pledges (誓約書): a text each person acknowledges, in versions the office publishes, and
the acknowledgements (survey.services.pledges)."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.org import User
from survey.models.types import utcnow


class Audience(enum.StrEnum):
    STAFF = "staff"  # every account of the ward's own staff (admin, auditor, manager, respondent)
    CONTRACTORS = "contractors"  # contractors' accounts, where a contract of theirs requires it


class Renewal(enum.StrEnum):
    VERSION = "version"  # once per version
    YEARLY = "yearly"  # once per version, and again a year after the last time


class Pledge(db.Model):
    """One pledge (e.g. 職員用, 委託事業者用): who signs it and how often; its text is in its
    versions."""

    __tablename__ = "pledge"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    audience: Mapped[str] = mapped_column(sa.String(16))
    renewal: Mapped[str] = mapped_column(sa.String(16), default=Renewal.VERSION)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    versions: Mapped[list[PledgeVersion]] = relationship(
        back_populates="pledge", order_by="PledgeVersion.version"
    )


class PledgeVersion(db.Model):
    """A version of a pledge's text: a draft while `published_at` is empty (one at a time, the
    only one that changes), then fixed for good. The latest published one is the one asked."""

    __tablename__ = "pledge_version"
    __table_args__ = (sa.UniqueConstraint("pledge_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(sa.ForeignKey("pledge.id"), index=True)
    version: Mapped[int]
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    pledge: Mapped[Pledge] = relationship(back_populates="versions")
    published_by: Mapped[User | None] = relationship()


class PledgeAcknowledgement(db.Model):
    """A person's acknowledgement of one version, with the name they signed under. The office
    day is part of the key: a double click stores one row, and a yearly renewal a new one."""

    __tablename__ = "pledge_acknowledgement"
    __table_args__ = (sa.UniqueConstraint("version_id", "user_id", "acknowledged_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("pledge_version.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    signed_name: Mapped[str] = mapped_column(sa.String(100))
    acknowledged_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    acknowledged_on: Mapped[date]  # the office's day of acknowledged_at

    version: Mapped[PledgeVersion] = relationship()
    user: Mapped[User] = relationship()
