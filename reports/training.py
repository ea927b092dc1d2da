"""A course's completion (研修の受講状況) as a workbook: one sheet per unit and company, one per
person. Framework-free: it takes plain rows (survey/services/training.py builds them) and writes
them with the formats, title block and A4 print set-up of the summary workbook
(reports/excel.py); user text never becomes a formula there."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from reports.excel import EXCEL_MAX_ROWS, Formats, SheetWriter, workbook
from reports.tables import Column, Table

UNITS = [
    Column("department", "部局"),
    Column("unit", "所属・委託事業者"),
    Column("enrolled", "対象者", kind="int", width=8),
    Column("temporary", "うち臨時・会計年度任用", kind="int", width=12),
    Column("read", "資料既読", kind="int", width=8),
    Column("attempted", "受験済", kind="int", width=8),
    Column("passed", "合格（受講完了）", kind="int", width=10),
    Column("percent", "完了率", kind="percent", width=8),
]
PEOPLE = [
    Column("department", "部局"),
    Column("unit", "所属・委託事業者"),
    Column("name", "氏名"),
    Column("username", "ユーザーID"),
    Column("temporary", "臨時・会計年度任用", width=10),
    Column("state", "状況"),
    Column("read_at", "資料既読", kind="datetime", width=16),
    Column("attempts", "受験回数", kind="int", width=8),
    Column("best", "最高点", kind="int", width=8),
    Column("passed_at", "合格日時", kind="datetime", width=16),
]


@dataclass(frozen=True)
class Heading:
    course: str  # e.g. "令和8年度 情報セキュリティ研修（2026-security@1）"
    test: str  # the test and its pass mark
    due: str  # the deadline, as written on the page
    scope: str
    generated_at: datetime  # aware, in the office's time zone
    generated_by: str

    def lines(self) -> list[str]:
        return [
            f"{self.course} 受講状況",
            f"理解度テスト: {self.test}",
            f"受講期限: {self.due}",
            f"範囲: {self.scope}",
            f"出力: {self.generated_at:%Y-%m-%d %H:%M} {self.generated_by}",
        ]


def write_completion(
    units: Sequence[tuple],
    totals: tuple,
    people: Sequence[tuple],
    heading: Heading,
    out: str | IO[bytes],
) -> None:
    """`units` in the order of UNITS (percent as 0–100), `totals` one such row, `people` in the
    order of PEOPLE (times naive, in the office's time)."""
    lines = heading.lines()
    book = workbook(out, lines[0], heading.generated_at, author=heading.generated_by)
    formats = Formats(book)
    by_unit = SheetWriter(
        book, formats, Table("units", "所属別", UNITS, units, freeze_columns=2), lines, 1_000
    )
    by_unit.write_rows(units)
    by_unit.write_totals(totals)
    by_unit.finish()
    table = Table("people", "受講者", PEOPLE, people, freeze_columns=3)
    by_person = SheetWriter(book, formats, table, lines, EXCEL_MAX_ROWS)
    by_person.write_rows(people)
    by_person.finish()
    book.close()
