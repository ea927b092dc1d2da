"""How answers count: partial, unknown and informational answers, one scoring path for the
page and the files, and the points a published checklist writes (checklists/scoring.py)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from checklists.loader import ChecklistFileError, load_file
from reports import aggregate
from survey.extensions import db
from survey.models import OrgUnit, Scale
from survey.services import transitions
from tests.helpers import import_checklist, open_campaign, store_directly

CLASSES_CHECKLIST = """\
code: classes
version: 1
title: 区分の確認
target: unit
scales:
  - code: level4
    title: 4段階
    options:
      - {code: done, label: 実施している, class: compliant, score: 4}
      - {code: part, label: 一部実施している, class: partial, score: 2}
      - {code: "no", label: 実施していない, class: noncompliant, score: 0}
      - {code: dk, label: わからない, class: unknown, score: "-1"}
      - {code: na, label: 該当しない, class: excluded}
  - code: fact
    title: 事実
    options:
      - {code: "yes", label: している, class: informational}
      - {code: "no", label: していない, class: informational}
categories:
  - code: A
    title: 管理
    items:
      - {number: 1, text: 再委託しているか, scale: fact}
      - {number: 2, text: 規程を定めている, scale: level4}
      - {number: 3, text: 研修を行っている, scale: level4}
      - {number: 4, text: 台帳を整えている, scale: level4}
      - {number: 5, text: 点検している, scale: level4}
"""


# The two bugs, on a checklist today's main could import: only the first three classes.
PLAIN_LEVEL4 = """\
code: plain
version: 1
title: 4段階の点検
target: unit
scales:
  - code: level4
    title: 4段階
    options:
      - {code: done, label: 実施している, class: compliant, score: 4}
      - {code: part, label: 一部実施している, class: noncompliant, score: 2}
      - {code: na, label: 該当しない, class: excluded}
categories:
  - code: A
    title: 管理
    items:
      - {number: 1, text: 規程を定めている, scale: level4}
      - {number: 2, text: 研修を行っている, scale: level4}
      - {number: 3, text: 台帳を整えている, scale: level4}
"""


def units(*names):
    return [db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == n)) for n in names]


def hand_in(assignment, answers):
    store_directly(assignment, {n: (code, "") for n, code in answers.items()})
    assert transitions.move(assignment, (assignment.status,), "submitted")  # as a hand-in does
    db.session.commit()


@pytest.fixture
def answered(demo_app, tmp_path):
    """Two divisions' answers to a checklist with every class of answer."""
    checklist = import_checklist(tmp_path, CLASSES_CHECKLIST)
    first, second = open_campaign(checklist, units("戸籍住民課", "秘書課"), code="classes-1")
    hand_in(first, {1: "yes", 2: "done", 3: "part", 4: "dk", 5: "na"})
    hand_in(second, {1: "no", 2: "no", 3: "done", 4: "part", 5: "done"})
    return first, second


def test_partial_and_unknown_are_applicable_and_counted_on_their_own(answered):
    with db.engine.connect() as conn:
        _, frame = aggregate.per_item(conn, "classes-1")
        figures = aggregate.item_table(conn, "classes-1")
    by_number = figures.set_index("number")
    # Item 3: one はい and one 一部: 1/2, the partial answer in the denominator.
    assert by_number.loc[3, "ratio"] == "1/2" and by_number.loc[3, "partial"] == 1
    # Item 4: 一部 and わからない: nothing compliant out of two applicable.
    assert by_number.loc[4, "ratio"] == "0/2"
    assert (by_number.loc[4, "partial"], by_number.loc[4, "unknown"]) == (1, 1)
    # Item 1 only records a fact: in neither count, and not unanswered either.
    assert by_number.loc[1, "ratio"] == "0/0" and by_number.loc[1, "unanswered"] == 0
    assert by_number.loc[1, "informational"] == 2


def test_a_respondents_score_leaves_out_what_is_not_applicable(answered):
    first, second = answered
    with db.engine.connect() as conn:
        _, frame = aggregate.per_respondent(conn, "classes-1")
    rows = frame.set_index("assignment_id")
    # 4 + 2 - 1 on three applicable items (best 4 each); 対象外 and the fact add nothing.
    assert (rows.loc[first.id, "score"], rows.loc[first.id, "max_score"]) == (5, 12)
    assert (rows.loc[first.id, "partial"], rows.loc[first.id, "unknown"]) == (1, 1)
    assert rows.loc[first.id, "percent"] == round(100 * 1 / 3, 1)
    assert (rows.loc[second.id, "score"], rows.loc[second.id, "max_score"]) == (10, 16)


def test_the_files_give_the_pages_score(answered, demo_runner):
    first, second = answered
    args = ["report", "table", "classes-1", "--table", "respondents", "--format", "json"]
    result = demo_runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["rows"]
    assert sorted((r["score"], r["partial"], r["unknown"]) for r in rows) == [(5, 1, 1), (10, 1, 0)]


def test_an_excluded_option_stored_with_points_scores_the_same_everywhere(
    demo_app, tmp_path, demo_runner
):
    """A 対象外 stored with -1 points (before the validator refused it): the page left it out,
    the Excel, CSV and report table added it. Both read one query now."""
    checklist = import_checklist(tmp_path, PLAIN_LEVEL4)
    scale = checklist.items[0].scale
    na = next(o for o in scale.options if o.code == "na")
    na.score = -1
    db.session.commit()
    (one,) = open_campaign(checklist, units("戸籍住民課"), code="classes-2")
    hand_in(one, {1: "done", 2: "na", 3: "part"})
    with db.engine.connect() as conn:
        _, frame = aggregate.per_respondent(conn, "classes-2")
    assert (frame.loc[0, "score"], frame.loc[0, "max_score"]) == (6, 8)
    args = ["report", "table", "classes-2", "--table", "respondents", "--format", "json"]
    result = demo_runner.invoke(args=args)
    assert json.loads(result.output)["rows"][0]["score"] == 6


def test_a_score_on_an_excluded_or_informational_option_is_refused(tmp_path):
    text = CLASSES_CHECKLIST.replace(
        "{code: na, label: 該当しない, class: excluded}",
        "{code: na, label: 該当しない, class: excluded, score: -1}",
    ).replace(
        "label: している, class: informational}", "label: している, class: informational, score: 1}"
    )
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ChecklistFileError) as refused:
        load_file(path)
    problems = [(p.message_id, p.where, p.params.get("option")) for p in refused.value.problems]
    assert problems == [
        ("score_on_unscored_option", "13", "na"),
        ("score_on_unscored_option", "17", "yes"),
    ]
    assert "対象外と参考の回答は得点にも満点にも数えません" in refused.value.problems[0].render()


@pytest.mark.parametrize("written, points", [('"-1"', -1), ('"４"', 4), ('"－１"', -1), ("-1", -1)])
def test_points_are_read_as_published_checklists_write_them(tmp_path, written, points):
    path = tmp_path / "points.yaml"
    path.write_text(CLASSES_CHECKLIST.replace('"-1"', written), encoding="utf-8")
    scale = next(s for s in load_file(path).scales if s.code == "level4")
    assert scale.option("dk").score == points


def test_points_in_a_text_cell_of_the_excel_form_are_read_as_numbers(tmp_path):
    from checklists.writer import write_xlsx

    path = tmp_path / "points.yaml"
    path.write_text(CLASSES_CHECKLIST, encoding="utf-8")
    book = tmp_path / "points.xlsx"
    write_xlsx(load_file(path), book)
    import openpyxl

    workbook = openpyxl.load_workbook(book)
    sheet = workbook["尺度"]
    headings = [c.value for c in sheet[1]]
    score = headings.index("点数") + 1
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row, headings.index("選択肢コード") + 1).value == "dk":
            sheet.cell(row, score).value = "－１"
        if sheet.cell(row, headings.index("選択肢コード") + 1).value == "done":
            sheet.cell(row, score).value = "４"
    workbook.save(book)
    scale = next(s for s in load_file(book).scales if s.code == "level4")
    assert (scale.option("dk").score, scale.option("done").score) == (-1, 4)


OTHER_LEVEL4 = PLAIN_LEVEL4.replace("code: plain", "code: other").replace(
    "label: 実施している,", "label: 十分に実施している,"
)


def test_two_files_with_the_same_scale_code_keep_their_own_options(demo_app, tmp_path):
    from survey.services.checklists import import_files

    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first.write_text(PLAIN_LEVEL4, encoding="utf-8")
    second.write_text(OTHER_LEVEL4, encoding="utf-8")
    outcomes, problems = import_files([first, second], publish=True)
    assert not problems and [o.action for o in outcomes] == ["created", "created"]
    labels = {o.checklist.code: o.checklist.items[1].scale.options[0].label for o in outcomes}
    assert labels == {"plain": "実施している", "other": "十分に実施している"}
    # Each version owns its scale; the built-in ones stay shared.
    owners = db.session.scalars(sa.select(Scale.checklist_id).where(Scale.code == "level4"))
    assert sorted(owners) == sorted(o.checklist.id for o in outcomes)
