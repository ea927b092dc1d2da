"""Rules across the whole checklist: codes, numbering, scales and conditions point at the line."""

from __future__ import annotations

import textwrap

import pytest

from checklists import ChecklistFileError, load_file
from checklists.problems import Problem
from checklists.schema import Category, Checklist, Item
from checklists.validate import validate

HEAD = """\
code: sample
version: 1
title: 点検
target: unit
"""
SCALES = """\
scales:
  - code: freq
    title: 頻度
    options:
      - {code: monthly, label: 毎月, class: compliant, score: 2}
      - {code: never, label: しない, class: noncompliant, score: 0}
"""


def checklist_text(items: str, scales: str = "") -> str:
    """A checklist whose category A holds `items`, from line 9 (line 15 after SCALES)."""
    category = "categories:\n  - code: A\n    title: 教育\n    items:\n"
    return HEAD + scales + category + textwrap.indent(textwrap.dedent(items), "      ")


def problems_of(tmp_path, text: str) -> list[Problem]:
    path = tmp_path / "checklist.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ChecklistFileError) as raised:
        load_file(path)
    return raised.value.problems


def only_problem(tmp_path, text: str):
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1, [p.render() for p in problems]
    return problems[0]


ITEMS = """\
- number: 1
  text: 研修を受けている
- number: 2
  text: 記録がある
"""


def test_the_base_file_is_fine(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(checklist_text(ITEMS, SCALES), encoding="utf-8")
    assert len(load_file(path).items) == 2


@pytest.mark.parametrize("code", ["点検", "-sample", "sample code", "a/b"])
def test_checklist_code_must_be_letters_digits_dash_underscore(tmp_path, code):
    problem = only_problem(tmp_path, checklist_text(ITEMS).replace("code: sample", f"code: {code}"))
    assert (problem.message_id, problem.where) == ("bad_code", "1")
    assert "半角英数字と「-」「_」だけ" in problem.render()


def test_unknown_target_lists_the_allowed_ones(tmp_path):
    problem = only_problem(tmp_path, checklist_text(ITEMS).replace("unit", "department"))
    assert (problem.message_id, problem.where) == ("bad_target", "4")
    assert "unit, system, contract, contractor, person のいずれか" in problem.render()


def test_file_with_duplicate_item_numbers_names_both_lines(tmp_path):
    problem = only_problem(tmp_path, checklist_text(ITEMS.replace("number: 2", "number: 1")))
    assert (problem.message_id, problem.where) == ("duplicate_number", "11")
    assert problem.render().endswith(
        ":11: 項目番号 1 が重複しています（9 行目にもあります）。番号を振り直してください。"
    )


def test_item_numbers_must_increase_down_the_file(tmp_path):
    items = ITEMS.replace("number: 1", "number: 5") + "- number: 6\n  text: x\n"
    problem = only_problem(tmp_path, checklist_text(items))
    assert (problem.message_id, problem.where) == ("number_not_increasing", "11")
    assert "項目番号 2 が前の項目の番号 5 より小さくなっています" in problem.render()


def test_duplicate_keys_including_a_default_one(tmp_path):
    items = ITEMS.replace("  text: 記録がある", "  key: item-1\n  text: 記録がある")
    problem = only_problem(tmp_path, checklist_text(items))
    assert (problem.message_id, problem.where) == ("duplicate_item_key", "12")
    assert "キー「item-1」が重複しています（9 行目にもあります）" in problem.render()


def test_duplicate_category_codes_name_the_first(tmp_path):
    text = (
        checklist_text(ITEMS) + "  - code: A\n    title: 記録\n    items:\n"
        "      - {number: 3, text: x}\n"
    )
    problem = only_problem(tmp_path, text)
    assert (problem.message_id, problem.where) == ("duplicate_category_code", "13")
    assert "分類コード「A」が重複しています（6 行目にもあります）" in problem.render()


def test_unknown_scale_lists_the_available_ones(tmp_path):
    items = ITEMS.replace("  text: 記録がある", "  text: 記録がある\n  scale: yes-no")
    problem = only_problem(tmp_path, checklist_text(items, SCALES))
    assert (problem.message_id, problem.where) == ("unknown_scale", "19")
    assert "尺度「yes-no」はありません" in problem.render()
    assert "yes_no_na, yes_no, rating3, freq" in problem.render()


def test_file_scale_may_be_used_by_items(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(checklist_text(ITEMS + "  scale: freq\n", SCALES), encoding="utf-8")
    assert load_file(path).items[1].scale == "freq"


def test_file_scale_cannot_change_a_builtin_one(tmp_path):
    scales = SCALES.replace("code: freq", "code: yes_no")
    problem = only_problem(tmp_path, checklist_text(ITEMS, scales))
    assert (problem.message_id, problem.where) == ("builtin_scale_changed", "6")


def test_file_scale_repeating_a_builtin_one_exactly_is_fine(tmp_path):
    scales = (
        "scales:\n  - code: yes_no\n    title: はい／いいえ\n    options:\n"
        "      - {code: 'yes', label: はい, label_en: 'Yes', class: compliant, score: 1}\n"
        "      - {code: 'no', label: いいえ, label_en: 'No', class: noncompliant, score: 0}\n"
    )
    path = tmp_path / "ok.yaml"
    path.write_text(checklist_text(ITEMS, scales), encoding="utf-8")
    assert load_file(path).scales[0].code == "yes_no"


def test_duplicate_scale_codes(tmp_path):
    problem = only_problem(tmp_path, checklist_text(ITEMS, SCALES + SCALES[len("scales:\n") :]))
    assert (problem.message_id, problem.where) == ("duplicate_scale_code", "11")


def test_duplicate_option_codes_in_a_scale(tmp_path):
    problem = only_problem(tmp_path, checklist_text(ITEMS, SCALES.replace("never", "monthly")))
    assert (problem.message_id, problem.where) == ("duplicate_option_code", "10")
    assert "尺度「freq」の選択肢コード「monthly」が重複しています" in problem.render()


def test_option_class_must_be_known(tmp_path):
    problem = only_problem(tmp_path, checklist_text(ITEMS, SCALES.replace("noncompliant", "bad")))
    assert (problem.message_id, problem.where) == ("bad_option_class", "10")
    assert "compliant, partial, noncompliant, unknown, excluded, informational のいずれか" in (
        problem.render()
    )


@pytest.mark.parametrize(
    "key, message_id", [("comment", "bad_comment_rule"), ("evidence", "bad_evidence_rule")]
)
def test_comment_and_evidence_rules_must_be_known(tmp_path, key, message_id):
    problem = only_problem(tmp_path, checklist_text(ITEMS + f"  {key}: sometimes\n"))
    assert (problem.message_id, problem.where) == (message_id, "13")
    assert "never, noncompliant, compliant, always" in problem.render()


@pytest.mark.parametrize(
    "condition, message_id, fragment",
    [
        ("{item: 7, answers: [yes]}", "condition_missing_item", "項目 7 がありません"),
        ("{item: 2, answers: [yes]}", "condition_self", "この項目自身（2）"),
        ("{item: 3, answers: [yes]}", "condition_later_item", "項目 3 はこの項目より後にあります"),
        (
            "{item: 1, answers: [yes, maybe]}",
            "condition_unknown_answer",
            "条件の回答「maybe」は項目 1 の選択肢にありません（使える回答: yes, no, na）",
        ),
    ],
)
def test_condition_must_refer_to_an_earlier_item_and_its_answers(
    tmp_path, condition, message_id, fragment
):
    items = ITEMS + f"  condition: {condition}\n- number: 3\n  text: x\n"
    problem = only_problem(tmp_path, checklist_text(items))
    assert (problem.message_id, problem.where) == (message_id, "13")
    assert fragment in problem.render()


def test_condition_answers_follow_the_referred_items_own_scale(tmp_path):
    items = ITEMS.replace("  text: 研修を受けている", "  text: 研修\n  scale: freq") + (
        "  condition:\n    item: 1\n    answers: [never, yes]\n"
    )
    problem = only_problem(tmp_path, checklist_text(items, SCALES))
    assert (problem.message_id, problem.where, problem.params["value"]) == (
        "condition_unknown_answer",
        "22",
        "yes",
    )


def test_a_checklist_built_in_code_is_checked_without_locations():
    checklist = Checklist("sample", 1, "点検", "unit", categories=())
    problems = validate(checklist, "<memory>")
    assert [(p.message_id, p.where) for p in problems] == [("no_items", "")]
    assert problems[0].render().startswith("<memory>: 項目が 1 つもありません。")


def test_empty_category_is_reported():
    checklist = Checklist(
        "sample",
        1,
        "点検",
        "unit",
        categories=(
            Category("A", "教育", items=(Item(1, "item-1", "x"),)),
            Category("B", "記録"),
        ),
    )
    assert [p.message_id for p in validate(checklist, "f")] == ["empty_category"]
