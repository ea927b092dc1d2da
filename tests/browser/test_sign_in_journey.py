"""A respondent opens tenken in a real browser, signs in and lands on their home page."""

import re

from playwright.sync_api import expect


def test_respondent_signs_in_and_sees_their_home_page(live_server, page, shot):
    page.goto(live_server + "/")
    expect(page).to_have_url(re.compile(r"/auth/login"))
    expect(page.get_by_role("heading", name="ログイン")).to_be_visible()
    shot(page, "login")

    page.get_by_label("ユーザー名").fill("respondent")
    page.get_by_label("パスワード").fill("tenken-demo-2026")
    shot(page, "filled-in")
    page.keyboard.press("Enter")  # the form works from the keyboard

    expect(page.get_by_role("heading", name="ホーム")).to_be_visible()
    expect(page.get_by_text("令和8年度 情報資産の取扱状況 自己点検").first).to_be_visible()
    shot(page, "home")

    page.get_by_role("button", name="ログアウト").click()
    expect(page.get_by_text("ログアウトしました。")).to_be_visible()
    shot(page, "signed-out")


def test_wrong_password_shows_a_japanese_error(live_server, page, shot):
    page.goto(live_server + "/auth/login")
    page.get_by_label("ユーザー名").fill("admin")
    page.get_by_label("パスワード").fill("nope")
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "ユーザー名またはパスワードが正しくありません"
    )
    expect(page.get_by_label("ユーザー名")).to_have_value("admin")
    shot(page, "refused")
