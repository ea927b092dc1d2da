"""委託先評価: the security office evaluates each company once a fiscal year; a grade below the
line issues a correction recommendation (是正勧告), tracked as the company's corrective action."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import render_template_string

import config
from survey import access, clock
from survey.extensions import db
from survey.models import (
    Assignment,
    AuditEntry,
    Checklist,
    Contract,
    Contractor,
    ContractorEvaluation,
    CorrectiveAction,
    OrgUnit,
    OutgoingMail,
    Recommendation,
    User,
)
from survey.models.campaigns import CampaignStatus
from survey.models.followup import ActionSource, ActionStatus
from survey.services import checklists as checklist_service
from survey.services import evaluations
from tests.helpers import form_data, login

TODAY = date(2026, 11, 24)
# 11 items of the shipped 評価票, 2 points each; 該当なし leaves both counts.
WEAK = {
    1: "good",
    2: "good",
    3: "poor",
    4: "poor",
    5: "partial",
    6: "poor",
    7: "poor",
    8: "partial",
    9: "good",
    10: "poor",
    11: "na",
}
STRONG = {n: "good" for n in range(1, 12)} | {11: "na", 10: "partial"}


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY


def company(code: str) -> Contractor:
    return db.session.scalar(sa.select(Contractor).where(Contractor.code == code))


def office_respondent() -> str:
    office = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "情報政策課"))
    return f"r-{office.code.lower()}"


def evaluate(app, code: str, answers: dict[int, str]) -> Assignment:
    """The whole flow in the browser: admin starts, the office answers and submits, admin
    approves."""
    admin = login(app, "admin")
    target = company(code)
    response = admin.post(f"/contractors/{target.id}/evaluation")
    assert response.status_code == 302
    assignment_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    assignment = db.session.get(Assignment, assignment_id)
    comments = {
        n: "確認した事実と改善の要望" for n, c in answers.items() if c in ("partial", "poor")
    }
    staff = login(app, office_respondent())
    response = staff.post(
        f"/assignments/{assignment_id}",
        data=form_data(assignment, answers, comments, action="submit"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Assignment, assignment_id).status == "submitted"
    response = admin.post(f"/assignments/{assignment_id}/review", data={"approve": "承認する"})
    assert response.status_code == 302
    db.session.expire_all()
    return db.session.get(Assignment, assignment_id)


def test_weak_evaluation_issues_a_recommendation_owned_by_the_company(demo_app, today):
    assignment = evaluate(demo_app, "C010", WEAK)
    target = company("C010")
    evaluation = db.session.scalar(
        sa.select(ContractorEvaluation).where(ContractorEvaluation.contractor_id == target.id)
    )
    # good 3×2 + partial 2×1 + poor 0, over 10 applicable items × 2.
    assert (evaluation.points, evaluation.points_possible) == (8, 20)
    assert evaluation.score == 40.0 and evaluation.grade == "C"
    assert evaluation.fiscal_year == 2026 and evaluation.assignment_id == assignment.id
    recommendation = evaluation.recommendation
    assert recommendation.deadline == TODAY + timedelta(days=30)
    action = db.session.get(CorrectiveAction, recommendation.corrective_action_id)
    assert action.contractor_id == target.id and action.unit_id is None
    assert action.source == ActionSource.RECOMMENDATION and action.due_on == recommendation.deadline
    assert "不十分" in recommendation.text and "確認した事実" in recommendation.text
    mails = db.session.scalars(
        sa.select(OutgoingMail).where(OutgoingMail.recipient == "c-c010@example.jp")
    ).all()
    assert [m.subject for m in mails] == [
        "【情報セキュリティ自己点検】是正勧告（令和8年度 個人情報委託先評価）"
    ]
    actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert {"evaluation.start", "evaluation.complete", "recommendation.issue"} <= actions


def test_strong_evaluation_issues_nothing(demo_app, today):
    evaluate(demo_app, "C010", STRONG)
    evaluation = db.session.scalar(
        sa.select(ContractorEvaluation).where(
            ContractorEvaluation.contractor_id == company("C010").id
        )
    )
    assert evaluation.grade == "A" and evaluation.score == 95.0
    assert evaluation.recommendation is None


def evaluation_version() -> Checklist:
    return db.session.scalar(
        sa.select(Checklist)
        .where(Checklist.code == "contractor-evaluation")
        .order_by(Checklist.version.desc())
    )


def test_the_shipped_grades_are_the_former_defaults(demo_app):
    bands = evaluation_version().grades
    assert [(b.basis, b.min, b.label, b.below_standard) for b in bands] == [
        ("percent", 80, "A", False),
        ("percent", 60, "B", False),
        ("percent", 0, "C", True),
    ]


def test_grades_follow_the_campaigns_checklist_version(demo_app, today):
    for band, (floor, label, below) in zip(
        evaluation_version().grades,
        [(95, "S", False), (30, "A", False), (0, "B", True)],
        strict=True,
    ):
        band.min, band.label, band.below_standard = floor, label, below
    db.session.commit()
    evaluate(demo_app, "C010", WEAK)
    evaluation = db.session.scalar(
        sa.select(ContractorEvaluation).where(
            ContractorEvaluation.contractor_id == company("C010").id
        )
    )
    assert evaluation.grade == "A" and evaluation.recommendation is None


def test_a_band_marked_below_standard_issues_the_recommendation(demo_app, today):
    bands = evaluation_version().grades
    bands[1].below_standard = True  # B as well: STRONG's 95 % is still A
    bands[0].min = 96
    db.session.commit()
    evaluate(demo_app, "C010", STRONG)
    evaluation = db.session.scalar(
        sa.select(ContractorEvaluation).where(
            ContractorEvaluation.contractor_id == company("C010").id
        )
    )
    assert evaluation.grade == "B" and evaluation.recommendation is not None


def test_grade_boundaries(demo_app):
    bands = evaluation_version().grades
    scores = [(1000, 1000), (800, 1000), (799, 1000), (600, 1000), (599, 1000), (0, 1000)]
    assert [evaluations.grade_of(evaluations.Score(*s), bands).label for s in scores] == [
        "A",
        "A",
        "B",
        "B",
        "C",
        "C",
    ]
    # Everything 該当なし: nothing to recommend.
    assert evaluations.grade_of(evaluations.Score(0, 0), bands).label == "A"


def _without_grades(version: Checklist) -> None:
    for band in list(version.grades):
        db.session.delete(band)
    db.session.commit()
    db.session.expire_all()


def test_a_campaign_on_a_version_without_grades_takes_the_newest_graded_one(demo_app, today):
    """A year's campaign opened on contractor-evaluation 1 (before the grades were in the
    file) is graded with the bands of the newest published version that has them."""
    old = evaluation_version()
    newer = checklist_service.add_version(
        replace(checklist_service.to_schema(old), version=old.version + 1), "newer.yaml"
    )
    newer.published_at = old.published_at
    for band, label in zip(newer.grades, ("甲", "乙", "丙"), strict=True):
        band.label = label
    _without_grades(old)
    campaign = evaluations.evaluation_campaign(evaluations.fiscal_year(TODAY))
    assert campaign.checklist_id == old.id  # opened by the demo, before the new version
    evaluate(demo_app, "C010", WEAK)
    evaluation = db.session.scalar(
        sa.select(ContractorEvaluation).where(
            ContractorEvaluation.contractor_id == company("C010").id
        )
    )
    assert evaluation.grade == "丙" and evaluation.recommendation is not None


def test_without_any_grades_evaluations_are_refused_with_a_message(demo_app, today):
    assignment = evaluations.start(
        company("C010"),
        db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "情報政策課")),
        db.session.scalar(sa.select(User).where(User.username == "admin")),
        TODAY,
    )
    db.session.commit()
    staff = login(demo_app, office_respondent())
    response = staff.post(
        f"/assignments/{assignment.id}",
        data=form_data(assignment, STRONG, {10: "改善の要望"}, action="submit"),
    )
    assert response.status_code == 302
    _without_grades(evaluation_version())
    admin = login(demo_app, "admin")
    refused = admin.post(f"/assignments/{assignment.id}/review", data={"approve": "承認する"})
    assert refused.status_code == 422
    assert "評価段階（grades）がありません" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Assignment, assignment.id).status == "submitted"
    assert (
        db.session.scalars(
            sa.select(ContractorEvaluation).where(
                ContractorEvaluation.contractor_id == company("C010").id
            )
        ).all()
        == []
    )
    other = company("C009")
    started = admin.post(f"/contractors/{other.id}/evaluation", follow_redirects=True)
    assert "評価段階（grades）がありません" in started.get_data(as_text=True)
    assert (
        db.session.scalars(
            sa.select(Assignment.id).where(Assignment.contractor_id == other.id)
        ).all()
        == []
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SURVEY_EVALUATION_RECOMMENDATION_DAYS", "0", "SURVEY_EVALUATION_RECOMMENDATION_DAYS"),
        ("SURVEY_EVALUATION_DUE_MONTH", "13", "1〜12"),
    ],
)
def test_bad_evaluation_settings_stop_the_start(monkeypatch, tmp_path, variable, value, message):
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv(variable, value)
    with pytest.raises(config.ConfigError, match=message):
        config.load()


def test_evaluation_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SURVEY_EVALUATION_RECOMMENDATION_DAYS", "14")
    monkeypatch.setenv("SURVEY_EVALUATION_DUE_MONTH", "3")
    settings = config.load()
    assert settings["EVALUATION_RECOMMENDATION_DAYS"] == 14
    assert settings["EVALUATION_DUE_MONTH"] == 3
    # The grades moved into the checklist file: the former variables are not read.
    assert not {"EVALUATION_GRADES", "EVALUATION_RECOMMEND_BELOW"} & set(settings)


def _recommendation_of(code: str) -> Recommendation:
    return db.session.scalar(
        sa.select(Recommendation)
        .join(ContractorEvaluation)
        .where(ContractorEvaluation.contractor_id == company(code).id)
    )


def test_recommendation_state_follows_its_corrective_action(demo_app):
    recommendation = _recommendation_of("C001")
    action = recommendation.corrective_action
    before = recommendation.deadline - timedelta(days=1)
    assert evaluations.recommendation_state(recommendation, before) == "open"
    action.status = ActionStatus.REPORTED
    assert evaluations.recommendation_state(recommendation, before) == "reported"
    after = recommendation.deadline + timedelta(days=1)
    assert evaluations.recommendation_state(recommendation, after) == "overdue"
    assert recommendation in evaluations.recommendations_overdue(after)
    action.status = ActionStatus.VERIFIED
    assert evaluations.recommendation_state(recommendation, after) == "resolved"
    assert recommendation not in evaluations.recommendations_overdue(after)


def test_office_records_notice_of_ending_the_contract(demo_app, today):
    overdue = _recommendation_of("C003")
    assert evaluations.recommendation_state(overdue, TODAY) == "overdue"
    admin = login(demo_app, "admin")
    url = f"/contractors/recommendations/{overdue.id}/end-notice"
    unconfirmed = admin.post(url, follow_redirects=True).get_data(as_text=True)
    assert "チェックを入れてください" in unconfirmed
    db.session.expire_all()
    assert overdue.contract_end_noticed_on is None
    assert admin.post(url, data={"confirm": "y"}).status_code == 302
    db.session.expire_all()
    assert overdue.contract_end_noticed_on == TODAY
    page = admin.get(f"/contractors/{company('C003').id}").get_data(as_text=True)
    assert "委託終了を通知済" in page


def test_notice_of_ending_is_refused_before_the_deadline(demo_app, today):
    still_open = _recommendation_of("C001")
    admin = login(demo_app, "admin")
    response = admin.post(
        f"/contractors/recommendations/{still_open.id}/end-notice",
        data={"confirm": "y"},
        follow_redirects=True,
    )
    assert "期限を過ぎて是正されていない" in response.get_data(as_text=True)
    db.session.expire_all()
    assert still_open.contract_end_noticed_on is None


def test_history_across_years_on_the_company_page(demo_app, today):
    page = login(demo_app, "auditor").get(f"/contractors/{company('C002').id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert text.index("令和7年度") < text.index("令和6年度")
    assert "是正確認済" in text  # 令和6年度's recommendation was corrected
    assert "委託契約と再委託" in text
    # In English the fiscal years read as English readers write them.
    english = login(demo_app, "auditor").get(f"/contractors/{company('C002').id}?lang=en").text
    assert english.index("FY2025") < english.index("FY2024")


def test_due_and_overdue_list(demo_app, today):
    rows = {
        r.contractor.code: r.status for r in evaluations.due_rows(sa.select(Contract.id), TODAY)
    }
    assert rows["C004"] == "done"  # evaluated this year
    assert rows["C005"] == "due"  # last year only, and before the due month has passed
    assert rows["C010"] == "overdue"  # never evaluated
    assert evaluations.due_rows(sa.select(Contract.id), date(2027, 1, 5))[4].status == "overdue"
    admin = login(demo_app, "admin")
    overdue = admin.get("/contractors/?status=overdue").get_data(as_text=True)
    assert company("C010").name in overdue and company("C005").name not in overdue
    due = admin.get("/contractors/?status=due").get_data(as_text=True)
    assert company("C005").name in due and company("C004").name not in due
    found = admin.get("/contractors/?status=all&q=みなと").get_data(as_text=True)
    assert company("C003").name in found and company("C004").name not in found


def test_due_list_sorts_and_pages(demo_app, today):
    admin = login(demo_app, "admin")
    page = admin.get("/contractors/?status=all&sort=name&dir=desc").get_data(as_text=True)
    names = sorted(
        (r.contractor.name for r in evaluations.due_rows(sa.select(Contract.id), TODAY)),
        reverse=True,
    )
    assert page.index(names[0]) < page.index(names[1])


def test_manager_sees_only_companies_of_their_subtree(demo_app, today):
    page = login(demo_app, "manager").get("/contractors/?status=all").get_data(as_text=True)
    assert company("C010").name in page  # holds a contract of 戸籍住民課 (区民部)
    assert company("C002").name not in page  # none under 区民部
    assert login(demo_app, "manager").get(f"/contractors/{company('C002').id}").status_code == 404


def test_manager_counts_only_the_contracts_of_their_subtree(demo_app, today):
    manager = db.session.scalar(sa.select(User).where(User.username == "manager"))
    mine = access.scope_contracts(manager, sa.select(Contract.id).where(Contract.active))
    ward = {
        r.contractor.code: r.contracts for r in evaluations.due_rows(sa.select(Contract.id), TODAY)
    }
    shown = {r.contractor.code: r.contracts for r in evaluations.due_rows(mine, TODAY)}
    held = dict(
        db.session.execute(
            sa.select(Contractor.code, sa.func.count(Contract.id))
            .join(Contract, Contract.contractor_id == Contractor.id)
            .where(Contract.id.in_(mine))
            .group_by(Contractor.code)
        ).all()
    )
    assert shown == held
    assert any(ward[code] > n for code, n in shown.items())  # a company also serves elsewhere
    page = login(demo_app, "manager").get("/contractors/?status=all").get_data(as_text=True)
    for code, n in shown.items():
        row = page[page.index(company(code).name) :].split("</tr>", 1)[0]
        assert f'<td class="num">{n}</td>' in row


def test_contractor_sees_its_own_result_but_never_the_questionnaire(demo_app, today):
    contractor = login(demo_app, "contractor")
    own = contractor.get(f"/contractors/{company('C001').id}")
    text = own.get_data(as_text=True)
    assert own.status_code == 200 and "是正待ち" in text and "評価票を開く" not in text
    evaluation = db.session.scalar(
        sa.select(ContractorEvaluation).where(
            ContractorEvaluation.contractor_id == company("C001").id,
            ContractorEvaluation.fiscal_year == 2026,
        )
    )
    assert contractor.get(f"/assignments/{evaluation.assignment_id}").status_code == 404
    assert "個人情報委託先評価" not in contractor.get("/assignments/").get_data(as_text=True)


def test_contractor_cannot_see_other_companies_recommendations(demo_app, today):
    other = company("C003")
    contractor = login(demo_app, "contractor")
    assert contractor.get(f"/contractors/{other.id}").status_code == 404
    recommendation = _recommendation_of("C003")
    response = contractor.post(f"/contractors/recommendations/{recommendation.id}/end-notice")
    assert response.status_code == 404
    denied = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.action == "access.denied", AuditEntry.object_type == "contractor"
        )
    )
    assert denied is not None and denied.object_id == str(other.id)
    assert contractor.get("/contractors/").status_code == 403


def test_respondent_sees_no_evaluations(demo_app, today):
    respondent = login(demo_app, "respondent")
    assert respondent.get("/contractors/").status_code == 403
    assert respondent.get(f"/contractors/{company('C001').id}").status_code == 404


def test_only_the_office_starts_an_evaluation(demo_app, today):
    target = company("C010")
    assert (
        login(demo_app, "auditor").post(f"/contractors/{target.id}/evaluation").status_code == 403
    )
    assert (
        login(demo_app, "manager").post(f"/contractors/{target.id}/evaluation").status_code == 403
    )
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(
                sa.select(Assignment).where(Assignment.contractor_id == target.id).subquery()
            )
        )
        == 0
    )


def test_starting_twice_opens_the_same_questionnaire(demo_app, today):
    admin = login(demo_app, "admin")
    target = company("C010")
    first = admin.post(f"/contractors/{target.id}/evaluation").headers["Location"]
    second = admin.post(f"/contractors/{target.id}/evaluation").headers["Location"]
    assert first == second


def test_dashboard_partials(demo_app, today):
    due = evaluations.evaluations_due(TODAY)
    overdue = evaluations.recommendations_overdue(TODAY)
    assert due["overdue"] >= 1 and due["rows"][0].status == "overdue"
    assert [r.evaluation.contractor.code for r in overdue] == ["C003"]
    with demo_app.test_request_context("/"):
        html = render_template_string(
            '{% include "followup/_evaluations_due.html" %}'
            '{% include "followup/_recommendations_overdue.html" %}',
            evaluations_due=due,
            recommendations_overdue=overdue,
        )
    assert "令和8年度の委託先評価" in html.replace(" ", "")
    assert company("C003").name in html
    english = login(demo_app, "admin").get("/followup/?lang=en").text
    assert "FY2026" in english and "令和8年度の委託先評価" not in english


def test_a_closed_years_evaluation_campaign_takes_no_new_evaluation(demo_app, today):
    year = evaluations.fiscal_year(TODAY)
    campaign = evaluations.evaluation_campaign(year)
    campaign.status = CampaignStatus.CLOSED
    db.session.commit()
    target = company("C010")
    admin = login(demo_app, "admin")
    response = admin.post(f"/contractors/{target.id}/evaluation", follow_redirects=True)
    assert "実施中ではないため、評価を開始できません" in response.get_data(as_text=True)
    assert campaign.code in response.get_data(as_text=True)
    started = sa.select(Assignment.id).where(Assignment.contractor_id == target.id)
    assert db.session.scalars(started).all() == []


def test_a_company_account_with_an_empty_address_gets_no_recommendation_mail(demo_app, today):
    target = company("C010")
    account = db.session.scalar(sa.select(User).where(User.username == "c-c010"))
    account.email = ""
    db.session.commit()
    evaluate(demo_app, "C010", WEAK)
    evaluation = db.session.scalar(
        sa.select(ContractorEvaluation).where(ContractorEvaluation.contractor_id == target.id)
    )
    assert evaluation.recommendation is not None
    assert (
        db.session.scalars(sa.select(OutgoingMail).where(OutgoingMail.recipient == "")).all() == []
    )


ASSIGNMENT_LINK = re.compile(r'href="/assignments/(\d+)')


@pytest.mark.parametrize("username", ["admin", "auditor", "manager", "contractor"])
def test_every_evaluation_link_on_a_company_page_opens(demo_app, today, username):
    """A 評価票 link is shown only to those who may open it: a manager outside the security
    office's subtree and the company itself see the results, never a link that 404s."""
    client = login(demo_app, username)
    shown = [c for c in db.session.scalars(sa.select(Contractor).order_by(Contractor.code))]
    links, results = set(), 0
    for target in shown:
        page = client.get(f"/contractors/{target.id}")
        if page.status_code != 200:
            continue
        text = page.get_data(as_text=True)
        results += text.count("令和")
        links |= set(ASSIGNMENT_LINK.findall(text))
    assert results  # the pages did show evaluation results
    for assignment_id in links:
        assert client.get(f"/assignments/{assignment_id}").status_code == 200, assignment_id
    if username == "admin":
        assert links  # the office does get the links


def test_a_company_sees_its_recommendation_without_a_link_to_its_evaluation(demo_app, today):
    recommendation = _recommendation_of("C001")
    action_id = recommendation.corrective_action_id
    evaluation_id = recommendation.evaluation.assignment_id
    page = login(demo_app, "contractor").get(f"/followup/actions/{action_id}")
    assert page.status_code == 200
    assert f"/assignments/{evaluation_id}" not in page.get_data(as_text=True)
    office = login(demo_app, "admin").get(f"/followup/actions/{action_id}")
    assert f"/assignments/{evaluation_id}" in office.get_data(as_text=True)
