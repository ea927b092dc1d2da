"""The manager of 区民部 returns 戸籍住民課's answers with a reason; the clerk corrects one answer
with the keyboard alone and hands them in again; the manager approves and the answers freeze."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from survey.extensions import db
from survey.models import Answer, Assignment, AssignmentEvent, Item
from survey.services import answering
from survey.services.answering import ItemInput
from tests.browser.steps import menu, tab_to
from tests.helpers import assignment_of, user

CLEAR_DESK = 5  # 退庁時や離席時に、個人情報を含む書類や記録媒体を机の上に放置していない
REASON = "項目5は、11月に始めた退庁時の机上点検の結果で回答し直してください。"
FIRST_ANSWER = "離席時に書類を置いたままの職員がいる。"
CORRECTION = "11月から退庁時に机上点検を行い、放置はなくなった。"


def hand_in(unit_name: str) -> int:
    """The division's questionnaire answered (all はい but item 5) and submitted, as the
    answering service does it for the form."""
    assignment = assignment_of(unit_name)
    clerk = user("respondent")
    inputs = {item.id: ItemInput("yes") for item in assignment.campaign.checklist.items}
    inputs[item_id(assignment, CLEAR_DESK)] = ItemInput("no", FIRST_ANSWER)
    answering.save(assignment, inputs, clerk, revision=assignment.revision)
    db.session.commit()  # as the view does: the draft is stored before the submission's checks
    answering.submit(assignment, clerk)
    db.session.commit()
    return assignment.id


def item_id(assignment: Assignment, number: int) -> int:
    return next(i.id for i in assignment.campaign.checklist.items if i.number == number)


def stored(assignment_id: int) -> Assignment:
    """The assignment as the server last committed it (a new transaction sees the new rows)."""
    db.session.rollback()
    return db.session.get(Assignment, assignment_id)


def answer_to(assignment: Assignment, number: int) -> Answer:
    return db.session.scalar(
        sa.select(Answer)
        .join(Item)
        .where(Answer.assignment_id == assignment.id, Item.number == number)
    )


def last_event(assignment: Assignment) -> AssignmentEvent:
    return db.session.scalar(
        sa.select(AssignmentEvent)
        .where(AssignmentEvent.assignment_id == assignment.id)
        .order_by(AssignmentEvent.id.desc())
        .limit(1)
    )


def open_from_inbox(page, table: str, target: str, status: str) -> None:
    menu(page, "回答・承認")
    row = (
        page.get_by_role("table", name=table)
        .get_by_role("row")
        .filter(has=page.get_by_role("link", name=target, exact=True))
    )
    expect(row).to_contain_text(status)
    row.get_by_role("link", name=target, exact=True).click()
    expect(page.get_by_role("heading", name=target, level=1)).to_be_visible()


def test_manager_returns_then_approves_and_the_answers_freeze(signed_in, shot):
    assignment_id = hand_in("戸籍住民課")

    # The manager finds the handed-in questionnaire in the approval queue.
    manager = signed_in("manager")
    menu(manager, "回答・承認")
    shot(manager, "approval-queue")
    open_from_inbox(manager, "承認待ち", "戸籍住民課", "提出済")
    reason = manager.get_by_label("コメント（差し戻す場合は理由）")
    shot(manager, "submitted-answers")

    # Returning without a reason (an IME's full-width space is none) is refused at the field.
    reason.fill("\u3000")
    manager.get_by_role("button", name="差し戻す").click()
    expect(manager.get_by_text("差し戻す理由を入力してください。")).to_be_visible()
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_be_focused()
    expect(reason).to_have_value("\u3000")
    shot(manager, "reason-missing")
    assert stored(assignment_id).status == "submitted"

    reason.fill(REASON)
    manager.get_by_role("button", name="差し戻す").click()
    expect(manager.get_by_text("差し戻しました。")).to_be_visible()
    expect(manager.locator(".summary .status")).to_have_text("差戻し")
    shot(manager, "returned")
    returned = stored(assignment_id)
    assert returned.status == "returned"
    event = last_event(returned)
    assert (event.action, event.comment, event.user.username) == ("return", REASON, "manager")

    # The clerk sees why, and corrects item 5 with the keyboard alone.
    clerk = signed_in("respondent")
    open_from_inbox(clerk, "回答する点検", "戸籍住民課", "差戻し")
    expect(clerk.get_by_role("alert").filter(has_text="差し戻されました")).to_contain_text(REASON)
    shot(clerk, "returned-with-reason")

    tab_to(clerk, ".skip-link")
    clerk.keyboard.press("Enter")  # 本文へ移動: past the menu
    item = f'fieldset[data-number="{CLEAR_DESK}"]'
    tab_to(clerk, f"{item} input[type=radio]")  # Tab enters a radio group at its choice
    expect(clerk.locator(f"{item} input:focus")).to_have_accessible_name("いいえ")
    clerk.keyboard.press("ArrowUp")
    expect(clerk.locator(item).get_by_label("はい", exact=True)).to_be_checked()
    clerk.keyboard.press("Tab")
    expect(clerk.locator(f"{item} textarea")).to_be_focused()
    clerk.keyboard.press("ControlOrMeta+A")
    clerk.keyboard.type(CORRECTION)
    shot(clerk, "corrected-with-the-keyboard")
    tab_to(clerk, "button[value=submit]")
    clerk.keyboard.press("Enter")
    expect(clerk.get_by_text("回答を提出しました。")).to_be_visible()
    shot(clerk, "handed-in-again")
    resubmitted = stored(assignment_id)
    assert resubmitted.status == "submitted"
    answer = answer_to(resubmitted, CLEAR_DESK)
    assert (answer.option.code, answer.comment) == ("yes", CORRECTION)

    # The manager approves the corrected answers.
    open_from_inbox(manager, "承認待ち", "戸籍住民課", "提出済")
    expect(manager.locator(f"{item} .answer")).to_have_text("はい")
    shot(manager, "corrected-answers")
    manager.get_by_role("button", name="承認する").click()
    expect(manager.get_by_text("承認しました。")).to_be_visible()
    expect(manager.get_by_role("button", name="承認する")).to_have_count(0)
    shot(manager, "approved")
    approved = stored(assignment_id)
    assert approved.status == "approved" and approved.approved_by_id == user("manager").id
    assert [e.action for e in answering.events(approved)][-3:] == ["return", "submit", "approve"]

    # Frozen: the clerk's page shows the answers, and nothing to change them with.
    clerk.reload()
    expect(clerk.locator(".summary .status")).to_have_text("承認済")
    expect(clerk.locator(f"{item} .answer")).to_have_text("はい")
    expect(clerk.get_by_role("radio")).to_have_count(0)
    expect(clerk.get_by_role("textbox")).to_have_count(0)
    expect(clerk.get_by_role("button", name="提出する")).to_have_count(0)
    expect(clerk.get_by_role("button", name="下書き保存")).to_have_count(0)
    expect(clerk.get_by_role("link", name="Excel 回答シートを取り込む")).to_have_count(0)
    shot(clerk, "frozen")
    db.session.rollback()
