"""Template filters: dates in 和暦 and Western form, following the user's locale."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_babel import get_locale

from reports.dates import wareki_iso
from survey import labels


def local(moment: datetime) -> datetime:
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; they were stored in UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))


def format_date(day: date | datetime | None) -> str:
    """令和8年11月23日 (2026-11-23) in Japanese; 2026-11-23 in English."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = local(day).date()
    if str(get_locale()) == "en":
        return day.isoformat()
    return wareki_iso(day)


def format_datetime(moment: datetime | None) -> str:
    if moment is None:
        return ""
    moment = local(moment)
    return f"{format_date(moment.date())} {moment:%H:%M}"


def init_app(app: Flask) -> None:
    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_global(get_locale, "get_locale")
    for name, table in (
        ("role_label", labels.ROLES),
        ("assignment_status_label", labels.ASSIGNMENT_STATUSES),
        ("campaign_status_label", labels.CAMPAIGN_STATUSES),
        ("target_kind_label", labels.TARGET_KINDS),
    ):
        app.add_template_global(lambda code, table=table: labels.label(table, code), name)
