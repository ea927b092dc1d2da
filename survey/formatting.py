"""Template filters: dates in 和暦 and Western form (in text, and on pages as <time> elements
that never break inside a date), the punctuation between values put together in a template,
following the user's locale, and a checklist's longer texts with their paragraphs and lists."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_babel import get_locale
from markupsafe import Markup, escape

from checklists.texts import blocks
from reports.dates import wareki, wareki_iso
from reports.formats import points
from survey import clock, labels


def format_date(day: date | datetime | None) -> str:
    """令和8年11月23日 (2026-11-23) in Japanese; 2026-11-23 in English."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = clock.local(day).date()
    if str(get_locale()) == "en":
        return day.isoformat()
    return wareki_iso(day)


def format_day(day: date | datetime | None) -> str:
    """令和8年11月23日 in Japanese; 2026-11-23 in English: a date standing in a sentence of a
    printed copy, which shows no Western date beside the era's."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = clock.local(day).date()
    return day.isoformat() if str(get_locale()) == "en" else wareki(day)


def format_month(day: date | None) -> str:
    """令和7年11月 in Japanese; 2025-11 in English: when a round of a checklist opened."""
    if day is None:
        return ""
    if str(get_locale()) == "en":
        return f"{day:%Y-%m}"
    return wareki(day, with_day=False)


def format_datetime(moment: datetime | None) -> str:
    if moment is None:
        return ""
    moment = clock.local(moment)
    return f"{format_date(moment.date())} {moment:%H:%M}"


def time_element(stamp: str, *parts: str) -> Markup:
    """A date or a moment on a page: <time datetime=stamp>, each part on one line. Left alone,
    Chromium breaks 2026-11-23 after a hyphen and 令和8年11月23日 between any two characters;
    a moment may still break between its date and its time of day, to fit a phone."""
    shown = Markup(" ").join(Markup('<span class="nowrap">{}</span>').format(p) for p in parts)
    return Markup('<time datetime="{}">{}</time>').format(stamp, shown)


def _date_filter(day: date | datetime | None) -> Markup:
    if day is None:
        return Markup("")
    if isinstance(day, datetime):
        day = clock.local(day).date()
    return time_element(day.isoformat(), format_date(day))


def _datetime_filter(moment: datetime | None) -> Markup:
    if moment is None:
        return Markup("")
    moment = clock.local(moment)
    return time_element(
        moment.isoformat(timespec="minutes"), format_date(moment.date()), f"{moment:%H:%M}"
    )


# A translated sentence carries its own punctuation; these join values a template puts side by
# side (a title and its version, a date range, a name and a unit), which Japanese writes full
# width and without spaces.
MARKS = {
    "ja": {
        "open": "（",
        "close": "）",
        "sep": "・",
        "colon": "：",
        "until": "〜",
        "none": "－",
        "comma": "、",
        "slash": "／",
    },
    "en": {
        "open": " (",
        "close": ")",
        "sep": " · ",
        "colon": ": ",
        "until": "–",
        "none": "–",
        "comma": ", ",
        "slash": "/",
    },
}


def _marks() -> dict[str, str]:
    return MARKS["en" if str(get_locale()) == "en" else "ja"]


def mark(name: str) -> str:
    return _marks()[name]


def parenthesized(text: str) -> str:
    """（text） in Japanese, " (text)" in English."""
    marks = _marks()
    return f"{marks['open']}{text}{marks['close']}"


def _paren_filter(markup: str) -> Markup:
    """The template filter: what it wraps may be markup already (`{% filter paren %}`)."""
    marks = _marks()
    return Markup(marks["open"]) + escape(markup) + Markup(marks["close"])


def rich_text(text: str | None) -> Markup:
    """A checklist text as paragraphs (<p>, line breaks kept) and lists (<ul>), every line
    escaped: the file's paragraphs and lists, never its markup (checklists.texts)."""
    parts = []
    for block in blocks(text or ""):
        if block.kind == "ul":
            entries = "".join(f"<li>{escape(line)}</li>" for line in block.lines)
            parts.append(f"<ul>{entries}</ul>")
        else:
            parts.append(f"<p>{Markup('<br>').join(escape(line) for line in block.lines)}</p>")
    return Markup("".join(parts))


def init_app(app: Flask) -> None:
    app.add_template_filter(_date_filter, "date")
    app.add_template_filter(format_day, "day")
    app.add_template_filter(format_month, "month")
    app.add_template_filter(points, "points")
    app.add_template_filter(rich_text, "rich")
    app.add_template_filter(_datetime_filter, "datetime")
    app.add_template_filter(_paren_filter, "paren")
    app.add_template_global(mark, "mark")
    app.add_template_global(get_locale, "get_locale")
    app.add_template_global(labels.account_label, "account_label")
    for name, table in (
        ("assignment_status_label", labels.ASSIGNMENT_STATUSES),
        ("delegation_step_label", labels.DELEGATION_STEPS),
        ("campaign_status_label", labels.CAMPAIGN_STATUSES),
        ("escalation_step_label", labels.ESCALATION_STEPS),
        ("target_kind_label", labels.TARGET_KINDS),
        ("importance_label", labels.IMPORTANCE),
        ("audience_label", labels.AUDIENCES),
        ("pledge_audience_label", labels.PLEDGE_AUDIENCES),
        ("pledge_renewal_label", labels.PLEDGE_RENEWALS),
        ("sheet_status", labels.SHEET_STATUSES),
        ("verdict_label", labels.VERDICTS),
        ("incident_status_label", labels.INCIDENT_STATUSES),
        ("class_title", labels.ANSWER_CLASS_TITLES),
    ):
        app.add_template_global(lambda code, table=table: labels.label(table, code), name)
