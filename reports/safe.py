"""Text stays text in every spreadsheet and CSV file tenken writes: the one rule of its exports.

A spreadsheet takes a cell that starts with = + - @ for a formula (tab and CR can start one too,
and Japanese Excel turns the full-width ＝ ＋ － ＠ typed into a cell into the same), and a
formula can fetch a link, carry data off or run a command (OWASP "CSV Injection"). Names, titles
and comments come from users and from imported registers, so none of them may become one:

- xlsx: a text cell, never a formula (openpyxl: `text_cell`; xlsxwriter: `write_string` in a
  book opened with `XLSXWRITER_OPTIONS`), and text that `starts_like_formula` gets Excel's quote
  prefix, which keeps it text even after someone edits the cell. The value itself is unchanged.
- CSV: `csv_text` puts an apostrophe before such text, which spreadsheets read as "this is
  text"; `from_csv_text` takes it off again when a file tenken wrote is imported back.

No imports of its own and no framework, so checklists/ uses it as well as reports/ and survey/.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")

# Workbook options for xlsxwriter: its write() would otherwise turn "=…" into a formula, "http…"
# into a link and "1e5" into a number; with these, a string is always written as a string.
XLSXWRITER_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def starts_like_formula(text: str) -> bool:
    """Whether a spreadsheet could read `text` as a formula: then it gets the quote prefix."""
    return text.startswith(FORMULA_STARTS)


def text_cell(cell: Any, text: str) -> Any:
    """An openpyxl cell (or write-only cell) holding `text` as text, quote-prefixed when it
    starts like a formula."""
    cell.value = text
    cell.data_type = "s"  # openpyxl stores any text starting with "=" as a formula
    if starts_like_formula(text):
        cell.quotePrefix = True
    return cell


def _quoted_in_csv(text: str) -> bool:
    # Text that already starts with the apostrophe of a quoted field gets one more, so that
    # `from_csv_text` gives back exactly what was written.
    return starts_like_formula(text) or (text.startswith("'") and _quoted_in_csv(text[1:]))


def csv_text(text: str) -> str:
    """The CSV field of `text`: with a leading apostrophe when it starts like a formula."""
    return "'" + text if _quoted_in_csv(text) else text


def from_csv_text(field: str) -> str:
    """The text `csv_text` was given; any other field as it is."""
    return field[1:] if field.startswith("'") and _quoted_in_csv(field[1:]) else field
