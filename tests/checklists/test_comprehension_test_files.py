"""A comprehension test is a checklist of target person with a right answer per item and a
pass mark; every mistake in writing one is told by file and line (or cell), in both forms."""

from __future__ import annotations

import textwrap
from pathlib import Path

import openpyxl
import pytest

import checklists
from checklists import ChecklistFileError, load_file
from checklists.problems import Problem
from checklists.writer import dump_yaml, write_xlsx

TEST = Path(checklists.__file__).parent / "definitions" / "security-training-test.yaml"


def text(head: str, items: str) -> str:
    return (
        textwrap.dedent(head)
        + "categories:\n  - code: A\n    title: 基本\n    items:\n"
        + textwrap.indent(textwrap.dedent(items), "      ")
    )


HEAD = """\
code: quiz
version: 1
title: 理解度テスト
target: person
pass_mark: 50
"""
ITEMS = """\
- number: 1
  text: パスワードは共有しない。
  scale: yes_no
  correct: "yes"
- number: 2
  text: 私物の USB メモリに複写してよい。
  scale: yes_no
  correct: "no"
"""


def problems_of(tmp_path, content: str) -> list[Problem]:
    path = tmp_path / "quiz.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ChecklistFileError) as raised:
        load_file(path)
    return raised.value.problems


def rendered(problems: list[Problem]) -> list[str]:
    return [problem.render() for problem in problems]


def test_a_test_reads_with_its_pass_mark_and_right_answers(tmp_path):
    path = tmp_path / "quiz.yaml"
    path.write_text(text(HEAD, ITEMS), encoding="utf-8")
    quiz = load_file(path)
    assert quiz.pass_mark == 50 and [item.correct for item in quiz.items] == ["yes", "no"]


def test_the_shipped_test_survives_both_writers(tmp_path):
    shipped = load_file(TEST)
    assert shipped.pass_mark == 80 and len(shipped.items) == 10
    (tmp_path / "again.yaml").write_text(dump_yaml(shipped), encoding="utf-8")
    write_xlsx(shipped, tmp_path / "again.xlsx")
    assert load_file(tmp_path / "again.yaml") == shipped
    assert load_file(tmp_path / "again.xlsx") == shipped


def test_a_test_without_a_pass_mark_is_refused(tmp_path):
    head = HEAD.replace("pass_mark: 50\n", "")
    [problem] = problems_of(tmp_path, text(head, ITEMS))
    assert problem.message_id == "test_without_pass_mark"
    assert problem.render().startswith(f"{tmp_path / 'quiz.yaml'}:4: ")  # the target line


def test_a_pass_mark_over_100_is_refused_at_its_line(tmp_path):
    [problem] = problems_of(tmp_path, text(HEAD.replace("50", "120"), ITEMS))
    assert (problem.message_id, problem.where) == ("pass_mark_range", "5")
    assert "1 から 100" in problem.render()


def test_an_item_without_its_right_answer_is_named(tmp_path):
    items = ITEMS.replace('  correct: "no"\n', "")
    [problem] = problems_of(tmp_path, text(HEAD, items))
    assert problem.message_id == "correct_missing" and problem.params["item"] == 2
    assert "項目 2 に正解（correct）がありません" in problem.render()
    assert "Item 2 has no correct answer" in problem.render("en")


def test_a_right_answer_not_on_the_scale_lists_the_options(tmp_path):
    [problem] = problems_of(tmp_path, text(HEAD, ITEMS.replace('correct: "no"', "correct: maybe")))
    assert problem.message_id == "correct_unknown"
    assert problem.where == "17"  # its `correct:` line
    assert "「maybe」" in problem.render() and "yes, no" in problem.render()


def test_right_answers_and_a_pass_mark_belong_to_tests_only(tmp_path):
    head = HEAD.replace("target: person", "target: unit")
    ids = sorted(p.message_id for p in problems_of(tmp_path, text(head, ITEMS)))
    assert ids == ["correct_not_test", "correct_not_test", "pass_mark_not_test"]


def test_a_test_asks_every_item(tmp_path):
    items = ITEMS.replace(
        '  correct: "no"\n', '  correct: "no"\n  condition: {item: 1, answers: ["yes"]}\n'
    )
    [problem] = problems_of(tmp_path, text(HEAD, items))
    assert problem.message_id == "test_condition"


def test_the_excel_form_names_the_cell(tmp_path):
    shipped = load_file(TEST)
    write_xlsx(shipped, tmp_path / "quiz.xlsx")
    book = openpyxl.load_workbook(tmp_path / "quiz.xlsx")
    sheet = book["項目"]
    column = next(cell.column_letter for cell in sheet[1] if cell.value == "正解")
    sheet[f"{column}3"] = "perhaps"
    book.save(tmp_path / "quiz.xlsx")
    with pytest.raises(ChecklistFileError) as raised:
        load_file(tmp_path / "quiz.xlsx")
    [problem] = raised.value.problems
    assert (problem.message_id, problem.where) == ("correct_unknown", f"項目!{column}3")
