"""The 措置状況 table of an audit: each finding, the measures taken and their result, on an A4
page the way these reports are published (指摘事項 → 措置内容 → 措置結果 → 措置日).

Framework-free: it takes plain rows (survey/services/audits.py builds them) and writes with
xlsxwriter. A finding with several measures has its 番号, 区分 and 指摘事項 cells merged over
its rows. Every text is written as a text cell, quote-prefixed when it starts like a formula
(reports/safe.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import IO

import xlsxwriter

from reports.dates import wareki
from reports.excel import FONT, LINE_HEIGHT, _width
from reports.safe import XLSXWRITER_OPTIONS, starts_like_formula

SHEET = "措置状況"
TITLE = "監査指摘事項に対する措置状況"
# (header, width in characters of 10-point text); wide enough for an A4 landscape page at 100%.
COLUMNS = (
    ("番号", 5),
    ("区分", 9),
    ("指摘事項", 46),
    ("措置内容", 46),
    ("担当所属", 14),
    ("措置日", 12),
    ("措置結果", 30),
    ("確認日", 12),
)
HEADER_ROW = 8  # below the title block (title, 7 lines of facts)


@dataclass(frozen=True)
class Header:
    title: str  # the audit
    kind: str  # 実地監査 / 書面監査
    held_on: date
    subject: str  # the audited unit or company
    auditors: str
    scope: str
    generated_by: str
    generated_on: date


@dataclass(frozen=True)
class StatusRow:
    number: int
    kind: str  # 意見 / 提案事項
    finding: str
    measure: str = ""
    unit: str = ""
    taken_on: date | None = None
    result: str = ""
    result_on: date | None = None


def _day(day: date | None) -> str:
    return f"{wareki(day)}" if day else ""


def _lines(text: str, width: float) -> int:
    return sum(max(1, math.ceil(_width(line) / width)) for line in (text or "").split("\n"))


def write_status(out: IO[bytes] | str, header: Header, rows: list[StatusRow]) -> None:
    """Write the workbook to `out` (a path or a binary file)."""
    # merge_range() writes through write(): only these options keep a finding from becoming a
    # formula or a link there.
    book = xlsxwriter.Workbook(out, {"in_memory": True, **XLSXWRITER_OPTIONS})
    book.formats[0].set_font_name(FONT)
    f = _Formats(book)
    ws = book.add_worksheet(SHEET)
    _title_block(ws, f, header)
    for c, (title, width) in enumerate(COLUMNS):
        ws.set_column(c, c, width)
        ws.write_string(HEADER_ROW, c, title, f.header)
    ws.set_row(HEADER_ROW, 20)
    row = HEADER_ROW
    for group in _groups(rows):
        first = row + 1
        for item in group:
            row += 1
            _measure_cells(ws, f, row, item)
            height = max(
                _lines(item.measure, COLUMNS[3][1]),
                _lines(item.result, COLUMNS[6][1]),
                math.ceil(_lines(group[0].finding, COLUMNS[2][1]) / len(group)),
            )
            ws.set_row(row, LINE_HEIGHT * height + 4)
        _finding_cells(ws, f, first, row, group[0])
    if not rows:
        row += 1
        ws.merge_range(row, 0, row, len(COLUMNS) - 1, "指摘事項はありません。", f.text)
    _print_setup(ws, header, row)
    book.close()


def _groups(rows: list[StatusRow]) -> list[list[StatusRow]]:
    groups: list[list[StatusRow]] = []
    for row in rows:
        if groups and (groups[-1][0].number, groups[-1][0].kind) == (row.number, row.kind):
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _title_block(ws, f: _Formats, header: Header) -> None:
    ws.write_string(0, 0, TITLE, f.title)
    facts = [
        ("監査", header.title),
        ("種別", header.kind),
        ("実施日", f"{_day(header.held_on)}（{header.held_on.isoformat()}）"),
        ("対象", header.subject),
        ("監査担当", header.auditors),
        ("範囲", header.scope),
        ("出力", f"{_day(header.generated_on)} {header.generated_by}"),
    ]
    for r, (name, value) in enumerate(facts, start=1):
        ws.write_string(r, 0, name, f.meta_name)
        value = value.replace("\n", " ")
        ws.write_string(r, 2, value, f.quoted_meta if starts_like_formula(value) else f.meta)


def _finding_cells(ws, f: _Formats, first: int, last: int, row: StatusRow) -> None:
    cells = ((0, row.number, f.center), (1, row.kind, f.center), (2, row.finding, f.wrap))
    for col, value, fmt in cells:
        if isinstance(value, int):
            if first == last:
                ws.write_number(first, col, value, fmt)
            else:
                ws.merge_range(first, col, last, col, value, fmt)
            continue
        fmt = f.quoted_wrap if col == 2 and starts_like_formula(value) else fmt
        if first == last:
            ws.write_string(first, col, value, fmt)
        else:
            ws.merge_range(first, col, last, col, value, fmt)


def _measure_cells(ws, f: _Formats, row: int, item: StatusRow) -> None:
    for col, value in ((3, item.measure), (4, item.unit), (6, item.result)):
        fmt = f.quoted_wrap if starts_like_formula(value) else f.wrap
        ws.write_string(row, col, value, fmt)
    for col, day in ((5, item.taken_on), (7, item.result_on)):
        if day is None:
            ws.write_blank(row, col, None, f.wrap)
        else:
            ws.write_datetime(row, col, day, f.date)


def _print_setup(ws, header: Header, last_row: int) -> None:
    ws.freeze_panes(HEADER_ROW + 1, 0)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.center_horizontally()
    ws.repeat_rows(HEADER_ROW)
    ws.fit_to_pages(1, 0)
    ws.print_area(0, 0, max(last_row, HEADER_ROW), len(COLUMNS) - 1)
    ws.set_header(f"&L&8{header.title.replace('&', '&&')[:80]}&R&8{SHEET}")
    ws.set_footer("&C&8&P / &N ページ")


class _Formats:
    def __init__(self, book):
        border = {"border": 1, "border_color": "#9AA5B1", "valign": "top", "font_name": FONT}
        self.title = book.add_format({"bold": True, "font_size": 14, "font_name": FONT})
        self.meta_name = book.add_format({"bold": True, "font_color": "#3E4C59", "font_name": FONT})
        self.meta = book.add_format({"font_color": "#3E4C59", "font_name": FONT})
        self.quoted_meta = book.add_format(
            {"font_color": "#3E4C59", "font_name": FONT, "quote_prefix": True}
        )
        self.header = book.add_format(
            {**border, "bold": True, "bg_color": "#DDE3EA", "align": "center", "valign": "vcenter"}
        )
        self.text = book.add_format(border)
        self.wrap = book.add_format({**border, "text_wrap": True})
        self.quoted_wrap = book.add_format({**border, "text_wrap": True, "quote_prefix": True})
        self.center = book.add_format({**border, "align": "center"})
        self.date = book.add_format({**border, "num_format": "yyyy/mm/dd"})
