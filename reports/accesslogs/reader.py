"""The rows of an access-log file, streamed: CSV (UTF-8 with or without BOM, or Shift_JIS/cp932
as the systems write it) or .xlsx (the first sheet, read-only).

`inspect` reads the file once for its SHA-256 (the same file is imported once), its size, its
kind and, for a CSV, its encoding: a BOM says UTF-8; bytes that decode as UTF-8 to the end are
UTF-8; anything else is taken for cp932, and a byte cp932 cannot read either is reported with
its row when the rows are read. `rows` then yields each row with the number Excel shows for it
(the headings are row 1), never holding more than one row of a CSV in memory.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, BinaryIO

import openpyxl

from checklists.workbook_limits import WorkbookLimits, WorkbookRefused, check_workbook
from reports.accesslogs.messages import Problem, ProblemsFound

CHUNK = 1024 * 1024
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
BOM = codecs.BOM_UTF8

Cell = str | datetime | date | time


@dataclass(frozen=True)
class FileFacts:
    sha256: str
    size: int
    format: str  # "csv" or "xlsx"
    encoding: str | None  # of a CSV: "utf-8-sig", "utf-8" or "cp932"


def _refuse(message_id: str, **params: Any) -> ProblemsFound:
    return ProblemsFound([Problem("", message_id, params)])


def inspect(stream: BinaryIO, encoding: str = "auto") -> FileFacts:
    """Hash, size, kind and encoding of the file, in one pass; ProblemsFound if it is empty or
    an old .xls. `encoding` is the source's setting: "auto", "utf-8" or "cp932"."""
    stream.seek(0)
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    is_utf8, binary = True, False
    head = b""
    size = 0
    while chunk := stream.read(CHUNK):
        if size == 0:
            head = chunk[:8]
        size += len(chunk)
        digest.update(chunk)
        binary = binary or b"\x00" in chunk
        if is_utf8:
            try:
                utf8.decode(chunk)
            except UnicodeDecodeError:
                is_utf8 = False
    if is_utf8:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            is_utf8 = False
    stream.seek(0)
    if not head.strip():
        raise _refuse("file_empty")
    if head.startswith(OLE_MAGIC):
        raise _refuse("file_xls")
    if head.startswith(XLSX_MAGIC):
        return FileFacts(digest.hexdigest(), size, "xlsx", None)
    if binary:  # never in a text file, and PostgreSQL cannot store it
        raise _refuse("file_binary")
    if head.startswith(BOM):
        found = "utf-8-sig"
    elif encoding == "cp932" or (encoding == "auto" and not is_utf8):
        found = "cp932"
    else:
        found = "utf-8"
    return FileFacts(digest.hexdigest(), size, "csv", found)


def rows(
    stream: BinaryIO, facts: FileFacts, delimiter: str, limits: WorkbookLimits
) -> Iterator[tuple[int, list[Cell]]]:
    """(row number, cells) for every row, the headings first; ProblemsFound when the file
    cannot be read on."""
    stream.seek(0)
    if facts.format == "xlsx":
        yield from _xlsx_rows(stream, limits)
    else:
        yield from _csv_rows(stream, facts.encoding or "utf-8", delimiter)


def _csv_rows(stream: BinaryIO, encoding: str, delimiter: str) -> Iterator[tuple[int, list[Cell]]]:
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    number = 0
    try:
        for number, record in enumerate(csv.reader(text, delimiter=delimiter), start=1):
            yield number, record
    except UnicodeDecodeError:
        raise _refuse(
            "file_encoding", row=_undecodable_line(stream, encoding), encoding=encoding
        ) from None
    except csv.Error as error:
        raise _refuse("file_csv", detail=f"{number + 1}: {error}") from None
    finally:
        text.detach()  # the caller owns the stream


def _undecodable_line(stream: BinaryIO, encoding: str) -> int:
    """The first line the encoding cannot read (the decoder reads ahead in blocks, so its error
    does not say). Splitting the bytes at newlines is safe: in UTF-8 and cp932 a newline byte is
    never part of another character."""
    stream.seek(0)
    rest = "utf-8" if encoding == "utf-8-sig" else encoding
    for number, raw in enumerate(stream, start=1):
        try:
            raw.decode(encoding if number == 1 else rest)
        except UnicodeDecodeError:
            return number
    return number


def _xlsx_rows(stream: BinaryIO, limits: WorkbookLimits) -> Iterator[tuple[int, list[Cell]]]:
    data = stream.read()
    try:
        check_workbook(data, limits)
    except WorkbookRefused as refused:
        if refused.reason == "damaged":
            raise _refuse("file_damaged") from None
        raise _refuse("file_workbook", reason=f"{refused.reason} > {refused.limit:,}") from None
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        # openpyxl meets a damaged package with many kinds of error (zip, zlib, XML, key).
        raise _refuse("file_damaged") from None
    del data
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # stored dimensions can be wrong; then all rows are read
        found = enumerate(sheet.iter_rows(values_only=True), start=1)
        while True:
            try:
                number, values = next(found)
            except StopIteration:
                return
            except Exception:
                raise _refuse("file_damaged") from None
            yield number, [_cell(value) for value in values]
    finally:
        workbook.close()


def _cell(value: Any) -> Cell:
    if value is None:
        return ""
    if isinstance(value, datetime | date | time):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
