"""How big an uploaded .xlsx really is, found before openpyxl is given it.

openpyxl makes a Python object of every cell it reads, even in read-only mode, and a workbook
of a few KB can hold millions of them (repeated XML compresses a thousandfold): one such upload
kept a worker busy for a minute and a half. The size of the file says nothing; the zip's own
directory tells how much the parts unpack to, and counting the cell and row elements as the
worksheet XML streams past tells how much openpyxl would have to build. Both stop at the first
limit passed, so a refusal costs at most the unpacked bytes the limits allow.

Every kind of workbook upload (answer sheet, checklist, register) calls `check_workbook` with its
own limits before reading any cell. Framework-free: `checklists` and `survey` share it.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass

CHUNK_BYTES = 1024 * 1024
# Excel's own parts compress some 5 to 20 times; far beyond that is filler, not content. Small
# packages are left alone: a nearly empty sheet compresses well and costs nothing.
MAX_RATIO = 100
RATIO_FROM_BYTES = 1024 * 1024
MAX_PARTS = 1000  # a workbook of a hundred sheets with drawings has a few hundred
# A cell (<c …>) or row (<row …>) element, with or without a namespace prefix: openpyxl reads
# `<x:c>` as readily as `<c>`, so a prefix must not hide cells from the count.
_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,31}:)?(c|row)[\s/>]")
_LONGEST = 40  # bytes of the longest element start the pattern matches


@dataclass(frozen=True)
class WorkbookLimits:
    """The most one kind of upload may hold; `cells` and `rows` over all its sheets."""

    cells: int
    rows: int
    unpacked_bytes: int


class WorkbookRefused(ValueError):
    """The package is damaged (`reason` "damaged") or passes a limit: `reason` is "parts",
    "unpacked", "ratio", "rows" or "cells", and `limit` the limit passed."""

    def __init__(self, reason: str, limit: int = 0):
        super().__init__(f"workbook refused: {reason} (limit {limit})")
        self.reason = reason
        self.limit = limit

    @property
    def message_id(self) -> str:
        """The explanation in checklists.messages."""
        return "not_a_workbook" if self.reason == "damaged" else f"workbook_{self.reason}"

    @property
    def params(self) -> dict[str, str]:
        if self.reason == "unpacked":
            return {"limit": f"{self.limit // (1024 * 1024)} MB"}
        return {"limit": f"{self.limit:,}"}


def check_workbook(data: bytes, limits: WorkbookLimits) -> None:
    """Raise WorkbookRefused if `data` is not a zip package or holds more than `limits`."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_directory(archive.infolist(), limits)
            _count_elements(archive, limits)
    except WorkbookRefused:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        EOFError,
        OSError,
        # An unknown compression method, an encrypted part, a malformed directory entry.
        NotImplementedError,
        RuntimeError,
        ValueError,
    ):
        raise WorkbookRefused("damaged") from None


def _check_directory(parts: list[zipfile.ZipInfo], limits: WorkbookLimits) -> None:
    # The sizes are the directory's word, and zipfile holds each part to it when reading (a
    # part that unpacks to more is cut off and fails its CRC): openpyxl reads through zipfile.
    if len(parts) > MAX_PARTS:
        raise WorkbookRefused("parts", MAX_PARTS)
    unpacked = sum(part.file_size for part in parts)
    if unpacked > limits.unpacked_bytes:
        raise WorkbookRefused("unpacked", limits.unpacked_bytes)
    packed = sum(part.compress_size for part in parts)
    if unpacked > RATIO_FROM_BYTES and unpacked > MAX_RATIO * max(packed, 1):
        raise WorkbookRefused("ratio", MAX_RATIO)


def _count_elements(archive: zipfile.ZipFile, limits: WorkbookLimits) -> None:
    # Every XML part is counted, not only those under xl/worksheets/: the workbook's relations
    # may put a sheet anywhere in the package.
    counts = {b"c": 0, b"row": 0}
    for part in archive.infolist():
        if not part.filename.lower().endswith(".xml"):
            continue
        with archive.open(part) as stream:
            carry = b""
            while chunk := stream.read(CHUNK_BYTES):
                carry = _count_chunk(carry + chunk, counts)
                if counts[b"c"] > limits.cells:
                    raise WorkbookRefused("cells", limits.cells)
                if counts[b"row"] > limits.rows:
                    raise WorkbookRefused("rows", limits.rows)
            _count_chunk(carry, counts, final=True)
        if counts[b"c"] > limits.cells:
            raise WorkbookRefused("cells", limits.cells)
        if counts[b"row"] > limits.rows:
            raise WorkbookRefused("rows", limits.rows)


def _count_chunk(buffer: bytes, counts: dict[bytes, int], final: bool = False) -> bytes:
    """Count the elements that start in `buffer` except in its last bytes, which may hold the
    start of an element cut by the chunk's end; those bytes are returned to lead the next."""
    tail = b"" if final else buffer[-_LONGEST:]
    for name in _ELEMENT.findall(buffer):
        counts[name] += 1
    # Matches lie wholly in the tail or wholly before it (each starts at its only "<").
    for name in _ELEMENT.findall(tail):
        counts[name] -= 1
    return tail
