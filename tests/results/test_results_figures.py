"""A security officer's figures: per item, per department, per category, per respondent;
counted by the database, on the whole campaign or a manager's subtree (rounds side by side:
test_rounds.py)."""

from __future__ import annotations

import sqlalchemy as sa

from reports import aggregate, queries
from survey.access import subtree_ids
from survey.extensions import db
from survey.models import Answer, Assignment, AssignmentStatus, Campaign, Item, Option
from survey.services import transitions
from tests.results.conftest import unit


def conn():
    return db.session.connection()


def campaign(code: str) -> Campaign:
    return db.session.scalar(sa.select(Campaign).where(Campaign.code == code))


def test_department_figures_add_up_to_the_per_item_figures(demo_app):
    items = aggregate.item_table(conn(), "2017-emergency-systems")
    figures = aggregate.per_department(conn(), "2017-emergency-systems")
    summed = figures.items.groupby("number")[
        ["compliant", "noncompliant", "excluded", "unanswered"]
    ].sum()
    for column in ("compliant", "noncompliant", "excluded", "unanswered"):
        assert list(summed[column]) == list(items[column])
    assert figures.summary["assignments"].sum() == 151
    # 区民部's row of the matrix is its own ratio of item 1, computed apart.
    kumin = unit("区民部")
    row = figures.items[
        (figures.items["department_id"] == kumin.id) & (figures.items["number"] == 1)
    ]
    alone = aggregate.item_table(conn(), "2017-emergency-systems", queries.subtree(kumin.id))
    assert row["ratio"].item() == alone.loc[0, "ratio"]
    assert figures.matrix().loc[kumin.id, 1] == alone.loc[0, "percent"]


def test_manager_figures_are_computed_on_their_subtree_only(demo_app):
    kumin = unit("区民部")
    whole = aggregate.item_table(conn(), "2017-emergency-assets")
    mine = aggregate.item_table(conn(), "2017-emergency-assets", subtree_ids(kumin.id))
    assert whole.loc[0, "ratio"] == "133/139"
    # Counted by hand: the handed-in answers to item 1 of 区民部's divisions and offices.
    divisions = sa.select(Assignment.id).where(
        Assignment.campaign_id == campaign("2017-emergency-assets").id,
        Assignment.responsible_unit_id.in_(subtree_ids(kumin.id)),
    )
    item_1 = campaign("2017-emergency-assets").checklist.items[0]
    by_hand = db.session.execute(
        sa.select(Option.klass, sa.func.count())
        .join(Answer, Answer.option_id == Option.id)
        .where(Answer.assignment_id.in_(divisions), Answer.item_id == item_1.id)
        .group_by(Option.klass)
    ).all()
    by_hand = dict(by_hand)
    assert mine.loc[0, "compliant"] == by_hand.get("compliant", 0)
    assert mine.loc[0, "applicable"] == by_hand.get("compliant", 0) + by_hand.get("noncompliant", 0)
    assert mine["applicable"].sum() < whole["applicable"].sum()
    # A list of unit ids works as well as a SQL selectable.
    ids = [i for (i,) in db.session.execute(subtree_ids(kumin.id))]
    listed = aggregate.item_table(conn(), "2017-emergency-assets", ids)
    assert list(listed["ratio"]) == list(mine["ratio"])


def _no_option(item: Item) -> Option:
    return next(o for o in item.scale.options if o.code == "no")


def test_answers_to_hidden_conditional_items_never_enter_a_denominator(demo_app):
    """Item 39 of the systems checklist is asked only where item 38 was answered はい. A
    respondent who changes 38 to いいえ leaves an answer to 39 behind: it must count nowhere."""
    systems = campaign("2017-emergency-systems")
    items = {i.number: i for i in systems.checklist.items}
    assert items[39].condition_number == 38
    answer_38 = db.session.scalar(
        sa.select(Answer)
        .join(Assignment)
        .join(Option, Option.id == Answer.option_id)
        .where(Assignment.campaign_id == systems.id, Answer.item_id == items[38].id)
        .where(Option.code == "yes")
        .order_by(Answer.id)
        .limit(1)
    )
    assignment_id = answer_38.assignment_id
    before = aggregate.item_table(conn(), systems.code).set_index("number")
    before_dept = aggregate.per_department(conn(), systems.code).items
    # As the app would: reopened (差戻し), 38 changed, handed in again.
    handed_in = db.session.get(Assignment, assignment_id)
    assert transitions.move(handed_in, (handed_in.status,), AssignmentStatus.RETURNED)
    answer_38.option_id = _no_option(items[38]).id
    db.session.flush()
    assert transitions.move(handed_in, (AssignmentStatus.RETURNED,), AssignmentStatus.SUBMITTED)

    after = aggregate.item_table(conn(), systems.code).set_index("number")
    answered = ["compliant", "noncompliant", "excluded"]
    assert after.loc[39, answered].sum() == before.loc[39, answered].sum() - 1
    assert after.loc[39, "unanswered"] == before.loc[39, "unanswered"] == 0  # not asked either
    assert after.loc[38, "noncompliant"] == before.loc[38, "noncompliant"] + 1
    after_dept = aggregate.per_department(conn(), systems.code).items
    assert after_dept[after_dept["number"] == 39][answered].sum().sum() == (
        before_dept[before_dept["number"] == 39][answered].sum().sum() - 1
    )
    _, respondents = aggregate.per_respondent(conn(), systems.code)
    mine = respondents[respondents["assignment_id"] == assignment_id].iloc[0]
    asked = db.session.scalar(
        sa.select(sa.func.count()).where(
            Answer.assignment_id == assignment_id,
            Answer.item_id.not_in([items[39].id, items[40].id]),
        )
    )
    assert mine["compliant"] + mine["noncompliant"] + mine["excluded"] == asked
    total, behind = aggregate.answers_behind(conn(), systems.code, 39)
    assert assignment_id not in set(behind["assignment_id"])
    assert total == after.loc[39, answered].sum()


def test_excluded_answers_are_left_out_of_the_ratio(demo_app):
    frame = aggregate.item_table(conn(), "2017-emergency-systems")
    first = frame.iloc[0]
    assert (first["ratio"], first["excluded"], first["percent"]) == ("107/135", 16, 79.3)
    categories = aggregate.per_category(frame)
    assert categories["items"].sum() == 54
    assert categories["applicable"].sum() == frame["applicable"].sum()
    a = categories.iloc[0]
    assert a["percent"] == round(100 * a["compliant"] / (a["compliant"] + a["noncompliant"]), 1)


def test_respondents_are_listed_with_their_no_answers_sorted_and_paged(demo_app):
    total, page = aggregate.per_respondent(
        conn(), "2017-emergency-assets", sort="noncompliant", descending=True, limit=10
    )
    assert total == 139 and len(page) == 10
    assert list(page["noncompliant"]) == sorted(page["noncompliant"], reverse=True)
    _, everyone = aggregate.per_respondent(conn(), "2017-emergency-assets")
    assert (
        everyone["noncompliant"].sum()
        == aggregate.item_table(conn(), "2017-emergency-assets")["noncompliant"].sum()
    )
    # yes/no scales have scores 1/0: the score is the number of はい answers.
    assert (everyone["score"] == everyone["compliant"]).all()
    _, second = aggregate.per_respondent(
        conn(), "2017-emergency-assets", sort="noncompliant", descending=True, limit=10, offset=10
    )
    assert not set(second["assignment_id"]) & set(page["assignment_id"])
