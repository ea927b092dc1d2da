"""The checklists shipped with tenken load cleanly and survive export in both formats."""

from __future__ import annotations

from pathlib import Path

import pytest

import checklists
from checklists import load_file
from checklists.writer import dump_yaml, write_xlsx

DEFINITIONS = Path(checklists.__file__).parent / "definitions"
EXPECTED_ITEMS = {
    "emergency-assets": 21,
    "emergency-systems": 54,
    "emergency-contracts": 33,
    "contractor-evaluation": 11,  # the eleven points of seed 002
    "pia-self-assessment": 18,  # the risk measures of seed 004, rated on its three levels
    "security-training-test": 10,  # the comprehension test of seed 003's training
}
# Shipped in both forms, for authors who start from Excel.
EXCEL_TWINS = ["pia-self-assessment"]


def test_exactly_the_expected_checklists_are_shipped():
    assert sorted(path.stem for path in DEFINITIONS.glob("*.yaml")) == sorted(EXPECTED_ITEMS)
    assert sorted(path.stem for path in DEFINITIONS.glob("*.xlsx")) == EXCEL_TWINS


@pytest.mark.parametrize("name", EXCEL_TWINS)
def test_the_excel_form_is_the_same_checklist_as_the_yaml(name):
    """Whoever edits one form writes the other again (checklists.writer.write_xlsx)."""
    assert load_file(DEFINITIONS / f"{name}.xlsx") == load_file(DEFINITIONS / f"{name}.yaml")


def test_the_pia_self_assessment_uses_the_scored_format():
    checklist = load_file(DEFINITIONS / "pia-self-assessment.yaml")
    classes = {o.klass for scale in checklist.scales for o in scale.options}
    assert {"partial", "unknown", "informational", "excluded"} <= classes
    assert checklist.grades.basis == "percent" and checklist.grades.bands[-1].below_standard
    assert all(band.advice and band.advice_en for band in checklist.grades.bands)
    assert all(category.description for category in checklist.categories)
    conditional = [c for c in checklist.categories if c.condition is not None]
    assert [c.condition.item for c in conditional] == [8]
    assert all(item.text_en for item in checklist.items)


def test_the_contractor_evaluation_carries_its_grades():
    grades = load_file(DEFINITIONS / "contractor-evaluation.yaml").grades
    assert [(b.min, b.label, b.below_standard) for b in grades.bands] == [
        (80, "A", False),
        (60, "B", False),
        (0, "C", True),
    ]


@pytest.mark.parametrize("path", sorted(DEFINITIONS.glob("*.yaml")), ids=lambda path: path.stem)
def test_shipped_definition_loads_with_its_items(path):
    checklist = load_file(path)
    assert checklist.code == path.stem
    assert len(checklist.items) == EXPECTED_ITEMS[path.stem]


@pytest.mark.parametrize("path", sorted(DEFINITIONS.glob("*.yaml")), ids=lambda path: path.stem)
def test_shipped_definition_round_trips_through_yaml_and_excel(path, tmp_path):
    checklist = load_file(path)
    (tmp_path / "again.yaml").write_text(dump_yaml(checklist), encoding="utf-8")
    write_xlsx(checklist, tmp_path / "again.xlsx")
    assert load_file(tmp_path / "again.yaml") == checklist
    assert load_file(tmp_path / "again.xlsx") == checklist


def test_contractor_evaluation_rates_each_point_with_points():
    checklist = load_file(DEFINITIONS / "contractor-evaluation.yaml")
    assert checklist.target == "contractor"
    (scale,) = checklist.scales
    assert {item.scale for item in checklist.items} == {scale.code}
    assert [(o.label, o.klass, o.score) for o in scale.options] == [
        ("適切", "compliant", 2),
        ("一部不十分", "noncompliant", 1),
        ("不十分", "noncompliant", 0),
        ("該当なし", "excluded", None),
    ]


def test_the_contract_checklist_speaks_to_the_contractor_in_its_own_wording():
    checklist = load_file(DEFINITIONS / "emergency-contracts.yaml")
    assert checklist.description_contractor.startswith("この点検票は、区から")
    assert checklist.description_contractor_en and checklist.description_en
    for item in checklist.items:
        # 「貴社は…していますか」: a question to the company, not the division's 「…を確認している」
        assert item.text_contractor.startswith(("貴社は", "貴社の")), item.key
        assert item.text_contractor.endswith("か"), item.key
        assert "確認している" not in item.text_contractor, item.key
        assert item.text_contractor_en.endswith("?"), item.key
        # The division keeps its wording; a help that tells the division what to look at has
        # the contractor's counterpart (a neutral one, 「再委託がない場合は…」, serves both).
        assert not item.text.endswith("か") and "貴社" not in item.text, item.key
        if "確認しているか" in item.help or "区が" in item.help:
            assert item.help_contractor and "確認しているか" not in item.help_contractor, item.key
