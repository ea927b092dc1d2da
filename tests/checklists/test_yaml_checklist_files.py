"""A security office writes a checklist in YAML and is told everything that is wrong with it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from checklists import ChecklistFileError, load_file
from checklists.problems import Problem

GOOD = """\
code: sample
version: 1
title: 点検
target: unit
categories:
  - code: A
    title: 教育
    items:
      - number: 1
        text: 研修を受けている
      - number: 2
        text: 記録がある
"""


def write(tmp_path: Path, text: str | bytes, name: str = "checklist.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def problems_in(path: Path, **kwargs) -> list[Problem]:
    with pytest.raises(ChecklistFileError) as raised:
        load_file(path, **kwargs)
    return raised.value.problems


def only_problem(path: Path, **kwargs) -> Problem:
    problems = problems_in(path, **kwargs)
    assert len(problems) == 1, [p.render() for p in problems]
    return problems[0]


@pytest.mark.parametrize("name", ["checklist.yaml", "checklist.yml", "CHECKLIST.YAML"])
def test_good_file_loads(tmp_path, name):
    checklist = load_file(str(write(tmp_path, GOOD, name)))
    assert checklist.code == "sample"
    assert [item.key for item in checklist.items] == ["item-1", "item-2"]
    assert checklist.items[0].scale == "yes_no_na"


# --- the file as a whole --------------------------------------------------------------------


def test_missing_file_says_it_was_not_found(tmp_path):
    problem = only_problem(tmp_path / "nothing.yaml")
    assert problem.where == ""
    assert (
        problem.render() == f"{tmp_path / 'nothing.yaml'}: ファイルが見つかりません。"
        "ファイル名と保存場所を確認してください。"
    )


def test_unreadable_file_says_to_check_permissions(tmp_path, monkeypatch):
    path = write(tmp_path, GOOD)

    def refuse(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    problem = only_problem(path)
    assert problem.message_id == "file_unreadable"
    assert "アクセス権を確認" in problem.render()


def test_file_over_the_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = write(tmp_path, GOOD + "# " + "あ" * 2000 + "\n")
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the file was read"))
    problem = only_problem(path, max_bytes=2048)
    assert problem.message_id == "file_too_large"
    assert "上限は 2 KB" in problem.render()


@pytest.mark.parametrize("text", ["", "# 下書き\n# まだ何もない\n", "\n\n"])
def test_empty_file_or_only_comments_asks_for_content(tmp_path, text):
    problem = only_problem(write(tmp_path, text))
    assert problem.message_id == "file_empty"
    assert "ファイルに内容がありません" in problem.render()


def test_shift_jis_file_asks_to_save_as_utf8(tmp_path):
    path = write(tmp_path, GOOD.replace("点検", "情報資産の点検").encode("shift_jis"))
    problem = only_problem(path)
    assert problem.where == "3"
    assert "Shift_JIS" in problem.render()
    assert "UTF-8 を選んで保存し直してください" in problem.render()


def test_utf8_with_bom_from_windows_notepad_is_fine(tmp_path):
    assert load_file(write(tmp_path, "\ufeff".encode() + GOOD.encode())).code == "sample"


@pytest.mark.parametrize("name", ["checklist.txt", "checklist.xls", "checklist.csv", "checklist"])
def test_other_file_types_are_refused(tmp_path, name):
    problem = only_problem(write(tmp_path, GOOD, name))
    assert problem.message_id == "unsupported_file_type"
    assert ".xlsx" in problem.render()


# --- YAML syntax ----------------------------------------------------------------------------


def test_yaml_syntax_error_names_its_line(tmp_path):
    problem = only_problem(write(tmp_path, GOOD.replace("記録がある", "記録: 残っている")))
    assert problem.message_id == "yaml_syntax"
    assert problem.where == "12"
    assert "YAML の書き方に誤りがあります" in problem.render()


def test_tab_indentation_is_a_syntax_error_that_mentions_tabs(tmp_path):
    text = GOOD.replace("        text: 記録がある", "\ttext: 記録がある")
    problem = only_problem(write(tmp_path, text))
    assert problem.where == "12"
    assert "タブは使わない" in problem.render()


def test_python_tags_are_refused_not_run(tmp_path):
    path = write(tmp_path, GOOD.replace("title: 点検", "title: !!python/object/apply:os.getcwd []"))
    problem = only_problem(path)
    assert problem.message_id == "yaml_syntax"
    assert problem.where == "3"


def test_deeply_nested_brackets_are_refused_without_crashing(tmp_path):
    problem = only_problem(write(tmp_path, "code: " + "[" * 5000))
    assert problem.message_id == "yaml_too_deep"


def test_brackets_nested_past_any_checklist_are_refused_before_yaml_reads_them(tmp_path):
    # Balanced and well short of the recursion limit, so YAML would read them; but the
    # bracket count refuses them first (PyYAML spends seconds on a few thousand).
    problem = only_problem(write(tmp_path, "code: " + "[" * 51 + "]" * 51))
    assert (problem.message_id, problem.where) == ("yaml_too_deep", "")


def test_brackets_in_texts_as_deep_as_a_checklist_needs_are_read(tmp_path):
    text = GOOD.replace("title: 点検", "title: 点検 [[[別紙]]] {{参照}}")
    assert "[[[別紙]]]" in load_file(write(tmp_path, text)).title


def test_top_level_list_asks_for_key_value_lines(tmp_path):
    problem = only_problem(write(tmp_path, "- code: sample\n- version: 1\n"))
    assert problem.message_id == "top_not_mapping"
    assert "「キー: 値」の形になっていません" in problem.render()


# --- keys -----------------------------------------------------------------------------------


def test_misspelt_key_names_the_key_its_line_and_the_allowed_keys(tmp_path):
    path = write(
        tmp_path,
        GOOD.replace(
            "        text: 記録がある", "        text: 記録がある\n        comennt: always"
        ),
    )
    problem = only_problem(path)
    assert problem.where == "13"
    assert problem.params["key"] == "comennt"
    assert "「comennt」は使えないキーです" in problem.render()
    assert "comment" in problem.params["allowed"] and "evidence" in problem.params["allowed"]


@pytest.mark.parametrize(
    "old, new, line",
    [
        ("title: 点検", "title: 点検\ntitel: x", 4),
        ("    title: 教育", "    title: 教育\n    note: x", 8),
        (
            "        text: 記録がある",
            "        text: 記録がある\n        condition: {item: 1, answers: [yes], when: x}",
            13,
        ),
        (
            "target: unit",
            "target: unit\nscales:\n  - code: s\n    title: s\n    colour: red\n"
            "    options:\n      - {code: a, label: A, class: compliant}",
            8,
        ),
        (
            "target: unit",
            "target: unit\nscales:\n  - code: s\n    title: s\n    options:\n"
            "      - {code: a, label: A, class: compliant, points: 1}",
            9,
        ),
    ],
    ids=["top", "category", "condition", "scale", "option"],
)
def test_unknown_keys_are_refused_at_every_level(tmp_path, old, new, line):
    problem = only_problem(write(tmp_path, GOOD.replace(old, new)))
    assert (problem.message_id, problem.where) == ("unknown_key", str(line))


def test_key_written_twice_names_both_lines(tmp_path):
    path = write(
        tmp_path,
        GOOD.replace(
            "        text: 記録がある", "        text: 記録がある\n        text: 記録が残っている"
        ),
    )
    problem = only_problem(path)
    assert (problem.message_id, problem.where) == ("duplicate_key", "13")
    assert "「text」が 2 回指定されています（12 行目にもあります）" in problem.render()


@pytest.mark.parametrize(
    "old, new, key, line",
    [
        ("code: sample\n", "", "code", "1"),
        ("version: 1\n", "", "version", "1"),
        ("title: 点検\n", "", "title", "1"),
        ("target: unit\n", "", "target", "1"),
        ("    title: 教育\n", "", "title", "6"),
        ("  - code: A\n    title: 教育", "  - title: 教育", "code", "6"),
        ("      - number: 2\n        text: 記録がある", "      - text: 記録がある", "number", "11"),
        ("      - number: 2\n        text: 記録がある", "      - number: 2", "text", "11"),
    ],
)
def test_missing_required_key_is_named_at_its_mapping(tmp_path, old, new, key, line):
    problem = only_problem(write(tmp_path, GOOD.replace(old, new)))
    assert (problem.message_id, problem.where, problem.params["key"]) == ("missing_key", line, key)
    assert f"必須のキー「{key}」がありません" in problem.render()


def test_missing_categories_and_items_are_named(tmp_path):
    problem = only_problem(write(tmp_path, GOOD.split("categories:")[0]))
    assert (problem.message_id, problem.params["key"]) == ("missing_key", "categories")
    text = GOOD.split("    items:")[0] + "  - code: B\n    title: 記録\n    items: []\n"
    problems = problems_in(write(tmp_path, text))
    assert [(p.message_id, p.where, p.params["key"]) for p in problems] == [
        ("missing_key", "6", "items"),
        ("missing_value", "10", "items"),
    ]


def test_key_with_nothing_after_it_asks_to_fill_it_in(tmp_path):
    problem = only_problem(write(tmp_path, GOOD.replace("title: 点検", "title:")))
    assert (problem.message_id, problem.where) == ("missing_value", "3")
    assert "「title」が空です" in problem.render()


# --- types ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "version, message_id",
    [
        ("0", "not_positive"),
        ("-2", "not_positive"),
        ("abc", "not_integer"),
        ("1.5", "decimal_number"),
        ("true", "not_integer"),
        ("[1]", "not_integer"),
    ],
)
def test_version_must_be_a_positive_whole_number(tmp_path, version, message_id):
    problem = only_problem(write(tmp_path, GOOD.replace("version: 1", f"version: {version}")))
    assert (problem.message_id, problem.where) == (message_id, "2")
    assert "「version」" in problem.render()


def test_item_number_10_after_1_point_1_explains_the_decimal(tmp_path):
    path = write(tmp_path, GOOD.replace("number: 2", "number: 1.10"))
    problem = only_problem(path)
    assert (problem.message_id, problem.where) == ("decimal_number", "11")
    assert "小数 1.1 として読み込まれました" in problem.render()
    assert "整数で指定してください" in problem.render()


def test_code_true_is_refused_as_not_text_with_a_hint_to_quote_it(tmp_path):
    problem = only_problem(write(tmp_path, GOOD.replace("  - code: A", "  - code: true")))
    assert (problem.message_id, problem.where) == ("not_text", "6")
    assert "true は文字列として読み込まれませんでした" in problem.render()
    assert '"true" のように引用符で囲んでください' in problem.render()


@pytest.mark.parametrize("value", ["[研修, 記録]", "{a: b}", "2024-04-01"])
def test_text_must_be_a_string(tmp_path, value):
    problem = only_problem(write(tmp_path, GOOD.replace("text: 記録がある", f"text: {value}")))
    assert (problem.message_id, problem.where) == ("not_text", "12")


def test_whole_numbers_are_accepted_as_text(tmp_path):
    checklist = load_file(write(tmp_path, GOOD.replace("  - code: A", "  - code: 1")))
    assert checklist.categories[0].code == "1"


def test_yes_no_on_off_stay_text_as_in_yaml_1_2(tmp_path):
    text = GOOD.replace("title: 点検", "title: yes").replace("  - code: A", "  - code: on")
    text += "      - number: 3\n        text: x\n        condition: {item: 1, answers: [yes, no]}\n"
    checklist = load_file(write(tmp_path, text))
    assert checklist.title == "yes"
    assert checklist.categories[0].code == "on"
    assert checklist.items[2].condition.options == ("yes", "no")


def test_zero_padded_numbers_are_decimal_not_octal(tmp_path):
    text = GOOD.replace("number: 1", "number: 008").replace("number: 2", "number: 010")
    checklist = load_file(write(tmp_path, text.replace("  - code: A", "  - code: 010")))
    assert [item.number for item in checklist.items] == [8, 10]
    assert checklist.categories[0].code == "010"


def test_list_expected_but_text_given(tmp_path):
    problem = only_problem(write(tmp_path, GOOD.split("categories:")[0] + "categories: A\n"))
    assert (problem.message_id, problem.where) == ("not_list", "5")
    assert "一覧を指定してください" in problem.render()


def test_list_entry_that_is_not_a_mapping_names_its_line(tmp_path):
    path = write(tmp_path, GOOD.replace("      - number: 2\n", "      - 研修\n      - number: 2\n"))
    problem = only_problem(path)
    assert (problem.message_id, problem.where) == ("not_mapping", "11")


def test_every_problem_in_a_file_is_reported_at_once(tmp_path):
    text = (
        GOOD.replace("version: 1", "version: 0")
        .replace("        text: 記録がある", "        txt: 記録がある")
        .replace("number: 2", "number: 1")
    )
    problems = problems_in(write(tmp_path, text))
    assert [(p.where, p.message_id) for p in problems] == [
        ("2", "not_positive"),
        ("11", "missing_key"),
        ("11", "duplicate_number"),
        ("12", "unknown_key"),
    ]


def test_an_unreadable_number_causes_no_follow_up_problems(tmp_path):
    text = GOOD.replace("number: 1\n", "number: 1.10\n") + (
        "      - number: 3\n        text: x\n        condition: {item: 1, answers: [yes]}\n"
    )
    assert [p.message_id for p in problems_in(write(tmp_path, text))] == ["decimal_number"]
