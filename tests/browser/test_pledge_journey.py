"""A new employee signs in for the first time: before anything else tenken shows the staff
pledge (誓約書); they tick it, sign, land on their home page and print their copy."""

import re

from playwright.sync_api import expect

from survey.extensions import db
from survey.services.accounts import add_user
from tests.browser.axe import assert_accessible

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
    expect(page.get_by_role("heading", name="私の誓約書")).to_be_visible()
    assert_accessible(page, "my pledges")
    shot(page, "mine")
    page.get_by_role("link", name="印刷用の控え").click()
    expect(page.get_by_role("heading", name=re.compile("職員用"))).to_be_visible()
    expect(page.get_by_text("新任 花子")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"令和\d+年\d+月\d+日 \(20\d\d-\d\d-\d\d\)")).first
    ).to_be_visible()
    shot(page, "printed-copy")
    assert_accessible(page, "the printed copy")
