"""Register files as tables of cells: CSV (UTF-8 with or without BOM, or Shift_JIS/cp932 as
Japanese Excel writes it) and Excel (.xlsx, first sheet, header in row 1), read and written.

Reading never interprets a value: it hands back the header row and each row with the number
the user sees in Excel (the header is row 1), so problems can be named by row and column. The one
exception undoes what writing did: text that starts like a formula is written to CSV behind an
apostrophe (reports/safe.py), which reading takes off, so an export imports back unchanged.
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import openpyxl
from flask_babel import gettext as _

from reports.safe import csv_text, from_csv_text
from reports.streambook import Book, Field
from survey.services import uploads

MAX_BYTES = 5 * 1024 * 1024  # a register of 20,000 users is some 2 MB as CSV
MAX_ROWS = 50_000
MAX_COLUMNS = 50

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls


class RegisterFileError(ValueError):
    """The file cannot be read as a register at all; the message says why, in Japanese."""


Cell = str | date  # Excel date cells stay dates; everything else becomes text


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[Cell]]]  # (row number as Excel shows it, cells)
    format: str  # "csv" or "xlsx"
    encoding: str | None = None  # of a CSV: "utf-8-sig", "utf-8" or "cp932"


def size_limit_text() -> str:
    return f"{MAX_BYTES // (1024 * 1024)} MB"


def read_table(data: bytes, filename: str = "") -> Table:
    """The cells of a register file, or RegisterFileError."""
    if len(data) > MAX_BYTES:
        raise RegisterFileError(
            _("ファイルが大きすぎます（上限 %(limit)s）。", limit=size_limit_text())
        )
    if not data.strip():
        raise RegisterFileError(_("ファイルが空です。"))
    name = filename.lower()
    if data.startswith(OLE_MAGIC) or name.endswith(".xls"):
        raise RegisterFileError(
            _("古い Excel 形式（.xls）は読み込めません。.xlsx 形式か CSV で保存し直してください。")
        )
    if data.startswith(XLSX_MAGIC):
        return _read_xlsx(data)
    if name.endswith((".xlsx", ".xlsm")):
        raise RegisterFileError(_damaged())
    return _read_csv(data)


def _damaged() -> str:
    return _(
        "ファイルが壊れているため読み込めません。Excel で開けるか確かめ、.xlsx 形式か CSV で"
        "保存し直してからアップロードしてください。"
    )


def _too_many_rows() -> str:
    return _("行が多すぎます（上限 %(max)d 行）。", max=MAX_ROWS)


# --- CSV --------------------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 (a BOM is dropped) if the bytes are valid UTF-8, else cp932."""
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
            encoding = "utf-8"
        return text, encoding
    raise RegisterFileError(
        _(
            "文字コードを判別できません。CSV は UTF-8 か Shift_JIS"
            "（Excel の「CSV（コンマ区切り）」）で保存してください。"
        )
    )


def _read_csv(data: bytes) -> Table:
    text, encoding = decode(data)
    if "\x00" in text:
        raise RegisterFileError(_("CSV ファイルではありません（バイナリデータが含まれています）。"))
    records: list[tuple[int, list[Cell]]] = []
    try:
        for number, record in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if number > MAX_ROWS + 1:
                raise RegisterFileError(_too_many_rows())
            cells = record[: MAX_COLUMNS + 1]
            records.append((number, [from_csv_text(cell.strip()) for cell in cells]))
    except csv.Error:
        raise RegisterFileError(
            _("CSV として読み込めません。Excel で開けるか確かめてください。")
        ) from None
    if not records:
        raise RegisterFileError(_("ファイルが空です。"))
    headers, rows = records[0][1], records[1:]
    return Table([str(h) for h in headers], rows, "csv", encoding)


# --- Excel ------------------------------------------------------------------------------------


def _read_xlsx(data: bytes) -> Table:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError):
        raise RegisterFileError(_damaged()) from None
    if not any(part.filename == "xl/workbook.xml" for part in parts):
        raise RegisterFileError(_damaged())
    refusal = uploads.workbook_refusal(data, "register", _damaged())
    if refusal:
        raise RegisterFileError(refusal)
    try:
        rows = _xlsx_rows(data)
    except RegisterFileError:
        raise
    except Exception:
        # openpyxl meets a damaged package with many kinds of error (zip, zlib, XML, key).
        raise RegisterFileError(_damaged()) from None
    if not rows or rows[0][0] != 1:
        raise RegisterFileError(_("1行目に見出し（列名）がありません。"))
    headers, body = rows[0][1], rows[1:]
    return Table([h if isinstance(h, str) else str(h) for h in headers], body, "xlsx")


def _xlsx_rows(data: bytes) -> list[tuple[int, list[Cell]]]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        # data_only: a formula's cached value is what the user sees in Excel.
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # stored dimensions can be wrong; then all rows are read
        rows = []
        for number, cells in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS + 1), start=1):
            if number > MAX_ROWS + 1:
                raise RegisterFileError(_too_many_rows())
            values = [_cell(cell.value) for cell in cells]
            while values and values[-1] == "":
                values.pop()  # read-only sheets pad every row to max_col
            if values:
                rows.append((number, values))
        return rows
    finally:
        workbook.close()


def _cell(value: Any) -> Cell:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --- writing ----------------------------------------------------------------------------------

Value = str | int | date | None


def write_csv(headers: list[str], rows: list[list[Value]]) -> bytes:
    """CSV in UTF-8 with a BOM, which Excel opens as UTF-8 (without one it guesses Shift_JIS)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_text(h) for h in headers])
    for row in rows:
        writer.writerow([_csv_field(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def _csv_field(value: Value) -> str | int:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return csv_text(value) if isinstance(value, str) else value


def write_xlsx(headers: list[str], rows: list[list[Value]], title: str) -> bytes:
    """The register as one sheet (reports/streambook.py): text cells formatted "@" so that
    codes like 001 stay text when edited, dates as dates, the header frozen."""
    fields = [Field(header, "any") for header in headers]
    out = io.BytesIO()
    with Book(out, title=title) as book:
        book.sheet(title, fields, rows)
    return out.getvalue()
