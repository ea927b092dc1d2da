"""Problems read as `FILE:WHERE: message`, in Japanese or English, for one file or many."""

from __future__ import annotations

import re

import pytest

from checklists import ChecklistFileError, load_files
from checklists.messages import MESSAGES, text
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
      - {number: 1, text: 研修を受けている}
"""


def test_problem_reads_file_line_and_message():
    problem = Problem("a.yaml", "12", "missing_key", {"key": "text"})
    assert problem.render() == "a.yaml:12: 必須のキー「text」がありません。追加してください。"


def test_problem_about_the_whole_file_has_no_location():
    assert Problem("a.yaml", "", "file_not_found", {}).render().startswith("a.yaml: ファイルが")


def test_problem_in_english():
    problem = Problem("c.xlsx", "項目!C14", "duplicate_number", {"value": 3, "at": "項目!C4"})
    assert problem.render("en") == (
        "c.xlsx:項目!C14: Item number 3 is used twice (also at 項目!C4). Renumber the items."
    )


def test_other_location_in_a_message_reads_as_a_line():
    problem = Problem("a.yaml", "12", "duplicate_number", {"value": 3, "at": "9"})
    assert "（9 行目にもあります）" in problem.render("ja")
    assert "(also at line 9)" in problem.render("en")
    assert "（9 行目にもあります）" in problem.render("ja_JP")


def test_error_lists_every_problem_in_japanese_one_per_line():
    error = ChecklistFileError(
        [
            Problem("a.yaml", "2", "not_positive", {"key": "version", "value": 0}),
            Problem("a.yaml", "", "file_empty", {}),
        ]
    )
    assert str(error).splitlines() == [problem.render() for problem in error.problems]
    assert "「version」には 1 以上の整数を指定してください" in str(error)


@pytest.mark.parametrize("message_id", sorted(MESSAGES))
def test_every_message_has_japanese_and_english_with_the_same_parameters(message_id):
    texts = MESSAGES[message_id]
    assert set(texts) == {"ja", "en"}
    fields = [set(re.findall(r"{(\w+)}", texts[lang])) for lang in ("ja", "en")]
    assert fields[0] == fields[1]
    rendered = text(message_id, "ja", **dict.fromkeys(fields[0], "X"))
    assert rendered.endswith("。") or message_id == "line"


def test_load_files_returns_the_good_ones_and_the_problems_of_the_bad_ones(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("version: 1", "version: 1.5").replace("unit", "ward"), "utf-8")
    checklists, problems = load_files([good, bad, tmp_path / "missing.yaml"])
    assert [checklist.code for checklist in checklists] == ["sample"]
    assert [(p.file, p.where, p.message_id) for p in problems] == [
        (str(bad), "2", "decimal_number"),
        (str(bad), "4", "bad_target"),
        (str(tmp_path / "missing.yaml"), "", "file_not_found"),
    ]


def test_load_files_applies_the_size_limit_to_each_file(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    checklists, problems = load_files([good], max_bytes=100)
    assert checklists == []
    assert [p.message_id for p in problems] == ["file_too_large"]
