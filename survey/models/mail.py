"""Outgoing mail, stored before it is sent so that nothing is lost when the mail server is down.

A mail is queued in the transaction of the change it reports and delivered later by
survey.services.mailer, which records every failed attempt on the row and tries again later.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from survey.extensions import db
from survey.models.types import utcnow


class OutgoingMail(db.Model):
    __tablename__ = "outgoing_mail"
    __table_args__ = (sa.Index("ix_outgoing_mail_unsent", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(255))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # Set only once the SMTP server accepted the message.
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Failed attempts, the last error, and when to try again (None: now, or given up).
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # A delivery run claims a mail before sending it, so that two overlapping runs never both
    # send it; a claim older than the lease is taken to belong to a run that died.
    claimed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    claim: Mapped[str | None] = mapped_column(sa.String(32), index=True)

    @property
    def state(self) -> str:
        """sent | queued (not tried yet) | failing (will be tried again) | failed (given up)."""
        if self.sent_at is not None:
            return "sent"
        if not self.attempts:
            return "queued"
        return "failing" if self.next_attempt_at is not None else "failed"


class ReminderLog(db.Model):
    """One thing reminded to one address on one day: a second run the same day skips it.

    Written in the transaction that queues the reminder mail, so the mail exists exactly when
    the log says it was sent (queued), whatever happens to the delivery afterwards.
    """

    __tablename__ = "reminder_log"
    __table_args__ = (sa.UniqueConstraint("recipient", "key", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))  # lower case
    key: Mapped[str] = mapped_column(sa.String(100))  # e.g. assignment:42
    day: Mapped[date]
    mail_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("outgoing_mail.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
