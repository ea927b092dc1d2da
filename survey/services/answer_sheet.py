"""The Excel answer sheet: a questionnaire to fill in offline or on paper, and its upload.

`build_sheet` writes one assignment's questionnaire as a workbook: a title block with the
checklist's description, one row per item with a dropdown of the scale's labels and a comment
cell, the current answers filled in; a category's description and condition and an item's
heading (小見出し) take a row of their own, with no number, which the upload passes over. The
texts are those of the reader's language and kind (a contractor reads the contractor's
wording).
Everything except the answer and comment cells is locked. The protection has no password: it
only keeps people from breaking the layout by accident; the upload checks every cell anyway.

A very hidden sheet names the assignment, campaign, checklist version and the revision at
download, so that a sheet filled for another questionnaire is refused instead of imported.

`read_sheet` turns an uploaded workbook back into answers. It never evaluates anything: a
formula is refused, not computed. Every problem is reported with its cell (`回答!E14: …`), all
at once, and nothing is stored if there is any. `import_sheet` saves through
`answering.save`, like the web form, so the rules and the history are the same.

A sheet made before answers were changed on the web would put its older values back: such an
upload is not imported but answered with `Stale`, the differences and a token. Uploading the
same sheet again with that token is the respondent's confirmation (as saving again is after the
web form's conflict); nothing of the upload is kept on the server in between.
"""

from __future__ import annotations

import hashlib
import io
import json
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from math import ceil
from typing import Any, BinaryIO, NamedTuple

import openpyxl
from flask_babel import get_locale
from flask_babel import gettext as _
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from checklists.texts import pick, plain
from reports.safe import text_cell
from survey import formatting, labels
from survey.models import AnswerHistory, Assignment, Category, Item, User
from survey.models.campaigns import AssignmentStatus
from survey.models.types import utcnow
from survey.services import answering, uploads
from survey.services.answering import COMMENT_MAX, ItemInput

MAX_SHEET_BYTES = 2 * 1024 * 1024  # an answer sheet is some 20 KB; checked before parsing

ANSWER_SHEET = "回答"
META_SHEET = "tenken"
FORMAT = "tenken-answer-sheet"
FORMAT_VERSION = 1

# Layout of the answer sheet: a title block, a header row, then one row per item.
COLUMNS = ("number", "category", "text", "help", "answer", "comment")
COL = {name: index for index, name in enumerate(COLUMNS, start=1)}
HEADER_ROW = 9
FIRST_ITEM_ROW = HEADER_ROW + 1
WIDTHS = {"number": 6, "category": 18, "text": 48, "help": 48, "comment": 44}
LINE_HEIGHT = 16  # points per line of 11 pt text
LIST_ROW = 20  # on the hidden sheet: dropdown lists too long to be written inline

_INPUT_FILL = PatternFill("solid", fgColor="FFF9DB")
_HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
_SECTION_FILL = PatternFill("solid", fgColor="F2F2F2")
_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")


class SheetError(Exception):
    """The upload cannot be imported; `problems` says why, each located by cell if it can."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class SheetInputs(dict[int, ItemInput]):
    """The answers of an uploaded sheet by item id, with the assignment revision at download
    and the answer cell of each item (for locating problems found later)."""

    def __init__(self, revision: int, cells: dict[int, str]):
        super().__init__()
        self.revision = revision
        self.cells = cells


@dataclass(frozen=True)
class Imported:
    changed: list[answering.Change]  # the answers and comments the sheet changed
    overwritten: int  # of those, items also changed in the browser after the download


class Difference(NamedTuple):
    """An answer changed on the web after the sheet was made, that importing would change."""

    item: Item
    sheet: ItemInput  # what the import would store
    current: ItemInput
    change: AnswerHistory  # the latest change on the web


class Stale(Exception):
    """The sheet would overwrite answers changed after it was made; nothing was stored.
    Importing it again with `token` confirms the overwrite."""

    def __init__(self, differences: list[Difference], token: str):
        super().__init__("stale answer sheet")
        self.differences = differences
        self.token = token


# --- download -------------------------------------------------------------------------------


def sheet_filename(assignment: Assignment) -> str:
    return f"回答シート_{assignment.campaign.code}_{assignment.id}.xlsx"


def build_sheet(assignment: Assignment, audience: str = "staff") -> bytes:
    """The assignment's questionnaire as an .xlsx workbook, current answers filled in, in the
    words of a reader of `audience` ("staff" or "contractor")."""
    campaign = assignment.campaign
    checklist = campaign.checklist
    items = list(checklist.items)
    stored = answering.asked_inputs(assignment, answering.stored_inputs(assignment))

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = ANSWER_SHEET
    meta = workbook.create_sheet(META_SHEET)

    lang = str(get_locale())
    _title_block(sheet, assignment, lang, audience)
    for column, name in enumerate(COLUMNS, start=1):
        cell = sheet.cell(HEADER_ROW, column, _headers()[name])
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BOX
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")

    widths = dict(WIDTHS)
    widths["category"] = min(
        24, max([10, *(_width(item.category.title_for(lang)) + 2 for item in items)])
    )
    widths["answer"] = max(
        [
            10,
            *(
                _width(option.label_for(lang)) + 4
                for item in items
                for option in item.options_for(audience)
            ),
        ]
    )
    for name, width in widths.items():
        sheet.column_dimensions[get_column_letter(COL[name])].width = width

    by_number = {item.number: item for item in items}
    validations = _dropdowns(sheet, meta, items, lang, audience)
    row = FIRST_ITEM_ROW - 1
    for category in checklist.categories:
        row = _category_row(sheet, row, category, lang, widths)
        for item in category.items:
            if item.heading:
                row = _section_row(sheet, row + 1, pick(item, "heading", lang), "", widths)
            row += 1
            _item_row(sheet, row, item, stored.get(item.id), by_number, lang, audience, widths)
            validations[item.scale_id].add(sheet.cell(row, COL["answer"]).coordinate)

    sheet.freeze_panes = sheet.cell(FIRST_ITEM_ROW, 1).coordinate
    _print_setup(sheet, last_row=row)
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False  # widening a column or row is harmless
    sheet.protection.formatRows = False
    workbook.security = WorkbookProtection(lockStructure=True)  # no renaming or unhiding

    _identity(meta, assignment)
    meta.sheet_state = "veryHidden"
    meta.protection.sheet = True

    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _item_row(
    sheet: Worksheet,
    row: int,
    item: Item,
    value: ItemInput | None,
    by_number: dict[int, Item],
    lang: str,
    audience: str,
    widths: dict[str, int],
) -> None:
    chosen = answering.option_codes(item).get(value.option) if value and value.option else None
    cells = {
        "number": item.number,
        "category": item.category.title_for(lang),
        "text": item.text_for(lang, audience),
        "help": _help(item, by_number, lang, audience),
        "answer": chosen.label_for(lang) if chosen else None,
        "comment": value.comment if value and value.comment else None,
    }
    for name, content in cells.items():
        cell = _put(sheet, row, COL[name], content)
        cell.border = _BOX
        cell.alignment = _WRAP
        if name in ("answer", "comment"):
            cell.fill = _INPUT_FILL
            cell.protection = Protection(locked=False)
    sheet.cell(row, COL["number"]).alignment = Alignment(vertical="top", horizontal="center")
    sheet.row_dimensions[row].height = _height(
        ((cells[name], widths[name]) for name in ("category", "text", "help", "comment")),
        minimum=2,
    )


def _category_row(
    sheet: Worksheet, row: int, category: Category, lang: str, widths: dict[str, int]
) -> int:
    """A row before the category's items with its description and the condition it is asked
    under, when it has either; the row the next one follows."""
    notes = []
    if category.condition_number is not None:
        note = _(
            "この分類は、項目 %(n)s の回答が「%(answers)s」の場合に回答してください。",
            n=category.condition_number,
            answers=_condition_answers(category, lang),
        )
        notes.append(f"※ {note}")
    description = plain(pick(category, "description", lang))
    if not (notes or description):
        return row
    text = "\n".join([description, *notes] if description else notes)
    return _section_row(sheet, row + 1, category.title_for(lang), text, widths)


def _section_row(sheet: Worksheet, row: int, title: str, text: str, widths: dict[str, int]) -> int:
    """A row of the table with no number: a category's notes or an item's heading. The number,
    answer and comment cells stay empty and locked, so the upload passes over it."""
    _put(sheet, row, COL["category"], title).font = Font(bold=True)
    if text:
        _put(sheet, row, COL["text"], text)
    sheet.merge_cells(start_row=row, start_column=COL["text"], end_row=row, end_column=COL["help"])
    for column in range(1, len(COLUMNS) + 1):
        cell = sheet.cell(row, column)
        cell.fill = _SECTION_FILL
        cell.border = _BOX
        cell.alignment = _WRAP
    width = widths["text"] + widths["help"]
    sheet.row_dimensions[row].height = _height([(title, widths["category"]), (text, width)], 1)
    return row


def _headers() -> dict[str, str]:
    return {
        "number": _("番号"),
        "category": _("分類"),
        "text": _("点検項目"),
        "help": _("説明"),
        "answer": _("回答"),
        "comment": _("コメント"),
    }


def _title_block(sheet: Worksheet, assignment: Assignment, lang: str, audience: str) -> None:
    campaign = assignment.campaign
    checklist = campaign.checklist
    title = _put(sheet, 1, 1, _("自己点検 回答シート"))
    title.font = Font(bold=True, size=14)
    sheet.row_dimensions[1].height = 24
    instructions = _(
        "「回答」欄（黄色のセル）の一覧から選び、必要に応じて「コメント」欄に記入してください。"
        "ほかのセルは変更できません。記入したら、このファイルを .xlsx 形式のまま保存し、"
        "tenken の「Excel 回答シートを取り込む」からアップロードしてください。"
    )
    if assignment.status in (AssignmentStatus.SUBMITTED, AssignmentStatus.APPROVED):
        # A sheet of answers handed in or approved is a record, not a form to fill in.
        instructions = _(
            "この回答は「%(status)s」です。この回答シートは記録用で、記入して取り込むことは"
            "できません。",
            status=labels.label(labels.ASSIGNMENT_STATUSES, assignment.status),
        )
    due = assignment.due_on or campaign.closes_on
    version = _("第%(version)s版", version=checklist.version)
    rows = (
        (_("点検"), campaign.title),
        (_("対象"), assignment.target_name),
        (_("チェックリスト"), f"{checklist.title_for(lang)}{formatting.parenthesized(version)}"),
        (_("回答期限"), formatting.format_date(due)),
        (_("作成日時"), formatting.format_datetime(utcnow())),
        (_("記入方法"), instructions),
        (_("説明"), plain(checklist.description_for(lang, audience))),
    )
    value_width = sum(WIDTHS[name] for name in ("text", "help")) + 24
    for row, (label, value) in enumerate(rows, start=2):
        label_cell = _put(sheet, row, 1, label)
        label_cell.font = Font(bold=True)
        label_cell.alignment = Alignment(vertical="top")
        _put(sheet, row, 3, value or None).alignment = _WRAP
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
        sheet.merge_cells(start_row=row, start_column=3, end_row=row, end_column=len(COLUMNS))
        sheet.row_dimensions[row].height = _height([(value, value_width)], minimum=1)


def _condition_answers(owner: Item | Category, lang: str) -> str:
    """The answers a condition names, as the reader reads them: 「はい・いいえ」."""
    parent = next((i for i in owner.checklist.items if i.number == owner.condition_number), None)
    labels_of = {o.code: o.label_for(lang) for o in parent.scale.options} if parent else {}
    return "・".join(labels_of.get(code, code) for code in owner.condition_options or [])


def _help(item: Item, by_number: dict[int, Item], lang: str, audience: str) -> str:
    """The item's help, with the notes the web form shows: when it is asked, when a comment is
    required, and the ways to check it."""
    notes = []
    category = item.category
    inherited = (item.condition_number, item.condition_options) == (
        category.condition_number,
        category.condition_options,
    )
    if item.condition_number in by_number and not inherited:
        notes.append(
            _(
                "項目 %(n)s の回答が「%(answers)s」の場合に回答してください。",
                n=item.condition_number,
                answers=_condition_answers(item, lang),
            )
        )
    if item.comment_rule == "always":
        notes.append(_("コメント") + formatting.parenthesized(_("必須")))
    elif item.comment_rule == "noncompliant":
        notes.append(_("コメント") + formatting.parenthesized(_("「いいえ」などの場合は必須")))
    if item.importance:
        notes.append(labels.label(labels.IMPORTANCE, item.importance))
    help_text = plain(pick(item, "help", lang, audience))
    lines = [help_text, *(f"※ {note}" for note in notes)] if help_text else notes
    examples = plain(pick(item, "examples", lang))
    if examples:
        lines += [f"{_('確認方法の例')}:", examples]
    return "\n".join(lines)


def _dropdowns(
    sheet: Worksheet, meta: Worksheet, items: list[Item], lang: str, audience: str
) -> dict[int, DataValidation]:
    """One list validation per scale, showing the labels in `lang` of the options offered to
    the reader. A list that cannot be written inline (over 255 characters, or with a comma or
    quote in a label) is read from cells of the hidden sheet instead."""
    validations: dict[int, DataValidation] = {}
    list_row = LIST_ROW
    for item in items:
        if item.scale_id in validations:
            continue
        choices = [option.label_for(lang) for option in item.options_for(audience)]
        inline = ",".join(choices)
        if len(inline) <= 255 and not any("," in label or '"' in label for label in choices):
            formula = f'"{inline}"'
        else:
            _put(meta, list_row, 1, item.scale.code)
            for column, label in enumerate(choices, start=2):
                _put(meta, list_row, column, label)
            last = get_column_letter(len(choices) + 1)
            formula = f"'{META_SHEET}'!$B${list_row}:${last}${list_row}"
            list_row += 1
        validation = DataValidation(
            type="list",
            formula1=formula,
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=_("回答"),
            error=_("一覧から選んでください。"),
        )
        sheet.add_data_validation(validation)
        validations[item.scale_id] = validation
    return validations


def _identity(meta: Worksheet, assignment: Assignment) -> None:
    checklist = assignment.campaign.checklist
    rows = (
        ("format", FORMAT),
        ("format_version", FORMAT_VERSION),
        ("assignment_id", assignment.id),
        ("campaign", assignment.campaign.code),
        ("checklist", checklist.code),
        ("checklist_version", checklist.version),
        ("revision", assignment.revision),
        ("created_at", utcnow().isoformat(timespec="seconds")),
    )
    for row, (key, value) in enumerate(rows, start=1):
        _put(meta, row, 1, key)
        _put(meta, row, 2, value)


def _print_setup(sheet: Worksheet, last_row: int) -> None:
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages as needed, one page wide
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.print_area = f"A1:{get_column_letter(len(COLUMNS))}{last_row}"
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.print_options.horizontalCentered = True
    sheet.oddFooter.center.text = "&P / &N"


def _put(sheet: Worksheet, row: int, column: int, value: Any) -> Cell:
    cell = sheet.cell(row, column, value)
    if isinstance(value, str):
        text_cell(cell, value)
    return cell


def _width(text: str) -> int:
    """Display width in Excel's units: a full-width (Japanese) character counts two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _height(cells: Iterable[tuple[Any, int]], minimum: int) -> float:
    """Excel does not grow rows for wrapped text written by a program; estimate the lines."""
    lines = minimum
    for text, width in cells:
        if text:
            usable = max(1, width - 1)
            lines = max(
                lines, sum(max(1, ceil(_width(part) / usable)) for part in str(text).split("\n"))
            )
    return lines * LINE_HEIGHT + 4


# --- upload ---------------------------------------------------------------------------------


def import_sheet(
    assignment: Assignment, stream: BinaryIO, user: User, confirmed: str = ""
) -> Imported:
    """Save a filled sheet as a draft; the caller commits.

    Raises SheetError (nothing saved), Stale (it would overwrite newer answers, and `confirmed`
    is not the token of this sheet over these answers) or answering.Conflict (someone saved
    meanwhile)."""
    inputs = read_sheet(assignment, stream)
    differences = _differences(assignment, inputs)
    if differences:
        token = _token(assignment, inputs)
        if confirmed != token:
            raise Stale(differences, token)
    try:
        changed = answering.save(
            assignment, inputs, user, revision=assignment.revision, source="sheet"
        )
    except answering.Invalid as invalid:
        raise SheetError(
            [
                _at(inputs.cells.get(item_id, ANSWER_SHEET), message)
                for item_id, messages in invalid.problems.items()
                for message in messages
            ]
        ) from None
    return Imported(changed, len(differences))


def _differences(assignment: Assignment, inputs: SheetInputs) -> list[Difference]:
    """Answers changed on the web after the sheet was made that importing it would change
    again: most often back to what the sheet was made with."""
    if inputs.revision >= assignment.revision:
        return []
    stored = answering.stored_inputs(assignment)
    result = answering.resulting(assignment, stored, inputs)
    latest = {
        change.item_id: change for change in answering.changes_since(assignment, inputs.revision)
    }
    items = {item.id: item for item in assignment.campaign.checklist.items}
    differences = [
        Difference(
            items[item_id],
            result.get(item_id) or answering.EMPTY,
            stored.get(item_id, answering.EMPTY),
            change,
        )
        for item_id, change in latest.items()
    ]
    return sorted((d for d in differences if d.sheet != d.current), key=lambda d: d.item.number)


def _token(assignment: Assignment, inputs: SheetInputs) -> str:
    """What a confirmation confirms: these answers of the sheet over the answers as they are
    now. An answer saved since, or another sheet, needs a confirmation of its own."""
    content = [
        assignment.id,
        assignment.revision,
        inputs.revision,
        sorted((item_id, value.option, value.comment) for item_id, value in inputs.items()),
    ]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


def read_sheet(assignment: Assignment, stream: BinaryIO) -> SheetInputs:
    """The answers of an uploaded sheet, or SheetError with every problem found."""
    data = stream.read(MAX_SHEET_BYTES + 1)
    if len(data) > MAX_SHEET_BYTES:
        raise SheetError(
            [_("ファイルが大きすぎます（上限 %(limit)s）。", limit=_size(MAX_SHEET_BYTES))]
        )
    sheets = _open(data)
    revision = _check_identity(assignment, sheets.get(META_SHEET))
    if ANSWER_SHEET not in sheets:
        raise SheetError([_("シート「%(sheet)s」がありません。", sheet=ANSWER_SHEET)])
    return _read_answers(assignment, sheets[ANSWER_SHEET], revision)


class _Cell(NamedTuple):
    value: Any
    data_type: str  # "f" for a formula
    where: str  # 回答!E14


def _open(data: bytes) -> dict[str, list[list[_Cell]]]:
    """The cells of the two sheets, read before anything is interpreted, so that a damaged
    package is told apart from problems with its content."""
    not_workbook = _(
        "Excel のブック（.xlsx）ではありません。ダウンロードした回答シートに記入し、"
        ".xlsx 形式のまま保存してアップロードしてください。"
    )
    damaged = _(
        "ファイルが壊れているため読み込めません。Excel で開けるか確かめ、保存し直してから"
        "アップロードしてください。"
    )
    if not data.startswith(b"PK\x03\x04"):
        raise SheetError([not_workbook])
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError):
        raise SheetError([damaged]) from None
    if not any(part.filename == "xl/workbook.xml" for part in parts):
        raise SheetError([not_workbook])
    refusal = uploads.workbook_refusal(data, "answer_sheet", damaged)
    if refusal:
        raise SheetError([refusal])
    try:
        return _cells(data)
    except Exception:
        # openpyxl meets a damaged package with many kinds of error (zip, zlib, XML, key).
        raise SheetError([damaged]) from None


def _cells(data: bytes) -> dict[str, list[list[_Cell]]]:
    with warnings.catch_warnings():
        # Excel adds parts openpyxl does not read (and warns about); only values matter.
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        # Read-only mode streams the XML; data_only=False keeps formulas as formulas, so they
        # are seen and refused, never replaced by a value some program computed.
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        sheets = {}
        for name in (ANSWER_SHEET, META_SHEET):
            if name not in workbook.sheetnames:
                continue
            sheet = workbook[name]
            sheet.reset_dimensions()  # stored dimensions can be wrong; then all rows are read
            sheets[name] = [
                [
                    _Cell(cell.value, cell.data_type, f"{name}!{get_column_letter(column)}{row}")
                    for column, cell in enumerate(cells, start=1)
                ]
                for row, cells in enumerate(sheet.iter_rows(max_col=len(COLUMNS)), start=1)
            ]
        return sheets
    finally:
        workbook.close()


def _check_identity(assignment: Assignment, rows: list[list[_Cell]] | None) -> int:
    """The revision at download, once the hidden sheet shows this is this assignment's sheet."""
    checklist = assignment.campaign.checklist
    unknown = _(
        "tenken の回答シートではありません（識別情報がありません）。この点検の回答シートを"
        "ダウンロードして記入してください。"
    )
    meta = {
        cells[0].value: cells[1].value
        for cells in (rows or [])[: LIST_ROW - 1]
        if len(cells) >= 2 and isinstance(cells[0].value, str)
    }
    revision = _integer(meta.get("revision"))
    if meta.get("format") != FORMAT or revision is None:
        raise SheetError([unknown])
    sheet_id = _integer(meta.get("assignment_id"))
    if sheet_id != assignment.id or meta.get("campaign") != assignment.campaign.code:
        raise SheetError(
            [
                _(
                    "別の点検の回答シートです（%(sheet)s）。この点検（%(this)s）の回答シートを"
                    "ダウンロードして記入してください。",
                    sheet=f"{meta.get('campaign')} #{meta.get('assignment_id')}",
                    this=f"{assignment.campaign.code} #{assignment.id}",
                )
            ]
        )
    sheet_version = _integer(meta.get("checklist_version"))
    if meta.get("checklist") != checklist.code or sheet_version != checklist.version:
        raise SheetError(
            [
                _(
                    "チェックリストの版が違います（回答シート: %(sheet)s、この点検: %(this)s）。"
                    "回答シートをダウンロードし直してください。",
                    sheet=f"{meta.get('checklist')}@{meta.get('checklist_version')}",
                    this=checklist.label,
                )
            ]
        )
    return revision


def _read_answers(assignment: Assignment, rows: list[list[_Cell]], revision: int) -> SheetInputs:
    items = {item.number: item for item in assignment.campaign.checklist.items}
    stored = answering.stored_inputs(assignment)
    problems: list[str] = []
    seen: set[int] = set()
    inputs = SheetInputs(revision, cells={})
    for row, cells in enumerate(rows[FIRST_ITEM_ROW - 1 :], start=FIRST_ITEM_ROW):
        number, answer, comment = (
            _column(cells, row, name) for name in ("number", "answer", "comment")
        )
        if all(_blank(c.value) for c in (number, answer, comment)):
            continue
        item = items.get(_integer(number.value))
        if item is None or item.number in seen:
            problems.append(
                _at(
                    number.where,
                    _(
                        "項目番号が正しくありません。行の追加・削除・並べ替えをせずに記入してください。"
                    ),
                )
            )
            continue
        seen.add(item.number)
        inputs.cells[item.id] = answer.where
        inputs[item.id] = ItemInput(
            _answer(item, answer, problems), _comment(comment, stored.get(item.id), problems)
        )
    for number in items:
        if number not in seen:
            problems.append(_at(ANSWER_SHEET, _("項目 %(n)s の行がありません。", n=number)))
    if problems:
        raise SheetError(problems)
    return inputs


def _column(cells: list[_Cell], row: int, name: str) -> _Cell:
    column = COL[name]
    if column <= len(cells):
        return cells[column - 1]
    return _Cell(None, "n", f"{ANSWER_SHEET}!{get_column_letter(column)}{row}")


def _answer(item: Item, cell: _Cell, problems: list[str]) -> str | None:
    if _is_formula(cell):
        problems.append(_at(cell.where, _("数式は使えません。値を直接入力してください。")))
        return None
    if _blank(cell.value):
        return None
    # A sheet downloaded in either language may come back: both labels are understood.
    codes = {
        _norm(label): option.code
        for option in item.scale.options
        for label in (option.label, option.label_en)
        if label
    }
    code = codes.get(_norm(_text(cell.value)))
    if code is None:
        lang = str(get_locale())
        quoted = (
            (f'"{option.label_for(lang)}"' for option in item.scale.options)
            if lang == "en"
            else (f"「{option.label}」" for option in item.scale.options)
        )
        choices = (", " if lang == "en" else "").join(quoted)
        problems.append(
            _at(cell.where, _("%(choices)sのいずれかを選んでください。", choices=choices))
        )
    return code


def _comment(cell: _Cell, stored: ItemInput | None, problems: list[str]) -> str:
    if _blank(cell.value):
        return ""
    text = _text(cell.value).strip()
    if stored is not None and _same_text(text, stored.comment):
        return stored.comment  # unchanged, even if it starts with "=" or has other line breaks
    if _is_formula(cell):
        problems.append(_at(cell.where, _("数式は使えません。値を直接入力してください。")))
        return ""
    if len(text) > COMMENT_MAX:
        problems.append(
            _at(cell.where, _("コメントは%(max)d文字以内で入力してください。", max=COMMENT_MAX))
        )
    return text


def _is_formula(cell: _Cell) -> bool:
    value = cell.value
    return cell.data_type == "f" or (isinstance(value, str) and value.lstrip().startswith("="))


def _text(value: Any) -> str:
    """A cell's value as the text the user sees; Excel turns some typed text into numbers."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _same_text(a: str, b: str) -> bool:
    return a.replace("\r\n", "\n").strip() == b.replace("\r\n", "\n").strip()


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _at(where: str, message: str) -> str:
    return f"{where}: {message}"


def _size(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MB"
