"""A new employee signs in for the first time: before anything else tenken shows the staff
pledge (誓約書); they tick it, sign, land on their home page and print their copy."""

import re

from playwright.sync_api import expect

from survey.extensions import db
from survey.services.accounts import add_user
from tests.browser.axe import assert_accessible
from tests.browser.steps import sign_in

PASSWORD = "shinnin-kosekijumin-2026"


def test_a_new_account_acknowledges_the_pledge_at_first_sign_in(live_server, page, shot):
    add_user(
        "r-shinnin",
        "respondent",
        password=PASSWORD,
        display_name="新任 花子",
        unit_code="D04-01",  # 戸籍住民課
    )
    db.session.commit()

    page.goto(live_server + "/auth/login")
    page.get_by_label("ユーザー名").fill("r-shinnin")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()

    expect(page).to_have_url(re.compile(r"/auth/pledge$"))
    expect(page.get_by_role("heading", name="誓約書", exact=True)).to_be_visible()
    expect(page.get_by_text("新任 花子さん、利用を始める前に")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("職員用.*第2版"))).to_be_visible()
    shot(page, "pledge")
    assert_accessible(page, "the pledge page")

    # Nothing else opens until it is signed.
    page.goto(live_server + "/assignments/")
    expect(page).to_have_url(re.compile(r"/auth/pledge$"))

    page.get_by_role("button", name="誓約する").click()  # not ticked
    expect(page.get_by_text("誓約する場合はチェックを入れてください。")).to_be_visible()
    shot(page, "not-ticked")
    assert_accessible(page, "the pledge page with its error")

    page.get_by_label("上記の誓約書の内容を確認し、遵守することを誓約します。").check()
    page.get_by_role("button", name="誓約する").click()
    expect(page.get_by_text("誓約書への同意を記録しました。")).to_be_visible()
    expect(page.get_by_role("heading", name="ホーム")).to_be_visible()
    shot(page, "signed")

    page.get_by_role("link", name=re.compile("新任 花子")).click()
    page.get_by_role("link", name="同意した誓約書と印刷用の控え").click()
    expect(page.get_by_role("heading", name="自分の誓約書")).to_be_visible()
    assert_accessible(page, "my pledges")
    shot(page, "mine")
    page.get_by_role("link", name="印刷用の控え").click()
    expect(page.get_by_role("heading", name=re.compile("職員用"))).to_be_visible()
    expect(page.get_by_text("新任 花子")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"令和\d+年\d+月\d+日 \(20\d\d-\d\d-\d\d\)")).first
    ).to_be_visible()
    expect(page.get_by_text(re.compile(r"^第2版（令和\d+年\d+月\d+日公開）$"))).to_be_visible()
    expect(page.locator("tr", has_text="所属")).to_contain_text("戸籍住民課")
    shot(page, "printed-copy")
    assert_accessible(page, "the printed copy")


def test_the_office_publishes_a_new_version_only_once_it_ticks_that_everyone_signs_again(
    live_server, page, shot
):
    sign_in(page, live_server, "admin")
    page.goto(live_server + "/pledges/staff")
    page.get_by_role("link", name="次の版を作成").click()
    page.get_by_label("本文").fill(
        "令和9年度の誓約書。住民の記録は、事務に必要な場合に限り照会します。"
    )
    page.get_by_role("button", name="下書きを保存").click()
    expect(page.get_by_text("第3版の下書きを保存しました。")).to_be_visible()

    page.get_by_role("button", name="この版を公開する").click()  # not ticked: the form stays
    expect(page.get_by_role("heading", name="第3版（下書き）")).to_be_visible()
    tick = page.get_by_label("第3版を公開します。対象の全員に、次回のログイン時に同意を求めます")
    assert_accessible(page, "a draft with its publishing box")
    shot(page, "publish-confirm")
    tick.check()
    page.get_by_role("button", name="この版を公開する").click()
    expect(page.get_by_text("第3版を公開しました。")).to_be_visible()
    expect(page.get_by_role("heading", name="第3版（下書き）")).to_have_count(0)
