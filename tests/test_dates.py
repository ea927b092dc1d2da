from datetime import date

import pytest

from reports.dates import wareki


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2017, 1, 13), "平成29年1月13日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2026, 11, 23), "令和8年11月23日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
    ],
)
def test_wareki(day, expected):
    assert wareki(day) == expected
