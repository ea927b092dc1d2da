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


class JobStatus:
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    PENDING = (QUEUED, RUNNING)


class ExportJob(db.Model):
    """A long export made off the web workers (survey.services.jobs): who asked for it, what it
    makes, how far it has got, and the file once made. The row, not the queue, is what the
    pages read, so any node shows the same state, and after any restart.

    `active_key` holds the job's identity (owner, kind and parameters) while it is queued or
    running, NULL after: the unique constraint lets no second identical job start while one is
    under way, however close together two clicks arrive."""

    __tablename__ = "export_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))  # a name in survey.services.job_kinds
    params: Mapped[dict] = mapped_column(sa.JSON)
    identity: Mapped[str] = mapped_column(sa.String(64))  # SHA-256 of owner, kind and params
    active_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=JobStatus.QUEUED)
    progress: Mapped[int] = mapped_column(default=0)  # percent
    message: Mapped[str | None] = mapped_column(sa.String(500))  # why it failed, in Japanese
    queue_ref: Mapped[str | None] = mapped_column(sa.String(64))  # the RQ job's id, if queued
    file_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stored_file.id", ondelete="SET NULL")
    )
    filename: Mapped[str | None] = mapped_column(sa.String(255))
    fallback: Mapped[str | None] = mapped_column(sa.String(255))  # the ASCII name
    mimetype: Mapped[str | None] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Refreshed by the run every few seconds: a running job whose heartbeat stops has lost its
    # worker (killed, restarted), and is shown as failed.
    heartbeat_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), index=True)
