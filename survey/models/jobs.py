"""The daily jobs that every node's timer starts: which node took one job on one office day."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from survey.extensions import db
from survey.models.types import utcnow


class DailyRun(db.Model):
    """`job` taken for the office day `day` by the run on `node`: the first run to insert the
    row does the job, and the primary key refuses every other that day (survey.services.daily).
    """

    __tablename__ = "daily_run"

    job: Mapped[str] = mapped_column(sa.String(40), primary_key=True)  # e.g. reminders
    day: Mapped[date] = mapped_column(primary_key=True)
    node: Mapped[str] = mapped_column(sa.String(255))  # the host name of the run that took it
    claimed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
