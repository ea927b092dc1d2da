"""The owning division invites its contractor, who sets a password, answers and submits."""

import re

from playwright.sync_api import expect


def test_contractor_follows_an_invitation_answers_and_submits(signed_in, new_page, shot):
    # 戸籍住民課 owns the 住民記録システム maintenance contract in this year's round.
    division = signed_in("respondent")
    division.get_by_role("link", name="回答・承認").click()
    division.get_by_role("link", name="住民記録システム運用保守業務委託").click()
    shot(division, "contract-questionnaire")
    division.get_by_label("担当者のメールアドレス").fill(
        "tanaka@meisei.example.co.jp"
    )  # its domain in the register
    division.get_by_role("button", name="招待メールを送る").click()
    expect(division.get_by_text("招待メールを送信しました")).to_be_visible()
    shot(division, "invitation-sent")
    notice = division.get_by_text("招待リンク:").inner_text()
    link = re.search(r"(https?://\S+/auth/invite/\S+)", notice).group(1)

    page = new_page()  # the contractor's own browser
    page.goto(link)
    expect(page.get_by_role("heading", name="委託事業者アカウントの設定")).to_be_visible()
    shot(page, "invitation")
    page.get_by_label("表示名（氏名）").fill("田中 一郎")
    page.get_by_label("パスワード", exact=True).fill("sakura-joho-2026!")
    page.get_by_label("パスワード（確認）").fill("sakura-joho-2026!")
    shot(page, "password-chosen")
    page.get_by_role("button", name="パスワードを設定して始める").click()
    expect(page.get_by_text("アカウントを設定しました")).to_be_visible()
    shot(page, "account-ready")

    page.get_by_role("link", name="住民記録システム運用保守業務委託").first.click()
    items = page.locator("fieldset.item")
    expect(items).to_have_count(33)
    for index in range(33):
        items.nth(index).get_by_label("はい", exact=True).check()
    items.nth(27).get_by_role("textbox").fill("再委託なし")  # item 28 always asks for a comment
    shot(page, "answered")
    page.get_by_role("button", name="提出する").click()
    # The company's answers go to the ward's division that owns the contract, not a 所属長.
    expect(page.get_by_text("契約を担当する区の担当課の確認をお待ちください")).to_be_visible()
    shot(page, "submitted")
