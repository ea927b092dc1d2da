"""The kept counts the results read (answer_count) always equal a fresh count of the handed-in
answers: after every status change that moves an assignment into or out of the count, after an
answer sheet import, with two hand-ins at once; and `flask report counts check` finds any
difference and repairs it."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import flask_migrate
import sqlalchemy as sa

from reports import aggregate, queries
from survey.extensions import db
from survey.models import (
    Answer,
    AnswerCount,
    Assignment,
    AssignmentStatus,
    AuditEntry,
    Campaign,
    InformationSystem,
)
from survey.services import kept_counts, transitions
from tests import helpers
from tests.test_answer_sheet import open_sheet, rows, saved, upload
from tests.test_status_races import _drafted, everything

CAMPAIGN = "2026-annual-assets"


def campaign(code: str = CAMPAIGN) -> Campaign:
    return db.session.scalar(sa.select(Campaign).where(Campaign.code == code))


def kept_answers(campaign_id: int) -> int:
    """Handed-in answers to asked items, as the kept counts of the whole campaign hold them
    (and those of its units: the same)."""

    def total(where):
        return db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(AnswerCount.asked), 0)).where(
                AnswerCount.campaign_id == campaign_id, where
            )
        )

    campaign_wide = total(AnswerCount.unit_id == queries.ALL_UNITS)
    assert total(AnswerCount.unit_id != queries.ALL_UNITS) == campaign_wide
    return campaign_wide


def answers_of(assignment_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Answer.assignment_id == assignment_id, Answer.option_id.is_not(None)
        )
    )


def assert_kept(campaign_id: int) -> None:
    db.session.expire_all()
    assert kept_counts.differences(campaign_id) == []


def test_the_demo_holds_kept_counts_equal_to_its_answers(demo_app):
    campaigns = db.session.scalars(sa.select(Campaign)).all()
    for each in campaigns:
        assert_kept(each.id)
    assert kept_answers(campaign().id) > 0


def test_hand_in_return_approval_and_reopening_keep_the_counts(demo_app):
    cid = campaign().id
    start = kept_answers(cid)
    mine = _drafted(demo_app)
    assert kept_answers(cid) == start  # a draft is not counted
    respondent = helpers.login(demo_app, "respondent")
    manager = helpers.login(demo_app, "manager")

    assert respondent.post(f"/assignments/{mine.id}", data=everything(mine)).status_code == 302
    assert_kept(cid)
    assert kept_answers(cid) == start + answers_of(mine.id) > start

    review = f"/assignments/{mine.id}/review"
    sent_back = manager.post(review, data={"send_back": "1", "comment": "根拠を追記"})
    assert sent_back.status_code == 302
    assert_kept(cid)
    assert kept_answers(cid) == start

    mine = db.session.get(Assignment, mine.id)
    assert respondent.post(f"/assignments/{mine.id}", data=everything(mine)).status_code == 302
    assert manager.post(review, data={"approve": "1"}).status_code == 302
    assert db.session.get(Assignment, mine.id).status == AssignmentStatus.APPROVED
    assert_kept(cid)
    assert kept_answers(cid) == start + answers_of(mine.id)

    reopened = helpers.login(demo_app, "admin").post(
        f"/campaigns/assignments/{mine.id}/reopen",
        data={
            "reopen-due_on": (date.today() + timedelta(days=14)).isoformat(),
            "reopen-reason": "項目3の回答に誤り",
        },
    )
    assert reopened.status_code == 302
    assert db.session.get(Assignment, mine.id).status == AssignmentStatus.RETURNED
    assert_kept(cid)
    assert kept_answers(cid) == start


def _noncompliant(code: str, number: int) -> int:
    frame = aggregate.item_table(db.session.connection(), code).set_index("number")
    return int(frame.loc[number, "noncompliant"])


def test_an_answer_sheet_imported_after_a_reopening_counts_once_handed_in(demo_app):
    cid = campaign().id
    mine = _drafted(demo_app)
    respondent = helpers.login(demo_app, "respondent")
    respondent.post(f"/assignments/{mine.id}", data=everything(mine))
    helpers.login(demo_app, "admin").post(
        f"/campaigns/assignments/{mine.id}/reopen",
        data={
            "reopen-due_on": (date.today() + timedelta(days=14)).isoformat(),
            "reopen-reason": "項目1の回答に誤り",
        },
    )
    before = _noncompliant(CAMPAIGN, 1)
    workbook = open_sheet(respondent.get(f"/assignments/{mine.id}/sheet.xlsx").data)
    workbook["回答"].cell(rows(workbook)[1], 5).value = "いいえ"
    workbook["回答"].cell(rows(workbook)[1], 6).value = "未受講の職員がいます。"

    assert upload(respondent, mine.id, saved(workbook)).status_code == 302
    assert_kept(cid)
    assert _noncompliant(CAMPAIGN, 1) == before  # imported, not handed in yet

    mine = db.session.get(Assignment, mine.id)
    form = helpers.form_data(mine, action="submit")  # what is stored, the sheet's change too
    assert respondent.post(f"/assignments/{mine.id}", data=form).status_code == 302
    assert db.session.get(Assignment, mine.id).status == AssignmentStatus.SUBMITTED
    assert_kept(cid)
    assert _noncompliant(CAMPAIGN, 1) == before + 1


def test_a_hidden_conditional_answer_stays_out_of_the_kept_counts(demo_app):
    """Item 39 of the systems checklist is asked only where 38 is はい: changed to いいえ while
    returned, 39's lingering answer leaves the counts when the assignment is handed in again."""
    systems = campaign("2017-emergency-systems")
    items = {i.number: i for i in systems.checklist.items}
    answer_38 = db.session.scalar(
        sa.select(Answer)
        .join(Assignment)
        .where(Assignment.campaign_id == systems.id, Answer.item_id == items[38].id)
        .where(Answer.option_id == next(o.id for o in items[38].scale.options if o.code == "yes"))
        .limit(1)
    )
    assignment = db.session.get(Assignment, answer_38.assignment_id)
    before = aggregate.item_table(db.session.connection(), systems.code).set_index("number")

    assert transitions.move(assignment, (assignment.status,), AssignmentStatus.RETURNED)
    answer_38.option_id = next(o.id for o in items[38].scale.options if o.code == "no")
    db.session.flush()
    assert transitions.move(assignment, (AssignmentStatus.RETURNED,), AssignmentStatus.SUBMITTED)
    db.session.commit()

    assert_kept(systems.id)
    after = aggregate.item_table(db.session.connection(), systems.code).set_index("number")
    answered = ["compliant", "noncompliant", "excluded"]
    assert after.loc[39, answered].sum() == before.loc[39, answered].sum() - 1
    assert after.loc[39, "unanswered"] == 0  # not asked: not unanswered either


def test_deleting_a_draft_campaign_leaves_every_count_as_it_was(demo_app):
    draft = Campaign(
        code="draft-to-delete",
        title="削除する点検",
        checklist=campaign().checklist,
        opens_on=date(2027, 1, 4),
        closes_on=date(2027, 1, 29),
    )
    db.session.add(draft)
    db.session.commit()
    response = helpers.login(demo_app, "admin").post("/campaigns/draft-to-delete/delete")
    assert response.status_code == 302
    assert campaign("draft-to-delete") is None
    for each in db.session.scalars(sa.select(Campaign)).all():
        assert_kept(each.id)


# --- two hand-ins at once ----------------------------------------------------------------------


def _two_systems_of_one_unit() -> list[InformationSystem]:
    unit_id = db.session.scalar(
        sa.select(InformationSystem.unit_id)
        .group_by(InformationSystem.unit_id)
        .having(sa.func.count() >= 2)
        .limit(1)
    )
    return list(
        db.session.scalars(
            sa.select(InformationSystem).where(InformationSystem.unit_id == unit_id).limit(2)
        )
    )


def test_two_hand_ins_at_once_in_one_unit_both_count(demo_app):
    """Both add to the same kept rows; each holds them until it commits, a while after. With a
    read-then-write, one addition would be lost (on PostgreSQL; SQLite has one writer)."""
    systems = helpers.checklist("emergency-systems")
    pair = helpers.open_campaign(systems, _two_systems_of_one_unit(), code="race")
    yes = {i.id: next(o.id for o in i.scale.options if o.code == "yes") for i in systems.items}
    db.session.execute(
        sa.insert(Answer),
        [
            {"assignment_id": a.id, "item_id": item_id, "option_id": option_id}
            for a in pair
            for item_id, option_id in yes.items()
        ],
    )
    db.session.commit()
    ids, cid = [a.id for a in pair], pair[0].campaign_id
    start = threading.Barrier(2)
    failures = []

    def hand_in(assignment_id: int) -> None:
        with demo_app.app_context():
            try:
                assignment = db.session.get(Assignment, assignment_id)
                db.session.commit()  # each starts its own transaction at the barrier
                start.wait()
                assert transitions.move(
                    assignment, (AssignmentStatus.NOT_STARTED,), AssignmentStatus.SUBMITTED
                )
                time.sleep(0.3)  # still holding the rows when the other one adds
                db.session.commit()
            except Exception as error:  # reported below, in the test's thread
                failures.append(error)
                db.session.rollback()

    threads = [threading.Thread(target=hand_in, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert_kept(cid)
    assert kept_answers(cid) == 2 * len(yes)


# --- flask report counts check -------------------------------------------------------------------


def test_the_check_finds_a_tampered_count_and_repairs_it(demo_runner):
    cid = campaign().id
    assert demo_runner.invoke(args=["report", "counts", "check"]).exit_code == 0
    row = db.session.scalars(
        sa.select(AnswerCount).where(AnswerCount.campaign_id == cid).limit(1)
    ).one()
    key = (row.unit_id, row.item_id, row.option_id)
    db.session.execute(
        sa.update(AnswerCount)
        .where(
            AnswerCount.campaign_id == cid,
            AnswerCount.unit_id == key[0],
            AnswerCount.item_id == key[1],
            AnswerCount.option_id == key[2],
        )
        .values(answers=AnswerCount.answers + 1, asked=AnswerCount.asked + 1)
    )
    db.session.commit()

    found = demo_runner.invoke(args=["report", "counts", "check"])
    assert found.exit_code == 1
    assert f"{CAMPAIGN}：" in found.output and "--repair" in found.output
    assert "1 件の点検で" in found.output

    repaired = demo_runner.invoke(args=["report", "counts", "check", CAMPAIGN, "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert "1 件の点検の集計を回答から数え直しました" in repaired.output
    assert demo_runner.invoke(args=["report", "counts", "check"]).exit_code == 0
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "counts.repair"))
        == 1
    )


def test_the_check_finds_a_missing_row_and_refuses_an_unknown_campaign(demo_runner):
    cid = campaign().id
    db.session.execute(
        sa.delete(AnswerCount).where(AnswerCount.campaign_id == cid, AnswerCount.asked > 0)
    )
    db.session.commit()
    found = demo_runner.invoke(args=["report", "counts", "check", CAMPAIGN])
    assert found.exit_code == 1
    assert "保持 0（うち設問あり 0）" in found.output

    unknown = demo_runner.invoke(args=["report", "counts", "check", "no-such-campaign"])
    assert unknown.exit_code == 1
    assert "no-such-campaign は登録されていません" in unknown.output


# --- the upgrade that brought them ---------------------------------------------------------------


def test_the_upgrade_counts_the_answers_already_handed_in(demo_app):
    """5d1c9a7e2b40 on a database of the version before: the same counts as kept since."""
    kept = sorted(tuple(r) for r in db.session.execute(sa.select(AnswerCount.__table__)))
    db.session.commit()
    flask_migrate.stamp()
    flask_migrate.downgrade(revision="b2b933b40413")
    assert "answer_count" not in sa.inspect(db.engine).get_table_names()
    flask_migrate.upgrade()
    db.session.remove()

    after = sorted(tuple(r) for r in db.session.execute(sa.select(AnswerCount.__table__)))
    assert after == kept and len(kept) > 100
    for each in db.session.scalars(sa.select(Campaign)).all():
        assert_kept(each.id)
