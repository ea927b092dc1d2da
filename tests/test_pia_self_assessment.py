"""The shipped PIA-style self-assessment (seed 004): its YAML and Excel forms are one checklist,
and a division that answers it through the questionnaire finds its score, grade and advice on
its own result page and in the results' CSV."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

import checklists
from checklists import load_file
from survey.extensions import db
from survey.models import Assignment, User
from survey.models.org import Role
from survey.services.checklists import import_files
from tests.helpers import checklist, form_data, login, open_campaign
from tests.test_scoring import units

DEFINITIONS = Path(checklists.__file__).parent / "definitions"
CODE = "pia-self-assessment"

# 戸籍住民課 outsources the work: 委託先の監督 (9–12) is asked; 11 does not apply.
OUTSOURCED = {
    1: "strong",
    2: "sufficient",
    3: "sufficient",
    4: "issues",
    5: "sufficient",
    6: "unknown",
    7: "sufficient",
    8: "yes",
    9: "strong",
    10: "sufficient",
    11: "na",
    12: "issues",
    13: "sufficient",
    14: "sufficient",
    15: "issues",
    16: "strong",
    17: "sufficient",
    18: "unknown",
}
# 秘書課 does not: 9–12 are not asked, and the fact itself is never scored.
IN_HOUSE = {n: "sufficient" for n in (*range(1, 8), *range(13, 19))} | {1: "strong", 16: "strong"}
IN_HOUSE[8] = "no"


def test_the_yaml_and_excel_forms_are_one_checklist(demo_app):
    yaml_form = load_file(DEFINITIONS / f"{CODE}.yaml")
    assert load_file(DEFINITIONS / f"{CODE}.xlsx") == yaml_form
    # The demo imported the YAML: the Excel form is the same version, unchanged.
    outcomes, problems = import_files([DEFINITIONS / f"{CODE}.xlsx"], publish=True)
    assert problems == [] and [o.action for o in outcomes] == ["unchanged"]
    stored = checklist(CODE)
    assert stored.content_hash == yaml_form.content_hash()
    assert [(g.min, g.label, g.below_standard) for g in stored.grades] == [
        (80, "A", False),
        (60, "B", False),
        (40, "C", False),
        (0, "D", True),
    ]


def respondent_of(unit) -> User:
    return db.session.scalar(
        sa.select(User).where(User.unit_id == unit.id, User.role == Role.RESPONDENT)
    )


def answer(app, assignment: Assignment, answers: dict[int, str]) -> None:
    """The division's respondent answers and hands in through the questionnaire; every
    課題・わからない says why, as the checklist asks."""
    comments = {
        n: "次回までに確認する" for n, code in answers.items() if code in ("issues", "unknown")
    }
    client = login(app, respondent_of(assignment.unit).username)
    response = client.post(
        f"/assignments/{assignment.id}",
        data=form_data(assignment, answers, comments, action="submit"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Assignment, assignment.id).status == "submitted"


def test_a_division_finds_its_grade_on_its_result_and_in_the_csv(demo_app):
    first, second = open_campaign(checklist(CODE), units("戸籍住民課", "秘書課"), code="pia-2026")
    answer(demo_app, first, OUTSOURCED)
    answer(demo_app, second, IN_HOUSE)

    # 3+2+2+1+2+0+2 + 3+2+1 + 2+2+1 + 3+2+0 = 28 of 16 applicable items × 3.
    own = login(demo_app, respondent_of(first.unit).username).get(f"/assignments/{first.id}/result")
    page = own.get_data(as_text=True)
    assert own.status_code == 200
    assert "28 / 48（58.3%）" in page and "result-grade" in page
    assert "課題が残されています。課題のある項目ごとに担当者と期限を決めて" in page
    assert "課題が残されている（一部実施）" in page and "わからない（わからない）" in page
    assert "委託しているか" not in page  # the fact lowered nothing
    # Two 特に力を入れている and eleven 十分である over 13 items × 3: 28 / 39.
    other = login(demo_app, respondent_of(second.unit).username).get(
        f"/assignments/{second.id}/result"
    )
    assert "28 / 39（71.8%）" in other.get_data(as_text=True)
    assert "概ね十分です。" in other.get_data(as_text=True)

    csv = login(demo_app, "admin").get("/results/pia-2026/export/respondents.csv")
    header, *lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    columns = header.split(",")
    rows = {row[columns.index("担当所属")]: row for row in (line.split(",") for line in lines)}
    wanted = ("得点", "評価", "一部実施", "わからない", "対象外")
    assert {unit: [row[columns.index(c)] for c in wanted] for unit, row in rows.items()} == {
        "戸籍住民課": ["28", "C", "3", "2", "1"],
        "秘書課": ["28", "B", "0", "0", "0"],
    }
