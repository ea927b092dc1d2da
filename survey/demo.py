"""The deterministic demo: さくら区 and its 2017 emergency inspection, last year's rounds and this
year's.

Used by `flask demo load` and by the tests, so what a newcomer sees on `make run` is what the
tests check. The closed 2017 campaigns reproduce the published figures of seed 003 for items 1–4;
every other answer is drawn from a random generator seeded by the campaign and item, so the same
data comes out on every machine.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa

from survey import (
    demo_campaigns,
    demo_contractors,
    demo_delegation,
    demo_escalation,
    demo_followup,
    demo_logs,
    demo_pledges,
    demo_training,
)
from survey import demo_data as data
from survey.extensions import db
from survey.models import (
    Answer,
    Assignment,
    AssignmentEvent,
    Campaign,
    Checklist,
    Contract,
    Contractor,
    InformationSystem,
    Option,
    OrgUnit,
    OutgoingMail,
    Role,
    Scale,
    Subcontract,
    User,
)
from survey.models.campaigns import AssignmentStatus, CampaignStatus
from survey.models.org import UnitKind
from survey.models.registers import Subcontracting
from survey.passwords import hash_password
from survey.services import escalation, kept_counts
from survey.services.checklists import import_files

DEFINITIONS = Path(__file__).resolve().parent.parent / "checklists" / "definitions"
DEMO_PASSWORD = "tenken-demo-2026"

# Seed 003, 別紙: 該当 / 対象 for items 1–4 of each checklist (対象外 left out of both).
SEED_FIGURES = {
    "2017-emergency-assets": [(133, 139), (134, 139), (135, 139), (138, 139)],
    "2017-emergency-systems": [(107, 135), (42, 49), (116, 127), (41, 51)],
    "2017-emergency-contracts": [(69, 74), (66, 74), (56, 74), (68, 74)],
}

# The accounts printed by `make run`, each with something to do in the demo.
DEMO_LOGINS = {
    "admin": "管理者（情報政策課）",
    "auditor": "監査担当",
    "manager": "所属長（区民部長）",
    "respondent": "回答者（戸籍住民課）",
    "contractor": "委託事業者（株式会社さくら情報サービス）",
    "staff": "職員（戸籍住民課・回答を依頼された分類だけ）",
    "contractor-staff": "委託事業者の担当者（さくら情報サービス・回答を依頼された分類だけ）",
}


@dataclass
class Ward:
    departments: list[OrgUnit] = field(default_factory=list)
    targets: list[OrgUnit] = field(default_factory=list)  # the 139 divisions and offices
    by_name: dict[str, OrgUnit] = field(default_factory=dict)
    systems: list[InformationSystem] = field(default_factory=list)
    contractors: list[Contractor] = field(default_factory=list)
    contracts: list[Contract] = field(default_factory=list)
    respondents: dict[int, User] = field(default_factory=dict)  # by unit id
    managers: dict[int, User] = field(default_factory=dict)  # by department id


def is_empty() -> bool:
    return db.session.scalar(sa.select(sa.func.count(OrgUnit.id))) == 0


def reset() -> None:
    """Delete every row (the schema stays; migrations own it) but the audit trail's, which the
    database keeps append-only, and the anchors that verify it."""
    for table in reversed(db.metadata.sorted_tables):
        if table.name not in ("audit_entry", "audit_anchor"):
            db.session.execute(table.delete())
    db.session.commit()


def load() -> Ward:
    ward = Ward()
    _build_org(ward)
    _build_registers(ward)
    demo_campaigns.load(ward)
    _build_users(ward)
    outcomes, problems = import_files(sorted(DEFINITIONS.glob("*.yaml")), publish=True)
    if problems:
        raise RuntimeError("\n".join(p.render() for p in problems))
    checklists = {o.checklist.code: o.checklist for o in outcomes}
    _closed_campaign(
        ward,
        "2017-emergency-assets",
        "情報セキュリティに係る緊急一斉点検（情報資産）",
        checklists["emergency-assets"],
        date(2017, 1, 13),
        date(2017, 1, 31),
    )
    _closed_campaign(
        ward,
        "2017-emergency-systems",
        "情報セキュリティに係る緊急一斉点検（情報システム）",
        checklists["emergency-systems"],
        date(2017, 1, 13),
        date(2017, 1, 31),
    )
    _closed_campaign(
        ward,
        "2017-emergency-contracts",
        "情報セキュリティに係る緊急一斉点検（委託事業者）",
        checklists["emergency-contracts"],
        date(2017, 1, 13),
        date(2017, 2, 3),
    )
    # Last year's rounds, closed: with 2017's, this year's figures have two earlier rounds to
    # stand beside (the results' 推移).
    _closed_campaign(
        ward,
        "2025-annual-assets",
        "令和7年度 情報資産の取扱状況 自己点検",
        checklists["emergency-assets"],
        date(2025, 11, 4),
        date(2025, 12, 12),
    )
    _closed_campaign(
        ward,
        "2025-annual-contracts",
        "令和7年度 委託事業者の個人情報取扱い 自己点検",
        checklists["emergency-contracts"],
        date(2025, 11, 4),
        date(2025, 12, 12),
    )
    _open_campaign(
        ward,
        "2026-annual-assets",
        "令和8年度 情報資産の取扱状況 自己点検",
        checklists["emergency-assets"],
        {
            AssignmentStatus.APPROVED: 22,
            AssignmentStatus.SUBMITTED: 40,
            AssignmentStatus.RETURNED: 4,
            AssignmentStatus.DRAFT: 25,
        },
    )
    _open_campaign(
        ward,
        "2026-annual-contracts",
        "令和8年度 委託事業者の個人情報取扱い 自己点検",
        checklists["emergency-contracts"],
        {AssignmentStatus.APPROVED: 6, AssignmentStatus.SUBMITTED: 14, AssignmentStatus.DRAFT: 10},
    )
    demo_contractors.load(ward)
    demo_followup.load()
    demo_escalation.load()
    demo_logs.load()
    demo_delegation.load()
    demo_training.load()
    demo_delegation.load_company_staff()
    demo_pledges.load()
    # The answers and statuses above went in directly, not through hand-ins.
    for campaign_id in db.session.scalars(sa.select(Campaign.id)):
        kept_counts.recount(campaign_id)
    # Building the follow-up steps queues their mails; the demo's addresses are examples, so a
    # demo starts with an empty outbox and a later `mail send` sends nothing on its behalf.
    db.session.execute(sa.delete(OutgoingMail))
    db.session.commit()
    return ward


# --- organisation and registers -------------------------------------------------------------


def _unit(ward: Ward, code: str, name: str, kind: str, parent: OrgUnit | None, pos: int) -> OrgUnit:
    unit = OrgUnit(code=code, name=name, kind=kind, parent=parent, position=pos)
    db.session.add(unit)
    ward.by_name[name] = unit
    return unit


def _build_org(ward: Ward) -> None:
    for d, (dept_name, divisions, offices) in enumerate(data.DEPARTMENTS, start=1):
        dept = _unit(ward, f"D{d:02d}", dept_name, UnitKind.DEPARTMENT, None, d)
        ward.departments.append(dept)
        members = [(n, UnitKind.DIVISION) for n in divisions] + [
            (n, UnitKind.OFFICE) for n in offices
        ]
        for m, (name, kind) in enumerate(members, start=1):
            ward.targets.append(_unit(ward, f"D{d:02d}-{m:02d}", name, kind, dept, m))
    office = ward.by_name[data.SECURITY_OFFICE]
    for s, name in enumerate(data.SECURITY_SECTIONS, start=1):
        _unit(ward, f"{office.code}-{s}", name, UnitKind.SECTION, office, s)
    db.session.flush()


def _build_registers(ward: Ward) -> None:
    rng = random.Random("registers")
    named = [(ward.by_name[owner], name) for owner, name in data.SYSTEMS]
    offices = [u for u in ward.targets if u.kind == UnitKind.OFFICE]
    terminals = [(u, f"{u.name}{data.OFFICE_SYSTEM_SUFFIX}") for u in offices]
    for n, (unit, name) in enumerate((named + terminals)[:151], start=1):
        ward.systems.append(InformationSystem(code=f"SYS-{n:03d}", name=name, unit=unit))
    db.session.add_all(ward.systems)

    for n, (name, domain) in enumerate(
        zip(data.CONTRACTORS, data.CONTRACTOR_DOMAINS, strict=True), start=1
    ):
        ward.contractors.append(Contractor(code=f"C{n:03d}", name=name, domains=domain))
    db.session.add_all(ward.contractors)

    service = [(ward.by_name[owner], title) for owner, title in data.SERVICE_CONTRACTS]
    upkeep = [(s.unit, f"{s.name}運用保守業務委託") for s in ward.systems[: 74 - len(service)]]
    for n, (unit, title) in enumerate(upkeep + service, start=1):
        # The first company holds several contracts, so the demo contractor has a list to see.
        company = ward.contractors[0 if n % 25 == 1 else n % len(ward.contractors)]
        start = date(2016, 4, 1)
        contract = Contract(
            code=f"K28-{n:03d}",
            title=title,
            unit=unit,
            contractor=company,
            start_date=start,
            # Long-running (長期継続) contracts: every one the 2017 round covered still runs in
            # 2026, when this year's round asks about it again.
            end_date=date(2027 + rng.randint(0, 4), 3, 31),
            staff_count=rng.randint(2, 40),
            subcontracting=Subcontracting.NONE,
        )
        if rng.random() < 0.15:
            contract.subcontracting = Subcontracting.APPROVED
            partner = ward.contractors[(n * 7) % len(ward.contractors)]
            contract.subcontracts.append(
                Subcontract(
                    company_name=partner.name,
                    work="データ入力の一部",
                    staff_count=rng.randint(1, 8),
                )
            )
        ward.contracts.append(contract)
    db.session.add_all(ward.contracts)
    db.session.flush()


def _build_users(ward: Ward) -> None:
    # One hash for every demo account: hashing 200 passwords with argon2 would take seconds.
    password_hash = hash_password(DEMO_PASSWORD)

    def user(username: str, name: str, role: str, **where) -> User:
        account = User(
            username=username,
            display_name=name,
            role=role,
            password_hash=password_hash,
            email=f"{username}@example.jp",
            **where,
        )
        db.session.add(account)
        return account

    def contact(account: User) -> None:
        # The register lists the demo's contractor accounts (at example.jp, not the company's
        # domain) as their company's contacts, as the office would.
        company = account.contractor
        company.contacts = "\n".join(filter(None, [company.contacts, account.email]))

    office = ward.by_name[data.SECURITY_OFFICE]
    user("admin", "情報 守", Role.ADMIN, unit=office)
    user("auditor", "監査 正", Role.AUDITOR, unit=ward.by_name["監査事務局"])
    for dept in ward.departments:
        ward.managers[dept.id] = user(
            f"m-{dept.code.lower()}", f"{dept.name}長", Role.MANAGER, unit=dept
        )
    for unit in ward.targets:
        ward.respondents[unit.id] = user(
            f"r-{unit.code.lower()}", f"{unit.name} 担当", Role.RESPONDENT, unit=unit
        )
    for company in ward.contractors:
        contact(
            user(
                f"c-{company.code.lower()}",
                f"{company.name} 担当",
                Role.CONTRACTOR,
                contractor=company,
            )
        )
    user("manager", "区民 部長", Role.MANAGER, unit=ward.by_name["区民部"])
    user("respondent", "住民 記録", Role.RESPONDENT, unit=ward.by_name["戸籍住民課"])
    contact(user("contractor", "桜 情報", Role.CONTRACTOR, contractor=ward.contractors[0]))
    db.session.flush()


# --- campaigns and answers ------------------------------------------------------------------


def _targets(ward: Ward, kind: str) -> list[tuple[dict, OrgUnit]]:
    """(assignment columns, responsible unit) for every target of a checklist's kind."""
    if kind == "unit":
        return [({"unit_id": u.id}, u) for u in ward.targets]
    if kind == "system":
        return [({"system_id": s.id}, s.unit) for s in ward.systems]
    return [({"contract_id": c.id}, c.unit) for c in ward.contracts]


def _options() -> dict[tuple[int, str], int]:
    rows = db.session.execute(sa.select(Option.scale_id, Option.code, Option.id).join(Scale))
    return {(scale_id, code): option_id for scale_id, code, option_id in rows}


def _moment(day: date, rng: random.Random) -> datetime:
    """A time of day within the ward's office hours (09:00-17:00 in Japan), stored in UTC."""
    start = datetime.combine(day, time(9), tzinfo=data.OFFICE)
    return (start + timedelta(minutes=rng.randint(0, 480))).astimezone(UTC)


def _item_plan(campaign_code: str, checklist: Checklist, n: int) -> dict[int, list[str]]:
    """For each item number, the answer code of every target, in target order."""
    figures = SEED_FIGURES.get(campaign_code, [])
    plan = {}
    for item in checklist.items:
        rng = random.Random(f"{campaign_code}:{item.number}")
        if item.number <= len(figures):
            compliant, applicable = figures[item.number - 1]
        else:
            excluded_share = (
                rng.uniform(0.05, 0.35)
                if checklist.target_kind == "system"
                else rng.uniform(0, 0.04)
            )
            applicable = n - round(n * excluded_share)
            compliant = applicable - round(applicable * rng.uniform(0.01, 0.14))
        codes = ["na"] * (n - applicable) + ["no"] * (applicable - compliant) + ["yes"] * compliant
        rng.shuffle(codes)
        plan[item.number] = codes
    return plan


def _answer_rows(
    assignment_id: int,
    checklist: Checklist,
    codes: dict[int, str],
    options: dict,
    who: int,
    day: date,
    rng: random.Random,
) -> list[dict]:
    rows = []
    for item in checklist.items:
        if item.number not in codes:
            continue
        if item.condition_number is not None and codes.get(item.condition_number) not in (
            item.condition_options or []
        ):
            continue  # never asked: its condition did not hold
        code = codes[item.number]
        comment = ""
        if code == "no" or item.comment_rule == "always":
            pool = data.NONCOMPLIANT_COMMENTS if code == "no" else data.REMARK_COMMENTS
            comment = rng.choice(pool)
        rows.append(
            {
                "assignment_id": assignment_id,
                "item_id": item.id,
                "option_id": options[(item.scale_id, code)],
                "comment": comment,
                "answered_by_id": who,
                "answered_at": _moment(day, rng),
                "version": 1,
            }
        )
    return rows


def _campaign(
    code: str, title: str, checklist: Checklist, opens: date, closes: date, status: str
) -> Campaign:
    campaign = Campaign(
        code=code, title=title, checklist=checklist, opens_on=opens, closes_on=closes, status=status
    )
    escalation.apply(campaign, escalation.BUILT_IN)
    db.session.add(campaign)
    db.session.flush()
    return campaign


def _assignments(ward: Ward, campaign: Campaign) -> list[Assignment]:
    made = [
        Assignment(
            campaign_id=campaign.id,
            target_kind=campaign.checklist.target_kind,
            responsible_unit_id=unit.id,
            **target,
        )
        for target, unit in _targets(ward, campaign.checklist.target_kind)
    ]
    db.session.add_all(made)
    db.session.flush()
    return made


def _closed_campaign(
    ward: Ward, code: str, title: str, checklist: Checklist, opens: date, closes: date
) -> None:
    campaign = _campaign(code, title, checklist, opens, closes, CampaignStatus.CLOSED)
    assignments = _assignments(ward, campaign)
    plan = _item_plan(code, checklist, len(assignments))
    options = _options()
    rng = random.Random(code)
    rows = []
    for index, assignment in enumerate(assignments):
        day = opens + timedelta(days=rng.randint(0, (closes - opens).days))
        respondent = ward.respondents[assignment.responsible_unit_id]
        codes = {number: column[index] for number, column in plan.items()}
        rows += _answer_rows(assignment.id, checklist, codes, options, respondent.id, day, rng)
        manager = ward.managers[respondent.unit.parent_id]
        assignment.status = AssignmentStatus.APPROVED
        _review_steps(assignment, AssignmentStatus.APPROVED, respondent, manager, _moment(day, rng))
    db.session.execute(sa.insert(Answer), rows)


def _open_campaign(
    ward: Ward, code: str, title: str, checklist: Checklist, mix: dict[str, int]
) -> None:
    """This year's round, under way: `mix` says how many assignments are in each state."""
    opens, closes = date(2026, 11, 2), date(2026, 12, 11)
    campaign = _campaign(code, title, checklist, opens, closes, CampaignStatus.OPEN)
    assignments = _assignments(ward, campaign)
    plan = _item_plan(code, checklist, len(assignments))
    options = _options()
    rng = random.Random(code)
    statuses = [status for status, n in mix.items() for _ in range(n)]
    statuses += [AssignmentStatus.NOT_STARTED] * (len(assignments) - len(statuses))
    rng.shuffle(statuses)
    rows = []
    for index, (assignment, status) in enumerate(zip(assignments, statuses, strict=True)):
        if ward.respondents[assignment.responsible_unit_id].unit.name == "戸籍住民課":
            status = AssignmentStatus.DRAFT  # the demo respondent has work to finish
        assignment.status = status
        if status == AssignmentStatus.NOT_STARTED:
            continue
        answered = len(checklist.items)
        if status == AssignmentStatus.DRAFT:
            answered = rng.randint(3, len(checklist.items) - 3)
        codes = {n: column[index] for n, column in plan.items() if n <= answered}
        respondent = ward.respondents[assignment.responsible_unit_id]
        day = opens + timedelta(days=rng.randint(0, 14))
        rows += _answer_rows(assignment.id, checklist, codes, options, respondent.id, day, rng)
        manager = ward.managers[respondent.unit.parent_id]
        _review_steps(assignment, status, respondent, manager, _moment(day, rng))
    db.session.execute(sa.insert(Answer), rows)


def _review_steps(
    assignment: Assignment, status: str, respondent: User, manager: User, submitted: datetime
) -> None:
    """The events that brought an assignment to `status`, as the workflow would have recorded."""
    if status == AssignmentStatus.DRAFT:
        return
    steps = [("submit", AssignmentStatus.DRAFT, AssignmentStatus.SUBMITTED, respondent, "")]
    if status == AssignmentStatus.RETURNED:
        steps.append(
            (
                "return",
                AssignmentStatus.SUBMITTED,
                AssignmentStatus.RETURNED,
                manager,
                "「いいえ」の項目について、改善の予定時期をコメントに記入してください。",
            )
        )
    if status == AssignmentStatus.APPROVED:
        steps.append(
            ("approve", AssignmentStatus.SUBMITTED, AssignmentStatus.APPROVED, manager, "")
        )
        assignment.approved_at = submitted + timedelta(days=1)
        assignment.approved_by_id = manager.id
    assignment.submitted_at = submitted
    for n, (action, before, after, who, comment) in enumerate(steps):
        db.session.add(
            AssignmentEvent(
                assignment_id=assignment.id,
                action=action,
                from_status=before,
                to_status=after,
                comment=comment,
                user_id=who.id,
                at=submitted + timedelta(days=n),
            )
        )
