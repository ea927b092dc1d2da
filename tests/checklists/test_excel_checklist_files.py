"""A security office keeps its checklist in Excel; problems name the sheet and cell."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from checklists import ChecklistFileError, load_file
from checklists.problems import Problem
from checklists.schema import Condition

SETTINGS = [["code", "sample"], ["version", 1], ["title", "点検"], ["target", "unit"]]
HEADER = ["番号", "分類コード", "分類名", "項目", "尺度", "条件項目", "条件回答"]
ROWS = [
    [1, "A", "教育", "研修を受けている", None, None, None],
    [2, "A", None, "記録がある", "yes_no", 1, "yes、 no"],
]


def workbook(
    path: Path,
    settings: list | None = SETTINGS,
    items: list | None = None,
    scales: list | None = None,
    names: tuple[str, str, str] = ("チェックリスト", "項目", "尺度"),
) -> Path:
    """A workbook with the given rows in each sheet; a sheet given as None is left out."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in zip(
        names, (settings, [HEADER, *ROWS] if items is None else items, scales), strict=True
    ):
        if rows is not None:
            sheet = book.create_sheet(name)
            for row in rows:
                sheet.append(row)
    book.save(path)
    return path


def problems_in(path: Path) -> list[Problem]:
    with pytest.raises(ChecklistFileError) as raised:
        load_file(path)
    return raised.value.problems


def only_problem(path: Path) -> Problem:
    problems = problems_in(path)
    assert len(problems) == 1, [p.render() for p in problems]
    return problems[0]


def test_workbook_in_the_documented_layout_loads(tmp_path):
    checklist = load_file(workbook(tmp_path / "c.xlsx"))
    assert (checklist.code, checklist.version, checklist.title) == ("sample", 1, "点検")
    (category,) = checklist.categories
    assert (category.code, category.title) == ("A", "教育")
    first, second = category.items
    assert (first.number, first.key, first.scale) == (1, "item-1", "yes_no_na")
    assert second.condition == Condition(1, ("yes", "no"))


def test_english_names_and_full_width_brackets_are_accepted(tmp_path):
    items = [
        ["Number", "Category", "category_title", "TEXT", "項目（英）"],
        [1, "A", "教育", "研修を受けている", "Training"],
    ]
    path = workbook(tmp_path / "c.xlsx", items=items, names=("Checklist", "items", "scales"))
    assert load_file(path).items[0].text_en == "Training"


def test_number_typed_into_a_text_formatted_cell_is_accepted(tmp_path):
    items = [HEADER, ["1", "A", "教育", "研修", None, None, None]]
    assert load_file(workbook(tmp_path / "c.xlsx", items=items)).items[0].number == 1


def test_problem_names_the_sheet_and_cell(tmp_path):
    items = [HEADER, ROWS[0], [2, "A", None, None, None, None, None]]
    problem = only_problem(workbook(tmp_path / "c.xlsx", items=items))
    assert (problem.message_id, problem.where) == ("missing_value", "項目!D3")
    message = "「項目」が空です。内容を記入してください。"
    assert problem.render() == f"{tmp_path / 'c.xlsx'}:項目!D3: {message}"


def write_zip(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("kind", ["renamed text file", "truncated workbook", "other zip file"])
def test_file_that_is_not_really_a_workbook(tmp_path, kind):
    path = tmp_path / "c.xlsx"
    if kind == "renamed text file":
        path.write_text("番号,項目\n1,研修\n", encoding="utf-8")
    elif kind == "truncated workbook":
        data = workbook(tmp_path / "good.xlsx").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        write_zip(path, {"readme.txt": b"hello"})
    problem = only_problem(path)
    assert (problem.message_id, problem.where) == ("not_a_workbook", "")
    assert "Excel ブックとして読み込めません" in problem.render()


def test_missing_items_sheet_is_named(tmp_path):
    names = ("チェックリスト", "Sheet1", "尺度")
    problem = only_problem(workbook(tmp_path / "c.xlsx", items=[], names=names))
    assert (problem.message_id, problem.where) == ("sheet_missing", "")
    assert "シート「項目」がありません" in problem.render()


def test_missing_checklist_sheet_is_the_only_problem_reported(tmp_path):
    problem = only_problem(workbook(tmp_path / "c.xlsx", settings=None))
    assert problem.message_id == "sheet_missing"
    assert "「チェックリスト」（または「checklist」）" in problem.render()


def test_header_row_missing(tmp_path):
    problem = only_problem(workbook(tmp_path / "c.xlsx", items=[[], *ROWS]))
    assert (problem.message_id, problem.where) == ("header_missing", "項目!A1")
    assert "番号, 分類コード, 分類名, 項目" in problem.render()


def test_unknown_column_is_named_and_the_rest_is_still_checked(tmp_path):
    items = [HEADER + ["備考"], ROWS[0] + ["メモ"], [2, "A", None, None, None, None, None]]
    problems = problems_in(workbook(tmp_path / "c.xlsx", items=items))
    assert [(p.message_id, p.where) for p in problems] == [
        ("header_unknown", "項目!H1"),
        ("missing_value", "項目!D3"),
    ]
    assert "見出し「備考」は使えません" in problems[0].render()


def test_required_column_missing(tmp_path):
    items = [[name for name in HEADER if name != "項目"], [1, "A", "教育", None, None, None]]
    problem = only_problem(workbook(tmp_path / "c.xlsx", items=items))
    assert (problem.message_id, problem.where) == ("header_required", "項目!A1")
    assert "見出し「項目」の列がありません" in problem.render()


def test_same_column_twice(tmp_path):
    items = [HEADER + ["Text"], ROWS[0] + ["x"]]
    problem = only_problem(workbook(tmp_path / "c.xlsx", items=items))
    assert (problem.message_id, problem.where) == ("header_duplicate", "項目!H1")
    assert "項目!D1にもあります" in problem.render()


@pytest.mark.parametrize("cell, formula", [("A3", "=A2+1"), ("D3", '=CONCAT("記録", "がある")')])
def test_formula_is_refused_and_never_evaluated(tmp_path, cell, formula):
    path = workbook(tmp_path / "c.xlsx")
    book = openpyxl.load_workbook(path)
    book["項目"][cell] = formula
    book.save(path)
    problem = only_problem(path)
    assert (problem.message_id, problem.where) == ("formula_cell", f"項目!{cell}")
    assert f"セルに数式（{formula}）が入っています" in problem.render()


def rewrite_number(path: Path, old: bytes, new: bytes) -> Path:
    """Store a number as another tool would (openpyxl writes 3.0 as 3)."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["xl/worksheets/sheet2.xml"] = parts["xl/worksheets/sheet2.xml"].replace(old, new)
    return write_zip(path, parts)


def test_whole_number_stored_as_a_decimal_is_accepted(tmp_path):
    path = rewrite_number(workbook(tmp_path / "c.xlsx"), b"<v>2</v>", b"<v>2.0</v>")
    assert [item.number for item in load_file(path).items] == [1, 2]


def test_decimal_item_number_is_refused(tmp_path):
    path = rewrite_number(workbook(tmp_path / "c.xlsx"), b"<v>2</v>", b"<v>2.5</v>")
    problem = only_problem(path)
    assert (problem.message_id, problem.where) == ("decimal_number", "項目!A3")
    assert "「番号」が小数 2.5 として読み込まれました" in problem.render()


def test_true_in_a_text_cell_asks_for_text_format(tmp_path):
    items = [HEADER, [1, True, "教育", "研修", None, None, None]]
    problem = only_problem(workbook(tmp_path / "c.xlsx", items=items))
    assert (problem.message_id, problem.where) == ("cell_not_text", "項目!B2")
    assert "セルの書式を「文字列」にして" in problem.render()


def test_category_split_into_two_runs_of_rows_is_a_duplicate(tmp_path):
    items = [
        HEADER,
        ROWS[0],
        [2, "B", "記録", "x", None, None, None],
        [3, "A", "教育", "y", None, None, None],
    ]
    problem = only_problem(workbook(tmp_path / "c.xlsx", items=items))
    assert (problem.message_id, problem.where) == ("duplicate_category_code", "項目!B4")
    assert "項目!B2にもあります" in problem.render()
    assert "同じ分類の項目は続けて並べ" in problem.render()


def test_unknown_and_repeated_settings(tmp_path):
    settings = [*SETTINGS, ["titel", "x"], ["version", 2]]
    problems = problems_in(workbook(tmp_path / "c.xlsx", settings=settings))
    assert [(p.message_id, p.where) for p in problems] == [
        ("unknown_key", "チェックリスト!A5"),
        ("duplicate_key", "チェックリスト!B6"),
    ]


def test_missing_setting(tmp_path):
    problem = only_problem(workbook(tmp_path / "c.xlsx", settings=SETTINGS[1:]))
    assert (problem.message_id, problem.where) == ("missing_key", "チェックリスト!A1")
    assert "必須のキー「code」がありません" in problem.render()


def test_scales_sheet_defines_scales_one_option_a_row(tmp_path):
    scales = [
        ["尺度コード", "尺度名", "選択肢コード", "表示", "区分", "点数"],
        ["freq", "頻度", "monthly", "毎月", "compliant", 2],
        ["freq", None, "never", "しない", "noncompliant", 0],
    ]
    items = [
        HEADER,
        [1, "A", "教育", "研修", "freq", None, None],
        [2, "A", None, "記録", None, 1, "never"],
    ]
    checklist = load_file(workbook(tmp_path / "c.xlsx", items=items, scales=scales))
    (scale,) = checklist.scales
    assert (scale.code, scale.title, [o.code for o in scale.options]) == (
        "freq",
        "頻度",
        ["monthly", "never"],
    )
    assert scale.options[1].score == 0


def test_workbook_with_parts_openpyxl_does_not_support_still_loads(tmp_path):
    path = workbook(tmp_path / "c.xlsx")
    extension = (
        b'<extLst><ext uri="{78C0D931-6437-407d-A8EE-F0AAD7539E65}"></ext></extLst></worksheet>'
    )
    rewrite_number(path, b"</worksheet>", extension)
    assert len(load_file(path).items) == 2
