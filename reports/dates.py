"""Japanese era dates (和暦), as users write them in reports: 令和8年11月23日."""

from __future__ import annotations

from datetime import date, datetime

# (first day, era name); newest first.
ERAS = (
    (date(2019, 5, 1), "令和"),
    (date(1989, 1, 8), "平成"),
    (date(1926, 12, 25), "昭和"),
)


def wareki(day: date | datetime | None, *, with_day: bool = True) -> str:
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = day.date()
    for start, name in ERAS:
        if day >= start:
            year = day.year - start.year + 1
            year_text = "元" if year == 1 else str(year)
            text = f"{name}{year_text}年{day.month}月"
            return f"{text}{day.day}日" if with_day else text
    return f"{day.year}年{day.month}月{day.day}日"


def wareki_iso(day: date) -> str:
    """令和8年11月23日 (2026-11-23): both forms, for Japanese text whatever the reader's locale
    (mail to other people, messages quoting a date)."""
    return f"{wareki(day)} ({day.isoformat()})"
