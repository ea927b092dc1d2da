"""The office's clock: what time and day it is where the office is (SURVEY_TIMEZONE, Asia/Tokyo
by default), whatever the server's own clock or zone. Deadlines, overdue days, fiscal years,
office hours and the dates on screen and in file names are all counted here."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from survey.models.types import utcnow


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local(moment: datetime) -> datetime:
    """A stored moment (UTC; SQLite hands them back naive) in the office's time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone())


def today() -> date:
    """The office's date (tests replace it)."""
    return local(utcnow()).date()
