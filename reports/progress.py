"""The not-yet-submitted list (未提出一覧) of a running campaign as a workbook, for chasing the
units that have not handed in. Framework-free: it takes plain rows and writes them with the
same formats, title block and print set-up as the summary workbook (reports/excel.py)."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from reports.excel import EXCEL_MAX_ROWS, Formats, StreamedSheetWriter, splice, workbook
from reports.tables import Column, Table

SHEET = "未提出一覧"
COLUMNS = [
    Column("department", "部局"),
    Column("unit", "担当所属"),
    Column("target", "対象", wrap=True, width=30),
    Column("status", "状態"),
    Column("due_on", "回答期限", kind="date", width=12),
    Column("days_over", "超過日数", kind="int", width=9),
    Column("people", "担当者", wrap=True, width=24),
    Column("emails", "メールアドレス", wrap=True, width=30),
    Column("step", "督促段階", width=10),
]


@dataclass(frozen=True)
class Heading:
    """The title block: which campaign, on what scope, when and by whom."""

    title: str
    campaign: str  # e.g. "2026-annual-assets（締切 令和8年12月11日）"
    scope: str
    generated_at: datetime  # aware, in the office's time zone
    generated_by: str

    def lines(self, count: int) -> list[str]:
        return [
            f"{self.title} 未提出一覧",
            f"点検: {self.campaign}",
            f"範囲: {self.scope}　件数: {count}件（超過日数は出力日時点）",
            f"出力: {self.generated_at:%Y-%m-%d %H:%M} {self.generated_by}",
        ]


def write_pending(rows: Sequence[tuple], heading: Heading, out: str | IO[bytes]) -> None:
    """One sheet, rows in the order of COLUMNS (dates as `date`, days over as int or None).
    The rows are serialised as the summary's list sheets are (reports/excel.py): a ward's
    whole campaign can be thousands of them."""
    with tempfile.TemporaryDirectory(prefix="tenken-xlsx-") as scratch:
        scratch = Path(scratch)
        source = scratch / "book.xlsx"
        parts = _write_book(rows, heading, source, scratch)
        splice(source, out, parts, scratch)


def _write_book(rows: Sequence[tuple], heading: Heading, path: Path, scratch: Path) -> dict:
    lines = heading.lines(len(rows))
    book = workbook(
        path, lines[0], heading.generated_at, author=heading.generated_by, streamed=True
    )
    table = Table(name="pending", sheet=SHEET, columns=COLUMNS, rows=rows, freeze_columns=2)
    sheet = StreamedSheetWriter(book, Formats(book), table, lines, EXCEL_MAX_ROWS, scratch)
    sheet.write_rows(rows)
    if not rows:
        ws, last = sheet.sheets[0]
        ws.write_string(last + 1, 0, "未提出の回答はありません。")
    sheet.finish()
    book.close()
    return sheet.parts()
