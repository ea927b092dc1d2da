"""Contractor evaluations (委託先評価): fiscal years, scores and grades, correction
recommendations (是正勧告) and which companies are due for this year's evaluation.

An evaluation is the evaluation checklist answered about one company in the year's evaluation
campaign (created on demand), by the security office's staff through the ordinary
questionnaire; when the answers are approved, `complete` turns them into a score and a grade,
and a grade below the line issues a recommendation, which is a corrective action owned by the
company.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from checklists import scoring
from survey.extensions import db
from survey.models import (
    Assignment,
    Campaign,
    Checklist,
    ChecklistGrade,
    Contract,
    Contractor,
    CorrectiveAction,
    OrgUnit,
    User,
)
from survey.models.campaigns import CampaignStatus
from survey.models.evaluations import EVALUATION_CHECKLIST, ContractorEvaluation, Recommendation
from survey.models.followup import ActionSource, ActionStatus
from survey.services import escalation, trail, transitions
from survey.services.actions import open_action
from survey.services.answering import Invalid
from survey.services.notify import contractor_recipients, queue_mail

# --- fiscal years ---------------------------------------------------------------------------


def fiscal_year(day: date) -> int:
    """The fiscal year (April–March) a day falls in, named by the year it begins."""
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_label(year: int) -> str:
    """令和8年度 for 2026 (平成 before 2019, whose fiscal year began in 平成)."""
    if year >= 2019:
        reiwa = year - 2018
        return f"令和{'元' if reiwa == 1 else reiwa}年度"
    return f"平成{year - 1988}年度"


# --- score and grade ------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    points: int
    possible: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.points / self.possible, 1) if self.possible else None


def _points(option) -> int:
    # Options without points count as in the results: compliant 1, noncompliant 0.
    if option.score is not None:
        return option.score
    return 1 if option.klass == "compliant" else 0


def score_of(assignment: Assignment) -> Score:
    """Points obtained over points possible; 該当なし (excluded) leaves both, and each item's
    possible points are the best option of its scale."""
    points = possible = 0
    for answer in assignment.answers:
        option = answer.option
        if option is None or option.klass == "excluded":
            continue
        points += _points(option)
        possible += max(_points(o) for o in option.scale.options if o.klass != "excluded")
    return Score(points, possible)


def grades_of(campaign: Campaign) -> list[ChecklistGrade]:
    """The bands an evaluation is graded with: its campaign's version's, from the checklist
    file. A year's campaign opened on a version stored before the grades were in the file
    (contractor-evaluation 1) takes those of the newest published version that has them."""
    if campaign.checklist.grades:
        return campaign.checklist.grades
    graded = db.session.scalar(
        sa.select(Checklist)
        .where(
            Checklist.code == EVALUATION_CHECKLIST,
            Checklist.published_at.is_not(None),
            Checklist.grades.any(),
        )
        .order_by(Checklist.version.desc())
    )
    return graded.grades if graded is not None else []


def grade_of(score: Score, bands: list[ChecklistGrade]) -> ChecklistGrade:
    """The band a score falls in; nothing applicable (all 該当なし) takes the best band, as
    there is nothing to recommend."""
    basis = bands[0].basis
    return scoring.grade(bands, basis, score.points, score.possible) or bands[0]


def _no_grades_message() -> str:
    return _(
        "委託先評価票（%(code)s）に評価段階（grades）がありません。評価段階のある版を"
        "取り込んで公開してください。",
        code=EVALUATION_CHECKLIST,
    )


# --- starting and completing ----------------------------------------------------------------


def is_evaluation(assignment: Assignment) -> bool:
    return assignment.campaign.checklist.code == EVALUATION_CHECKLIST


class CannotStart(Exception):
    pass


def _checklist() -> Checklist:
    checklist = db.session.scalar(
        sa.select(Checklist)
        .where(Checklist.code == EVALUATION_CHECKLIST, Checklist.published_at.is_not(None))
        .order_by(Checklist.version.desc())
    )
    if checklist is None:
        raise CannotStart(
            _("委託先評価票（%(code)s）が取り込まれていません。", code=EVALUATION_CHECKLIST)
        )
    return checklist


def evaluation_campaign(year: int) -> Campaign:
    """The year's evaluation campaign, opened on first use."""
    code = f"{EVALUATION_CHECKLIST}-{year}"
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == code))
    if campaign is None:
        campaign = Campaign(
            code=code,
            title=f"{fiscal_year_label(year)} 個人情報委託先評価",
            checklist=_checklist(),
            opens_on=date(year, 4, 1),
            closes_on=date(year + 1, 3, 31),
            status=CampaignStatus.OPEN,
        )
        escalation.apply(campaign, escalation.office_steps())
        db.session.add(campaign)
    return campaign


def start(contractor: Contractor, unit: OrgUnit | None, user: User, today: date) -> Assignment:
    """This year's evaluation questionnaire for a company, answered by `unit` (the security
    office); the existing one if it was started already."""
    if unit is None:
        raise CannotStart(_("評価を担当する所属がありません。所属のある管理者が開始してください。"))
    campaign = evaluation_campaign(fiscal_year(today))
    if campaign.status != CampaignStatus.OPEN:
        # A closed year takes no new questionnaires (and answers in it would be frozen).
        raise CannotStart(
            _(
                "%(title)s（%(code)s）は実施中ではないため、評価を開始できません。"
                "点検の状態を確認してください。",
                title=campaign.title,
                code=campaign.code,
            )
        )
    if not grades_of(campaign):
        raise CannotStart(_no_grades_message())
    if campaign.id is not None:
        existing = db.session.scalar(
            sa.select(Assignment).where(
                Assignment.campaign_id == campaign.id, Assignment.contractor_id == contractor.id
            )
        )
        if existing is not None:
            return existing
    assignment = Assignment(
        campaign=campaign,
        target_kind="contractor",
        contractor=contractor,
        responsible_unit=unit,
        due_on=_due_date(fiscal_year(today)),
    )
    db.session.add(assignment)
    db.session.flush()
    trail.record("evaluation.start", assignment, summary=f"{contractor.name} {campaign.title}")
    return assignment


def _due_date(year: int) -> date:
    month = current_app.config["EVALUATION_DUE_MONTH"]
    calendar_year = year if month >= 4 else year + 1
    following = date(calendar_year + (month == 12), month % 12 + 1, 1)
    return following - timedelta(days=1)


def complete(
    assignment: Assignment, user: User, today: date, *, notify: bool = True
) -> ContractorEvaluation:
    """Score an approved evaluation questionnaire; issue a recommendation below the line
    (`notify=False`: without mailing the company, for the demo's past years)."""
    year = fiscal_year(assignment.campaign.opens_on)
    score = score_of(assignment)
    bands = grades_of(assignment.campaign)
    if not bands:
        # Approving would leave the company ungraded: refused, next to the review's comment.
        raise Invalid({0: [_no_grades_message()]})
    band = grade_of(score, bands)
    evaluation = db.session.scalar(
        sa.select(ContractorEvaluation).where(
            ContractorEvaluation.contractor_id == assignment.contractor_id,
            ContractorEvaluation.fiscal_year == year,
        )
    ) or ContractorEvaluation(contractor_id=assignment.contractor_id, fiscal_year=year)
    evaluation.assignment = assignment
    evaluation.points, evaluation.points_possible = score.points, score.possible
    evaluation.score = score.percent
    evaluation.grade = band.label
    evaluation.evaluated_by = user
    db.session.add(evaluation)
    db.session.flush()
    trail.record(
        "evaluation.complete",
        evaluation,
        summary=f"{assignment.contractor.name} {fiscal_year_label(year)} {evaluation.grade}",
        after={"score": evaluation.score, "grade": evaluation.grade},
    )
    if band.below_standard and evaluation.recommendation is None:
        recommend(evaluation, user, today, notify=notify)
    return evaluation


def _weak_points(assignment: Assignment) -> list[str]:
    lines = []
    for answer in sorted(assignment.answers, key=lambda a: a.item.number):
        if answer.option is not None and answer.option.klass == "noncompliant":
            line = f"{answer.item.number}. {answer.item.text}（{answer.option.label}）"
            if answer.comment:
                line += f"\n   {answer.comment}"
            lines.append(line)
    return lines


def recommend(
    evaluation: ContractorEvaluation, user: User | None, today: date, *, notify: bool = True
) -> Recommendation:
    """A correction recommendation with a deadline, tracked as the company's corrective action,
    and a mail to the company's accounts."""
    deadline = today + timedelta(days=current_app.config["EVALUATION_RECOMMENDATION_DAYS"])
    company = evaluation.contractor
    label = fiscal_year_label(evaluation.fiscal_year)
    text = "\n".join(
        [
            f"{label}の個人情報委託先評価の結果（評価 {evaluation.grade}、得点率 "
            f"{evaluation.score if evaluation.score is not None else '－'}%）が基準に達しません"
            "でした。次の点を是正し、期限までに措置の内容を報告してください。"
            "期限までに是正されない場合は、委託の終了を検討します。",
            "",
            *_weak_points(evaluation.assignment),
        ]
    )
    action = open_action(
        title=f"是正勧告：{company.name}（{label} 委託先評価 {evaluation.grade}）",
        due_on=deadline,
        created_by=user,
        contractor=company,
        description=text,
        source=ActionSource.RECOMMENDATION,
        assignment=evaluation.assignment,
        notify=False,  # the recommendation's own mail says it all
    )
    recommendation = Recommendation(
        evaluation=evaluation,
        issued_on=today,
        deadline=deadline,
        text=text,
        corrective_action=action,
    )
    db.session.add(recommendation)
    db.session.flush()
    trail.record("recommendation.issue", recommendation, summary=action.title)
    for account in contractor_recipients(company.id) if notify else []:
        queue_mail(
            account.email,
            f"【情報セキュリティ自己点検】是正勧告（{label} 個人情報委託先評価）",
            f"{company.name} {account.display_name} 様\n\n{text}\n\n"
            f"期限：{deadline.isoformat()}\n"
            f"{current_app.config['SURVEY_BASE_URL']}/contractors/{company.id}\n",
        )
    return recommendation


def notice_contract_end(recommendation: Recommendation, today: date) -> bool:
    """Record that the company was told its contracts will end (past the deadline, not fixed).
    False when it was recorded already (a double post, two people at once): nothing again."""
    if recommendation.contract_end_noticed_on is not None:
        return False
    if recommendation_state(recommendation, today) != "overdue":
        raise ValueError("only an overdue recommendation leads to ending the contract")
    if not transitions.claim(
        recommendation,
        Recommendation.contract_end_noticed_on.is_(None),
        contract_end_noticed_on=today,
    ):
        return False
    trail.record(
        "recommendation.end_notice",
        recommendation,
        summary=recommendation.evaluation.contractor.name,
    )
    return True


# --- a recommendation's state, from its corrective action -----------------------------------

RECOMMENDATION_STATES = ("open", "reported", "resolved", "overdue", "end_noticed")


def recommendation_state(recommendation: Recommendation, today: date) -> str:
    action = recommendation.corrective_action
    if action.status == ActionStatus.VERIFIED:
        return "resolved"
    if recommendation.contract_end_noticed_on is not None:
        return "end_noticed"
    if recommendation.deadline < today:
        return "overdue"  # 期限超過：委託の終了を検討
    return "reported" if action.status == ActionStatus.REPORTED else "open"


# --- history and the lists ------------------------------------------------------------------


def history(contractor: Contractor) -> list[ContractorEvaluation]:
    return list(
        db.session.scalars(
            sa.select(ContractorEvaluation)
            .where(ContractorEvaluation.contractor_id == contractor.id)
            .order_by(ContractorEvaluation.fiscal_year.desc())
        )
    )


def open_evaluation(contractor: Contractor, today: date) -> Assignment | None:
    """This year's questionnaire if it was started and not yet approved."""
    return db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .where(
            Campaign.code == f"{EVALUATION_CHECKLIST}-{fiscal_year(today)}",
            Assignment.contractor_id == contractor.id,
            Assignment.status != "approved",
        )
    )


@dataclass
class DueRow:
    contractor: Contractor
    contracts: int
    last_year: int | None
    last_grade: str | None
    status: str  # done | due | overdue


def _status(last_year: int | None, today: date) -> str:
    year = fiscal_year(today)
    if last_year == year:
        return "done"
    if last_year is None or last_year < year - 1 or today > _due_date(year):
        return "overdue"
    return "due"


def due_rows(contracts_in_scope: sa.Select, today: date) -> list[DueRow]:
    """Every company holding an active contract of `contracts_in_scope` (a select of Contract
    ids), with the number of those contracts — a manager counts only their subtree's —, its last
    evaluation and whether this year's is done, due or overdue."""
    contracts = (
        sa.select(Contract.contractor_id, sa.func.count(Contract.id).label("n"))
        .where(Contract.active.is_(True), Contract.id.in_(contracts_in_scope))
        .group_by(Contract.contractor_id)
        .subquery()
    )
    last = (
        sa.select(
            ContractorEvaluation.contractor_id,
            sa.func.max(ContractorEvaluation.fiscal_year).label("year"),
        )
        .group_by(ContractorEvaluation.contractor_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Contractor, contracts.c.n, last.c.year, ContractorEvaluation.grade)
        .join(contracts, contracts.c.contractor_id == Contractor.id)
        .outerjoin(last, last.c.contractor_id == Contractor.id)
        .outerjoin(
            ContractorEvaluation,
            sa.and_(
                ContractorEvaluation.contractor_id == Contractor.id,
                ContractorEvaluation.fiscal_year == last.c.year,
            ),
        )
        .where(Contractor.active.is_(True))
        .order_by(Contractor.code)
    )
    return [DueRow(c, n, year, grade, _status(year, today)) for c, n, year, grade in rows]


def evaluations_due(today: date) -> dict:
    """For the security office's dashboard: how many companies are due or overdue, and the
    first of them (overdue first)."""
    rows = [r for r in due_rows(sa.select(Contract.id), today) if r.status != "done"]
    rows.sort(key=lambda r: (r.status != "overdue", r.last_year or 0, r.contractor.code))
    return {
        "fiscal_year": fiscal_year(today),  # the page writes it in its language
        "due": sum(r.status == "due" for r in rows),
        "overdue": sum(r.status == "overdue" for r in rows),
        "rows": rows[:10],
    }


def recommendations_overdue(today: date) -> list[Recommendation]:
    """Recommendations past their deadline whose correction was not verified, oldest first:
    for each, the security office decides on ending the contracts."""
    return list(
        db.session.scalars(
            sa.select(Recommendation)
            .join(CorrectiveAction, CorrectiveAction.id == Recommendation.corrective_action_id)
            .where(
                Recommendation.deadline < today, CorrectiveAction.status != ActionStatus.VERIFIED
            )
            .order_by(Recommendation.deadline, Recommendation.id)
        )
    )


def recommendations_of(contractor: Contractor) -> list[Recommendation]:
    return list(
        db.session.scalars(
            sa.select(Recommendation)
            .join(ContractorEvaluation)
            .where(ContractorEvaluation.contractor_id == contractor.id)
            .order_by(Recommendation.issued_on.desc())
        )
    )


def open_recommendations(contractor: Contractor, today: date) -> list[tuple[Recommendation, str]]:
    """The contractor's desk: recommendations not yet resolved, with their state, the overdue
    ones first and then the nearest deadline."""
    found = [(r, recommendation_state(r, today)) for r in recommendations_of(contractor)]
    waiting = [(r, state) for r, state in found if state != "resolved"]
    return sorted(waiting, key=lambda pair: (pair[1] != "overdue", pair[0].deadline, pair[0].id))
