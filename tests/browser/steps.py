"""Steps that several journeys take."""

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from survey import clock
from survey.demo import DEMO_PASSWORD
from tests import helpers


def sign_in(page, base: str, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(base + "/auth/login")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", name="ホーム")).to_be_visible()


def open_own_questionnaire(page, base: str) -> None:
    """As the demo respondent: 戸籍住民課's questionnaire of this year's round, from the inbox."""
    page.goto(base + "/assignments/")
    page.get_by_role("link", name="戸籍住民課", exact=True).first.click()
    expect(page.get_by_role("heading", name="戸籍住民課")).to_be_visible()
    # questionnaire.js (deferred) hides the items not asked; a Tab pressed before it ran can land
    # on an item it then hides, and the focus falls back to <body>.
    page.wait_for_load_state("load")


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Presses Tab until the focused element matches `selector`, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


def menu(page, name: str) -> None:
    """Follows a link of the main menu (other links may carry the same name, e.g. breadcrumbs)."""
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name=name).click()


def checklist_option(code: str = "emergency-assets") -> str:
    """The label the create form shows for the latest published version of a checklist."""
    checklist = helpers.checklist(code)
    return f"{checklist.title}（{checklist.code} 第{checklist.version}版）"


def run_campaign_journey(
    page: Page,
    base: str,
    *,
    checklist_label: str,
    code: str = "2027-kumin-assets",
    title: str = "令和9年度 区民部 情報資産の取扱状況 点検",
    department: str = "区民部",
    shot,
) -> int:
    """As a signed-in admin: create, choose the department's divisions, open; returns how many
    targets were sent out. `shot` is the journey's screenshot fixture."""
    today = clock.today()

    page.get_by_role("navigation", name="メインメニュー").get_by_role(
        "link", name="点検の実施"
    ).click()
    expect(page.get_by_role("heading", name="点検の実施", exact=True)).to_be_visible()
    shot(page, "campaigns")

    page.get_by_role("link", name="新しい点検を作成").click()
    page.get_by_label("点検コード").fill(code)
    page.get_by_label("点検名").fill(title)
    page.get_by_label("チェックリスト（公開済みの版）").select_option(label=checklist_label)
    page.get_by_label("開始日").fill(today.isoformat())
    page.get_by_label("締切日").fill((today + timedelta(days=30)).isoformat())
    shot(page, "campaign-new")
    page.get_by_role("button", name="作成する").click()
    expect(page.get_by_text("次に対象を選んでください")).to_be_visible()
    expect(page.get_by_text("選んだ対象: 0件")).to_be_visible()

    page.get_by_label(department, exact=True).check()
    page.get_by_role("button", name="選んだ部局の分をすべて加える").click()
    count = int(page.locator("[data-target-count]").get_attribute("data-target-count"))
    expect(page.get_by_text(f"選んだ対象: {count}件")).to_be_visible()
    shot(page, "campaign-targets")

    page.get_by_role("link", name="開始する").click()
    expect(page.get_by_text(f"{count}件の対象に回答を依頼します")).to_be_visible()
    shot(page, "campaign-open-confirm")
    page.get_by_role("button", name=f"{count}件に依頼して開始する").click()

    expect(page.get_by_text("点検を開始しました。")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^進捗"))).to_be_visible()
    expect(page.locator(".progress-departments tbody th")).to_have_text([department])
    shot(page, "campaign-progress")
    return count
