"""Demo rows for 委託先管理: three fiscal years of contractor evaluations with their correction
recommendations, and subcontracting requests in every state.

What a newcomer sees: most companies were never evaluated (期限超過); some were evaluated last
year (未実施 this year); 東都システム開発 was recommended a correction in 令和6年度 and fixed it;
株式会社みなと電算 fell below the line in 令和7年度 and let the deadline pass (委託終了の検討);
the demo contractor (さくら情報サービス) has a recommendation open this year and a request to
subcontract waiting for 区民部 (the demo manager), and one contract lists a subcontractor
nobody approved.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from survey import demo_data
from survey.demo_data import office_time
from survey.extensions import db
from survey.models import (
    Answer,
    Assignment,
    AssignmentEvent,
    Subcontract,
    SubcontractRequest,
    User,
)
from survey.models.campaigns import AssignmentStatus, CampaignStatus
from survey.models.evaluations import RequestStatus
from survey.models.followup import ActionStatus
from survey.models.registers import Subcontracting
from survey.services import evaluations

if TYPE_CHECKING:
    from survey.demo import Ward

# (company index, fiscal year, grade aimed at, day the evaluation was approved)
EVALUATIONS = [
    (0, 2024, "A", date(2024, 10, 8)),
    (0, 2025, "B", date(2025, 9, 30)),
    (0, 2026, "C", date(2026, 11, 9)),
    (1, 2024, "C", date(2024, 11, 12)),
    (1, 2025, "B", date(2025, 10, 21)),
    (2, 2024, "B", date(2024, 9, 17)),
    (2, 2025, "C", date(2025, 9, 2)),
    (3, 2025, "A", date(2025, 7, 15)),
    (3, 2026, "A", date(2026, 7, 22)),
    (4, 2025, "A", date(2025, 8, 5)),
    (5, 2025, "B", date(2025, 11, 4)),
    (6, 2026, "B", date(2026, 10, 6)),
]
RESOLVED = {(1, 2024)}  # recommendations whose correction the office verified
IN_PROGRESS = 7  # this company's evaluation for this year is being filled in
# Answer codes per grade: 11 items of 2 points; A ≥ 80 %, B ≥ 60 %, C below.
PLANS = {
    "A": ["good"] * 9 + ["partial", "na"],
    "B": ["good"] * 6 + ["partial"] * 3 + ["poor", "good"],
    "C": ["good"] * 3 + ["partial"] * 3 + ["poor"] * 4 + ["na"],
}
# What the evaluator wrote where an item fell short, by item number.
WEAK_COMMENTS = {
    1: "個人情報保護規程が前回の法改正に合わせて改定されていなかった。",
    2: "個人情報管理台帳が前年度から更新されていなかった。",
    3: "内部監査が今年度は実施されていなかった。",
    4: "リスク分析表が前年度から更新されていなかった。",
    5: "教育の受講記録が一部の派遣社員について確認できなかった。",
    6: "誓約書を取得していない従業者がいた。",
    7: "朝礼での周知は行われていたが、巡回の記録がなかった。",
    8: "入退室記録簿の記入漏れが複数見られた。",
    9: "更新プログラムが適用されていない端末があった。",
    10: "USBメモリの接続制限が一部の端末で設定されていなかった。",
    11: "再委託先の評価が行われていなかった。",
}


def load(ward: Ward) -> None:
    office = ward.by_name[demo_data.SECURITY_OFFICE]
    evaluator = ward.respondents[office.id]
    admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
    for index, year, grade, day in EVALUATIONS:
        _evaluation(ward.contractors[index], year, grade, day, office, evaluator, admin)
    # Past years are over; closed only now, as a closed year takes no new evaluation.
    for year in {year for _index, year, _grade, _day in EVALUATIONS if year < 2026}:
        evaluations.evaluation_campaign(year).status = CampaignStatus.CLOSED
    company = ward.contractors[IN_PROGRESS]
    draft = evaluations.start(company, office, admin, date(2026, 11, 16))
    draft.status = AssignmentStatus.DRAFT
    _answers(draft, ["good"] * 5, evaluator, date(2026, 11, 18))
    _requests(ward, admin)
    db.session.flush()


def _evaluation(company, year, grade, day, office, evaluator, admin) -> None:
    assignment = evaluations.start(company, office, admin, date(year, 5, 1))
    _answers(assignment, PLANS[grade], evaluator, day - timedelta(days=3))
    moment = office_time(day, 10)
    for action, status, who in (
        ("submit", AssignmentStatus.SUBMITTED, evaluator),
        ("approve", AssignmentStatus.APPROVED, admin),
    ):
        db.session.add(
            AssignmentEvent(
                assignment_id=assignment.id,
                action=action,
                from_status=assignment.status,
                to_status=status,
                user_id=who.id,
                at=moment,
            )
        )
        assignment.status = status
    assignment.submitted_at = assignment.approved_at = moment
    assignment.approved_by_id = admin.id
    db.session.flush()
    db.session.refresh(assignment)
    evaluation = evaluations.complete(assignment, admin, day, notify=False)
    evaluation.evaluated_at = moment
    recommendation = evaluation.recommendation
    if recommendation is not None:
        # Issued when the evaluation was approved, not when the demo was built.
        _dated(recommendation.corrective_action, moment)
    if recommendation is not None and (ward_index(company), year) in RESOLVED:
        action = recommendation.corrective_action
        action.status = ActionStatus.VERIFIED
        action.measure = "全従業者への再教育を実施し、入退室記録簿の点検を毎週行うこととした。"
        action.reported_at = moment + timedelta(days=20)
        action.verified_at = moment + timedelta(days=25)
        action.verified_by_id = admin.id


def _dated(action, moment: datetime) -> None:
    action.created_at = moment
    for event in action.events:
        if event.kind == "open":
            event.at = moment


def ward_index(company) -> int:
    return int(company.code[1:]) - 1


def _answers(assignment: Assignment, codes: list[str], who: User, day: date) -> None:
    checklist = assignment.campaign.checklist
    # Seeded by codes, not ids: a reloaded demo gets new ids on PostgreSQL (sequences go on).
    rng = random.Random(f"{assignment.campaign.code}:{assignment.contractor.code}")
    options = {o.code: o.id for o in checklist.items[0].scale.options}
    shuffled = codes[:]
    rng.shuffle(shuffled)
    rows = []
    for item, code in zip(checklist.items, shuffled, strict=False):
        rows.append(
            {
                "assignment_id": assignment.id,
                "item_id": item.id,
                "option_id": options[code],
                "comment": WEAK_COMMENTS[item.number] if code in ("partial", "poor") else "",
                "answered_by_id": who.id,
                "answered_at": office_time(day, 14),
                "version": 1,
            }
        )
    db.session.execute(sa.insert(Answer), rows)


def _requests(ward: Ward, admin: User) -> None:
    """Requests in every state; the subcontractors already on the register were approved when
    the contracts began, so each gets its approved request."""
    begun = office_time(date(2016, 3, 25), 10)
    for contract in ward.contracts:
        for sub in contract.subcontracts:
            db.session.add(
                SubcontractRequest(
                    contract=contract,
                    company_name=sub.company_name,
                    work=sub.work,
                    data_handled="委託業務で取り扱う個人情報のうち、入力対象の帳票に記載されたもの",
                    staff_count=sub.staff_count or 1,
                    status=RequestStatus.APPROVED,
                    requested_at=begun,
                    decided_by=admin,
                    decided_at=begun + timedelta(days=3),
                    subcontract=sub,
                )
            )
    requester = db.session.scalar(sa.select(User).where(User.username == "contractor"))
    own = [c for c in ward.contracts if c.contractor_id == requester.contractor_id]
    # A contract of 区民部's 納税課: the demo manager decides on its request.
    counter = next((c for c in own if c.unit.parent and c.unit.parent.name == "区民部"), own[0])
    _request(
        counter,
        requester,
        "株式会社ふたば人材サービス",
        "繁忙期の窓口受付補助",
        4,
        RequestStatus.PENDING,
        None,
        "",
        date(2026, 11, 17),
    )
    others = [c for c in ward.contracts if c.contractor_id != requester.contractor_id]
    other, unapproved = [c for c in others if not c.subcontracts][:2]
    decider = ward.managers[other.unit.parent_id] if other.unit.parent_id else admin
    _request(
        other,
        None,
        "株式会社第一封入センター",
        "通知書の封入封緘",
        6,
        RequestStatus.APPROVED,
        decider,
        "作業場所を再委託先の本社作業室に限ること。",
        date(2026, 6, 3),
    )
    _request(
        other,
        None,
        "個人事業主（在宅入力）",
        "申請書データの入力",
        2,
        RequestStatus.REJECTED,
        decider,
        "在宅での個人情報の取扱いは認められないため。",
        date(2026, 8, 19),
    )
    # A subcontractor on the register that nobody approved: the contracts list flags it.
    unapproved.subcontracts.append(
        Subcontract(company_name="株式会社アーバンマップ", work="地図データの更新", staff_count=3)
    )


def _request(contract, requester, name, work, staff, status, decider, conditions, day):
    moment = office_time(day, 11)
    filed = SubcontractRequest(
        contract=contract,
        company_name=name,
        work=work,
        data_handled="住民の氏名・住所・生年月日（業務に必要な範囲）",
        staff_count=staff,
        status=status,
        requested_by=requester,
        requested_at=moment,
        conditions=conditions,
    )
    if status != RequestStatus.PENDING:
        filed.decided_by = decider
        filed.decided_at = moment + timedelta(days=4)
    if status == RequestStatus.APPROVED:
        filed.subcontract = Subcontract(
            contract=contract, company_name=name, work=work, staff_count=staff
        )
        contract.subcontracting = Subcontracting.APPROVED
    elif status == RequestStatus.PENDING and contract.subcontracting == Subcontracting.NONE:
        contract.subcontracting = Subcontracting.REQUESTED
    db.session.add(filed)
