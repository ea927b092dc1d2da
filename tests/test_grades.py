"""Grades in the checklist file: read from YAML and Excel, refused where they cannot be used,
stored per version, and the same band for each respondent on the page, CSV, JSON and Excel."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
import sqlalchemy as sa

from checklists import scoring
from checklists.loader import ChecklistFileError, load_file
from checklists.schema import Band
from checklists.writer import dump_yaml, write_xlsx
from survey.extensions import db
from survey.models import ChecklistGrade, User
from survey.models.org import Role
from survey.services import transitions
from survey.services.checklists import import_files, to_schema
from tests.helpers import login, open_campaign
from tests.results.test_results_pages import download
from tests.test_scoring import CLASSES_CHECKLIST, hand_in, units

GRADES = """\
grades:
  basis: percent
  bands:
    - {min: 100, label: A, label_en: Excellent, advice: このまま続けてください。}
    - {min: 60, label: B, advice: 一部の項目を見直してください。}
    - {min: 0, label: C, advice: 全体を見直してください。, below_standard: true}
"""
BANDED = CLASSES_CHECKLIST.replace("categories:\n", GRADES + "categories:\n", 1)


def written(tmp_path, form: str, text: str = BANDED):
    """The banded checklist as a file of the given form (the Excel one written from the YAML,
    as the office's export writes it)."""
    path = tmp_path / "banded.yaml"
    path.write_text(text, encoding="utf-8")
    if form == "xlsx":
        checklist = load_file(path)
        path = tmp_path / "banded.xlsx"
        write_xlsx(checklist, path)
    return path


@pytest.mark.parametrize("form", ["yaml", "xlsx"])
def test_grades_are_read_from_both_forms(tmp_path, form):
    grades = load_file(written(tmp_path, form)).grades
    assert grades.basis == "percent"
    assert [(b.min, b.label, b.below_standard) for b in grades.bands] == [
        (100, "A", False),
        (60, "B", False),
        (0, "C", True),
    ]
    assert grades.bands[0].label_en == "Excellent"
    assert grades.bands[2].advice == "全体を見直してください。"


def test_the_excel_form_names_its_sheet_and_setting(tmp_path):
    book = openpyxl.load_workbook(written(tmp_path, "xlsx"))
    assert [c.value for c in book["評価段階"][1]][:3] == ["下限", "評価", "評価(英)"]
    settings = {row[0].value: row[1].value for row in book["チェックリスト"].iter_rows()}
    assert settings["grade_basis"] == "percent"


BAD = {
    "basis": ("basis: percent", "basis: total", "評価の基準「total」は使えません"),
    "order": ("min: 60, label: B", "min: 100, label: B", "評価段階の下限 100 が前の段階"),
    "label": ("min: 0, label: C,", "min: 0,", "必須のキー「label」がありません"),
    "below_standard": ("below_standard: true", "below_standard: maybe", "「below_standard」の値"),
}


@pytest.mark.parametrize("kind", list(BAD))
def test_grades_that_cannot_be_used_are_refused_where_they_are_written(tmp_path, kind):
    good, bad, message = BAD[kind]
    path = written(tmp_path, "yaml", BANDED.replace(good, bad, 1))
    with pytest.raises(ChecklistFileError) as refused:
        load_file(path)
    (problem,) = refused.value.problems
    assert message in problem.render()
    line = (
        BANDED.replace(good, bad, 1)
        .splitlines()
        .index(next(line for line in BANDED.replace(good, bad, 1).splitlines() if bad in line))
        + 1
    )
    assert problem.where == str(line)


def test_an_excel_band_out_of_order_is_refused_at_its_cell(tmp_path):
    path = written(tmp_path, "xlsx")
    book = openpyxl.load_workbook(path)
    book["評価段階"]["A3"] = 100
    book.save(path)
    with pytest.raises(ChecklistFileError) as refused:
        load_file(path)
    (problem,) = refused.value.problems
    assert problem.where == "評価段階!A3" and "評価段階!A2" in problem.render()


@pytest.mark.parametrize(
    ("value", "label"), [(100, "A"), (99.9, "B"), (60, "B"), (59.9, "C"), (0, "C"), (-5, "C")]
)
def test_a_result_takes_the_highest_band_it_reaches(value, label):
    bands = [Band(100, "A"), Band(60, "B"), Band(0, "C")]
    assert scoring.grade(bands, "points", value, None).label == label
    assert scoring.grade(bands, "points", None, None) is None
    assert scoring.grade([], "points", value, None) is None


@pytest.fixture
def graded(demo_app, tmp_path):
    outcomes, problems = import_files([written(tmp_path, "xlsx")], publish=True)
    assert not problems
    checklist = outcomes[0].checklist
    first, second = open_campaign(checklist, units("戸籍住民課", "秘書課"), code="graded-1")
    hand_in(first, {1: "yes", 2: "done", 3: "part", 4: "dk", 5: "na"})  # 5/12: 41.7% -> C
    hand_in(second, {1: "no", 2: "no", 3: "done", 4: "part", 5: "done"})  # 10/16: 62.5% -> B
    return checklist, first, second


def test_grades_are_stored_per_version_and_exported_as_read(graded, tmp_path):
    checklist, _, _ = graded
    rows = checklist.grades
    assert [(g.position, g.basis, g.min, g.label) for g in rows] == [
        (0, "percent", 100, "A"),
        (1, "percent", 60, "B"),
        (2, "percent", 0, "C"),
    ]
    assert isinstance(rows[0], ChecklistGrade)
    assert to_schema(checklist).grades == load_file(written(tmp_path, "yaml")).grades
    assert "grades:\n  basis: percent\n" in dump_yaml(to_schema(checklist))


def test_every_respondent_has_the_same_grade_on_the_page_and_in_the_files(
    demo_app, graded, demo_runner
):
    _, first, second = graded
    admin = login(demo_app, "admin")
    page = admin.get("/results/graded-1/respondents").get_data(as_text=True)
    assert '<th scope="col">評価</th>' in page
    assert page.count("<td>C</td>") == 1 and page.count("<td>B</td>") == 1

    args = ["report", "table", "graded-1", "--table", "respondents", "--format", "json"]
    rows = json.loads(demo_runner.invoke(args=args).output)["rows"]
    assert sorted((r["score"], r["grade"]) for r in rows) == [(5, "C"), (10, "B")]
    csv = admin.get("/results/graded-1/export/respondents.csv").get_data(as_text=True)
    header, *lines = csv.lstrip("\ufeff").splitlines()
    at = header.split(",").index("評価")
    assert sorted(line.split(",")[at] for line in lines) == ["B", "C"]

    answers = download(admin, "/results/graded-1/export/answers.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(answers))["回答一覧"]
    head = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "部局")
    assert sorted(
        r[head.index("評価")]
        for r in sheet.iter_rows(values_only=True)
        if r[0] not in (None, "部局") and r[head.index("状態")] in ("提出済", "承認済")
    ) == ["B", "C"]
    book = openpyxl.load_workbook(io.BytesIO(download(admin, "/results/graded-1/export.xlsx")))
    grades = book["評価段階"]
    counts = {r[0]: r[3] for r in grades.iter_rows(values_only=True) if r[0] in ("A", "B", "C")}
    assert counts == {"A": 0, "B": 1, "C": 1}

    args = ["report", "table", "graded-1", "--table", "grades", "--format", "json"]
    distribution = json.loads(demo_runner.invoke(args=args).output)["rows"]
    assert [(r["grade"], r["respondents"], r["percent"]) for r in distribution] == [
        ("A", 0, 0.0),
        ("B", 1, 50.0),
        ("C", 1, 50.0),
    ]


def test_a_checklist_without_grades_has_no_distribution(demo_app, demo_runner):
    args = ["report", "table", "2026-annual-assets", "--table", "grades"]
    result = demo_runner.invoke(args=args)
    assert result.exit_code == 1 and "評価段階がありません" in result.output
    admin = login(demo_app, "admin")
    assert admin.get("/results/2026-annual-assets/export/grades.csv").status_code == 404
    page = admin.get("/results/2026-annual-assets/respondents").get_data(as_text=True)
    assert "評価" not in page


# --- the respondent's own result ----------------------------------------------------------------


def respondent_of(unit_name: str) -> str:
    unit = units(unit_name)[0]
    return db.session.scalar(
        sa.select(User.username).where(User.unit_id == unit.id, User.role == Role.RESPONDENT)
    )


def test_the_respondent_reads_the_offices_score_grade_and_advice(demo_app, graded, demo_runner):
    _, first, second = graded
    own = login(demo_app, "respondent").get(f"/assignments/{first.id}/result")
    page = own.get_data(as_text=True)
    assert own.status_code == 200
    assert (
        "5 / 12（41.7%）" in page and '<td class="result-grade" colspan="3">C（基準未満）' in page
    )
    assert "全体を見直してください。" in page
    # What lowered it: 一部実施 on item 3, わからない on item 4; not 対象外, not the fact.
    assert "一部実施している（一部実施）" in page and "わからない（わからない）" in page
    assert "再委託しているか" not in page and "点検している" not in page
    args = ["report", "table", "graded-1", "--table", "respondents", "--format", "json"]
    rows = json.loads(demo_runner.invoke(args=args).output)["rows"]
    assert {(r["score"], r["grade"]) for r in rows} == {(5, "C"), (10, "B")}
    other = login(demo_app, respondent_of("秘書課")).get(f"/assignments/{second.id}/result")
    assert "10 / 16（62.5%）" in other.get_data(as_text=True)
    # Linked from the questionnaire once handed in.
    questionnaire = login(demo_app, "respondent").get(f"/assignments/{first.id}")
    assert f"/assignments/{first.id}/result" in questionnaire.get_data(as_text=True)


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("respondent", 200),  # the unit's own
        ("manager", 200),  # 区民部, above it
        ("admin", 200),
        ("auditor", 200),
        ("contractor", 404),
        ("elsewhere", 404),  # the manager of another department
    ],
)
def test_only_those_who_may_see_the_questionnaire_read_its_result(
    demo_app, graded, username, status
):
    _, first, _ = graded
    if username == "elsewhere":
        username = manager_elsewhere()
    assert login(demo_app, username).get(f"/assignments/{first.id}/result").status_code == status


def test_a_result_waits_for_the_hand_in(demo_app, graded):
    _, first, second = graded
    assert transitions.move(first, ("submitted",), "returned")
    db.session.commit()
    own = login(demo_app, "respondent")
    assert own.get(f"/assignments/{first.id}/result").status_code == 403
    assert own.get(f"/assignments/{second.id}/result").status_code == 404  # another unit's


def manager_elsewhere() -> str:
    unit = units("秘書課")[0]
    return db.session.scalar(
        sa.select(User.username).where(User.unit_id == unit.parent_id, User.role == Role.MANAGER)
    )
