"""The security office validates, imports, lists and exports checklist files from the CLI."""

from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from survey.extensions import db
from survey.models import Checklist, Item

DEFINITIONS = Path(__file__).resolve().parent.parent / "checklists" / "definitions"
GOOD = """\
code: sample
version: 1
title: 試行チェックリスト
target: unit
categories:
  - code: A
    title: 管理体制
    items:
      - number: 1
        text: 情報資産の台帳を整備している
      - number: 2
        text: 台帳を年1回以上見直している
        condition: {item: 1, answers: [yes]}
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def stored_count():
    return db.session.scalar(sa.select(sa.func.count(Checklist.id)))


# Each bad file, and the location its message must name.
BAD_FILES = {
    "syntax.yaml": (GOOD.replace("title: 管理体制", "title: [管理体制"), ":8:"),
    "empty.yaml": ("", "empty.yaml:"),
    "unknown-key.yaml": (GOOD.replace("target: unit", "target: unit\ncomennt: x"), ":5:"),
    "duplicate.yaml": (
        GOOD.replace("number: 2", "number: 1").replace(
            "condition: {item: 1, answers: [yes]}", "text_en: dup"
        ),
        ":11:",
    ),
    "float-number.yaml": (GOOD.replace("number: 2", "number: 1.10"), ":11:"),
    "unknown-scale.yaml": (
        GOOD.replace(
            "text: 情報資産の台帳を整備している",
            "text: 情報資産の台帳を整備している\n        scale: five",
        ),
        ":",
    ),
    "later-condition.yaml": (GOOD.replace("condition: {item: 1,", "condition: {item: 3,"), ":"),
    "missing-text.yaml": (GOOD.replace("        text: 台帳を年1回以上見直している\n", ""), ":"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_is_refused_with_its_location_and_nothing_is_imported(runner, tmp_path, name):
    text, location = BAD_FILES[name]
    good = write(tmp_path, "good.yaml", GOOD)
    bad = write(tmp_path, name, text)
    result = runner.invoke(args=["checklist", "import", good, bad, "--publish"])
    assert result.exit_code == 1
    assert f"{name}{location}" in result.output or location in result.output
    assert bad in result.output
    assert "何も取り込んでいません" in result.output
    assert stored_count() == 0  # the good file was not imported either


def test_file_that_is_not_utf8_is_refused_without_a_crash(runner, tmp_path):
    path = tmp_path / "sjis.yaml"
    path.write_bytes(GOOD.encode("cp932"))
    result = runner.invoke(args=["checklist", "validate", str(path)])
    assert result.exit_code == 1
    assert "UTF-8" in result.output
    assert "Traceback" not in result.output


def test_file_too_large_is_refused(app, runner, tmp_path):
    app.config["CHECKLIST_MAX_BYTES"] = 100
    result = runner.invoke(args=["checklist", "validate", write(tmp_path, "big.yaml", GOOD)])
    assert result.exit_code == 1
    assert "big.yaml" in result.output


def test_validate_lists_every_problem_in_english_on_request(runner, tmp_path):
    text = GOOD.replace("target: unit", "target: planet").replace("number: 2", "number: 1")
    result = runner.invoke(
        args=["checklist", "validate", write(tmp_path, "two.yaml", text), "--lang", "en"]
    )
    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines() if line.startswith(str(tmp_path))]
    assert len(problems) >= 2


def test_import_then_publish_then_reimport_same_content_is_a_no_op(runner, tmp_path):
    path = write(tmp_path, "sample.yaml", GOOD)
    assert "sample@1: 登録しました" in runner.invoke(args=["checklist", "import", path]).output
    assert (
        "sample@1: 公開しました"
        in runner.invoke(args=["checklist", "import", path, "--publish"]).output
    )
    again = runner.invoke(args=["checklist", "import", path, "--publish"])
    assert again.exit_code == 0 and "sample@1: 変更はありません" in again.output
    assert stored_count() == 1


def test_published_version_cannot_be_changed(runner, tmp_path):
    path = write(tmp_path, "sample.yaml", GOOD)
    runner.invoke(args=["checklist", "import", path, "--publish"])
    changed = write(tmp_path, "changed.yaml", GOOD.replace("台帳を整備", "台帳を作成"))
    result = runner.invoke(args=["checklist", "import", changed])
    assert result.exit_code == 1
    assert "changed.yaml" in result.output
    text = db.session.scalar(sa.select(Item.text).where(Item.number == 1))
    assert text == "情報資産の台帳を整備している"
    # A new version is the way to change it.
    bumped = write(
        tmp_path,
        "v2.yaml",
        GOOD.replace("台帳を整備", "台帳を作成").replace("version: 1", "version: 2"),
    )
    assert runner.invoke(args=["checklist", "import", bumped]).exit_code == 0
    assert stored_count() == 2


def test_unpublished_draft_is_replaced_by_a_new_import(runner, tmp_path):
    runner.invoke(args=["checklist", "import", write(tmp_path, "a.yaml", GOOD)])
    changed = write(tmp_path, "b.yaml", GOOD.replace("台帳を整備", "台帳を作成"))
    result = runner.invoke(args=["checklist", "import", changed])
    assert "下書きを置き換えました" in result.output
    assert (
        db.session.scalar(sa.select(Item.text).where(Item.number == 1))
        == "情報資産の台帳を作成している"
    )


@pytest.mark.parametrize("fmt", ["yaml", "xlsx"])
def test_export_then_import_gives_the_same_checklist(runner, tmp_path, fmt):
    source = DEFINITIONS / "emergency-systems.yaml"
    runner.invoke(args=["checklist", "import", str(source), "--publish"])
    out = tmp_path / f"exported.{fmt}"
    result = runner.invoke(
        args=["checklist", "export", "emergency-systems@1", "--format", fmt, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    # Same code and version, same content: importing the export is recognised as unchanged.
    again = runner.invoke(args=["checklist", "import", str(out)])
    assert again.exit_code == 0, again.output
    assert "変更はありません" in again.output


def test_yaml_export_to_stdout_reads_as_yaml(runner):
    runner.invoke(args=["checklist", "import", str(DEFINITIONS / "emergency-assets.yaml")])
    result = runner.invoke(args=["checklist", "export", "emergency-assets"])
    data = yaml.safe_load(result.output)
    assert data["code"] == "emergency-assets"
    assert sum(len(c["items"]) for c in data["categories"]) == 21


def test_list_shows_versions_and_state(runner):
    runner.invoke(
        args=["checklist", "import", *map(str, sorted(DEFINITIONS.glob("*.yaml"))), "--publish"]
    )
    lines = runner.invoke(args=["checklist", "list"]).output.splitlines()
    assert [line.split("\t")[0] for line in lines] == [
        "contractor-evaluation@2",
        "emergency-assets@1",
        "emergency-contracts@1",
        "emergency-systems@1",
        "pia-self-assessment@1",
        "security-training-test@1",
    ]
    assert all("\t公開\t" in line for line in lines)


def test_export_of_unknown_checklist_fails(runner):
    result = runner.invoke(args=["checklist", "export", "nothing@1"])
    assert result.exit_code == 1 and "登録されていません" in result.output


def test_a_batch_adds_versions_in_order_and_keeps_one_draft(runner, tmp_path):
    v2 = write(tmp_path, "v2.yaml", GOOD.replace("version: 1", "version: 2"))
    v3 = write(tmp_path, "v3.yaml", GOOD.replace("version: 1", "version: 3"))
    drafts = runner.invoke(args=["checklist", "import", v2, v3])
    assert drafts.exit_code == 1 and "v3.yaml" in drafts.output
    assert "下書きの版 2" in drafts.output and stored_count() == 0  # nothing of the batch
    assert runner.invoke(args=["checklist", "import", v2, v3, "--publish"]).exit_code == 0
    refused = runner.invoke(args=["checklist", "import", write(tmp_path, "v1.yaml", GOOD)])
    assert refused.exit_code == 1
    assert "版 3 まで登録されています" in refused.output and "次は版 4" in refused.output
    assert stored_count() == 2
