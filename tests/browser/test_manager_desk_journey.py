"""The department head of 区民部 opens tenken: 承認待ち is on his home page, the results of a
campaign land on his own divisions, he steps into one 課 and back up the path, opens a handed-in
questionnaire and approves it from the summary at its top. The contractor finds its open
correction recommendation on its home page and reports the measure on the corrective action."""

from __future__ import annotations

from playwright.sync_api import expect

from survey.extensions import db
from survey.models import Assignment, CorrectiveAction
from tests.browser.test_review_journey import hand_in

RESULTS = "/results/2017-emergency-assets"
MEASURE = "全従業者に個人情報の取扱いの再教育を行い、理解度テストで全員の合格を確認しました。"


def test_manager_drills_down_finds_what_waits_and_approves_from_the_summary(
    signed_in, live_server, shot
):
    assignment_id = hand_in("戸籍住民課")
    manager = signed_in("manager")

    desk = manager.get_by_role("region", name="承認待ち")
    expect(desk).to_contain_text("戸籍住民課")
    shot(manager, "desk")

    manager.goto(live_server + RESULTS)
    path = manager.get_by_role("navigation", name="集計の階層")
    expect(path).to_have_text("区民部")
    matrix = manager.locator(".results-matrix tbody tr")
    expect(matrix).to_have_count(9)  # 区民部's divisions and offices
    shot(manager, "results-divisions")

    manager.locator(".results-matrix").get_by_role("link", name="戸籍住民課", exact=True).click()
    expect(path).to_contain_text("戸籍住民課")
    expect(matrix).to_have_count(1)
    shot(manager, "results-one-division")
    path.get_by_role("link", name="区民部").click()
    expect(matrix).to_have_count(9)

    manager.goto(live_server + "/")
    desk.get_by_role("link", name="戸籍住民課").click()
    summary = manager.get_by_role("region", name="承認・差戻し")
    expect(summary).to_contain_text("「いいえ」の項目（1 件）")
    expect(summary).to_contain_text("離席時に書類を置いたままの職員がいる。")
    shot(manager, "summary")
    summary.get_by_role("button", name="承認する").click()
    expect(manager.get_by_text("承認しました。")).to_be_visible()
    shot(manager, "approved")
    db.session.rollback()
    assert db.session.get(Assignment, assignment_id).status == "approved"


def test_contractor_finds_its_recommendation_and_reports_on_the_action(signed_in, shot):
    contractor = signed_in("contractor")
    desk = contractor.get_by_role("region", name="対応が必要な是正勧告")
    expect(desk).to_contain_text("評価")
    shot(contractor, "desk")

    desk.get_by_role("link", name="措置を報告する").first.click()
    start = contractor.get_by_role("button", name="対応を始める（対応中にする）")
    if start.count():
        start.click()
        expect(contractor.get_by_text("対応中にしました。")).to_be_visible()
    contractor.get_by_label("講じた措置の内容").fill(MEASURE)
    shot(contractor, "measure")
    contractor.get_by_role("button", name="措置を報告する").click()
    expect(contractor.get_by_text("措置を報告しました。")).to_be_visible()
    shot(contractor, "reported")
    db.session.rollback()
    assert db.session.query(CorrectiveAction).filter_by(measure=MEASURE).count() == 1
