"""The department head of 区民部 opens tenken: 承認待ち is on his home page, the results of a
campaign land on his own divisions, he steps into each 課 and back up the path, opens a handed-in
questionnaire and approves it from the summary at its top. The contractor finds its open
correction recommendation on its home page (grade, deadline, state, a link to the action),
reports the measure on the corrective action and sees the recommendation wait for review."""

from __future__ import annotations

from playwright.sync_api import expect

from reports.dates import wareki_iso
from survey import clock
from survey.extensions import db
from survey.models import Assignment, CorrectiveAction
from survey.services import evaluations
from tests.browser.test_review_journey import hand_in
from tests.helpers import user

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

    divisions = manager.locator(".results-matrix tbody th a").all_inner_texts()
    assert len(divisions) == 9 and "戸籍住民課" in divisions
    for number, division in enumerate(divisions, 1):
        manager.locator(".results-matrix").get_by_role("link", name=division, exact=True).click()
        expect(path.get_by_role("listitem")).to_have_text(["区民部", division])
        expect(matrix).to_have_count(1)
        expect(matrix.first).to_contain_text(division)
        shot(manager, f"results-division-{number}")
        path.get_by_role("link", name="区民部").click()
        expect(path).to_have_text("区民部")
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


def test_contractor_finds_its_recommendation_and_reports_on_the_action(
    signed_in, live_server, shot
):
    company = user("contractor").contractor
    [(recommendation, state)] = evaluations.open_recommendations(company, clock.today())
    assert state == "open"
    contractor = signed_in("contractor")
    desk = contractor.get_by_role("region", name="対応が必要な是正勧告")
    row = desk.get_by_role("row").filter(has_text="評価 " + recommendation.evaluation.grade)
    expect(row).to_contain_text(
        evaluations.fiscal_year_label(recommendation.evaluation.fiscal_year)
    )
    expect(row).to_contain_text(wareki_iso(recommendation.deadline))
    expect(row).to_contain_text("是正待ち")
    shot(contractor, "desk")

    row.get_by_role("link", name="措置を報告する").click()
    expect(contractor.get_by_role("heading", level=1)).to_have_text(
        recommendation.corrective_action.title
    )
    start = contractor.get_by_role("button", name="対応を始める（対応中にする）")
    if start.count():
        start.click()
        expect(contractor.get_by_text("対応中にしました。")).to_be_visible()
    contractor.get_by_label("講じた措置の内容").fill(MEASURE)
    shot(contractor, "measure")
    contractor.get_by_role("button", name="措置を報告する").click()
    expect(contractor.get_by_text("措置を報告しました。")).to_be_visible()
    shot(contractor, "reported")

    contractor.goto(live_server + "/")
    expect(row).to_contain_text("措置報告済（確認待ち）")
    shot(contractor, "desk-reported")
    db.session.rollback()
    assert db.session.query(CorrectiveAction).filter_by(measure=MEASURE).count() == 1
