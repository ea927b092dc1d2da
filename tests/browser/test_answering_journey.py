"""A division clerk answers the whole 21-item questionnaire in a browser and hands it in."""

import re

from playwright.sync_api import expect

from tests.browser.steps import open_own_questionnaire, sign_in


def test_respondent_answers_all_21_items_and_submits(signed_in, shot):
    page = signed_in("respondent")
    page.get_by_role("link", name="回答・承認").click()
    expect(page.get_by_role("heading", name="回答・承認")).to_be_visible()
    shot(page, "inbox")
    page.get_by_role("link", name="戸籍住民課", exact=True).first.click()
    expect(page.get_by_role("heading", name="戸籍住民課")).to_be_visible()
    shot(page, "questionnaire-half-answered")

    items = page.locator("fieldset.item")
    expect(items).to_have_count(21)
    for index in range(21):
        group = items.nth(index)
        group.get_by_label("はい", exact=True).check()
    expect(page.locator("[data-counter]")).to_have_text("残り 0 項目")
    # The script saved as we went; the page says so.
    expect(page.locator("[data-autosave-status]")).to_contain_text("自動保存しました")
    shot(page, "all-answered")

    page.get_by_role("button", name="提出する").click()
    expect(page.get_by_text("回答を提出しました。")).to_be_visible()
    expect(page.locator(".summary .status")).to_have_text("提出済")
    shot(page, "submitted")


def test_missing_comment_is_shown_next_to_its_item(live_server, page, shot):
    sign_in(page, live_server, "respondent")
    open_own_questionnaire(page, live_server)
    items = page.locator("fieldset.item")
    for index in range(21):
        items.nth(index).get_by_label("はい", exact=True).check()
    items.nth(4).get_by_label("いいえ", exact=True).check()
    items.nth(4).get_by_role("textbox").fill("")
    shot(page, "no-without-comment")
    page.get_by_role("button", name="提出する").click()
    expect(page.get_by_role("alert").filter(has_text="確認が必要な項目")).to_be_visible()
    expect(page.locator("fieldset.item.has-error")).to_have_count(1)
    expect(page.locator("fieldset.item.has-error legend")).to_contain_text(re.compile("^5"))
    # A screen reader hears which question and what is wrong, not only "radio group".
    problem = page.locator("fieldset.item.has-error")
    expect(problem.get_by_role("radiogroup")).to_have_accessible_name(re.compile("^5 退庁時"))
    expect(problem.get_by_role("textbox")).to_have_accessible_description(
        re.compile("コメントを入力してください")
    )
    shot(page, "refused-with-the-problem")


def test_questionnaire_fits_a_360px_screen(live_server, page, shot):
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, live_server, "respondent")
    open_own_questionnaire(page, live_server)
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "questionnaire-360")
    assert fits


def test_submitting_while_the_autosave_is_under_way_is_no_conflict(live_server, page, shot):
    """The page's own autosave, stored but not yet answered, must not make the submission
    look stale: the page waits for the reply and sends the submission with the new revision."""
    sign_in(page, live_server, "respondent")
    open_own_questionnaire(page, live_server)
    items = page.locator("fieldset.item")
    for index in range(21):
        items.nth(index).get_by_label("はい", exact=True).check()
    expect(page.locator("[data-autosave-status]")).to_contain_text("自動保存しました")

    held = []
    page.route("**/autosave", lambda route: held.append(route))
    with page.expect_request("**/autosave"):
        items.nth(4).get_by_label("いいえ", exact=True).check()
    page.evaluate("1")  # a round trip: the route has reached its handler
    (autosave,) = held
    stored = autosave.fetch()  # the server stores the いいえ; its reply is held back
    assert stored.ok
    items.nth(4).get_by_role("textbox").fill("机上点検を12月から始める。")
    page.get_by_role("button", name="提出する").click()
    shot(page, "submitted-during-autosave")
    autosave.fulfill(response=stored)
    expect(page.get_by_text("回答を提出しました。")).to_be_visible()
    shot(page, "submitted")
