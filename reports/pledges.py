"""A pledge's completion (誓約書の提出状況) as a workbook: per unit (per company for the
contractors' pledge) how many were asked and have acknowledged, and who has not yet.

Framework-free: it takes plain rows (survey/services/pledges.py counts them on the viewer's
scope) and writes them with the formats, title block and print set-up of the summary workbook
(reports/excel.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from reports.dates import wareki
from reports.excel import EXCEL_MAX_ROWS, Formats, SheetWriter, workbook
from reports.tables import Column, Table

UNITS = [
    Column("group", "部局"),
    Column("unit", "所属"),
    Column("people", "対象者", kind="int", width=8),
    Column("acknowledged", "提出済み", kind="int", width=9),
    Column("missing", "未提出", kind="int", width=8),
    Column("ratio", "提出率", kind="percent", width=8),
]
MISSING = [
    Column("group", "部局"),
    Column("unit", "所属"),
    Column("name", "氏名"),
    Column("username", "ユーザー名"),
]


@dataclass(frozen=True)
class Heading:
    """The title block: which pledge and version, on what scope, when and by whom."""

    pledge: str  # its title
    version: int
    published_at: datetime  # aware, in the office's time zone
    scope: str
    generated_at: datetime  # aware, in the office's time zone
    generated_by: str
    contractors: bool = False  # the contractors' pledge: companies in place of units

    def lines(self) -> list[str]:
        day = self.published_at.date()
        return [
            f"{self.pledge} 提出状況",
            f"版: 第{self.version}版（{wareki(day)}公開）",
            f"範囲: {self.scope}",
            f"出力: {self.generated_at:%Y-%m-%d %H:%M} {self.generated_by}",
        ]


def write_completion(
    units: Sequence[tuple], missing: Sequence[tuple], totals: tuple, heading: Heading, out: IO
) -> None:
    """Two sheets: 所属別 (rows in the order of UNITS, the ratio in percent or None; `totals`
    the closing row) and 未提出者 (rows in the order of MISSING)."""
    lines = heading.lines()
    book = workbook(out, lines[0], heading.generated_at, author=heading.generated_by)
    formats = Formats(book)
    first = "委託事業者" if heading.contractors else "部局"
    second = "事業者名" if heading.contractors else "所属"
    unit_columns = [Column("group", first), Column("unit", second), *UNITS[2:]]
    missing_columns = [Column("group", first), Column("unit", second), *MISSING[2:]]

    table = Table(name="units", sheet="所属別", columns=unit_columns, rows=units, freeze_columns=2)
    sheet = SheetWriter(book, formats, table, lines, EXCEL_MAX_ROWS)
    sheet.write_rows(units)
    sheet.write_totals(totals)
    sheet.finish()

    table = Table(
        name="missing", sheet="未提出者", columns=missing_columns, rows=missing, freeze_columns=2
    )
    sheet = SheetWriter(book, formats, table, lines, EXCEL_MAX_ROWS)
    sheet.write_rows(missing)
    if not missing:
        ws, last = sheet.sheets[0]
        ws.write_string(last + 1, 0, "未提出の人はいません。")
    sheet.finish()
    book.close()
