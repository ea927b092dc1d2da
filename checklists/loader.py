"""Reading checklist files (YAML or Excel) into the data classes of `checklists.schema`.

Each reader turns its file into plain mappings and lists that remember where every value was
written (`_Map`, `_Seq`). One builder then checks each value and makes the data classes, and
`validate` applies the rules that need the whole checklist. Problems are collected rather than
raised on the first one, so whoever wrote the file sees everything to fix at once.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
import warnings
from collections.abc import Callable, Hashable, Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import openpyxl
import yaml
from openpyxl.utils import get_column_letter

from checklists.problems import ChecklistFileError, Problem
from checklists.schema import (
    BUILTIN_SCALES,
    DEFAULTABLE,
    GRADE_BASES,
    REQUIREMENT_RULES,
    Band,
    Category,
    Checklist,
    Condition,
    Grades,
    Item,
    Option,
    Scale,
)
from checklists.validate import validate
from checklists.workbook_limits import WorkbookLimits, WorkbookRefused, check_workbook

__all__ = ["ChecklistFileError", "Problem", "load_file", "load_files"]

DEFAULT_MAX_BYTES = 1024 * 1024
# A checklist of a few thousand items fits; more is not a checklist (config.py sets the server's).
DEFAULT_WORKBOOK_LIMITS = WorkbookLimits(cells=100_000, rows=10_000, unpacked_bytes=20 * 1024**2)

# The keys of each mapping in a YAML file, in the documented order.
CHECKLIST_KEYS = (
    "code",
    "version",
    "title",
    "title_en",
    "target",
    "description",
    "description_en",
    "description_contractor",
    "description_contractor_en",
    "pass_mark",
    "defaults",
    "scales",
    "grades",
    "categories",
)
DEFAULTS_KEYS = DEFAULTABLE
CATEGORY_KEYS = ("code", "title", "title_en", "description", "description_en", "condition", "items")
ITEM_KEYS = (
    "number",
    "key",
    "heading",
    "heading_en",
    "text",
    "text_en",
    "text_contractor",
    "text_contractor_en",
    "help",
    "help_en",
    "help_contractor",
    "help_contractor_en",
    "examples",
    "examples_en",
    "importance",
    "scale",
    "comment",
    "evidence",
    "correct",
    "condition",
)
# The keys of an item that hold one text each: all but its number, key and condition.
ITEM_VALUES = tuple(key for key in ITEM_KEYS if key not in ("number", "key", "condition"))
CONDITION_KEYS = ("item", "answers")
SCALE_KEYS = ("code", "title", "options")
GRADES_KEYS = ("basis", "bands")
BAND_KEYS = ("min", "label", "label_en", "advice", "advice_en", "below_standard")
OPTION_KEYS = ("code", "label", "label_en", "class", "score", "audience")

# The Excel layout. Sheets and columns are found by their Japanese or English name.
SHEETS = {
    "checklist": ("チェックリスト", "checklist"),
    "items": ("項目", "items"),
    "scales": ("尺度", "scales"),
    "grades": ("評価段階", "grades"),
}
# The settings sheet: the checklist's own texts, then its defaults for every item.
SETTINGS = (
    "code",
    "version",
    "title",
    "title_en",
    "target",
    "description",
    "description_en",
    "description_contractor",
    "description_contractor_en",
)
DEFAULT_SETTINGS = {f"default_{key}": key for key in DEFAULTS_KEYS}
# The settings row that gives the grades' basis (their bands are the sheet 評価段階).
GRADE_BASIS_SETTING = "grade_basis"
# The settings row of a comprehension test's pass mark (left out of other checklists' sheets).
PASS_MARK_SETTING = "pass_mark"
GRADE_COLUMNS = {
    "min": ("下限", "min"),
    "label": ("評価", "label"),
    "label_en": ("評価(英)", "label_en"),
    "advice": ("助言", "advice"),
    "advice_en": ("助言(英)", "advice_en"),
    "below_standard": ("基準未満", "below_standard"),
}
REQUIRED_GRADE_COLUMNS = ("min", "label")
# How a yes/no cell or value may be written (基準未満).
YES_NO = {
    "true": True,
    "yes": True,
    "はい": True,
    "○": True,
    "〇": True,
    "1": True,
    "false": False,
    "no": False,
    "いいえ": False,
    "×": False,
    "0": False,
}
ITEM_COLUMNS = {
    "number": ("番号", "number"),
    "category": ("分類コード", "category"),
    "category_title": ("分類名", "category_title"),
    "category_title_en": ("分類名(英)", "category_title_en"),
    "text": ("項目", "text"),
    "text_en": ("項目(英)", "text_en"),
    "help": ("説明", "help"),
    "scale": ("尺度", "scale"),
    "comment": ("コメント", "comment"),
    "evidence": ("証跡", "evidence"),
    "condition_item": ("条件項目", "condition_item"),
    "condition_answers": ("条件回答", "condition_answers"),
    "key": ("キー", "key"),
    # Added later; every column may be left out, so older workbooks read as they did.
    "category_description": ("分類の説明", "category_description"),
    "category_description_en": ("分類の説明(英)", "category_description_en"),
    "category_condition_item": ("分類の条件項目", "category_condition_item"),
    "category_condition_answers": ("分類の条件回答", "category_condition_answers"),
    "heading": ("小見出し", "heading"),
    "heading_en": ("小見出し(英)", "heading_en"),
    "help_en": ("説明(英)", "help_en"),
    "text_contractor": ("委託先向け項目", "text_contractor"),
    "text_contractor_en": ("委託先向け項目(英)", "text_contractor_en"),
    "help_contractor": ("委託先向け説明", "help_contractor"),
    "help_contractor_en": ("委託先向け説明(英)", "help_contractor_en"),
    "examples": ("確認方法の例", "examples"),
    "examples_en": ("確認方法の例(英)", "examples_en"),
    "importance": ("重要度", "importance"),
    "correct": ("正解", "correct"),
}
REQUIRED_ITEM_COLUMNS = ("number", "category", "category_title", "text")
# Columns that set the category, read from its first row (分類名 included, as always).
CATEGORY_COLUMNS = {
    "category_title": "title",
    "category_title_en": "title_en",
    "category_description": "description",
    "category_description_en": "description_en",
}
# Category columns added later: a later row of the category that gives another value is
# refused rather than ignored.
CATEGORY_CHECKED_COLUMNS = (
    "category_description",
    "category_description_en",
    "category_condition_item",
    "category_condition_answers",
)
SCALE_COLUMNS = {
    "scale": ("尺度コード", "scale"),
    "scale_title": ("尺度名", "scale_title"),
    "code": ("選択肢コード", "code"),
    "label": ("表示", "label"),
    "label_en": ("表示(英)", "label_en"),
    "class": ("区分", "class"),
    "score": ("点数", "score"),
    "audience": ("回答者", "audience"),
}
REQUIRED_SCALE_COLUMNS = ("scale", "scale_title", "code", "label", "class")


def load_file(
    path: str | Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    name: str | None = None,
    workbook_limits: WorkbookLimits = DEFAULT_WORKBOOK_LIMITS,
) -> Checklist:
    """The checklist in the file; ChecklistFileError lists every problem if there is any.

    Problems name the file by `name` when given: an uploaded file is read from a temporary
    path, but its author knows it by the name it had on their computer.
    """
    checklist, problems = _load(Path(path), name or str(path), max_bytes, workbook_limits)
    if problems:
        raise ChecklistFileError(problems)
    return checklist


def load_files(
    paths: Iterable[str | Path],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    workbook_limits: WorkbookLimits = DEFAULT_WORKBOOK_LIMITS,
) -> tuple[list[Checklist], list[Problem]]:
    """The checklists of the files that are fine, and the problems of all the others."""
    checklists, problems = [], []
    for path in paths:
        try:
            checklists.append(load_file(path, max_bytes=max_bytes, workbook_limits=workbook_limits))
        except ChecklistFileError as error:
            problems += error.problems
    return checklists, problems


def _load(
    path: Path, file: str, max_bytes: int, workbook_limits: WorkbookLimits
) -> tuple[Checklist | None, list[Problem]]:
    def whole_file(message_id: str, **params: object) -> tuple[None, list[Problem]]:
        return None, [Problem(file, "", message_id, params)]

    if not path.is_file():
        return whole_file("file_not_found")
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".xlsx"):
        return whole_file("unsupported_file_type")
    size = path.stat().st_size
    if size > max_bytes:
        return whole_file(
            "file_too_large", size_kb=math.ceil(size / 1024), max_kb=max_bytes // 1024
        )
    if size == 0:
        return whole_file("file_empty")
    problems: list[Problem] = []
    excel = suffix == ".xlsx"
    try:
        raw = (
            _read_xlsx(path, file, problems, workbook_limits)
            if excel
            else _read_yaml(path, file, problems)
        )
    except OSError as error:
        return whole_file("file_unreadable", reason=error.strerror or str(error))
    if raw is None:
        return None, problems
    builder = _Builder(file, problems, excel)
    checklist = builder.checklist(raw)
    problems += validate(checklist, file, builder.locations)
    return checklist, sorted(problems, key=_reading_order)


def _reading_order(problem: Problem) -> tuple:
    """Problems in the order a reader meets them: by sheet, then row (line), then column."""
    sheet, _, place = problem.where.rpartition("!")
    column, row = re.fullmatch(r"([A-Z]*)(\d*)", place).groups()
    return sheet, int(row or 0), len(column), column


# --- what the readers produce ---------------------------------------------------------------

# A value refused while reading (a formula, a sheet that could not be used); already reported.
_REFUSED = object()


class _Map(dict):
    """A mapping read from a file, remembering where each key was written."""

    def __init__(self, where: str):
        super().__init__()
        self.where = where
        self.key_where: dict[Any, str] = {}
        self.names: dict[Any, str] = {}  # how the file names a key, when not by the key itself
        self.duplicates: list[tuple[Any, str, str]] = []  # (key, where, where first given)

    def put(self, key: Any, value: Any, where: str, name: str = "") -> None:
        if key in self:
            self.duplicates.append((key, where, self.key_where[key]))
        self[key] = value
        self.key_where[key] = where
        if name:
            self.names[key] = name

    def name(self, key: Any) -> str:
        return self.names.get(key, str(key))


class _Seq(list):
    """A list read from a file, remembering where each entry was written."""

    def __init__(self, wheres: Iterable[str] = ()):
        super().__init__()
        self.wheres = list(wheres)

    def add(self, value: Any, where: str) -> None:
        self.append(value)
        self.wheres.append(where)


# --- YAML -----------------------------------------------------------------------------------

BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"


def use_yaml12_scalars(cls: type) -> None:
    """Let a PyYAML loader or dumper class read booleans and integers as YAML 1.2 does.

    YAML 1.1 reads yes/no/on/off as booleans, which would turn the answer codes `yes` and `no`
    into True and False, and reads 010 as the octal number 8 and 1:30 as 90. Here only
    true/false are booleans, and only plain decimals are integers; zero-padded numbers stay
    text, so that an item number 010 is read as 10 and a code 010 stays "010".
    """
    cls.yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag not in (BOOL_TAG, INT_TAG)]
        for first, resolvers in cls.yaml_implicit_resolvers.items()
    }
    cls.add_implicit_resolver(
        BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    cls.add_implicit_resolver(
        INT_TAG, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
    )


class _YamlLoader(yaml.SafeLoader):
    """Safe YAML, with YAML 1.2 booleans and integers, building `_Map` and `_Seq` with lines."""


def _line(node: yaml.Node) -> str:
    return str(node.start_mark.line + 1)


def _construct_map(loader: _YamlLoader, node: yaml.MappingNode):
    mapping = _Map(_line(node))
    yield mapping
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                None, None, "found unhashable key", key_node.start_mark
            )
        mapping.put(key, loader.construct_object(value_node), _line(key_node))


def _construct_seq(loader: _YamlLoader, node: yaml.SequenceNode):
    sequence = _Seq(_line(entry) for entry in node.value)
    yield sequence
    sequence.extend(loader.construct_object(entry) for entry in node.value)


use_yaml12_scalars(_YamlLoader)
_YamlLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_YamlLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


# A checklist nests brackets two deep ({item: 1, answers: [yes]}). PyYAML's scanner keeps a
# pending key per open bracket and walks them all at every token: a few thousand brackets kept a
# worker busy for many seconds before the parser gave up. So brackets are counted first.
MAX_BRACKET_DEPTH = 50


def _nests_too_deep(text: str) -> bool:
    """Whether [ and { nest deeper than MAX_BRACKET_DEPTH, counted over the whole text: brackets
    inside quotes and comments are counted too, which can only count more."""
    depth = 0
    for bracket in re.findall(r"[\[\]{}]", text):
        depth = depth + 1 if bracket in "[{" else max(depth - 1, 0)
        if depth > MAX_BRACKET_DEPTH:
            return True
    return False


def _read_yaml(path: Path, file: str, problems: list[Problem]) -> _Map | None:
    def report(where: str, message_id: str, **params: object) -> None:
        problems.append(Problem(file, where, message_id, params))

    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")  # Windows editors may start UTF-8 with a BOM
    except UnicodeDecodeError as error:
        report(str(data.count(b"\n", 0, error.start) + 1), "not_utf8")
        return None
    if _nests_too_deep(text):
        report("", "yaml_too_deep")
        return None
    try:
        document = yaml.load(text, Loader=_YamlLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = str(mark.line + 1) if mark else ""
        report(where, "yaml_syntax", detail=error.problem or error.context)
        return None
    except yaml.reader.ReaderError as error:  # a control character
        report(str(text.count("\n", 0, error.position) + 1), "yaml_syntax", detail=error.reason)
        return None
    except RecursionError:
        report("", "yaml_too_deep")
        return None
    if document is None:
        report("", "file_empty")
        return None
    if not isinstance(document, _Map):
        report("", "top_not_mapping")
        return None
    return document


# --- Excel ----------------------------------------------------------------------------------


class _Sheet(NamedTuple):
    title: str
    rows: list[list[tuple[Any, str]]]  # (value, data_type) of each cell


def _read_xlsx(
    path: Path, file: str, problems: list[Problem], limits: WorkbookLimits
) -> _Map | None:
    data = path.read_bytes()  # at most max_bytes: the size was checked
    try:
        check_workbook(data, limits)
        sheets = _workbook_cells(io.BytesIO(data))
    except WorkbookRefused as refused:
        problems.append(Problem(file, "", refused.message_id, refused.params))
        return None
    except Exception:
        # openpyxl meets a damaged or foreign file with many kinds of error (zip, XML, key).
        problems.append(Problem(file, "", "not_a_workbook", {}))
        return None
    return _WorkbookReader(file, problems, sheets).read()


def _workbook_cells(stream: BinaryIO) -> list[_Sheet]:
    """Every cell of every sheet, read before anything is interpreted, so that errors in the
    package are told apart from problems with its content."""
    with warnings.catch_warnings():
        # Workbooks from other tools carry parts that openpyxl warns it will ignore; so do we.
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=False)
        try:
            sheets = []
            for sheet in workbook.worksheets:
                sheet.reset_dimensions()  # stored dimensions can be wrong; then all rows are read
                rows = [[(cell.value, cell.data_type) for cell in row] for row in sheet.iter_rows()]
                sheets.append(_Sheet(sheet.title, rows))
            return sheets
        finally:
            workbook.close()


def _norm(name: str) -> str:
    """A sheet or column name as compared: full-width (英) and English capitals accepted."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


class _WorkbookReader:
    """Turns the documented sheets into the same mappings and lists as a YAML file gives."""

    def __init__(self, file: str, problems: list[Problem], sheets: list[_Sheet]):
        self.file = file
        self.problems = problems
        self.sheets = sheets

    def report(self, where: str, message_id: str, **params: object) -> None:
        self.problems.append(Problem(self.file, where, message_id, params))

    def read(self) -> _Map:
        top = self.settings()
        items = self.find("items", required=True)
        top.put(
            "categories",
            self.categories(items) if items else _REFUSED,
            f"{items.title}!A2" if items else "",
            SHEETS["items"][0],
        )
        scales = self.find("scales", required=False)
        if scales:
            top.put("scales", self.scales(scales), f"{scales.title}!A2", SHEETS["scales"][0])
        grades = self.find("grades", required=False)
        if grades:
            self.grades(top, grades)
        return top

    def grades(self, top: _Map, sheet: _Sheet) -> None:
        """The sheet 評価段階, one band a row, and the settings row grade_basis: the same
        mapping as a YAML file's `grades`."""
        basis = top.pop(GRADE_BASIS_SETTING, None)
        where = top.key_where.pop(GRADE_BASIS_SETTING, f"{sheet.title}!A1")
        grades = _Map(where)
        top.put("grades", grades, f"{sheet.title}!A1", SHEETS["grades"][0])
        if basis is not None:
            grades.put("basis", basis, where, GRADE_BASIS_SETTING)
        table = self.table(sheet, GRADE_COLUMNS, REQUIRED_GRADE_COLUMNS)
        if table is None:
            grades.put("bands", _REFUSED, f"{sheet.title}!A2")
            return
        headings, rows = table
        bands = _Seq()
        for row, cells in rows:
            band = _Map(f"{sheet.title}!A{row}")
            for key, (value, at) in cells.items():
                band.put(key, value, at, headings[key])
            bands.add(band, band.where)
        grades.put("bands", bands, f"{sheet.title}!A2", SHEETS["grades"][0])

    def find(self, kind: str, required: bool) -> _Sheet | None:
        names = {_norm(name) for name in SHEETS[kind]}
        sheet = next((sheet for sheet in self.sheets if _norm(sheet.title) in names), None)
        if sheet is None and required:
            self.report("", "sheet_missing", sheet=SHEETS[kind][0], sheet_en=SHEETS[kind][1])
        return sheet

    def cell(self, sheet: _Sheet, row: int, column: int) -> tuple[Any, str]:
        """The value of a cell (None when blank) and where it is."""
        where = f"{sheet.title}!{get_column_letter(column)}{row}"
        cells = sheet.rows[row - 1] if row <= len(sheet.rows) else []
        value, data_type = cells[column - 1] if column <= len(cells) else (None, "n")
        if data_type == "f":
            self.report(where, "formula_cell", value=getattr(value, "text", value))
            return _REFUSED, where
        if isinstance(value, float) and value.is_integer():
            return int(value), where
        if isinstance(value, str):
            return value.strip() or None, where
        return value, where

    def settings(self) -> _Map:
        sheet = self.find("checklist", required=True)
        if sheet is None:
            top = _Map("")
            for key in SETTINGS:
                top.put(key, _REFUSED, "")
            return top
        top = _Map(f"{sheet.title}!A1")
        defaults = None
        for row in range(1, len(sheet.rows) + 1):
            key, key_where = self.cell(sheet, row, 1)
            if key is None or key is _REFUSED:
                continue
            name = _norm(str(key))
            if name in DEFAULT_SETTINGS:
                if defaults is None:
                    defaults = _Map(key_where)
                    top.put("defaults", defaults, key_where)
                defaults.put(DEFAULT_SETTINGS[name], *self.cell(sheet, row, 2), name)
                continue
            if name in (GRADE_BASIS_SETTING, PASS_MARK_SETTING):
                top.put(name, *self.cell(sheet, row, 2))
                continue
            if name not in SETTINGS:
                allowed = ", ".join(
                    (*SETTINGS, *DEFAULT_SETTINGS, GRADE_BASIS_SETTING, PASS_MARK_SETTING)
                )
                self.report(key_where, "unknown_key", key=key, allowed=allowed)
                continue
            top.put(name, *self.cell(sheet, row, 2))
        return top

    def table(
        self, sheet: _Sheet, columns: dict[str, tuple[str, str]], required: tuple[str, ...]
    ) -> tuple[dict[str, str], list[tuple[int, dict[str, tuple[Any, str]]]]] | None:
        """The heading of each field, and the rows that are not blank as {field: (value, where)};
        None when the header row cannot be used."""
        aliases = {_norm(name): field for field, names in columns.items() for name in names}
        found: dict[str, int] = {}
        headings: dict[str, str] = {}
        width = len(sheet.rows[0]) if sheet.rows else 0
        for column in range(1, width + 1):
            label, where = self.cell(sheet, 1, column)
            if label is None or label is _REFUSED:
                continue
            field = aliases.get(_norm(str(label)))
            if field is None:
                allowed = ", ".join(names[0] for names in columns.values())
                self.report(where, "header_unknown", name=label, allowed=allowed)
            elif field in found:
                first = f"{sheet.title}!{get_column_letter(found[field])}1"
                self.report(where, "header_duplicate", name=label, at=first)
            else:
                found[field] = column
                headings[field] = str(label)
        corner = f"{sheet.title}!A1"
        if not found:
            names = ", ".join(columns[field][0] for field in required)
            self.report(corner, "header_missing", required=names)
            return None
        missing = [field for field in required if field not in found]
        for field in missing:
            self.report(corner, "header_required", name=columns[field][0])
        if missing:
            return None
        rows = []
        for row in range(2, len(sheet.rows) + 1):
            cells = {field: self.cell(sheet, row, column) for field, column in found.items()}
            if any(value is not None for value, _ in cells.values()):
                rows.append((row, cells))
        return headings, rows

    def categories(self, sheet: _Sheet) -> _Seq | object:
        table = self.table(sheet, ITEM_COLUMNS, REQUIRED_ITEM_COLUMNS)
        if table is None:
            return _REFUSED
        headings, rows = table

        def put(mapping: _Map, key: str, cells: dict, field: str) -> None:
            if field in cells:
                mapping.put(key, *cells[field], headings[field])

        categories = _Seq()
        category = first = None
        for row, cells in rows:
            # A category is a run of rows with the same code; its settings are those of its
            # first row.
            code, code_where = cells["category"]
            if category is None or code != category["code"]:
                category = _Map(code_where)
                first = cells
                put(category, "code", cells, "category")
                for column, key in CATEGORY_COLUMNS.items():
                    put(category, key, cells, column)
                condition = _condition(cells, "category_condition", headings)
                if condition is not None:
                    category.put("condition", condition, condition.where)
                category.put("items", _Seq(), code_where, headings["text"])
                categories.add(category, code_where)
            else:
                self.same_category(cells, first, headings, code)
            item = _Map(f"{sheet.title}!A{row}")
            for key in ("number", "key", *ITEM_VALUES):
                put(item, key, cells, key)
            condition = _condition(cells, "condition", headings)
            if condition is not None:
                item.put("condition", condition, condition.where)
            category["items"].add(item, item.where)
        return categories

    def same_category(self, cells: dict, first: dict, headings: dict, code: Any) -> None:
        """A later row of a category gives no other category settings than its first row."""
        for column in CATEGORY_CHECKED_COLUMNS:
            value, where = cells.get(column, (None, ""))
            given, at = first.get(column, (None, ""))
            if value is not None and value is not _REFUSED and value != given:
                self.report(
                    where, "category_cell_differs", category=code, key=headings[column], at=at
                )

    def scales(self, sheet: _Sheet) -> _Seq | object:
        table = self.table(sheet, SCALE_COLUMNS, REQUIRED_SCALE_COLUMNS)
        if table is None:
            return _REFUSED
        headings, rows = table
        scales = _Seq()
        scale = None
        for row, cells in rows:
            # A scale is a run of rows with the same scale code, one option a row.
            code, code_where = cells["scale"]
            if scale is None or code != scale["code"]:
                scale = _Map(code_where)
                scale.put("code", code, code_where, headings["scale"])
                scale.put("title", *cells["scale_title"], headings["scale_title"])
                scale.put("options", _Seq(), code_where, headings["code"])
                scales.add(scale, code_where)
            option = _Map(f"{sheet.title}!A{row}")
            for key in OPTION_KEYS:
                if key in cells:
                    option.put(key, *cells[key], headings[key])
            scale["options"].add(option, option.where)
        return scales


def _condition(cells: dict, prefix: str, headings: dict) -> _Map | None:
    """The condition written in the columns `<prefix>_item` and `<prefix>_answers` of a row,
    or None when both are blank."""
    number, number_where = cells.get(f"{prefix}_item", (None, ""))
    answers, answers_where = cells.get(f"{prefix}_answers", (None, ""))
    if number is None and answers is None:
        return None
    condition = _Map(number_where or answers_where)
    if f"{prefix}_item" in cells:
        condition.put("item", number, number_where, headings[f"{prefix}_item"])
    if f"{prefix}_answers" in cells:
        condition.put(
            "answers",
            _answer_list(answers, answers_where),
            answers_where,
            headings[f"{prefix}_answers"],
        )
    return condition


def _answer_list(value: Any, where: str) -> Any:
    """The option codes of a 条件回答 cell, separated by commas (Japanese ones too)."""
    if value is None or value is _REFUSED:
        return value
    codes = _Seq()
    for code in re.split(r"[,、，]", str(value)):
        if code.strip():
            codes.add(code.strip(), where)
    return codes


# --- from mappings and lists to data classes -------------------------------------------------

_REQUIRED = object()  # as the default of a field: it must be given

# Data-class field names that differ from the key in the file.
_FIELD_NAMES = {"class": "klass", "answers": "options"}


def _default(cls: type, name: str) -> Any:
    return next(f.default for f in fields(cls) if f.name == name)


def _shown(value: Any) -> str:
    """A value as the message shows it, written as in the file."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "{…}"
    if isinstance(value, list):
        return "[…]"
    return str(value)


class _Locations:
    """Where each object built from a file, and each of its fields, was written.

    This is the `locate` given to `validate`. Objects are told apart by identity, not equality,
    since two equal conditions can be written in different places; each is kept so that its id
    is not reused.
    """

    def __init__(self):
        self._places: dict[int, tuple[object, str, dict[str, str]]] = {}

    def add(self, obj: object, where: str, field_wheres: dict[str, str]) -> None:
        self._places[id(obj)] = (obj, where, field_wheres)

    def __call__(self, obj: object, field: str = "") -> str:
        _, where, field_wheres = self._places.get(id(obj), (None, "", {}))
        return field_wheres.get(field, where)


Converter = Callable[[Any, str, str], Any]


class _Builder:
    """Checks each value read and builds the data classes.

    A value that cannot be used is reported and left as None, so that the rest of the file is
    still checked; the checklist is then only used for `validate`, never returned.
    """

    def __init__(self, file: str, problems: list[Problem], excel: bool):
        self.file = file
        self.problems = problems
        self.excel = excel
        self.locations = _Locations()
        self.item_defaults: dict[str, str] = {}

    def report(self, where: str, message_id: str, **params: object) -> None:
        self.problems.append(Problem(self.file, where, message_id, params))

    def located(self, mapping: _Map, obj: Any) -> Any:
        fields_where = {_FIELD_NAMES.get(key, key): w for key, w in mapping.key_where.items()}
        self.locations.add(obj, mapping.where, fields_where)
        return obj

    def check_keys(self, mapping: _Map, allowed: tuple[str, ...]) -> None:
        for key, where, first in mapping.duplicates:
            self.report(where, "duplicate_key", key=mapping.name(key), at=first)
        for key in mapping:
            if key not in allowed:
                self.report(
                    mapping.key_where[key],
                    "unknown_key",
                    key=_shown(key),
                    allowed=", ".join(allowed),
                )

    def field(self, mapping: _Map, key: str, convert: Converter, default: Any = _REQUIRED) -> Any:
        value = mapping.get(key)
        if value is _REFUSED:
            return None
        if value is None or value == [] or (isinstance(value, str) and not value.strip()):
            if default is not _REQUIRED:
                return default
            if key in mapping.key_where:
                self.report(mapping.key_where[key], "missing_value", key=mapping.name(key))
            else:
                self.report(mapping.where, "missing_key", key=mapping.name(key))
            return None
        return convert(value, mapping.key_where[key], mapping.name(key))

    # Converters: a value from the file, where it is and its name, to a value or None.

    def text(self, value: Any, where: str, name: str) -> str | None:
        if isinstance(value, str):
            return value.strip()
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        self.report(
            where, "cell_not_text" if self.excel else "not_text", key=name, value=_shown(value)
        )
        return None

    def texts(self, value: Any, where: str, name: str) -> tuple[str, ...] | None:
        if not isinstance(value, _Seq):
            self.report(where, "not_list", key=name)
            return None
        entries = zip(value, value.wheres, strict=True)
        texts = tuple(self.text(entry, at, name) for entry, at in entries)
        return None if None in texts else texts

    def integer(self, value: Any, where: str, name: str) -> int | None:
        if isinstance(value, str) and value.strip().isdecimal():
            value = int(value)
        if isinstance(value, float):
            self.report(where, "decimal_number", key=name, value=_shown(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            return value
        else:
            self.report(where, "not_integer", key=name, value=_shown(value))
        return None

    def score(self, value: Any, where: str, name: str) -> int | None:
        """Points as a published checklist writes them: "-1" or "４" in a text cell, a
        full-width minus "－１", read as the number -1 or 4 would be."""
        if isinstance(value, str):
            text = unicodedata.normalize("NFKC", value).strip().replace("\u2212", "-")
            if re.fullmatch(r"[-+]?[0-9]+", text):
                value = int(text)
        return self.integer(value, where, name)

    def positive(self, value: Any, where: str, name: str) -> int | None:
        number = self.integer(value, where, name)
        if number is not None and number < 1:
            self.report(where, "not_positive", key=name, value=number)
            return None
        return number

    def entries(self, cls: type, build: Callable[[_Map], Any]) -> Converter:
        """A converter for a list of mappings, each built by `build`."""

        def convert(value: Any, where: str, name: str) -> tuple | None:
            if not isinstance(value, _Seq):
                self.report(where, "not_list", key=name)
                return None
            built = []
            for entry, at in zip(value, value.wheres, strict=True):
                if isinstance(entry, _Map):
                    built.append(build(entry))
                else:
                    self.report(at, "not_mapping", key=name)
                    built.append(cls(**{f.name: None for f in fields(cls)}))
            return tuple(built)

        return convert

    def condition(self, value: Any, where: str, name: str) -> Condition | None:
        if not isinstance(value, _Map):
            self.report(where, "not_mapping", key=name)
            return None
        self.check_keys(value, CONDITION_KEYS)
        return self.located(
            value,
            Condition(
                item=self.field(value, "item", self.positive),
                options=self.field(value, "answers", self.texts),
            ),
        )

    # Builders: a mapping to a data class.

    def checklist(self, m: _Map) -> Checklist:
        self.check_keys(m, CHECKLIST_KEYS)
        scales = self.field(m, "scales", self.entries(Scale, self.scale), ())
        # Read before the items, which take what they do not give themselves from them.
        self.item_defaults = self.field(m, "defaults", self.defaults(scales), {})
        return self.located(
            m,
            Checklist(
                code=self.field(m, "code", self.text),
                version=self.field(m, "version", self.positive),
                title=self.field(m, "title", self.text),
                target=self.field(m, "target", self.text),
                title_en=self.field(m, "title_en", self.text, ""),
                description=self.field(m, "description", self.text, ""),
                categories=self.field(m, "categories", self.entries(Category, self.category)),
                scales=scales,
                grades=self.field(m, "grades", self.grades, None),
                pass_mark=self.field(m, "pass_mark", self.positive, None),
                **self.texts_of(
                    m, ("description_en", "description_contractor", "description_contractor_en")
                ),
            ),
        )

    def texts_of(self, m: _Map, keys: tuple[str, ...]) -> dict[str, str | None]:
        """Optional texts, empty when not given."""
        return {key: self.field(m, key, self.text, "") for key in keys}

    def defaults(self, scales: tuple | None) -> Converter:
        """A converter for `defaults`: the values every item takes unless it gives its own. A
        value that cannot be used is reported here, once, and the items keep the built-in
        default rather than each repeat the problem."""
        known = dict.fromkeys([*BUILTIN_SCALES, *(s.code for s in scales or () if s.code)])
        allowed = {
            "scale": (tuple(known), "unknown_scale"),
            "comment": (REQUIREMENT_RULES, "bad_comment_rule"),
            "evidence": (REQUIREMENT_RULES, "bad_evidence_rule"),
        }

        def convert(value: Any, where: str, name: str) -> dict[str, str] | None:
            if not isinstance(value, _Map):
                self.report(where, "not_mapping", key=name)
                return {}
            self.check_keys(value, DEFAULTS_KEYS)
            given = {}
            for key in DEFAULTS_KEYS:
                text = self.field(value, key, self.text, None)
                choices, message_id = allowed[key]
                if text is not None and text not in choices:
                    at = value.key_where[key]
                    self.report(at, message_id, value=text, allowed=", ".join(choices))
                elif text is not None:
                    given[key] = text
            return given

        return convert

    def grades(self, value: Any, where: str, name: str) -> Grades | None:
        if not isinstance(value, _Map):
            self.report(where, "not_mapping", key=name)
            return None
        self.check_keys(value, GRADES_KEYS)
        basis = self.field(value, "basis", self.text)
        if basis is not None and basis not in GRADE_BASES:
            at = value.key_where["basis"]
            self.report(at, "bad_grade_basis", value=basis, allowed=", ".join(GRADE_BASES))
            basis = None
        bands = self.field(value, "bands", self.entries(Band, self.band))
        previous = None
        for band in bands or ():
            if band.min is None:
                continue
            if previous is not None and band.min >= previous[0]:
                self.report(
                    self.locations(band, "min"),
                    "grade_bands_order",
                    value=band.min,
                    previous=previous[0],
                    at=previous[1],
                )
            previous = (band.min, self.locations(band, "min"))
        return self.located(value, Grades(basis=basis, bands=bands))

    def band(self, m: _Map) -> Band:
        self.check_keys(m, BAND_KEYS)
        return self.located(
            m,
            Band(
                min=self.field(m, "min", self.score),
                label=self.field(m, "label", self.text),
                below_standard=self.field(m, "below_standard", self.yes_no, False),
                **self.texts_of(m, ("label_en", "advice", "advice_en")),
            ),
        )

    def yes_no(self, value: Any, where: str, name: str) -> bool | None:
        if isinstance(value, bool):
            return value
        text = unicodedata.normalize("NFKC", str(value)).strip().casefold()
        if text in YES_NO:
            return YES_NO[text]
        self.report(where, "not_yes_no", key=name, value=_shown(value))
        return None

    def category(self, m: _Map) -> Category:
        self.check_keys(m, CATEGORY_KEYS)
        return self.located(
            m,
            Category(
                code=self.field(m, "code", self.text),
                title=self.field(m, "title", self.text),
                title_en=self.field(m, "title_en", self.text, ""),
                items=self.field(m, "items", self.entries(Item, self.item)),
                condition=self.field(m, "condition", self.condition, None),
                **self.texts_of(m, ("description", "description_en")),
            ),
        )

    def item(self, m: _Map) -> Item:
        self.check_keys(m, ITEM_KEYS)
        number = self.field(m, "number", self.positive)
        rules = {
            key: self.field(m, key, self.text, self.item_defaults.get(key, _default(Item, key)))
            for key in DEFAULTABLE
        }
        added = tuple(key for key in ITEM_VALUES if key not in ("text", "text_en", "help", *rules))
        return self.located(
            m,
            Item(
                number=number,
                key=self.field(m, "key", self.text, None if number is None else f"item-{number}"),
                text=self.field(m, "text", self.text),
                text_en=self.field(m, "text_en", self.text, ""),
                help=self.field(m, "help", self.text, ""),
                condition=self.field(m, "condition", self.condition, None),
                **rules,
                **self.texts_of(m, added),
            ),
        )

    def scale(self, m: _Map) -> Scale:
        self.check_keys(m, SCALE_KEYS)
        return self.located(
            m,
            Scale(
                code=self.field(m, "code", self.text),
                title=self.field(m, "title", self.text),
                options=self.field(m, "options", self.entries(Option, self.option)),
            ),
        )

    def option(self, m: _Map) -> Option:
        self.check_keys(m, OPTION_KEYS)
        return self.located(
            m,
            Option(
                code=self.field(m, "code", self.text),
                label=self.field(m, "label", self.text),
                label_en=self.field(m, "label_en", self.text, ""),
                klass=self.field(m, "class", self.text),
                score=self.field(m, "score", self.score, None),
                audience=self.field(m, "audience", self.text, ""),
            ),
        )
