"""Checklists as published ones are written: headings, descriptions with paragraphs and lists,
sections asked under a condition, marks of importance, examples, the contractor's own wording,
options for one kind of reader and defaults for every item, in YAML and in Excel alike."""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import asdict
from pathlib import Path

import openpyxl
import pytest

from checklists import ChecklistFileError, load_file
from checklists.problems import Problem
from checklists.schema import Condition
from checklists.texts import Block, blocks, pick, plain
from checklists.writer import dump_yaml, write_xlsx
from tests.rich_checklist import RICH


def write(tmp_path: Path, text: str, name: str = "rich.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_in(path: Path) -> list[Problem]:
    with pytest.raises(ChecklistFileError) as raised:
        load_file(path)
    return raised.value.problems


def only_problem(path: Path) -> Problem:
    problems = problems_in(path)
    assert len(problems) == 1, [p.render() for p in problems]
    return problems[0]


def test_every_new_key_is_read_from_yaml(tmp_path):
    checklist = load_file(write(tmp_path, RICH))
    assert checklist.description.startswith("委託業務（契約）ごとに1件回答してください。\n")
    assert checklist.description_en.startswith("Answer once")
    assert checklist.description_contractor.startswith("貴社が受託している業務")
    assert checklist.description_contractor_en.startswith("Answer for the work")
    first, second = checklist.categories
    assert first.description.startswith("事業者の管理体制") and first.condition is None
    assert first.description_en == "The contractor's organisation."
    assert second.condition == Condition(2, ("yes",))
    policy, subcontracting, on_file, roster = checklist.items
    assert (policy.heading, policy.heading_en) == ("基本方針", "Policy")
    assert policy.text_contractor == "貴社は情報セキュリティ方針を定めていますか"
    assert policy.text_contractor_en == "Does your company have a security policy?"
    assert policy.help_en == "Check a copy of the policy."
    assert policy.help_contractor.startswith("方針の写しを所管課に")
    assert policy.help_contractor_en.startswith("Keep a copy")
    assert policy.examples == "- ISMS認証の登録証\n- プライバシーマークの登録証"
    assert policy.examples_en == "An ISMS certificate"
    assert (policy.importance, subcontracting.importance, on_file.importance) == (
        "required",
        "recommended",
        "",
    )
    (scale,) = checklist.scales
    assert [(o.code, o.audience) for o in scale.options] == [
        ("done", ""),
        ("notyet", ""),
        ("asking", "staff"),
        ("nowork", "contractor"),
    ]


def test_defaults_apply_to_every_item_that_gives_no_value_of_its_own(tmp_path):
    policy, subcontracting, on_file, roster = load_file(write(tmp_path, RICH)).items
    assert (policy.scale, policy.comment, policy.evidence) == ("yes_no", "never", "noncompliant")
    assert (subcontracting.scale, subcontracting.comment) == ("yes_no_na", "noncompliant")
    assert subcontracting.evidence == "noncompliant"
    assert (on_file.scale, on_file.comment) == ("handled3", "never")
    assert roster.scale == "yes_no"


def rich_workbook(path: Path, **changes) -> Path:
    """The same checklist as RICH, written by hand in the Excel layout (Japanese headings)."""
    book = openpyxl.Workbook()
    settings = book.active
    settings.title = "チェックリスト"
    yaml_checklist = load_file(write(path.parent, RICH, "source.yaml"))
    for key in (
        "code",
        "version",
        "title",
        "title_en",
        "target",
        "description",
        "description_en",
        "description_contractor",
        "description_contractor_en",
    ):
        settings.append([key, getattr(yaml_checklist, key)])
    settings.append(["default_scale", "yes_no"])
    settings.append(["default_comment", "never"])
    settings.append(["default_evidence", "noncompliant"])
    for row in changes.get("settings", []):
        settings.append(row)
    items = book.create_sheet("項目")
    header = [
        "番号", "キー", "分類コード", "分類名", "分類名(英)", "分類の説明", "分類の説明(英)",
        "分類の条件項目", "分類の条件回答", "小見出し", "小見出し(英)", "項目", "項目(英)",
        "委託先向け項目", "委託先向け項目(英)", "説明", "説明(英)", "委託先向け説明",
        "委託先向け説明(英)", "確認方法の例", "確認方法の例(英)", "重要度", "尺度", "コメント",
        "条件項目", "条件回答",
    ]  # fmt: skip
    a, b = yaml_checklist.categories
    policy, subcontracting, on_file, roster = yaml_checklist.items
    rows = [
        [1, "policy", "A", a.title, a.title_en, a.description, a.description_en, None, None,
         policy.heading, policy.heading_en, policy.text, policy.text_en, policy.text_contractor,
         policy.text_contractor_en, policy.help, policy.help_en, policy.help_contractor,
         policy.help_contractor_en, policy.examples, policy.examples_en, "required", None, None,
         None, None],
        [2, "subcontracting", "A", None, None, None, None, None, None, subcontracting.heading,
         None, subcontracting.text, None, subcontracting.text_contractor, None, None, None, None,
         None, None, None, "recommended", "yes_no_na", "noncompliant", None, None],
        [3, "subcontractor-on-file", "B", b.title, b.title_en, b.description, None, 2, "yes",
         None, None, on_file.text, None, None, None, None, None, None, None, None, None, None,
         "handled3", None, None, None],
        [4, "subcontractor-roster", "B", None, None, None, None, None, None, None, None,
         roster.text, None, None, None, None, None, None, None, None, None, None, None, None, 3,
         "done"],
    ]  # fmt: skip
    for row in [header, *changes.get("items", rows)]:
        items.append(row)
    scales = book.create_sheet("尺度")
    scales.append(
        ["尺度コード", "尺度名", "選択肢コード", "表示", "表示(英)", "区分", "点数", "回答者"]
    )
    for option in yaml_checklist.scales[0].options:
        scales.append(
            ["handled3", "取扱状況", option.code, option.label, option.label_en, option.klass,
             option.score, option.audience or None]
        )  # fmt: skip
    book.save(path)
    return path


def test_the_excel_form_reads_to_the_same_checklist(tmp_path):
    assert load_file(rich_workbook(tmp_path / "rich.xlsx")) == load_file(write(tmp_path, RICH))


@pytest.mark.parametrize("form", ["yaml", "xlsx"])
def test_round_trip_through_the_writers_keeps_every_new_key(tmp_path, form):
    checklist = load_file(write(tmp_path, RICH))
    path = tmp_path / f"again.{form}"
    if form == "yaml":
        path.write_text(dump_yaml(checklist), encoding="utf-8")
    else:
        write_xlsx(checklist, path)
    assert load_file(path) == checklist


def test_yaml_writer_gives_the_values_most_items_share_as_defaults(tmp_path):
    text = dump_yaml(load_file(write(tmp_path, RICH)))
    assert "defaults:\n  scale: yes_no\n  comment: never\n  evidence: noncompliant\n" in text
    policy = text[text.index("key: policy") : text.index("key: subcontracting")]
    assert "comment:" not in policy and "scale:" not in policy
    subcontracting = text[text.index("key: subcontracting") : text.index("- code: B")]
    assert "scale: yes_no_na" in subcontracting and "comment: noncompliant" in subcontracting


def test_a_checklist_without_the_new_keys_writes_no_new_columns_or_defaults(tmp_path):
    old = "code: old\nversion: 1\ntitle: 点検\ntarget: unit\ncategories:\n  - code: A\n"
    old += "    title: 教育\n    items:\n      - {number: 1, text: 研修を受けている}\n"
    checklist = load_file(write(tmp_path, old, "old.yaml"))
    assert "defaults" not in dump_yaml(checklist)
    write_xlsx(checklist, tmp_path / "old.xlsx")
    header = [cell.value for cell in openpyxl.load_workbook(tmp_path / "old.xlsx")["項目"][1]]
    assert header[-1] == "キー" and "小見出し" not in header


# The fields each class had before the format grew: a stored version's hash was made of these.
FIRST_FIELDS = {
    "Checklist": ("code", "version", "title", "target", "title_en", "description", "categories",
                  "scales"),
    "Category": ("code", "title", "title_en", "items"),
    "Item": ("number", "key", "text", "text_en", "help", "scale", "comment", "evidence",
             "condition"),
    "Condition": ("item", "options"),
    "Scale": ("code", "title", "options"),
    "Option": ("code", "label", "label_en", "klass", "score"),
}  # fmt: skip


def first_shape(value):
    if hasattr(value, "__dataclass_fields__"):
        names = FIRST_FIELDS[type(value).__name__]
        return {name: first_shape(getattr(value, name)) for name in names}
    if isinstance(value, (list, tuple)):
        return [first_shape(entry) for entry in value]
    return value


@pytest.mark.parametrize("name", ["emergency-assets", "emergency-systems"])
def test_a_file_without_the_new_keys_keeps_the_hash_it_was_stored_with(name):
    import hashlib

    checklist = load_file(Path(__file__).parents[2] / "checklists/definitions" / f"{name}.yaml")
    payload = json.dumps(first_shape(checklist), ensure_ascii=False, sort_keys=True)
    assert checklist.content_hash() == hashlib.sha256(payload.encode()).hexdigest()
    assert first_shape(checklist) == {
        key: value for key, value in asdict(checklist).items() if key in FIRST_FIELDS["Checklist"]
    } | {"categories": first_shape(checklist.categories), "scales": first_shape(checklist.scales)}


def test_a_new_key_changes_the_hash(tmp_path):
    with_heading = RICH.replace("heading: 基本方針", "heading: 方針")
    assert (
        load_file(write(tmp_path, RICH)).content_hash()
        != load_file(write(tmp_path, with_heading, "other.yaml")).content_hash()
    )


# --- what a reader gets --------------------------------------------------------------------


def test_blocks_are_paragraphs_and_lists_as_written():
    text = "一行目\n二行目\n\n次の段落\n- 一つ目\n・二つ目\n・ 三つ目\n後の段落\n\n\n<b>最後</b>"
    assert blocks(text) == [
        Block("p", ("一行目", "二行目")),
        Block("p", ("次の段落",)),
        Block("ul", ("一つ目", "二つ目", "三つ目")),
        Block("p", ("後の段落",)),
        Block("p", ("<b>最後</b>",)),
    ]
    assert blocks("") == [] and blocks("-1 は負の数") == [Block("p", ("-1 は負の数",))]


def test_plain_text_for_a_cell_keeps_paragraphs_and_bullets():
    assert plain("前文\n- 一つ目\n- 二つ目\n\n後文") == "前文\n\n・一つ目\n・二つ目\n\n後文"


def test_pick_chooses_by_language_and_reader(tmp_path):
    policy, subcontracting, *_ = load_file(write(tmp_path, RICH)).items
    assert pick(policy, "text", "ja") == "事業者の情報セキュリティ方針を確認している"
    assert pick(policy, "text", "en") == "The contractor's security policy has been checked"
    assert pick(policy, "text", "ja", "contractor") == "貴社は情報セキュリティ方針を定めていますか"
    assert pick(policy, "text", "en", "contractor") == "Does your company have a security policy?"
    # No English for the contractor and none at all: the contractor's Japanese, not the staff's.
    assert (
        pick(subcontracting, "text", "en", "contractor") == "貴社は業務の一部を再委託していますか"
    )
    assert pick(subcontracting, "help", "en", "contractor") == ""


# --- bad input: the file, the place and what is wrong; nothing imported ----------------------


def bad(tmp_path: Path, old: str, new: str) -> Path:
    assert old in RICH
    return write(tmp_path, RICH.replace(old, new, 1))


def line_of(text: str) -> str:
    return str(RICH.splitlines().index(text) + 1)


def test_defaults_that_are_not_a_mapping(tmp_path):
    path = bad(tmp_path, "defaults:\n  scale: yes_no\n  comment: never\n  evidence: noncompliant\n",
               "defaults: never\n")  # fmt: skip
    problem = only_problem(path)
    line = line_of("defaults:")
    assert (problem.where, problem.message_id) == (line, "not_mapping")
    assert (
        problem.render() == f"{path}:{line}: 「defaults」の内容を「キー: 値」の形で書いてください。"
    )


def test_a_misspelt_default(tmp_path):
    problem = only_problem(bad(tmp_path, "  comment: never\n", "  comennt: never\n"))
    assert (problem.where, problem.message_id) == (line_of("  comment: never"), "unknown_key")
    assert "comennt" in problem.render() and "scale, comment, evidence" in problem.render()


def test_a_bad_default_is_reported_once_not_for_every_item(tmp_path):
    problem = only_problem(bad(tmp_path, "  comment: never\n", "  comment: sometimes\n"))
    assert (problem.where, problem.message_id) == (line_of("  comment: never"), "bad_comment_rule")
    assert "「sometimes」" in problem.render()


def test_a_default_scale_that_does_not_exist(tmp_path):
    problem = only_problem(bad(tmp_path, "  scale: yes_no\n", "  scale: yes_no_maybe\n"))
    assert (problem.where, problem.message_id) == (line_of("  scale: yes_no"), "unknown_scale")
    assert "handled3" in problem.render("en")


def test_an_unknown_importance(tmp_path):
    problem = only_problem(bad(tmp_path, "importance: required", "importance: must"))
    assert (problem.where, problem.message_id) == (line_of("        importance: required"),
                                                    "bad_importance")  # fmt: skip
    assert "required, recommended" in problem.render()


def test_an_unknown_audience_of_an_option(tmp_path):
    problem = only_problem(bad(tmp_path, "audience: staff}", "audience: staffs}"))
    assert problem.message_id == "bad_audience"
    assert problem.where == line_of(next(line for line in RICH.splitlines() if "asking" in line))


def test_a_scale_leaving_one_kind_of_reader_nothing_to_choose(tmp_path):
    text = RICH.replace(
        "class: compliant, score: 1}", "class: compliant, score: 1, audience: staff}"
    )
    text = text.replace(
        "class: noncompliant, score: 0}", "class: noncompliant, score: 0, audience: staff}"
    )
    text = text.replace("audience: contractor}", "audience: staff}")
    problem = only_problem(write(tmp_path, text))
    assert problem.message_id == "scale_without_option_for"
    assert problem.params == {"scale": "handled3", "audience": "contractor"}


def test_a_contractor_wording_where_no_contractor_answers(tmp_path):
    problems = problems_in(bad(tmp_path, "target: contract", "target: unit"))
    assert {p.message_id for p in problems} == {"contractor_text_unused"}
    first = problems[0]
    assert first.where == line_of("description_contractor: |")
    assert "target が" not in first.render() and "unit" in first.render()
    # The description in both languages, four texts of item 1 and one of item 2.
    assert len(problems) == 2 + 4 + 1


def test_a_category_condition_on_an_item_of_its_own(tmp_path):
    problem = only_problem(bad(tmp_path, "condition: {item: 2, answers: [yes]}",
                               "condition: {item: 3, answers: [done]}"))  # fmt: skip
    assert problem.message_id == "category_condition_not_before"
    assert problem.where == line_of("    condition: {item: 2, answers: [yes]}")


def test_a_category_condition_on_a_missing_item(tmp_path):
    problem = only_problem(bad(tmp_path, "{item: 2, answers: [yes]}", "{item: 9, answers: [yes]}"))
    assert problem.message_id == "condition_missing_item"


def test_a_category_condition_with_an_answer_the_item_does_not_offer(tmp_path):
    problem = only_problem(
        bad(tmp_path, "{item: 2, answers: [yes]}", "{item: 2, answers: [maybe]}")
    )
    assert problem.message_id == "condition_unknown_answer"
    assert problem.params["allowed"] == "yes, no, na"


def test_a_category_condition_that_is_not_a_mapping(tmp_path):
    problem = only_problem(bad(tmp_path, "{item: 2, answers: [yes]}", "item 2"))
    assert problem.message_id == "not_mapping"


def test_an_item_of_a_conditional_category_conditioned_outside_it(tmp_path):
    problem = only_problem(bad(tmp_path, "condition: {item: 3, answers: [done]}",
                               "condition: {item: 1, answers: [yes]}"))  # fmt: skip
    assert problem.message_id == "category_item_condition_outside"
    assert problem.where == line_of("        condition: {item: 3, answers: [done]}")
    assert "分類「B」" in problem.render()


def test_a_heading_that_is_not_text(tmp_path):
    problem = only_problem(bad(tmp_path, "heading: 基本方針", "heading: [基本, 方針]"))
    assert (problem.message_id, problem.params["key"]) == ("not_text", "heading")


def test_excel_bad_default_names_its_cell(tmp_path):
    path = rich_workbook(tmp_path / "rich.xlsx", settings=[["default_evidence", "sometimes"]])
    problems = problems_in(path)
    assert [(p.where, p.message_id) for p in problems] == [
        ("チェックリスト!B13", "duplicate_key"),
        ("チェックリスト!B13", "bad_evidence_rule"),
    ]
    assert "（チェックリスト!B12にもあります）" in problems[0].render()


def test_excel_unknown_setting_lists_the_defaults_too(tmp_path):
    problem = only_problem(rich_workbook(tmp_path / "rich.xlsx", settings=[["default_help", "x"]]))
    assert problem.where == "チェックリスト!A13"
    assert "default_scale, default_comment, default_evidence" in problem.render()


def test_excel_category_setting_given_again_differently_on_a_later_row(tmp_path):
    path = rich_workbook(tmp_path / "rich.xlsx")
    book = openpyxl.load_workbook(path)
    book["項目"]["F3"] = "別の説明"  # 分類の説明 on the second row of category A
    book.save(path)
    problem = only_problem(path)
    assert (problem.where, problem.message_id) == ("項目!F3", "category_cell_differs")
    assert problem.render() == (
        f"{path}:項目!F3: 分類「A」の「分類の説明」が、分類の最初の行（項目!F2）と違います。"
        "分類の設定は最初の行にだけ書き、ほかの行は空欄にしてください。"
    )


def test_excel_importance_that_is_not_text(tmp_path):
    path = rich_workbook(tmp_path / "rich.xlsx")
    book = openpyxl.load_workbook(path)
    book["項目"]["V2"] = True
    book.save(path)
    problem = only_problem(path)
    assert (problem.where, problem.message_id) == ("項目!V2", "cell_not_text")


def test_the_richer_example_in_the_format_documentation_loads_and_round_trips(tmp_path):
    docs = (Path(__file__).resolve().parents[2] / "docs" / "checklist-format.md").read_text("utf-8")
    section = docs[docs.index("## Richer checklists") :]
    example = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    checklist = load_file(write(tmp_path, example, "example.yaml"))
    assert checklist.categories[1].condition == Condition(2, ("yes",))
    assert checklist.items[0].importance == "required"
    for name, save in [
        ("again.yaml", lambda c, p: p.write_text(dump_yaml(c), "utf-8")),
        ("again.xlsx", write_xlsx),
    ]:
        save(checklist, tmp_path / name)
        assert load_file(tmp_path / name) == checklist
