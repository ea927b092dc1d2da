"""The Excel summary a manager attaches to a report upward, written as it streams.

Its sheets (集計, 部局別, 前回比較, 推移, 未提出一覧) grow with the units and the items, not
with the answers: the respondents' answers and every いいえ and comment have a download of
their own (reports/answers.py), which the first sheet points to.

xlsxwriter (constant_memory mode) builds the workbook: styles, the chart, conditional formats,
frozen panes, filters, print set-up, and the small sheets. The list sheets (未提出一覧 here, and
the progress workbook's) have their rows serialised here, straight from the database cursor to
a temporary file as SpreadsheetML, then spliced into xlsxwriter's sheet when the file is
zipped: xlsxwriter spends about 7 µs per cell, this about 0.5 µs (docs/performance.md).
Memory stays flat either way: nothing holds more than one row.

Every text is written as a text cell (never a formula), with Excel's quote prefix when it starts
like one (reports/safe.py), so it stays text even after someone edits the cell.
"""

from __future__ import annotations

import dataclasses
import math
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import sqlalchemy as sa
import xlsxwriter
from xlsxwriter.utility import quote_sheetname, xl_col_to_name, xl_range_abs

from reports import tables
from reports.queries import Units
from reports.safe import XLSXWRITER_OPTIONS, starts_like_formula
from reports.streambook import EPOCH, EPOCH_DATE, xml_text
from reports.tables import Report, Table

EXCEL_MAX_ROWS = 1_048_576
FONT = "游ゴシック"  # Yu Gothic: Japanese Excel's own font since 2016; others fall back to theirs
PRINT_WIDTH = 220  # characters of 10-point text that fit an A4 landscape page at about 60%
LINE_HEIGHT = 16  # points per line of 10-point 游ゴシック, whose lines stand taller than Latin
WRAP_FILL = 0.95  # share of a column's width a wrapped line fills: lines break before a full one
DEFAULT_ROW = 15  # points: xlsxwriter's default row height
TITLE_ROWS = 6  # title block (5 lines) and a blank row; the header row follows
POINTS = "+0.0;[Red]-0.0;0.0"  # a change in percentage points, to one decimal, falls in red


def _width(text: str) -> float:
    """Display width in Excel's character units: a full-width character takes about two."""
    return (len(text.encode("utf-8")) + len(text)) / 2


def _row_height(cells, wrapped: list[int], widths: list[float]) -> float | None:
    """Rows are streamed, so Excel cannot be left to size them: the height of as many lines as
    the longest wrapped text of the row needs in its (fixed) column width; None for one line."""
    lines = 1
    for c in wrapped:
        text = cells[c]
        if text:
            per_line = widths[c] * WRAP_FILL
            n = sum(math.ceil(_width(part) / per_line) or 1 for part in text.split("\n"))
            if n > lines:
                lines = n
    return LINE_HEIGHT * lines + 4 if lines > 1 else None


def workbook(
    out, title: str, created: datetime, *, author: str = "", subject: str = "", streamed=False
):
    """A workbook as every tenken download starts one: Japanese Excel's font, text never a
    formula (reports/safe.py), the title and author in its properties. `created` is aware, or
    naive UTC; `streamed` writes rows to disk as they come (constant_memory), for the sheets
    that grow with the data."""
    book = xlsxwriter.Workbook(
        str(out) if isinstance(out, Path) else out,
        {
            "constant_memory" if streamed else "in_memory": True,
            **XLSXWRITER_OPTIONS,
            "default_format_properties": {"font_name": FONT, "font_size": 10, "font_charset": 128},
        },
    )
    if created.tzinfo is not None:
        created = created.astimezone(UTC).replace(tzinfo=None)
    properties = {
        "title": title,
        "comments": "tenken（情報セキュリティ自己点検）",
        "created": created,
    }
    if author:
        properties["author"] = author
    if subject:
        properties["subject"] = subject
    book.set_properties(properties)
    return book


class Formats:
    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
        border = {"border": 1, "border_color": "#9AA5B1", "valign": "top"}
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.meta = book.add_format({"font_color": "#3E4C59"})
        header = {
            **border,
            "bold": True,
            "bg_color": "#DDE3EA",
            "text_wrap": True,
            "align": "center",
            "valign": "vcenter",
        }
        self.header = book.add_format(header)
        # A heading from the checklist file (an option's label on 選択肢別) may look like a formula.
        self.header_quoted = book.add_format({**header, "quote_prefix": True})
        self.by_kind = {
            "text": book.add_format(border),
            "wrap": book.add_format({**border, "text_wrap": True}),
            "int": book.add_format({**border, "num_format": "#,##0"}),
            "percent": book.add_format({**border, "num_format": "0.0%"}),
            "points": book.add_format({**border, "num_format": POINTS}),
            "ratio": book.add_format({**border, "align": "right"}),
            "datetime": book.add_format({**border, "num_format": "yyyy/mm/dd hh:mm"}),
            "date": book.add_format({**border, "num_format": "yyyy/mm/dd"}),
            # "－" (no ratio) starts like a formula to Japanese Excel: quoted like user text.
            "none": book.add_format(
                {**border, "align": "center", "font_color": "#7B8794", "quote_prefix": True}
            ),
        }
        self.totals = {
            kind: book.add_format({**border, "bold": True, "top": 2, **extra})
            for kind, extra in (
                ("text", {}),
                ("int", {"num_format": "#,##0"}),
                ("percent", {"num_format": "0.0%"}),
                ("points", {"num_format": POINTS}),
                ("ratio", {"align": "right"}),
            )
        }
        self._quoted: dict[int, xlsxwriter.format.Format] = {}
        self._props = {
            "text": border,
            "wrap": {**border, "text_wrap": True},
        }

    def quoted(self, kind: str) -> xlsxwriter.format.Format:
        """The same cell format with Excel's quote prefix: the cell is text, for good."""
        key = 1 if kind == "wrap" else 0
        if key not in self._quoted:
            self._quoted[key] = self.book.add_format({**self._props[kind], "quote_prefix": True})
        return self._quoted[key]

    def xf(self, fmt: xlsxwriter.format.Format) -> str:
        """The style index xlsxwriter gives `fmt` in styles.xml, fixed from now on (the same
        call xlsxwriter makes when it writes a cell itself)."""
        return str(fmt._get_xf_index())


class SheetWriter:
    """Writes one table: title block, header, rows (continuing on a new sheet past Excel's row
    limit), then widths, frozen panes, filter and print set-up."""

    def __init__(self, book, formats: Formats, table: Table, meta_lines: list[str], max_rows):
        self.book = book
        self.f = formats
        self.table = table
        self.meta_lines = meta_lines
        self.max_rows = max_rows
        self.header_row = TITLE_ROWS
        self.sheets: list[tuple] = []  # (worksheet, last row written)
        self.heights: dict[int, float] = {self.header_row: 30}  # rows not DEFAULT_ROW high
        cols = table.columns
        self.widths = [c.width or _width(c.title) + 2 for c in cols]
        self.fit = [c.width is None for c in cols]
        self.kinds = ["wrap" if c.wrap else c.kind for c in cols]
        self.formats = [formats.by_kind[k] for k in self.kinds]

    # -- sheets --

    def _new_sheet(self):
        number = len(self.sheets) + 1
        name = self.table.sheet if number == 1 else f"{self.table.sheet} ({number})"
        ws = self.book.add_worksheet(name)
        for r, line in enumerate(self.meta_lines):
            self._text(ws, r, 0, line, self.f.title if r == 0 else self.f.meta)
        ws.set_row(self.header_row, self.heights[self.header_row])
        for c, column in enumerate(self.table.columns):
            quoted = starts_like_formula(column.title)
            header = self.f.header_quoted if quoted else self.f.header
            ws.write_string(self.header_row, c, column.title, header)
        self.sheets.append([ws, self.header_row])
        return ws

    def _text(self, ws, row, col, text, fmt, kind="text"):
        if starts_like_formula(text):
            fmt = self.f.quoted(kind)
        ws.write_string(row, col, text, fmt)

    # -- rows --

    def write_rows(self, rows) -> None:
        ws = self._new_sheet()
        row = self.header_row
        limit = self.max_rows - 1
        kinds, formats, fit, widths = self.kinds, self.formats, self.fit, self.widths
        none = self.f.by_kind["none"]
        write_string, write_number, write_blank = ws.write_string, ws.write_number, ws.write_blank
        percent_cells = [k == "percent" for k in kinds]
        wrapped = [c for c, k in enumerate(kinds) if k == "wrap"]
        set_row = ws.set_row
        for cells in rows:
            if row >= limit:
                self.sheets[-1][1] = row
                ws = self._new_sheet()
                write_string, write_number, set_row = ws.write_string, ws.write_number, ws.set_row
                write_blank = ws.write_blank
                row = self.header_row
            row += 1
            for c, value in enumerate(cells):
                if value is None:
                    if percent_cells[c]:
                        write_string(row, c, "－", none)
                    continue
                kind = kinds[c]
                if kind == "text" or kind == "wrap":
                    if starts_like_formula(value):
                        write_string(row, c, value, self.f.quoted(kind))
                    else:
                        write_string(row, c, value, formats[c])
                    if fit[c]:
                        w = _width(value)
                        if w > widths[c]:
                            widths[c] = w
                elif value == tables.NOT_ASKED:
                    write_blank(row, c, None, formats[c])
                elif kind == "int" or kind == "points":
                    write_number(row, c, value, formats[c])
                elif kind == "percent":
                    write_number(row, c, value / 100, formats[c])
                elif kind == "ratio":
                    write_string(row, c, value, formats[c])
                elif kind == "datetime" or kind == "date":
                    ws.write_datetime(row, c, value, formats[c])
                else:
                    write_string(row, c, str(value), formats[c])
            if wrapped:
                height = _row_height(cells, wrapped, widths)
                if height:
                    set_row(row, height)
                    self.heights[row] = height
        self.sheets[-1][1] = row

    def write_totals(self, cells: tuple) -> int:
        ws, row = self.sheets[-1]
        row += 1
        for c, value in enumerate(cells):
            kind = self.kinds[c] if self.kinds[c] in self.f.totals else "text"
            fmt = self.f.totals[kind]
            if value is None or value == "":
                ws.write_blank(row, c, None, fmt)
            elif kind == "percent":
                ws.write_number(row, c, value / 100, fmt)
            elif kind == "int" or kind == "points":
                ws.write_number(row, c, value, fmt)
            else:
                self._text(ws, row, c, str(value), fmt)
        return row

    def write_notes(self, ws, below: int) -> None:
        """The table's notes, a line each, from the second row below `below`."""
        for row, note in enumerate(self.table.notes, start=below + 2):
            self._text(ws, row, 0, note, self.f.meta)

    # -- set-up --

    def finish(self, *, pages_wide: int | None = 1, full_size: bool = False) -> None:
        """Print set-up: A4 landscape, `pages_wide` pages across (None: as many as the columns
        need at a legible size; full_size: at 100%, as many as they need), header rows on every
        page, key columns too when the rows continue on pages to the right."""
        last_col = len(self.table.columns) - 1
        total = 0.0
        for c, width in enumerate(self.widths):
            width = min(max(width, 4), 60 if self.table.columns[c].wrap else 40)
            self.widths[c] = width + (1 if self.fit[c] else 0)
            total += width
            for ws, _ in self.sheets:
                ws.set_column(c, c, self.widths[c])
        if pages_wide is None:
            pages_wide = max(1, math.ceil(total / PRINT_WIDTH))
        header = self.meta_lines[0].replace("&", "&&")[:80]
        footnote = "".join(f"&L&8{note}" for note in self.table.notes[:1])
        title = self.table.sheet
        for ws, last in self.sheets:
            ws.freeze_panes(self.header_row + 1, self.table.freeze_columns)
            ws.autofilter(self.header_row, 0, max(last, self.header_row), last_col)
            ws.set_landscape()
            ws.set_paper(9)  # A4
            ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
            ws.center_horizontally()
            ws.repeat_rows(self.header_row)
            if not full_size:
                ws.fit_to_pages(pages_wide, 0)
            if (full_size or pages_wide > 1) and self.table.freeze_columns:
                ws.repeat_columns(0, self.table.freeze_columns - 1)
            ws.set_header(f"&L&8{header}&R&8{title}")
            ws.set_footer(f"{footnote}&C&8- &P / &N -")


# --- long sheets: rows serialised here, spliced into xlsxwriter's sheet -----------------------

CACHE_LIMIT = 2_000  # per column: answer labels, units and departments repeat; names do not


class StreamedSheetWriter(SheetWriter):
    """A long table: xlsxwriter writes its title block, header and set-up; its rows are written
    here into one temporary file per sheet, in the XML xlsxwriter would have written."""

    def __init__(self, book, formats: Formats, table: Table, meta_lines, max_rows, scratch: Path):
        super().__init__(book, formats, table, meta_lines, max_rows)
        self.scratch = scratch
        self.files: dict[int, Path] = {}  # worksheet index -> its rows

    def write_rows(self, rows) -> None:
        ws = self._new_sheet()
        out = self._open(ws)
        row = self.header_row
        limit = self.max_rows - 1
        kinds, fit, widths = self.kinds, self.fit, self.widths
        f = self.f
        style = [f.xf(fmt) for fmt in self.formats]
        quoted = {k: f.xf(f.quoted(k)) for k in ("text", "wrap")}
        none_style = f.xf(f.by_kind["none"])
        letters = [xl_col_to_name(c) for c in range(len(kinds))]
        caches: list[dict] = [{} for _ in kinds]
        wrapped = [c for c, k in enumerate(kinds) if k == "wrap"]
        for cells in rows:
            if row >= limit:
                self.sheets[-1][1] = row
                out.close()
                ws = self._new_sheet()
                out = self._open(ws)
                row = self.header_row
            row += 1
            r = str(row + 1)
            parts = []
            for c, value in enumerate(cells):
                if value is None:
                    if kinds[c] == "percent":
                        parts.append(
                            f'<c r="{letters[c]}{r}" s="{none_style}" t="inlineStr"><is><t>－</t>'
                            "</is></c>"
                        )
                    continue
                kind = kinds[c]
                if kind == "text" or kind == "wrap" or kind == "ratio":
                    cache = caches[c]
                    body = cache.get(value)
                    if body is None:
                        s = quoted[kind] if starts_like_formula(value) else style[c]
                        body = f'" s="{s}" t="inlineStr"><is>{xml_text(value)}</is></c>'
                        if len(cache) < CACHE_LIMIT:
                            cache[value] = body
                        if fit[c]:
                            w = _width(value)
                            if w > widths[c]:
                                widths[c] = w
                    parts.append(f'<c r="{letters[c]}{r}{body}')
                    continue
                if kind == "int":
                    number = str(value)
                elif kind == "percent":
                    number = repr(round(value / 100, 6))
                elif kind == "datetime":
                    number = repr(round((value - EPOCH).total_seconds() / 86400, 8))
                elif kind == "date":
                    number = str((value - EPOCH_DATE).days)
                else:
                    number = str(value)
                parts.append(f'<c r="{letters[c]}{r}" s="{style[c]}"><v>{number}</v></c>')
            height = ""
            if wrapped:
                points = _row_height(cells, wrapped, widths)
                if points:
                    height = f' ht="{points}" customHeight="1"'
            out.write(f'<row r="{r}"{height}>{"".join(parts)}</row>')
        out.close()
        self.sheets[-1][1] = row

    def _open(self, ws):
        path = self.scratch / f"rows-{ws.index}.xml"
        self.files[ws.index] = path
        return open(path, "w", encoding="utf-8", buffering=1 << 20)  # noqa: SIM115

    def parts(self) -> dict[str, tuple[Path, str]]:
        """Zip entry of each sheet -> (its rows, its used range)."""
        last_col = xl_col_to_name(len(self.table.columns) - 1)
        return {
            f"xl/worksheets/sheet{ws.index + 1}.xml": (
                self.files[ws.index],
                f"A1:{last_col}{last + 1}",
            )
            for ws, last in self.sheets
        }


def splice(source: Path, out, parts: dict[str, tuple[Path, str]], scratch: Path) -> None:
    """Copies xlsxwriter's file to `out`, with each long sheet's rows put into its sheetData."""
    with (
        zipfile.ZipFile(source) as src,
        zipfile.ZipFile(
            out, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=COMPRESSION
        ) as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename not in parts:
                dst.writestr(info, data, compresslevel=COMPRESSION)
                continue
            rows, used = parts[info.filename]
            xml = data.decode("utf-8")
            xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="{used}"/>', xml, count=1)
            if "</sheetData>" in xml:
                head, tail = xml.split("</sheetData>", 1)
            else:
                head, tail = xml.split("<sheetData/>", 1)
                head += "<sheetData>"
            sheet = scratch / "sheet.xml"
            with open(sheet, "wb") as whole, open(rows, "rb") as body:
                whole.write(head.encode("utf-8"))
                shutil.copyfileobj(body, whole, 1 << 20)
                whole.write(("</sheetData>" + tail).encode("utf-8"))
            dst.write(sheet, info.filename)
            sheet.unlink()
            rows.unlink()


COMPRESSION = 1  # zlib level: the XML shrinks about as well, several times faster than 6


CHART_HEIGHT = 640  # pixels: an A4 landscape page's height inside its margins, at 100%
CHART_WIDTH = 900  # pixels, and never wider than the table, whose width sets the print scale
COLUMN_PIXELS = 64  # a column of the default width


def _pixels(width: float) -> int:
    """A column's width in pixels, as xlsxwriter and Excel reckon it."""
    return int(width * 7 + 0.5) + 5


def _chart(book, sheet: SheetWriter, first: int, last: int, totals_row: int) -> None:
    """A native bar chart of the per-item ratios (該当率), item 1 at the top, on a printed page
    of its own after the table.

    It sits right of the table, and the sheet's print area is two ranges, the table and the
    chart: each range starts on a new page, and the header row repeated over the table's pages
    is not repeated over the chart's, which holds row 7 itself (empty in its columns)."""
    ws = sheet.sheets[0][0]
    name = ws.get_name()
    count = last - first + 1
    # Every item's number beside its bar: as large as the bars' spacing allows.
    small = max(6, min(9, int(CHART_HEIGHT * 0.5 / count)))
    chart = book.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": "該当率",
            "categories": [name, first, 0, last, 0],
            "values": [name, first, 4, last, 4],
            "fill": {"color": "#1F5FA8"},
            "gap": 40,
            "data_labels": {
                "value": True,
                "num_format": "0.0%",
                "font": {"name": FONT, "size": small - 1},
            },
        }
    )
    chart.set_title({"name": "項目別の該当率", "name_font": {"size": 12, "name": FONT}})
    chart.set_x_axis(
        {
            "min": 0,
            "max": 1,
            "major_unit": 0.1,
            "num_format": "0%",  # the scale's ticks are round numbers; the bars say 0.0%
            "major_gridlines": {"visible": True},
            "num_font": {"name": FONT, "size": 8},
        }
    )
    chart.set_y_axis(
        {
            "reverse": True,
            "interval_unit": 1,  # every item's number, however many
            "name": "項目番号",
            "num_font": {"name": FONT, "size": small},
            "name_font": {"name": FONT, "size": 9},
        }
    )
    chart.set_legend({"none": True})
    width = min(CHART_WIDTH, sum(_pixels(w) for w in sheet.widths))
    chart.set_size({"width": width, "height": CHART_HEIGHT})
    column = len(sheet.table.columns) + 1  # a blank column between table and chart
    ws.insert_chart(0, column, chart)

    rows, points = 0, 0.0
    while points < CHART_HEIGHT * 0.75:
        points += sheet.heights.get(rows, DEFAULT_ROW)
        rows += 1
    table = xl_range_abs(0, 0, totals_row, column - 2)
    beside = xl_range_abs(0, column, rows - 1, column + math.ceil(width / COLUMN_PIXELS) - 1)
    sheet_name = quote_sheetname(name)
    book.define_name(
        f"{sheet_name}!_xlnm.Print_Area", f"={sheet_name}!{table},{sheet_name}!{beside}"
    )


def without_repeats(report: Report, table: Table) -> Table:
    """The table without 担当所属 where the targets are the units themselves: it would repeat
    対象 on every row."""
    keys = [c.key for c in table.columns]
    if report.info.target_kind != "unit" or "unit" not in keys:
        return table
    at = keys.index("unit")
    return dataclasses.replace(
        table,
        columns=table.columns[:at] + table.columns[at + 1 :],
        rows=(row[:at] + row[at + 1 :] for row in table.rows),
        freeze_columns=table.freeze_columns - (at < table.freeze_columns),
    )


ANSWERS_NOTE = (
    "回答者ごとの回答（回答一覧）と、いいえ・コメント一覧は、この集計ファイルには含みません。"
    "結果画面の「回答データ」（Excel／CSV）、またはコマンド flask report answers で出力できます。"
)


def write_report(
    report: Report,
    out: str | Path | IO[bytes],
    *,
    max_rows: int = EXCEL_MAX_ROWS,
    progress: Callable[[int, int], None] | None = None,
):
    """The summary: 集計 (with its chart), 部局別, 選択肢別, 評価段階 (when the checklist has
    grades), 前回比較 and 推移 (when there are earlier rounds), 未提出一覧. Its size is that of
    the units and items: the respondents' answers, and every いいえ and comment, grow with the
    answers and have their own download (reports/answers.py), which the first sheet points to.
    `progress(done, total)` is told of each sheet written and of the zipping (an export job
    shows it)."""
    # 集計, 部局別, 選択肢別, 未提出一覧 and the zipping; 評価段階; 前回比較 and 推移
    steps = (
        5 + (1 if report.campaign.grades else 0) + (2 if report.trend.previous is not None else 0)
    )
    done = [0]

    def step() -> None:
        done[0] += 1
        if progress is not None:
            progress(min(done[0], steps), steps)

    with tempfile.TemporaryDirectory(prefix="tenken-xlsx-") as scratch:
        scratch = Path(scratch)
        source = scratch / "book.xlsx"
        parts = _write_book(report, source, max_rows, scratch, step)
        splice(source, out, parts, scratch)
        step()


def _write_book(
    report: Report, path: Path, max_rows: int, scratch: Path, step: Callable[[], None]
) -> dict:
    meta = report.meta
    book = workbook(
        path,
        meta.lines()[0],
        meta.generated_at,
        author=meta.generated_by,
        subject=f"{meta.campaign.checklist_title} 第{meta.campaign.checklist_version}版",
        streamed=True,
    )
    formats = Formats(book)
    lines = meta.lines()

    items = tables.items_table(report)
    # In the title block's blank row, above the table: where the answers went.
    sheet = SheetWriter(book, formats, items, [*lines, ANSWERS_NOTE], max_rows)
    sheet.write_rows(items.rows)
    ws, last = sheet.sheets[0]
    first = sheet.header_row + 1
    totals_row = sheet.write_totals(items.totals)
    if last >= first:
        ws.conditional_format(
            first,
            4,
            last,
            4,
            {
                "type": "data_bar",
                "bar_color": "#9FB8D9",
                "min_type": "num",
                "min_value": 0,
                "max_type": "num",
                "max_value": 1,
                "data_bar_2010": False,
            },
        )
    sheet.finish()
    if last >= first:
        _chart(book, sheet, first, last, totals_row)
    step()

    departments = tables.departments_table(report)
    sheet = SheetWriter(book, formats, departments, lines, max_rows)
    sheet.write_rows(departments.rows)
    for ws, last in sheet.sheets:
        if last > sheet.header_row:
            ws.conditional_format(
                sheet.header_row + 1,
                4,
                last,
                len(departments.columns) - 1,
                {
                    "type": "3_color_scale",
                    "min_type": "num",
                    "min_value": 0.5,
                    "mid_type": "num",
                    "mid_value": 0.8,
                    "max_type": "num",
                    "max_value": 1,
                    "min_color": "#E67C73",
                    "mid_color": "#FFD666",
                    "max_color": "#57BB8A",
                },
            )
        sheet.write_notes(ws, last)
        # The header row and the rows: the title block and the note would be cut off on the
        # pages to the right (集計 prints the title block, every page's header names the
        # campaign, and the note is in the footer).
        ws.print_area(sheet.header_row, 0, last, len(departments.columns) - 1)
    # Printed at full size: a long checklist's items continue on the pages to the right, each
    # with the departments' names.
    sheet.finish(full_size=True)
    step()

    options = tables.options_table(report)
    sheet = SheetWriter(book, formats, options, lines, max_rows)
    sheet.write_rows(options.rows)
    sheet.finish()
    step()

    if report.campaign.grades:
        graded = tables.grades_table(report)
        sheet = SheetWriter(book, formats, graded, lines, max_rows)
        sheet.write_rows(graded.rows)
        sheet.write_notes(sheet.sheets[0][0], sheet.sheets[0][1])
        sheet.finish()
        step()

    if report.trend.previous is not None:
        for table in (tables.compare_table(report), tables.trend_table(report)):
            sheet = SheetWriter(book, formats, table, lines, max_rows)
            sheet.write_rows(table.rows)
            sheet.write_notes(sheet.sheets[0][0], sheet.write_totals(table.totals))
            # As many pages across as the rounds need, each repeating the items' names.
            sheet.finish(pages_wide=None)
            step()

    table = without_repeats(report, tables.table(report, "pending"))
    sheet = StreamedSheetWriter(book, formats, table, lines, max_rows, scratch)
    sheet.write_rows(table.rows)
    sheet.finish()
    parts = sheet.parts()
    step()
    book.close()
    return parts


def write_summary(
    conn: sa.Connection,
    campaign_code: str,
    out: str | Path | IO[bytes],
    *,
    units: Units = None,
    generated_by: str = "",
    scope: str = "全体",
    now: datetime | None = None,
    max_rows: int = EXCEL_MAX_ROWS,
) -> Report:
    report = tables.build(
        conn, campaign_code, units=units, generated_by=generated_by, scope=scope, now=now
    )
    write_report(report, out, max_rows=max_rows)
    return report


def filename(report: Report, suffix: str = "集計", extension: str = "xlsx") -> str:
    """`2017情報セキュリティに係る緊急一斉点検（情報資産）_集計.xlsx`: the year the campaign
    opened and its title, without the characters Windows refuses in file names."""
    info = report.info
    title = "".join("_" if ch in '\\/:*?"<>|' or ord(ch) < 32 else ch for ch in info.title).strip(
        " ."
    )
    year = info.opens_on.year if info.opens_on else ""
    return f"{year}{title or info.code}_{suffix}.{extension}"
