"""The security office's main path in a browser: uploads a new checklist, fixes the problem the
upload reports, checks the questionnaire in the preview, publishes it, then sends it out to the
divisions of one department and sees the round on the progress dashboard."""

import re

from playwright.sync_api import expect

from tests.browser.steps import run_campaign_journey, sign_in

CHECKLIST = """\
code: office-rooms
version: 1
title: 執務室の管理状況
target: unit
categories:
  - code: A
    title: 執務室
    items:
      - number: 1
        key: clear-desk
        text: 退庁時に机の上に書類を放置していない
      - number: 2
        key: locked-cabinets
        text: 書庫やキャビネットを施錠している
        help: 鍵の保管場所も確認してください。
      - number: 3
        key: key-register
        text: 鍵の貸出しを記録している
        condition: {item: 2, answers: [yes]}
        comment: always
"""


def test_admin_publishes_a_checklist_and_opens_a_campaign(live_server, page, tmp_path, shot):
    broken = tmp_path / "執務室.yaml"
    broken.write_text(CHECKLIST.replace("title: 執務室\n", "title: [執務室\n"), encoding="utf-8")
    fixed = tmp_path / "執務室-修正.yaml"
    fixed.write_text(CHECKLIST, encoding="utf-8")

    sign_in(page, live_server, "admin")
    page.get_by_role("navigation", name="メインメニュー").get_by_role(
        "link", name="チェックリスト"
    ).click()
    expect(page.get_by_role("heading", name="チェックリスト", exact=True)).to_be_visible()
    shot(page, "checklists")

    page.get_by_role("link", name="チェックリストをアップロード").first.click()
    expect(page.get_by_role("heading", name="チェックリストをアップロード")).to_be_visible()
    page.get_by_label("チェックリストのファイル（YAML または Excel）").set_input_files(broken)
    page.get_by_role("button", name="アップロードして検証").click()
    problems = page.get_by_role("alert").filter(has_text="何も登録していません")
    expect(problems).to_contain_text("執務室.yaml:8")
    expect(problems).to_contain_text("YAML の書き方に誤りがあります")
    shot(page, "checklist-upload-problems")

    page.get_by_label("チェックリストのファイル（YAML または Excel）").set_input_files(fixed)
    page.get_by_role("button", name="アップロードして検証").click()
    expect(page.get_by_text("第1版を下書きとして登録しました。")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("執務室の管理状況"))).to_be_visible()
    questions = page.locator(".questionnaire.preview fieldset.item")
    expect(questions).to_have_count(3)
    expect(questions.nth(2)).to_contain_text("項目 2 の回答が「はい」の場合に回答してください。")
    expect(questions.nth(0).get_by_label("はい", exact=True)).to_be_disabled()
    shot(page, "checklist-preview")

    page.get_by_role("link", name="公開する").click()
    expect(page.get_by_role("heading", name=re.compile("公開しますか"))).to_be_visible()
    shot(page, "checklist-publish-confirm")
    page.get_by_role("button", name="公開する").click()
    expect(page.get_by_text("office-rooms@1 を公開しました。")).to_be_visible()
    expect(page.locator("h1 .status")).to_have_text("公開済")
    shot(page, "checklist-published")

    page.get_by_role("link", name="チェックリスト", exact=True).first.click()
    expect(page.get_by_role("cell", name="執務室の管理状況")).to_be_visible()

    sent = run_campaign_journey(
        page,
        live_server,
        checklist_label="執務室の管理状況（office-rooms 第1版）",
        code="2027-office-rooms",
        title="令和9年度 区民部 執務室の管理状況 点検",
        shot=shot,
    )
    assert sent > 0
