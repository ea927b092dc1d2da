"""The respondents' answers, in a download of their own.

The summary workbook (reports/excel.py) costs what units × items cost; the answers grow with
the respondents, so they travel apart: 回答一覧 (one row per handed-in respondent, every answer
with its comment beside it) and いいえ・コメント一覧 (every いいえ and every comment, which
grows with the answers too) in one workbook, streamed (reports/streambook.py). A sheet holds
1,048,576 rows with its header: beyond that the workbook is refused and the same rows are
offered as CSV, which has no such limit (`fits`).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from reports import excel, queries, streambook, tables
from reports.streambook import EXCEL_MAX_ROWS, Field
from reports.tables import Report, Table

RESPONDENTS = "respondents"
REMARKS = "remarks"
ABOUT_SHEET = "この表について"
REMARKS_NOTE = (
    "いいえ・コメント一覧は回答とともに増えるため、集計ファイルではなく、この回答データに"
    "含めています（集計ファイルは部局と項目の数だけで大きさが決まります）。"
)


class TooManyRespondents(ValueError):
    """More handed-in respondents than an Excel sheet holds: CSV instead."""

    def __init__(self, respondents: int, max_rows: int):
        super().__init__(respondents)
        self.respondents = respondents
        self.max_rows = max_rows


def respondent_count(report: Report) -> int:
    """Handed-in respondents on the report's scope: the rows of 回答一覧."""
    return queries.handed_in_count(report.conn, report.info.id, units=report.units)


def fits(respondents: int, max_rows: int = EXCEL_MAX_ROWS) -> bool:
    """Whether 回答一覧 fits on one sheet (its header included); if not, CSV."""
    return streambook.fits(respondents, max_rows)


def fields(table: Table) -> list[Field]:
    return [Field(c.title, c.kind, c.width, c.wrap) for c in table.columns]


def about_lines(report: Report) -> list[tuple[str, str]]:
    """The title block of the summary, as (heading, text) pairs, and what the sheets hold."""
    meta = report.meta.lines()
    return [
        ("点検", meta[0].removesuffix("　集計結果")),
        ("チェックリスト", meta[1]),
        ("実施期間", meta[2].removeprefix("実施期間：")),
        ("出力", meta[3]),
        ("回答一覧", "提出済・承認済の回答者ごとに1行。各項目の回答とコメントを並べています。"),
        ("いいえ・コメント一覧", REMARKS_NOTE),
        ("集計", f"該当率などの集計は「{excel.filename(report)}」にあります。"),
    ]


def write_xlsx(
    report: Report, out: str | Path | IO[bytes], *, max_rows: int = EXCEL_MAX_ROWS
) -> int:
    """回答一覧, いいえ・コメント一覧 and この表について; returns the respondents written.
    Raises TooManyRespondents, before writing anything, when 回答一覧 would not fit."""
    respondents = respondent_count(report)
    if not fits(respondents, max_rows):
        raise TooManyRespondents(respondents, max_rows)
    title = f"{report.info.title} 回答データ"
    with streambook.Book(out, title=title, author=report.meta.generated_by) as book:
        answers = excel.without_repeats(report, tables.table(report, RESPONDENTS))
        written = book.sheet(
            answers.sheet,
            fields(answers),
            answers.rows,
            freeze_columns=answers.freeze_columns,
            max_rows=max_rows,
        )
        remarks = excel.without_repeats(report, tables.table(report, REMARKS))
        # Every いいえ of a large campaign can outgrow a sheet: it continues on the next.
        book.sheet(
            remarks.sheet,
            fields(remarks),
            remarks.rows,
            freeze_columns=remarks.freeze_columns,
            max_rows=max_rows,
            overflow=True,
        )
        book.notes(ABOUT_SHEET, about_lines(report))
    return written


def lists(conn: sa.Connection, campaign_code: str, **scope) -> Report:
    """The campaign on a scope, for its long tables only: no counts are taken."""
    return tables.build(conn, campaign_code, figures=False, **scope)


def write_answers(
    conn: sa.Connection,
    campaign_code: str,
    out: str | Path | IO[bytes],
    *,
    units: queries.Units = None,
    generated_by: str = "",
    scope: str = "全体",
    tz: ZoneInfo = tables.TOKYO,
    max_rows: int = EXCEL_MAX_ROWS,
) -> Report:
    report = lists(conn, campaign_code, units=units, generated_by=generated_by, scope=scope, tz=tz)
    write_xlsx(report, out, max_rows=max_rows)
    return report
