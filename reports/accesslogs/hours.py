"""Nights, weekends and days off as SQL conditions over a timestamp column.

Stored moments are UTC; the office counts in its own zone. The audit trail's review
(survey.services.trail) and the access-log rules (reports.accesslogs.sampler) both ask "was
this outside office hours?" of a large table, so the question is answered in the database,
here, once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jpholiday
import sqlalchemy as sa


def holiday_name(day: date) -> str | None:
    return jpholiday.is_holiday_name(day)


def is_day_off(day: date) -> bool:
    return day.weekday() >= 5 or jpholiday.is_holiday(day)


def local_parts(column: sa.ColumnElement, dialect: str, zone: ZoneInfo):
    """(hour, day of week with 0 = Sunday, local date) of `column`'s moment, in SQL."""
    if dialect == "postgresql":
        moment = sa.func.timezone(zone.key, column)
        return sa.extract("hour", moment), sa.extract("dow", moment), sa.cast(moment, sa.Date)
    # SQLite stores UTC text; Japan keeps one offset all year, so a fixed shift is exact.
    offset = datetime.now(zone).utcoffset() or timedelta()
    shift = f"{int(offset.total_seconds()) // 60:+d} minutes"
    hour = sa.cast(sa.func.strftime("%H", column, shift), sa.Integer)
    dow = sa.cast(sa.func.strftime("%w", column, shift), sa.Integer)
    return hour, dow, sa.func.date(column, shift)


def day_value(dialect: str, day: date) -> Any:
    """A date as the local-date expression of `local_parts` compares with it."""
    return day if dialect == "postgresql" else day.isoformat()


def as_date(value: Any) -> date:
    """A local date as the database hands it back (a date, or ISO text from SQLite)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def off_hours_clause(
    column: sa.ColumnElement,
    dialect: str,
    zone: ZoneInfo,
    first: date,
    last: date,
    night_starts: int,
    night_ends: int,
    closed_days: Iterable[date] = (),
) -> sa.ColumnElement[bool]:
    """`column` falls at night (from `night_starts` o'clock to `night_ends` o'clock, local time),
    on a weekend, a Japanese public holiday or one of `closed_days`, between the local days
    `first` and `last` (the holidays looked up)."""
    hour, dow, day = local_parts(column, dialect, zone)
    days_off = {d for d, _name in jpholiday.between(first, last)} | set(closed_days)
    clauses = [hour >= night_starts, hour < night_ends, dow.in_([0, 6])]
    if days_off:
        clauses.append(day.in_([day_value(dialect, d) for d in sorted(days_off)]))
    return sa.or_(*clauses)
