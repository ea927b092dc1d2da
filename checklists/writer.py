"""Writing a checklist back as a file, YAML or Excel, that reads back to the same checklist."""

from __future__ import annotations

from collections import Counter
from dataclasses import fields
from pathlib import Path
from typing import Any, BinaryIO

import openpyxl
import yaml
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from checklists.loader import (
    CATEGORY_KEYS,
    CHECKLIST_KEYS,
    GRADE_BASIS_SETTING,
    GRADE_COLUMNS,
    ITEM_COLUMNS,
    ITEM_VALUES,
    OPTION_KEYS,
    PASS_MARK_SETTING,
    SCALE_COLUMNS,
    SETTINGS,
    SHEETS,
    use_yaml12_scalars,
)
from checklists.schema import (
    DEFAULTABLE,
    Band,
    Category,
    Checklist,
    Condition,
    Item,
    Option,
    Scale,
)
from reports.safe import text_cell

# --- YAML -----------------------------------------------------------------------------------


class _FlowMap(dict):
    """Written on one line, as the options of a scale are in the documentation."""


class _FlowList(list):
    """Written on one line: `answers: [yes, no]`."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent lists under their key, as the documentation does.
        return super().increase_indent(flow, False)


def _represent_str(dumper: _Dumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None  # several lines: a block, as in the documentation
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


# Quoting follows the reader's YAML 1.2 rules: `yes` and `no` need no quotes, `true` does.
use_yaml12_scalars(_Dumper)
_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(
    _FlowMap, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, True)
)
_Dumper.add_representer(
    _FlowList, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, True)
)


def _given(obj: Any, *names: str, defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """{key in the file: value} of the named fields, leaving out defaults and empty values:
    the data class's own, or those given."""
    defaults = {f.name: f.default for f in fields(obj)} | (defaults or {})
    return {
        "class" if name == "klass" else name: getattr(obj, name)
        for name in names
        if getattr(obj, name) not in ("", None, defaults[name])
    }


def _condition_dict(condition: Condition) -> dict[str, Any]:
    return {"item": condition.item, "answers": _FlowList(condition.options)}


def _item_dict(item: Item, defaults: dict[str, str]) -> dict[str, Any]:
    data = {"number": item.number}
    if item.key != f"item-{item.number}":
        data["key"] = item.key
    data |= _given(item, *ITEM_VALUES, defaults=defaults)
    if item.condition:
        data["condition"] = _condition_dict(item.condition)
    return data


def _option_dict(option: Option) -> _FlowMap:
    names = ["klass" if key == "class" else key for key in OPTION_KEYS]
    return _FlowMap(_given(option, *names))


def _scale_dict(scale: Scale) -> dict[str, Any]:
    return {
        "code": scale.code,
        "title": scale.title,
        "options": [_option_dict(option) for option in scale.options],
    }


def _band_dict(band: Band) -> _FlowMap:
    return _FlowMap({"min": band.min} | _given(band, *BAND_FIELDS[1:]))


BAND_FIELDS = ("min", "label", "label_en", "advice", "advice_en", "below_standard")


def _category_dict(category: Category, defaults: dict[str, str]) -> dict[str, Any]:
    data = _given(category, *(key for key in CATEGORY_KEYS if key not in ("condition", "items")))
    if category.condition:
        data["condition"] = _condition_dict(category.condition)
    return data | {"items": [_item_dict(item, defaults) for item in category.items]}


def item_defaults(checklist: Checklist) -> dict[str, str]:
    """The `defaults` that spare writing the same value on most items: for each key, the value
    most items share, where more items share it than the built-in default."""
    builtin = {f.name: f.default for f in fields(Item)}
    chosen = {}
    for key in DEFAULTABLE:
        counts = Counter(getattr(item, key) for item in checklist.items)
        value, count = counts.most_common(1)[0] if counts else (builtin[key], 0)
        if value != builtin[key] and count > counts[builtin[key]]:
            chosen[key] = value
    return chosen


def dump_yaml(checklist: Checklist) -> str:
    """The checklist as a YAML file, in the documented key order, leaving out defaults."""
    settings = [
        key for key in CHECKLIST_KEYS if key not in ("defaults", "scales", "grades", "categories")
    ]
    data = _given(checklist, *settings)
    defaults = item_defaults(checklist)
    if defaults:
        data["defaults"] = defaults
    if checklist.scales:
        data["scales"] = [_scale_dict(scale) for scale in checklist.scales]
    if checklist.grades is not None:
        data["grades"] = {
            "basis": checklist.grades.basis,
            "bands": [_band_dict(band) for band in checklist.grades.bands],
        }
    data["categories"] = [_category_dict(category, defaults) for category in checklist.categories]
    return yaml.dump(
        data,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=float("inf"),
    )


# --- Excel ----------------------------------------------------------------------------------

_WIDTHS = {
    "text": 60,
    "text_en": 40,
    "help": 40,
    "category_title": 20,
    "category_title_en": 20,
    "scale_title": 20,
    "label": 20,
    "label_en": 20,
}


def _add_table(sheet: Any, columns: dict[str, tuple[str, str]], rows: list[dict]) -> None:
    """A header row of Japanese column names, then one row per dict of {field: value}."""
    sheet.append([names[0] for names in columns.values()])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        _append(sheet, [row.get(field) for field in columns])
    for index, field in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = _WIDTHS.get(field, 14)
    sheet.freeze_panes = "A2"


def _append(sheet: Any, values: list[Any]) -> None:
    sheet.append([value if value != "" else None for value in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            text_cell(cell, cell.value)  # a formula would be refused by the reader
            if "\n" in cell.value:
                cell.alignment = Alignment(wrap_text=True, vertical="top")


def write_xlsx(checklist: Checklist, target: str | Path | BinaryIO) -> None:
    """The checklist as an Excel workbook in the documented layout, to a path or binary stream."""
    workbook = openpyxl.Workbook()
    settings = workbook.active
    settings.title = SHEETS["checklist"][0]
    for key in SETTINGS:
        _append(settings, [key, getattr(checklist, key)])
        settings.cell(settings.max_row, 1).font = Font(bold=True)
    if checklist.pass_mark is not None:
        _append(settings, [PASS_MARK_SETTING, checklist.pass_mark])
        settings.cell(settings.max_row, 1).font = Font(bold=True)
    settings.column_dimensions["A"].width = 26
    settings.column_dimensions["B"].width = 80

    items = [
        (_category_cells(category) if index == 0 else {}) | _item_cells(category, item)
        for category in checklist.categories
        for index, item in enumerate(category.items)
    ]
    _add_table(
        workbook.create_sheet(SHEETS["items"][0]), _used(ITEM_COLUMNS, items, last="key"), items
    )

    options = [
        {
            "scale": scale.code,
            "scale_title": scale.title,
            "code": option.code,
            "label": option.label,
            "label_en": option.label_en,
            "class": option.klass,
            "score": option.score,
            "audience": option.audience,
        }
        for scale in checklist.scales
        for option in scale.options
    ]
    _add_table(
        workbook.create_sheet(SHEETS["scales"][0]),
        _used(SCALE_COLUMNS, options, last="score"),
        options,
    )
    if checklist.grades is not None:
        _append(settings, [GRADE_BASIS_SETTING, checklist.grades.basis])
        settings.cell(settings.max_row, 1).font = Font(bold=True)
        bands = [
            {key: getattr(band, key) for key in BAND_FIELDS} for band in checklist.grades.bands
        ]
        for band in bands:
            band["below_standard"] = "はい" if band["below_standard"] else None
        _add_table(workbook.create_sheet(SHEETS["grades"][0]), GRADE_COLUMNS, bands)
    workbook.save(target)


def _used(
    columns: dict[str, tuple[str, str]], rows: list[dict], last: str
) -> dict[str, tuple[str, str]]:
    """The columns to write: those of the first layout (up to `last`) always, as a template to
    fill in; the ones added later only when some row has a value, so that an older
    checklist's workbook looks as it did."""
    first = list(columns)[: list(columns).index(last) + 1]
    return {
        field: names
        for field, names in columns.items()
        if field in first or any(row.get(field) not in (None, "") for row in rows)
    }


def _category_cells(category: Category) -> dict[str, Any]:
    """What the first row of a category says of it beyond its code and title."""
    condition = category.condition
    return {
        "category_description": category.description,
        "category_description_en": category.description_en,
        "category_condition_item": condition.item if condition else None,
        "category_condition_answers": ", ".join(condition.options) if condition else None,
    }


def _item_cells(category: Category, item: Item) -> dict[str, Any]:
    condition = item.condition
    return {
        "number": item.number,
        "category": category.code,
        "category_title": category.title,
        "category_title_en": category.title_en,
        "condition_item": condition.item if condition else None,
        "condition_answers": ", ".join(condition.options) if condition else None,
        "key": item.key if item.key != f"item-{item.number}" else None,
    } | {key: getattr(item, key) for key in ITEM_VALUES}
