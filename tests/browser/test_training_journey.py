"""An employee reads the course, takes the comprehension test and fails, retakes it afresh and
passes; the course is then complete, on their page and on the manager's completion page."""

import re

from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.browser.steps import menu, sign_in
from tests.test_training import course

# The shipped test's right answers, question by question (checklists/definitions).
RIGHT = ["誤り", "正しい", "誤り", "正しい", "誤り", "正しい", "正しい", "誤り", "正しい", "誤り"]
OTHER = {"正しい": "誤り", "誤り": "正しい"}


def answer(page, wrong: int) -> None:
    """Choose every answer, the first `wrong` of them wrongly."""
    for number, right in enumerate(RIGHT, start=1):
        choice = OTHER[right] if number <= wrong else right
        question = page.locator("fieldset.item").nth(number - 1)
        question.get_by_role("radio", name=choice, exact=True).check()


def test_an_employee_fails_the_test_retakes_it_and_passes(live_server, page, shot):
    title = course().title
    sign_in(page, live_server, "respondent")
    menu(page, "研修")
    assert_accessible(page, "the person's courses")
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.get_by_text("研修資料を読んでから受験してください。")).to_be_visible()
    assert_accessible(page, "the course before reading")
    shot(page, "course")
    page.get_by_role("button", name="資料を読みました").click()

    page.get_by_role("button", name="受験する").click()
    expect(page.get_by_role("heading", name="情報セキュリティ研修 理解度テスト")).to_be_visible()
    answer(page, wrong=3)
    assert_accessible(page, "the test")
    shot(page, "test")
    page.get_by_role("button", name="回答を提出する").click()
    expect(page.get_by_text("不合格でした。")).to_be_visible()
    expect(page.get_by_text("7 問正解（全 10 問）")).to_be_visible()
    assert_accessible(page, "a failed attempt")
    shot(page, "failed")

    page.get_by_role("link", name="研修の受講画面へ戻る").click()
    page.get_by_role("button", name="再受験する").click()
    expect(page.locator("input[type=radio]:checked")).to_have_count(0)  # a retake starts afresh
    answer(page, wrong=1)
    page.get_by_role("button", name="回答を提出する").click()
    expect(page.get_by_text("合格です。この研修の受講は完了しました。")).to_be_visible()
    expect(page.get_by_text("9 問正解（全 10 問）")).to_be_visible()
    shot(page, "passed")

    page.get_by_role("link", name="研修の受講画面へ戻る").click()
    expect(page.get_by_text("合格しました。この研修の受講は完了です。")).to_be_visible()
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("不合格")
    expect(rows.nth(1)).to_contain_text("合格")
    expect(page.get_by_role("button", name="再受験する")).to_have_count(0)
    assert_accessible(page, "the course, passed")
    shot(page, "complete")
    page.get_by_role("button", name="ログアウト").click()

    sign_in(page, live_server, "manager")  # on the course too, and following 区民部's
    menu(page, "研修")
    completion = page.get_by_role("region", name="研修の受講状況")
    completion.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name="所属別の受講状況")).to_be_visible()
    assert_accessible(page, "the manager's completion page")
    page.get_by_role("link", name="戸籍住民課").click()
    person = page.locator("tr", has_text="住民 記録")
    expect(person).to_contain_text("合格（受講完了）")
    expect(person).to_contain_text("9/10")
    assert_accessible(page, "the people of a unit")
    shot(page, "manager-people")
    page.get_by_role("button", name="ログアウト").click()

    sign_in(page, live_server, "admin")  # the office prepares the next course
    menu(page, "研修")
    page.get_by_role("link", name="研修を作成").click()
    page.get_by_role("button", name="作成する").click()
    expect(page.get_by_text("公開済みの理解度テストを選んでください。")).to_be_visible()
    assert_accessible(page, "a refused new course")
    shot(page, "course-new-refused")
    page.get_by_label("研修コード").fill("2027-newcomers")
    page.get_by_label("研修名").fill("新任職員研修")
    page.get_by_label("理解度テスト").select_option(
        label="情報セキュリティ研修 理解度テスト（security-training-test@1）"
    )
    page.get_by_label("受講期限").fill("2026-12-25")
    page.get_by_label("研修資料（本文）").fill("個人情報は業務に必要な範囲でだけ扱います。")
    page.get_by_role("button", name="作成する").click()
    expect(page.get_by_text("研修を作成しました。")).to_be_visible()
    page.get_by_label("対象の所属（下の係・所属を含む）").select_option(label="区長室")
    page.get_by_role("button", name="対象を保存").click()
    expect(page.get_by_text("対象を保存しました。")).to_be_visible()
    assert_accessible(page, "a course being prepared")
    page.get_by_role("button", name="研修を開始する").click()
    expect(page.get_by_text("研修を開始しました")).to_be_visible()
    expect(page.get_by_role("link", name="秘書課")).to_be_visible()
    shot(page, "course-opened")

    # Closing shuts out everyone yet to pass: the button asks for the tick that says so.
    page.get_by_role("button", name="研修を終了する").click()
    expect(page.get_by_text("研修を終了しました。")).to_have_count(0)
    tick = page.get_by_label(
        re.compile(r"研修を終了します。未完了の \d+ 人は受講・受験できなくなります")
    )
    assert_accessible(page, "an open course with its closing box")
    tick.check()
    page.get_by_role("button", name="研修を終了する").click()
    expect(page.get_by_text("研修を終了しました。")).to_be_visible()
