"""The security office sends out an inspection in a browser: creates it from the published
checklist, chooses every division of one department, opens it and follows its progress.

`run_campaign_journey` is the reusable part: a longer journey (upload and publish a checklist
first) calls it with the option label of the version it published."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from survey import access
from survey.extensions import db
from survey.models import OrgUnit
from tests import helpers
from tests.browser.test_answering_journey import SHOTS, sign_in


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
    shots: str = SHOTS,
    first_shot: int = 30,
) -> int:
    """As a signed-in admin: create, choose the department's divisions, open; returns how many
    targets were sent out. Screenshots `<first_shot>-…png` onwards."""
    Path(shots).mkdir(parents=True, exist_ok=True)
    today = access.local_today()
    n = iter(range(first_shot, first_shot + 10))

    page.get_by_role("navigation", name="メインメニュー").get_by_role(
        "link", name="点検の実施"
    ).click()
    expect(page.get_by_role("heading", name="点検の実施", exact=True)).to_be_visible()
    page.screenshot(path=f"{shots}/{next(n)}-campaigns.png", full_page=True)

    page.get_by_role("link", name="新しい点検を作成").click()
    page.get_by_label("点検コード").fill(code)
    page.get_by_label("点検名").fill(title)
    page.get_by_label("チェックリスト（公開済みの版）").select_option(label=checklist_label)
    page.get_by_label("開始日").fill(today.isoformat())
    page.get_by_label("締切日").fill((today + timedelta(days=30)).isoformat())
    page.screenshot(path=f"{shots}/{next(n)}-campaign-new.png", full_page=True)
    page.get_by_role("button", name="作成する").click()
    expect(page.get_by_text("次に対象を選んでください")).to_be_visible()
    expect(page.get_by_text("選んだ対象: 0件")).to_be_visible()

    page.get_by_label(department, exact=True).check()
    page.get_by_role("button", name="選んだ部局の分をすべて加える").click()
    count = int(page.locator("[data-target-count]").get_attribute("data-target-count"))
    expect(page.get_by_text(f"選んだ対象: {count}件")).to_be_visible()
    page.screenshot(path=f"{shots}/{next(n)}-campaign-targets.png", full_page=True)

    page.get_by_role("link", name="開始する").click()
    expect(page.get_by_text(f"{count}件の対象に回答を依頼します")).to_be_visible()
    page.screenshot(path=f"{shots}/{next(n)}-campaign-open-confirm.png", full_page=True)
    page.get_by_role("button", name=f"{count}件に依頼して開始する").click()

    expect(page.get_by_text("点検を開始しました。")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^進捗"))).to_be_visible()
    expect(page.locator(".progress-departments tbody th")).to_have_text([department])
    page.screenshot(path=f"{shots}/{next(n)}-campaign-progress.png", full_page=True)
    return count


def test_admin_sends_out_an_inspection_to_one_department(live_server, page):
    department = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "区民部"))
    expected = db.session.scalar(
        sa.select(sa.func.count()).where(
            OrgUnit.parent_id == department.id, OrgUnit.kind.in_(("division", "office"))
        )
    )
    sign_in(page, live_server, "admin")
    sent = run_campaign_journey(page, live_server, checklist_label=checklist_option())
    assert sent == expected
    # The new round is listed with its progress bar.
    page.get_by_role("link", name="点検の実施").first.click()
    expect(page.get_by_text("令和9年度 区民部 情報資産の取扱状況 点検")).to_be_visible()
