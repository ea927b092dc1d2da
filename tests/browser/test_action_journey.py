"""A manager opens a corrective action from a いいえ answer, the division reports the measure
taken with a file, and the security office verifies it."""

from playwright.sync_api import expect

from tests.browser.steps import sign_in
from tests.test_corrective_actions import noncompliant


def sign_out(page):
    page.get_by_role("button", name="ログアウト").click()


def test_action_from_a_noncompliant_answer_to_verification(live_server, page, shot):
    assignment, item = noncompliant("国民年金課")
    owner = f"r-{assignment.responsible_unit.code.lower()}"

    sign_in(page, live_server, "manager")
    page.goto(f"{live_server}/assignments/{assignment.id}")
    page.locator(f"#item-{item.id}").get_by_role("link", name="是正措置を登録").click()
    expect(page.get_by_role("heading", name="是正措置を登録")).to_be_visible()
    expect(page.get_by_label("件名")).to_have_value(f"項目{item.number} の是正（国民年金課）")
    page.get_by_label("措置の期限").fill("2026-12-25")
    shot(page, "action-new")
    page.get_by_role("button", name="登録する").click()
    expect(page.get_by_text("是正措置を登録しました。")).to_be_visible()
    sign_out(page)

    sign_in(page, live_server, owner)
    page.get_by_role("link", name="是正措置", exact=True).click()
    page.get_by_role("link", name=f"項目{item.number} の是正（国民年金課）").click()
    page.get_by_label("講じた措置の内容").fill("手順書を改訂し、課内研修で周知しました。")
    page.get_by_label("証跡ファイル（複数可）").set_input_files(
        files=[{"name": "研修記録.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}]
    )
    page.get_by_role("button", name="措置を報告する").click()
    expect(page.get_by_text("措置を報告しました。")).to_be_visible()
    expect(page.get_by_role("link", name="研修記録.pdf")).to_be_visible()
    shot(page, "action-reported")
    sign_out(page)

    sign_in(page, live_server, "admin")
    page.get_by_role("link", name="フォローアップ", exact=True).click()
    expect(page.get_by_role("heading", name="フォローアップ")).to_be_visible()
    shot(page, "followup-dashboard")
    page.get_by_role("link", name="確認待ち（措置報告済）").click()
    page.get_by_role("link", name=f"項目{item.number} の是正（国民年金課）").click()
    page.get_by_role("button", name="確認して完了にする").click()
    expect(page.get_by_text("この是正措置を完了にしました。")).to_be_visible()
    expect(page.locator(".action-status")).to_contain_text("確認済（完了）")
    shot(page, "action-verified")
