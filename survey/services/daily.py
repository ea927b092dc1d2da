"""Once a day, however many nodes run it: every node's timer starts the daily jobs, and the run
that inserts the job's row for the office day (daily_run, keyed by job and day) does the job.
Any other run that day, on this node or another, finds the key taken and leaves the job alone.

An INSERT under a primary key: the same on SQLite and PostgreSQL, and two nodes inserting in
the same instant still make one row (the second waits for the first's commit, then fails).
"""

from __future__ import annotations

import socket
from datetime import date

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from survey.extensions import db
from survey.models import DailyRun


def claim(job: str, day: date) -> bool:
    """Take `job` for `day` for this run, committed at once; False if a run had taken it."""
    try:
        db.session.execute(sa.insert(DailyRun).values(job=job, day=day, node=socket.gethostname()))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def holder(job: str, day: date) -> DailyRun | None:
    return db.session.get(DailyRun, (job, day))


def release(job: str, day: date) -> None:
    """After a run that failed: the next run that day does the job again."""
    db.session.execute(sa.delete(DailyRun).where(DailyRun.job == job, DailyRun.day == day))
    db.session.commit()
