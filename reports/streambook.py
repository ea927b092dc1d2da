"""Workbooks of long plain tables, written about as fast as the same cells as CSV.

The respondents' answers, the audit log, the registers: a header row, then rows by the hundred
thousand. Each sheet's SpreadsheetML is serialised here a whole row at a time and written in
large chunks straight into the zip entry (zlib level 1), so nothing holds more than a chunk of
rows and no temporary file is needed; xlsxwriter spends 5–8 µs on each cell, this well under
one (docs/performance.md). The workbook is small and complete all the same: a styled header
(bold, shaded, frozen, with a filter), column widths, numbers, dates and times as real values
in 游ゴシック, and the document's title and author.

Every text is an inline text cell — never a formula — and text that starts like one gets
Excel's quote prefix (reports/safe.py), so it stays text even after someone edits the cell.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape, quoteattr

from reports.safe import starts_like_formula

EXCEL_MAX_ROWS = 1_048_576  # rows of a sheet, the header's included
FONT = "游ゴシック"
COMPRESSION = 1  # zlib level: the XML shrinks about as well, several times faster than 6
CHUNK_ROWS = 500  # rows serialised before each write into the zip entry (a few MB)
FIT_ROWS = 500  # rows the columns' widths are fitted to (they precede the rows in the XML)
CACHE_LIMIT = 2_000  # per column: answers, units, departments repeat; names and comments do not
EPOCH = datetime(1899, 12, 30)  # Excel's day 0 (its 1900 leap-year bug folded in)
EPOCH_DATE = EPOCH.date()
CONTROL = re.compile(r"[\x00-\x08\x0B-\x1F]")
LOOKS_ESCAPED = re.compile(r"(_x[0-9a-fA-F]{4}_)")
CELL_MAX = 32_767  # characters a cell holds

# Cell styles, by index into styles.xml's cellXfs (written below in the same order).
STYLE = {
    "default": 0,
    "header": 1,
    "text": 2,
    "quoted": 3,
    "int": 4,
    "percent": 5,
    "datetime": 6,
    "date": 7,
    "points": 8,
    "none": 9,
    "ratio": 10,
    "wrap": 11,
    "quoted_wrap": 12,
    "timestamp": 13,
    "number": 0,
}


@dataclass(frozen=True)
class Field:
    """A column of a plain sheet. kind: text | int | number | percent (a percentage: 12.5 is
    12.5 %) | points | ratio (text such as 133/139) | datetime | timestamp (to the second) |
    date (naive, local) | any (each value by its type: a register's cells)."""

    title: str
    kind: str = "text"
    width: float | None = None  # Excel characters; None: fitted to the first rows
    wrap: bool = False


def display_width(text: str) -> float:
    """Width in Excel's character units: a full-width character takes about two."""
    return (len(text.encode("utf-8")) + len(text)) / 2


def xml_text(text: str) -> str:
    """Text as SpreadsheetML holds it: XML-escaped, control characters as _xHHHH_ (as Excel
    and xlsxwriter write them), a literal `_xHHHH_` protected from being read as one, and no
    longer than a cell holds."""
    if len(text) > CELL_MAX:
        text = text[:CELL_MAX]
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "_x" in text:
        text = LOOKS_ESCAPED.sub(r"_x005F\1", text)
    if CONTROL.search(text):
        text = CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    if text[:1].isspace() or text[-1:].isspace():
        return f'<t xml:space="preserve">{text}</t>'
    return f"<t>{text}</t>"


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def valid_sheet_name(name: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "Sheet"


class Book:
    """An .xlsx written sheet by sheet to `out` (a path or a binary stream, which need not be
    seekable). Use as a context manager; `sheet()` streams one table."""

    def __init__(self, out: str | Path | IO[bytes], *, title: str = "", author: str = ""):
        self.zip = zipfile.ZipFile(
            out, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=COMPRESSION
        )
        self.title = title
        self.author = author
        self.sheets: list[tuple[str, str | None]] = []  # (name, filter range)

    def __enter__(self) -> Book:
        return self

    def __exit__(self, kind, *_) -> None:
        if kind is None:
            self.close()
        else:
            self.zip.close()

    def sheet(
        self,
        name: str,
        fields: list[Field],
        rows: Iterable[tuple],
        *,
        freeze_columns: int = 0,
        max_rows: int = EXCEL_MAX_ROWS,
        overflow: bool = False,
    ) -> int:
        """Header and rows on a new sheet; returns how many rows were written. Past `max_rows`
        (header included) the rows continue on `name (2)`, `name (3)`… with `overflow`;
        without it TooManyRows is raised and the file is left unfinished: the caller checks
        the count first (`fits`) and offers CSV instead."""
        rows = iter(rows)
        first = []
        for row in rows:
            first.append(row)
            if len(first) >= FIT_ROWS:
                break
        widths = _widths(fields, first)
        rows = _chain(first, rows)
        total, part = 0, 1
        while True:
            count, more = self._part(
                name if part == 1 else f"{name} ({part})",
                fields,
                rows,
                widths,
                freeze_columns,
                max_rows,
            )
            total += count
            if not more:
                return total
            if not overflow:
                raise TooManyRows(max_rows)
            part += 1

    def _part(self, name, fields, rows, widths, freeze_columns, max_rows) -> tuple[int, bool]:
        number = len(self.sheets) + 1
        last = column_letter(len(fields) - 1)
        with self.zip.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True) as out:
            out.write(_sheet_head(widths, freeze_columns, number == 1).encode("utf-8"))
            out.write(_header(fields).encode("utf-8"))
            count, more = _rows(out, fields, rows, max_rows)
            filtered = f"A1:{last}{count + 1}"
            out.write(
                f'</sheetData><autoFilter ref="{filtered}"/>'
                '<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" '
                'footer="0.3"/><pageSetup paperSize="9" orientation="landscape"/>'
                "</worksheet>".encode()
            )
        self.sheets.append((valid_sheet_name(name), filtered))
        return count, more

    def notes(
        self, name: str, lines: list[tuple[str, str]], titles: tuple[str, str] = ("項目", "内容")
    ) -> None:
        """A small sheet of (heading, text) pairs: what the tables hold, for whom, when."""
        fields = [Field(titles[0], width=16), Field(titles[1], width=90)]
        number = len(self.sheets) + 1
        with self.zip.open(f"xl/worksheets/sheet{number}.xml", "w") as out:
            out.write(_sheet_head(_widths(fields, []), 0, number == 1, frozen=False).encode())
            out.write(_header(fields).encode("utf-8"))
            _rows(out, fields, _chain(lines, iter(())), EXCEL_MAX_ROWS)
            out.write(b"</sheetData></worksheet>")
        self.sheets.append((valid_sheet_name(name), None))

    def close(self) -> None:
        z = self.zip
        names = [name for name, _ in self.sheets]
        z.writestr("[Content_Types].xml", _content_types(len(names)))
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("docProps/app.xml", _app(names))
        z.writestr("docProps/core.xml", _core(self.title, self.author))
        z.writestr("xl/workbook.xml", _workbook(self.sheets))
        z.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(names)))
        z.writestr("xl/styles.xml", STYLES)
        z.close()


class TooManyRows(ValueError):
    """More rows than a sheet holds."""


def fits(rows: int, max_rows: int = EXCEL_MAX_ROWS) -> bool:
    """Whether `rows` rows and their header fit on one sheet."""
    return rows + 1 <= max_rows


class _chain:
    """The rows already read, then the rest; a row read too many can be put back."""

    def __init__(self, first: list, rest: Iterator):
        self.back = list(reversed(first))
        self.rest = rest

    def __iter__(self):
        return self

    def __next__(self):
        if self.back:
            return self.back.pop()
        return next(self.rest)

    def push(self, row) -> None:
        self.back.append(row)


def _widths(fields: list[Field], first: list[tuple]) -> list[float]:
    widths = []
    for c, field in enumerate(fields):
        if field.width is not None:
            widths.append(field.width)
            continue
        width = display_width(field.title) + 2
        for row in first:
            value = row[c]
            if isinstance(value, str):
                width = max(width, display_width(value) + 1)
        widths.append(min(max(width, 6), 50))
    return widths


def _sheet_head(widths: list[float], freeze_columns: int, selected: bool, frozen=True) -> str:
    tab = ' tabSelected="1"' if selected else ""
    if frozen:
        cell = f"{column_letter(freeze_columns)}2"
        split = f' xSplit="{freeze_columns}"' if freeze_columns else ""
        pane = "bottomRight" if freeze_columns else "bottomLeft"
        view = (
            f'<sheetView{tab} workbookViewId="0"><pane{split} ySplit="1" topLeftCell="{cell}" '
            f'activePane="{pane}" state="frozen"/><selection pane="{pane}" activeCell="{cell}" '
            f'sqref="{cell}"/></sheetView>'
        )
    else:
        view = f'<sheetView{tab} workbookViewId="0"/>'
    cols = "".join(
        f'<col min="{c}" max="{c}" width="{w:.2f}" customWidth="1"/>'
        for c, w in enumerate(widths, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr><sheetViews>{view}</sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'
    )


def _header(fields: list[Field]) -> str:
    cells = "".join(
        f'<c r="{column_letter(c)}1" s="{STYLE["header"]}" t="inlineStr"><is>'
        f"{xml_text(f.title)}</is></c>"
        for c, f in enumerate(fields)
    )
    return f'<row r="1" ht="30" customHeight="1">{cells}</row>'


def _rows(out, fields: list[Field], rows: Iterator[tuple], max_rows: int) -> tuple[int, bool]:
    """Writes rows after the header until the sheet is full; returns their count and whether
    rows are left (the first of them is put back in front of `rows`)."""
    kinds = ["wrap" if f.wrap and f.kind == "text" else f.kind for f in fields]
    letters = [column_letter(c) for c in range(len(fields))]
    plain = [STYLE["wrap" if k == "wrap" else "text"] for k in kinds]
    quoted = [STYLE["quoted_wrap" if k == "wrap" else "quoted"] for k in kinds]
    texts = [k in ("text", "wrap", "ratio") for k in kinds]
    caches: list[dict] = [{} for _ in fields]
    none = f'" s="{STYLE["none"]}" t="inlineStr"><is><t>－</t></is></c>'
    limit = max_rows - 1
    count = 0
    chunk: list[str] = []
    more = False
    for cells in rows:
        if count >= limit:
            more = True
            rows.push(cells)
            break
        count += 1
        r = str(count + 1)
        parts = [f'<row r="{r}">']
        for c, value in enumerate(cells):
            if value is None:
                if kinds[c] == "percent":
                    parts.append(f'<c r="{letters[c]}{r}{none}')
                continue
            if texts[c]:
                cache = caches[c]
                body = cache.get(value)
                if body is None:
                    if not isinstance(value, str):
                        value = str(value)
                    s = quoted[c] if starts_like_formula(value) else plain[c]
                    if kinds[c] == "ratio":
                        s = STYLE["ratio"]
                    body = f'" s="{s}" t="inlineStr"><is>{xml_text(value)}</is></c>'
                    if len(cache) < CACHE_LIMIT:
                        cache[value] = body
                parts.append(f'<c r="{letters[c]}{r}{body}')
                continue
            kind = kinds[c]
            if value == "":  # a blank on purpose (tables.NOT_ASKED)
                continue
            if kind == "any":
                kind = _kind_of(value)
                if kind == "text":
                    s = STYLE["quoted"] if starts_like_formula(value) else STYLE["text"]
                    parts.append(
                        f'<c r="{letters[c]}{r}" s="{s}" t="inlineStr"><is>'
                        f"{xml_text(value)}</is></c>"
                    )
                    continue
            if kind == "int" or kind == "number" or kind == "points":
                number = str(value)
            elif kind == "percent":
                number = repr(round(value / 100, 6))
            elif kind == "datetime" or kind == "timestamp":
                number = repr(round((value - EPOCH).total_seconds() / 86400, 8))
            elif kind == "date":
                number = str((value - EPOCH_DATE).days)
            else:
                number = str(value)
            parts.append(f'<c r="{letters[c]}{r}" s="{STYLE[kind]}"><v>{number}</v></c>')
        parts.append("</row>")
        chunk.append("".join(parts))
        if len(chunk) >= CHUNK_ROWS:
            out.write("".join(chunk).encode("utf-8"))
            chunk = []
    if chunk:
        out.write("".join(chunk).encode("utf-8"))
    return count, more


def _kind_of(value) -> str:
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    return "number"


# --- the package's small parts ----------------------------------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

ROOT_RELS = (
    f'{XML_HEAD}<Relationships xmlns="{RELS}">'
    f'<Relationship Id="rId1" Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
    'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{DOC_RELS}/extended-properties" '
    'Target="docProps/app.xml"/></Relationships>'
)

_BORDER = "<border><left/><right/><top/><bottom/><diagonal/></border>"
_THIN = (
    '<border><left style="thin"><color rgb="FF9AA5B1"/></left><right style="thin"><color '
    'rgb="FF9AA5B1"/></right><top style="thin"><color rgb="FF9AA5B1"/></top><bottom '
    'style="thin"><color rgb="FF9AA5B1"/></bottom><diagonal/></border>'
)


def _xf(num_fmt=0, font=0, fill=0, border=0, extra="", alignment=""):
    apply = ' applyNumberFormat="1"' if num_fmt else ""
    apply += ' applyFont="1"' if font else ""
    apply += ' applyFill="1"' if fill else ""
    apply += ' applyBorder="1"' if border else ""
    apply += ' applyAlignment="1"' if alignment else ""
    inner = f"<alignment {alignment}/>" if alignment else ""
    return (
        f'<xf numFmtId="{num_fmt}" fontId="{font}" fillId="{fill}" borderId="{border}" '
        f'xfId="0"{apply}{extra}>{inner}</xf>'
    )


_XFS = [  # in the order of STYLE
    _xf(),
    _xf(font=1, fill=2, border=1, alignment='horizontal="center" vertical="center" wrapText="1"'),
    _xf(num_fmt=49),  # text, "@": a code such as 001 stays text when the cell is edited
    _xf(num_fmt=49, extra=' quotePrefix="1"'),
    _xf(num_fmt=3),
    _xf(num_fmt=164),
    _xf(num_fmt=165),
    _xf(num_fmt=166),
    _xf(num_fmt=167),
    _xf(font=2, extra=' quotePrefix="1"', alignment='horizontal="center"'),
    _xf(alignment='horizontal="right"'),
    _xf(num_fmt=49, alignment='vertical="top" wrapText="1"'),
    _xf(num_fmt=49, extra=' quotePrefix="1"', alignment='vertical="top" wrapText="1"'),
    _xf(num_fmt=168),
]
_FONT = f'<name val="{FONT}"/><family val="3"/><charset val="128"/>'
STYLES = (
    f'{XML_HEAD}<styleSheet xmlns="{MAIN}">'
    '<numFmts count="5"><numFmt numFmtId="164" formatCode="0.0%"/>'
    '<numFmt numFmtId="165" formatCode="yyyy/mm/dd hh:mm"/>'
    '<numFmt numFmtId="166" formatCode="yyyy/mm/dd"/>'
    '<numFmt numFmtId="167" formatCode="+0.0;[Red]-0.0;0.0"/>'
    '<numFmt numFmtId="168" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    f'<fonts count="3"><font><sz val="10"/>{_FONT}</font>'
    f'<font><b/><sz val="10"/>{_FONT}</font>'
    f'<font><sz val="10"/><color rgb="FF7B8794"/>{_FONT}</font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDE3EA"/><bgColor indexed="64"/>'
    "</patternFill></fill></fills>"
    f'<borders count="2">{_BORDER}{_THIN}</borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    f'</cellStyleXfs><cellXfs count="{len(_XFS)}">{"".join(_XFS)}</cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9" '
    'defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
)


def _content_types(sheets: int) -> str:
    part = "application/vnd.openxmlformats-officedocument"
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
        f'ContentType="{part}.spreadsheetml.worksheet+xml"/>'
        for n in range(1, sheets + 1)
    )
    return (
        f"{XML_HEAD}<Types "
        'xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="{part.replace("officedocument", "package")}'
        '.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/docProps/app.xml" ContentType="{part}.extended-properties+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{part}.spreadsheetml.styles+xml"/>'
        f'<Override PartName="/xl/workbook.xml" '
        f'ContentType="{part}.spreadsheetml.sheet.main+xml"/>{overrides}</Types>'
    )


def _workbook(sheets: list[tuple[str, str | None]]) -> str:
    entries = "".join(
        f'<sheet name={quoteattr(name)} sheetId="{n}" r:id="rId{n}"/>'
        for n, (name, _) in enumerate(sheets, start=1)
    )
    names = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
        f"{escape(_quoted(name))}!{_absolute(ref)}</definedName>"
        for n, (name, ref) in enumerate(sheets)
        if ref
    )
    defined = f"<definedNames>{names}</definedNames>" if names else ""
    return (
        f'{XML_HEAD}<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}">'
        '<bookViews><workbookView xWindow="0" yWindow="0" windowWidth="16384" '
        'windowHeight="8192"/></bookViews>'
        f'<sheets>{entries}</sheets>{defined}<calcPr calcId="124519" fullCalcOnLoad="1"/>'
        "</workbook>"
    )


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _absolute(ref: str) -> str:
    """A1:K20 -> $A$1:$K$20."""
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", part) for part in ref.split(":"))


def _workbook_rels(sheets: int) -> str:
    entries = "".join(
        f'<Relationship Id="rId{n}" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, sheets + 1)
    )
    styles = f'<Relationship Id="rId{sheets + 1}" Type="{DOC_RELS}/styles" Target="styles.xml"/>'
    return f'{XML_HEAD}<Relationships xmlns="{RELS}">{entries}{styles}</Relationships>'


def _app(names: list[str]) -> str:
    titles = "".join(f"<vt:lpstr>{escape(n)}</vt:lpstr>" for n in names)
    return (
        f"{XML_HEAD}<Properties "
        'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        "<Application>tenken</Application><DocSecurity>0</DocSecurity>"
        '<HeadingPairs><vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>'
        f"Worksheets</vt:lpstr></vt:variant><vt:variant><vt:i4>{len(names)}</vt:i4>"
        "</vt:variant></vt:vector></HeadingPairs>"
        f'<TitlesOfParts><vt:vector size="{len(names)}" baseType="lpstr">{titles}</vt:vector>'
        "</TitlesOfParts></Properties>"
    )


def _core(title: str, author: str) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"{XML_HEAD}<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(_clean(title))}</dc:title>"
        f"<dc:creator>{escape(_clean(author))}</dc:creator>"
        "<dc:description>tenken（情報セキュリティ自己点検）</dc:description>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def _clean(text: str) -> str:
    return CONTROL.sub("", text)
