"""Delegation (委任): the 戸籍住民課 respondent has handed the last category of this year's
questionnaire to a colleague (the demo's `staff`). The colleague signs in, finds their part in
回答・承認, answers it — the rest of the questionnaire is not on their page — and marks it done;
the respondent sees it done, answers the rest and hands the whole in."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from survey.extensions import db
from survey.models import Delegation
from tests.browser.axe import assert_accessible
from tests.browser.steps import open_own_questionnaire
from tests.helpers import user


def handed_over() -> tuple[str, int]:
    """The category handed to `staff` in the demo: its heading and how many items it holds."""
    delegation = db.session.scalar(
        sa.select(Delegation).where(Delegation.delegate_id == user("staff").id)
    )
    (category,) = delegation.categories
    return category.title, len(category.items)


def test_a_delegate_answers_their_part_and_the_delegator_submits(signed_in, live_server, shot):
    title, count = handed_over()

    page = signed_in("staff")
    page.get_by_role("link", name="回答・承認").click()
    part = page.get_by_role("region", name="依頼された回答").or_(
        page.locator("section.card", has_text="依頼された回答")
    )
    expect(part.first).to_contain_text(title)
    shot(page, "inbox-handed-to-me")
    part.first.get_by_role("link", name="戸籍住民課", exact=True).click()
    expect(page.get_by_role("heading", name="戸籍住民課")).to_be_visible()
    page.wait_for_load_state("load")
    expect(page.get_by_text("あなたに依頼された分類だけが表示されています")).to_be_visible()
    items = page.locator("fieldset.item")
    expect(items).to_have_count(count)
    expect(page.get_by_role("button", name="提出する")).to_have_count(0)
    expect(page.get_by_role("link", name="Excel 回答シートをダウンロード")).to_have_count(0)
    assert_accessible(page, "a delegate's part of the questionnaire")
    shot(page, "only-my-part")

    expect(page.get_by_text(f"未回答の項目が {count} 件あります")).to_be_visible()
    for index in range(count):
        items.nth(index).get_by_label("はい", exact=True).check()
    expect(page.locator("[data-counter]")).to_have_text("残り 0 項目")
    expect(page.locator("[data-autosave-status]")).to_contain_text("自動保存しました")
    shot(page, "part-answered")
    expect(page.get_by_text("未回答の項目")).to_be_hidden()  # kept current as they answer
    page.get_by_label("回答を確定して依頼した人に知らせます（この後は変更できません）").check()
    page.get_by_role("button", name="依頼された回答を終えたことを知らせる").click()
    expect(
        page.get_by_text("依頼された回答を終えたことを、依頼した人に知らせました。")
    ).to_be_visible()
    expect(page.locator("section.delegations")).to_contain_text("回答完了")
    expect(page.get_by_text("回答の完了を知らせました。")).to_be_visible()
    expect(page.get_by_role("button", name="下書き保存")).to_have_count(0)
    shot(page, "part-done")

    page = signed_in("respondent")
    open_own_questionnaire(page, live_server)
    expect(page.get_by_text("戸籍 係員 さんが回答完了")).to_be_visible()  # beside the category
    delegations = page.locator("section.delegations")
    expect(delegations).to_contain_text("回答完了")
    expect(delegations).to_contain_text("戸籍 係員")
    shot(page, "delegator-sees-it-done")
    items = page.locator("fieldset.item")
    expect(items).to_have_count(21)
    for index in range(21):
        items.nth(index).get_by_label("はい", exact=True).check()
    expect(page.locator("[data-counter]")).to_have_text("残り 0 項目")
    page.get_by_role("button", name="提出する").click()
    expect(page.get_by_text("回答を提出しました。")).to_be_visible()
    expect(page.locator(".summary .status")).to_have_text("提出済")
    shot(page, "submitted")

    page.get_by_role("link", name="変更履歴").click()
    expect(page.get_by_role("cell", name="依頼された回答の完了")).to_be_visible()
    shot(page, "history")


def test_the_delegation_form_is_accessible(signed_in, live_server, shot):
    page = signed_in("respondent")
    open_own_questionnaire(page, live_server)
    page.get_by_role("link", name="同じ所属の職員に回答を依頼する").click()
    expect(page.get_by_role("heading", name="回答の依頼（委任）：戸籍住民課")).to_be_visible()
    page.get_by_role("button", name="依頼する").click()  # nothing chosen: refused, explained
    expect(page.get_by_text("依頼する相手を一覧から選んでください。")).to_be_visible()
    assert_accessible(page, "the delegation form, refused")
    shot(page, "delegation-form-refused")
    expect(page.get_by_text("依頼中の分類は表示していません。")).to_be_visible()
    page.get_by_label("依頼する相手").select_option(label="戸籍 係員")
    box = page.get_by_label("A 職員の研修と遵守事項")
    # The box and its label on one line: the label starts level with the box, beside it.
    label = page.locator("ul.checks label", has_text="A 職員の研修と遵守事項")
    box_at, label_at = box.bounding_box(), label.bounding_box()
    assert abs(box_at["y"] - label_at["y"]) < box_at["height"] and label_at["x"] > box_at["x"]
    box.check()
    page.get_by_role("button", name="依頼する").click()
    expect(page.get_by_text("戸籍 係員 さんに回答を依頼しました。")).to_be_visible()
    expect(page.locator("section.delegations")).to_contain_text("職員の研修と遵守事項")
    shot(page, "handed-over")
