"""Times in a log: the forms read, and local time turned into UTC as zoneinfo does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reports.accesslogs.importer import time_reader
from reports.accesslogs.mapping import Mapping

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    "text",
    [
        "2026/10/01 09:05:00",
        "2026/10/1 9:05",
        "2026-10-01T09:05:00",
        "2026-10-01 09:05",
        "2026年10月1日 9時5分",
        "20261001090500",
        "2026-10-01T00:05:00+00:00",
    ],
)
def test_the_usual_forms(text):
    read = time_reader(Mapping({}), TOKYO)
    assert read(text, None) == datetime(2026, 10, 1, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026/10/01", "2026/13/01 09:00", "昨日", "25:00", ""])
def test_what_is_no_time(text):
    assert time_reader(Mapping({}), TOKYO)(text, None) is None


def test_local_time_becomes_utc_as_zoneinfo_says_across_summer_time():
    zone = ZoneInfo("America/New_York")
    read = time_reader(Mapping({}), zone)
    start = datetime(2026, 3, 7, 0, 0)
    for minutes in range(0, 3 * 24 * 60, 17):  # over the spring change, and back in November
        for moment in (
            start + timedelta(minutes=minutes),
            datetime(2026, 10, 31) + timedelta(minutes=minutes),
        ):
            expected = moment.replace(tzinfo=zone).astimezone(UTC)
            assert read(moment.strftime("%Y-%m-%d %H:%M"), None) == expected, moment
