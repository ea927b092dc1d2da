"""A checklist exported as YAML or Excel reads back to the very same checklist."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl

from checklists import load_file
from checklists.schema import Category, Checklist, Condition, Item, Option, Scale
from checklists.writer import dump_yaml, write_xlsx

FULL = Checklist(
    code="emergency-assets",
    version=3,
    title="情報資産の取扱状況",
    target="contract",
    title_en="Handling of information assets",
    description="各分野・事業所の情報資産の取扱状況を点検します。\n年度ごとに回答してください。",
    scales=(
        Scale(
            "freq4",
            "実施頻度",
            (
                Option("monthly", "毎月", "Monthly", "compliant", 3),
                Option("yearly", "毎年", "", "compliant", 1),
                Option("never", "実施していない", "Never", "noncompliant", 0),
                Option("unknown", "不明", "Unknown", "excluded", None),
            ),
        ),
    ),
    categories=(
        Category(
            "A",
            "職員の教育",
            "Staff training",
            items=(
                Item(
                    1,
                    "training-all-staff",
                    "全職員が情報セキュリティ研修を受けている",
                    "All staff have had security training",
                    "年度内の受講記録で確認してください。\n記録がなければ「いいえ」です。",
                    comment="always",
                    evidence="noncompliant",
                ),
                Item(
                    2,
                    "item-2",
                    "研修の頻度",
                    scale="freq4",
                    comment="never",
                    condition=Condition(1, ("yes",)),
                ),
                Item(
                    3,
                    "item-3",
                    "=記録は保管されている",
                    scale="rating3",
                    evidence="always",
                    condition=Condition(2, ("monthly", "yearly")),
                ),
            ),
        ),
        Category(
            "1",
            "true",
            items=(
                Item(10, "records", "no", scale="yes_no"),
                Item(11, "item-11", "1.10", scale="yes_no_na"),
            ),
        ),
    ),
)

SMALL = Checklist(
    "sample",
    1,
    "点検",
    "unit",
    categories=(
        Category(
            "A",
            "教育",
            items=(
                Item(1, "item-1", "研修を受けている"),
                Item(2, "item-2", "記録がある", condition=Condition(1, ("yes",))),
            ),
        ),
    ),
)


def test_yaml_round_trip_keeps_everything(tmp_path):
    path = tmp_path / "out.yaml"
    path.write_text(dump_yaml(FULL), encoding="utf-8")
    assert load_file(path) == FULL


def test_excel_round_trip_keeps_everything(tmp_path):
    path = tmp_path / "out.xlsx"
    write_xlsx(FULL, path)
    assert load_file(path) == FULL


def test_excel_can_be_written_to_a_stream(tmp_path):
    stream = io.BytesIO()
    write_xlsx(SMALL, stream)
    path = tmp_path / "out.xlsx"
    path.write_bytes(stream.getvalue())
    assert load_file(path) == SMALL


def test_yaml_is_readable_japanese_in_documented_order_without_defaults():
    assert dump_yaml(SMALL) == (
        "code: sample\n"
        "version: 1\n"
        "title: 点検\n"
        "target: unit\n"
        "categories:\n"
        "  - code: A\n"
        "    title: 教育\n"
        "    items:\n"
        "      - number: 1\n"
        "        text: 研修を受けている\n"
        "      - number: 2\n"
        "        text: 記録がある\n"
        "        condition:\n"
        "          item: 1\n"
        "          answers: [yes]\n"
    )


def test_yaml_quotes_only_what_would_read_back_differently():
    text = dump_yaml(FULL)
    assert "title: 'true'" in text
    assert "text: '1.10'" in text
    assert "text: no\n" in text
    assert "  - {code: monthly, label: 毎月, label_en: Monthly, class: compliant, score: 3}" in text
    assert "description: |-\n  各分野" in text
    assert "\\u" not in text


def test_excel_layout_has_japanese_bold_frozen_headers(tmp_path):
    path = tmp_path / "out.xlsx"
    write_xlsx(FULL, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["チェックリスト", "項目", "尺度"]
    items = book["項目"]
    header = [cell.value for cell in items[1]]
    assert header[:4] == ["番号", "分類コード", "分類名", "分類名(英)"]
    assert all(cell.font.bold for cell in items[1])
    assert items.freeze_panes == "A2"
    assert items.column_dimensions["E"].width == 60  # 項目
    assert [cell.value for cell in items[4]][:2] == [3, "A"]
    assert book["尺度"]["A2"].value == "freq4"
    assert book["チェックリスト"]["B2"].value == 3


def documented_example() -> str:
    text = (Path(__file__).resolve().parents[2] / "docs" / "checklist-format.md").read_text("utf-8")
    return re.search(r"```yaml\n(.*?)```", text, re.S).group(1)


def test_example_in_the_format_documentation_loads_and_round_trips(tmp_path):
    path = tmp_path / "example.yaml"
    path.write_text(documented_example(), encoding="utf-8")
    checklist = load_file(path)
    assert checklist.scales[0].code == "freq4"
    assert checklist.items[1].condition is not None
    for name, write in [
        ("again.yaml", lambda c, p: p.write_text(dump_yaml(c), "utf-8")),
        ("again.xlsx", write_xlsx),
    ]:
        write(checklist, tmp_path / name)
        assert load_file(tmp_path / name) == checklist
