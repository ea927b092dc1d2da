"""Running a campaign: prepare it (settings, targets), open, extend, close, reopen one
assignment, copy it for next year.

Every function works in the caller's transaction and records its audit entry there; the views
commit. Problems are raised as `CampaignError`, whose message names the field it belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from checklists.schema import TEST_TARGET
from reports.dates import wareki_iso
from reports.escalation import Steps
from survey import access, clock
from survey.extensions import db
from survey.models import (
    Assignment,
    AssignmentEvent,
    Campaign,
    CampaignTarget,
    Checklist,
    Contract,
    Contractor,
    InformationSystem,
    OrgUnit,
    Role,
    User,
)
from survey.models.campaigns import TARGET_COLUMNS, AssignmentStatus, CampaignStatus
from survey.models.evaluations import EVALUATION_CHECKLIST
from survey.models.org import UnitKind
from survey.services import escalation, notify, trail, transitions

CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
TITLE_MAX = 200
REASON_MAX = 1000
# Units that answer a unit checklist: divisions and offices (課・事業所), as in seed 003.
TARGET_UNIT_KINDS = (UnitKind.DIVISION, UnitKind.OFFICE)
MODELS = {
    "unit": OrgUnit,
    "system": InformationSystem,
    "contract": Contract,
    "contractor": Contractor,
}


class CampaignError(ValueError):
    """The request cannot be carried out; `field` names the form field the message is for."""

    def __init__(
        self, message: str, field: str | None = None, problems: dict[str, str] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.problems = problems or ({field: message} if field else {})


@dataclass
class Settings:
    """What the create, edit and copy forms hand in."""

    code: str
    title: str
    checklist_id: int | None
    opens_on: date | None
    closes_on: date | None
    # The escalation steps (survey.services.escalation); None keeps the campaign's: a new one
    # has the office's defaults, a copy its source's.
    steps: Steps | None = None


def _fail(problems: dict[str, str]) -> None:
    if problems:
        raise CampaignError(" ".join(problems.values()), problems=problems)


# --- checklists -----------------------------------------------------------------------------


def published_checklists() -> list[Checklist]:
    """The versions an ordinary campaign may use: not the contractor evaluation, which runs in
    its own yearly campaign (survey.services.evaluations), nor a comprehension test, which a
    course gives to each person (survey.services.training)."""
    return list(
        db.session.scalars(
            sa.select(Checklist)
            .where(
                Checklist.published_at.is_not(None),
                Checklist.code != EVALUATION_CHECKLIST,
                Checklist.target_kind != TEST_TARGET,
            )
            .order_by(Checklist.code, Checklist.version.desc())
        )
    )


def latest_published(code: str) -> Checklist | None:
    return db.session.scalar(
        sa.select(Checklist)
        .where(Checklist.code == code, Checklist.published_at.is_not(None))
        .order_by(Checklist.version.desc())
        .limit(1)
    )


def by_code(code: str) -> Campaign | None:
    return db.session.scalar(sa.select(Campaign).where(Campaign.code == code))


# --- settings -------------------------------------------------------------------------------


def settings_problems(settings: Settings, campaign: Campaign | None = None) -> dict[str, str]:
    """Every problem of the settings at once, by form field."""
    problems: dict[str, str] = {}
    code = settings.code.strip()
    if not code:
        problems["code"] = _("点検コードを入力してください。")
    elif not CODE_RE.fullmatch(code):
        problems["code"] = _(
            "点検コードは64文字以内の半角英数字と記号（. _ -）で入力してください"
            "（例: 2027-annual-assets）。"
        )
    else:
        taken = sa.select(Campaign.id).where(sa.func.lower(Campaign.code) == code.lower())
        if campaign is not None:
            taken = taken.where(Campaign.id != campaign.id)
        if db.session.scalar(taken) is not None:
            problems["code"] = _("点検コード「%(code)s」は既に使われています。", code=code)
    title = settings.title.strip()
    if not title:
        problems["title"] = _("点検名を入力してください。")
    elif len(title) > TITLE_MAX:
        problems["title"] = _("点検名は%(max)d文字以内で入力してください。", max=TITLE_MAX)
    checklist = db.session.get(Checklist, settings.checklist_id) if settings.checklist_id else None
    if checklist is None:
        problems["checklist_id"] = _("チェックリストを選んでください。")
    elif not checklist.is_published:
        problems["checklist_id"] = _(
            "公開されていないチェックリストでは点検を作成できません。公開済みの版を選んでください。"
        )
    elif checklist.code == EVALUATION_CHECKLIST:
        problems["checklist_id"] = _(
            "委託先評価票は通常の点検には使えません。委託先評価は委託事業者の画面から開始してください。"
        )
    elif checklist.target_kind == TEST_TARGET:
        problems["checklist_id"] = _(
            "理解度テストは点検には使えません。研修の画面で研修を作成してください。"
        )
    if settings.opens_on is None and "opens_on" not in problems:
        problems["opens_on"] = _("開始日を入力してください。")
    if settings.closes_on is None and "closes_on" not in problems:
        problems["closes_on"] = _("締切日を入力してください。")
    if settings.opens_on and settings.closes_on and settings.closes_on < settings.opens_on:
        problems["closes_on"] = _(
            "締切日（%(closes)s）は開始日（%(opens)s）以降の日付にしてください。",
            closes=wareki_iso(settings.closes_on),
            opens=wareki_iso(settings.opens_on),
        )
    if settings.steps is not None:
        for step, message in escalation.problems(settings.steps).items():
            problems[step_field(step)] = message
    return problems


def step_field(step: str) -> str:
    """The form field (and Campaign column) of an escalation step."""
    return f"remind_{step}_days"


def _apply(campaign: Campaign, settings: Settings) -> None:
    campaign.code = settings.code.strip()
    campaign.title = settings.title.strip()
    campaign.checklist_id = settings.checklist_id
    campaign.opens_on = settings.opens_on
    campaign.closes_on = settings.closes_on
    if settings.steps is not None:
        escalation.apply(campaign, settings.steps)


def _facts(campaign: Campaign) -> dict:
    return {
        "code": campaign.code,
        "title": campaign.title,
        "checklist_id": campaign.checklist_id,
        "opens_on": campaign.opens_on,
        "closes_on": campaign.closes_on,
        "status": campaign.status,
        "escalation": escalation.facts(escalation.campaign_steps(campaign)),
    }


def create_campaign(settings: Settings, user: User) -> Campaign:
    _fail(settings_problems(settings))
    campaign = Campaign(status=CampaignStatus.DRAFT)
    escalation.apply(campaign, escalation.office_steps())
    _apply(campaign, settings)
    db.session.add(campaign)
    db.session.flush()
    trail.record("campaign.create", campaign, summary=campaign.code, after=_facts(campaign))
    return campaign


def _require_draft(campaign: Campaign) -> None:
    if campaign.status != CampaignStatus.DRAFT:
        raise CampaignError(
            _("実施中または終了した点検は変更・削除できません。準備中の点検だけが対象です。")
        )


def update_campaign(campaign: Campaign, settings: Settings, user: User) -> bool:
    """Change a draft's settings; True when the targets were dropped because the new
    checklist targets another kind of thing."""
    _require_draft(campaign)
    _fail(settings_problems(settings, campaign))
    before = _facts(campaign)
    old_kind = campaign.checklist.target_kind
    _apply(campaign, settings)
    db.session.flush()
    db.session.expire(campaign, ["checklist"])
    dropped = campaign.checklist.target_kind != old_kind and bool(campaign.targets)
    if dropped:
        campaign.targets.clear()
    trail.record(
        "campaign.update", campaign, summary=campaign.code, before=before, after=_facts(campaign)
    )
    return dropped


def delete_campaign(campaign: Campaign, user: User) -> None:
    _require_draft(campaign)
    trail.record("campaign.delete", campaign, summary=campaign.code, before=_facts(campaign))
    db.session.delete(campaign)


# --- targets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    id: int
    code: str
    name: str
    detail: str  # the owning unit, the system's kind, the company …


def candidates(kind: str) -> sa.Select:
    """The active records a campaign of this target kind may be sent to (ids only)."""
    model = MODELS[kind]
    stmt = sa.select(model.id).where(model.active.is_(True))
    if kind == "unit":
        stmt = stmt.where(OrgUnit.kind.in_(TARGET_UNIT_KINDS))
    return stmt


def _search(stmt: sa.Select, model, text: str) -> sa.Select:
    text = text.strip()
    if not text:
        return stmt
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    name = model.title if model is Contract else model.name
    return stmt.where(
        sa.or_(name.ilike(pattern, escape="\\"), model.code.ilike(pattern, escape="\\"))
    )


def candidate_page(
    kind: str, search: str, *, page: int, per_page: int
) -> tuple[int, list[Candidate]]:
    model = MODELS[kind]
    ids = _search(candidates(kind), model, search)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(ids.subquery()))
    records = db.session.scalars(
        sa.select(model)
        .where(model.id.in_(ids))
        .order_by(model.code)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return total, [_candidate(kind, r) for r in records]


def _candidate(kind: str, record) -> Candidate:
    if kind == "unit":
        parent = record.parent.name if record.parent else ""
        return Candidate(record.id, record.code, record.name, parent)
    if kind == "system":
        detail = " / ".join(x for x in (record.kind, record.unit.name) if x)
        return Candidate(record.id, record.code, record.name, detail)
    if kind == "contract":
        detail = f"{record.unit.name} / {record.contractor.name}"
        return Candidate(record.id, record.code, record.title, detail)
    return Candidate(record.id, record.code, record.name, "")


def departments() -> list[OrgUnit]:
    """Top-level units (部局), for the "every division of these departments" filter."""
    return list(
        db.session.scalars(
            sa.select(OrgUnit)
            .where(OrgUnit.parent_id.is_(None), OrgUnit.active.is_(True))
            .order_by(OrgUnit.position, OrgUnit.code)
        )
    )


def system_kinds() -> list[str]:
    return list(
        db.session.scalars(
            sa.select(InformationSystem.kind)
            .where(InformationSystem.active.is_(True), InformationSystem.kind != "")
            .distinct()
            .order_by(InformationSystem.kind)
        )
    )


def filtered(kind: str, name: str, values: list[str]) -> list[int]:
    """The ids a filter picks: departments (their divisions, or the systems and contracts their
    units own), a system kind, contracts handling personal data, every active company."""
    stmt = candidates(kind)
    model = MODELS[kind]
    if name == "departments":
        if kind == "contractor":
            raise CampaignError(_("この絞り込みは使えません。"))
        ids = [int(v) for v in values if v.isdigit()]
        if not ids:
            raise CampaignError(_("部局を1つ以上選んでください。"), "departments")
        units = sa.union(*(access.subtree_ids(i) for i in ids))
        column = model.id if kind == "unit" else model.unit_id
        stmt = stmt.where(column.in_(sa.select(units.subquery().c[0])))
    elif name == "system_kind" and kind == "system":
        chosen = (values or [""])[0]
        if not chosen:
            raise CampaignError(_("システムの種別を選んでください。"), "system_kind")
        stmt = stmt.where(InformationSystem.kind == chosen)
    elif name == "personal_data" and kind == "contract":
        stmt = stmt.where(Contract.handles_personal_data.is_(True))
    elif name == "all_active" and kind == "contractor":
        pass
    else:
        raise CampaignError(_("この絞り込みは使えません。"))
    return list(db.session.scalars(stmt))


def _column(campaign: Campaign):
    return getattr(CampaignTarget, TARGET_COLUMNS[campaign.checklist.target_kind])


def target_ids(campaign: Campaign) -> set[int]:
    column = _column(campaign)
    return set(
        db.session.scalars(sa.select(column).where(CampaignTarget.campaign_id == campaign.id))
    )


def active_target_ids(campaign: Campaign) -> list[int]:
    """The chosen targets that are still active (a record retired meanwhile is left out)."""
    column = _column(campaign)
    return list(
        db.session.scalars(
            sa.select(column)
            .where(
                CampaignTarget.campaign_id == campaign.id,
                column.in_(candidates(campaign.checklist.target_kind)),
            )
            .order_by(column)
        )
    )


def target_count(campaign: Campaign) -> int:
    return len(active_target_ids(campaign))


def change_targets(
    campaign: Campaign, *, add: list[int] = (), remove: list[int] = ()
) -> tuple[int, int]:
    """Add and remove targets of a draft; returns (added, removed). Ids that are not active
    candidates are ignored: a crafted post cannot add a retired or unknown record."""
    _require_draft(campaign)
    kind = campaign.checklist.target_kind
    column_name = TARGET_COLUMNS[kind]
    have = target_ids(campaign)
    allowed = set(db.session.scalars(candidates(kind).where(MODELS[kind].id.in_(set(add)))))
    new = sorted(allowed - have)
    gone = sorted(set(remove) & have)
    db.session.add_all(CampaignTarget(campaign_id=campaign.id, **{column_name: i}) for i in new)
    if gone:
        db.session.execute(
            sa.delete(CampaignTarget).where(
                CampaignTarget.campaign_id == campaign.id, _column(campaign).in_(gone)
            )
        )
    if new or gone:
        db.session.flush()
        db.session.expire(campaign, ["targets"])
        trail.record(
            "campaign.targets",
            campaign,
            summary=f"{campaign.code}: +{len(new)} -{len(gone)}",
            after={
                "added": len(new),
                "removed": len(gone),
                "total": len(have) + len(new) - len(gone),
            },
        )
    return len(new), len(gone)


# --- mail -----------------------------------------------------------------------------------


def _sender(user: User) -> str:
    return user.unit.name if user.unit else "情報セキュリティ担当"


def _mail_open(person: User, campaign: Campaign, assignments: list[Assignment], sender: str):
    """Always in Japanese: it goes to the whole office, whatever language the admin reads."""
    lines = "\n".join(
        f"・{a.target_name}（回答期限: {wareki_iso(a.due_on)}）\n  "
        + notify.external_url("respond.assignment", assignment_id=a.id)
        for a in assignments
    )
    subject = f"【情報セキュリティ自己点検】回答のお願い（{campaign.title}）"
    # A company's answers are approved by the division that owns the contract (or, for the
    # company as a whole, the security office): the company has no 所属長 of ours.
    approver = "担当部署" if person.role == Role.CONTRACTOR else "所属長"
    body = f"""{person.display_name} 様

{sender}から、次の点検への回答をお願いします。

点検: {campaign.title}
チェックリスト: {campaign.checklist.title}（第{campaign.checklist.version}版）
回答期限: {wareki_iso(campaign.closes_on)}

回答していただく対象（{len(assignments)}件）:
{lines}

回答・承認の画面: {notify.external_url("respond.index")}

回答の後、「提出する」を押すと{approver}の承認に回ります。
--
tenken 情報セキュリティ自己点検システム
"""
    return subject, body


def _mail_reopen(person: User, assignment: Assignment, reason: str, sender: str):
    campaign = assignment.campaign
    subject = f"【情報セキュリティ自己点検】回答の再開（{assignment.target_name}）"
    body = f"""{person.display_name} 様

{sender}が、次の点検の回答を再び受け付けるようにしました。
内容を確認・修正のうえ、期限までに提出してください。

点検: {campaign.title}
対象: {assignment.target_name}
新しい回答期限: {wareki_iso(assignment.due_on)}
理由: {reason}

{notify.external_url("respond.assignment", assignment_id=assignment.id)}
--
tenken 情報セキュリティ自己点検システム
"""
    return subject, body


def _mail_extended(
    person: User, campaign: Campaign, assignments: list[Assignment], reason: str, sender: str
):
    """The new due dates of the person's questionnaires not handed in yet."""
    lines = "\n".join(
        f"・{a.target_name}（新しい回答期限: {wareki_iso(a.due_on)}）\n  "
        + notify.external_url("respond.assignment", assignment_id=a.id)
        for a in assignments
    )
    subject = f"【情報セキュリティ自己点検】回答期限の延長（{campaign.title}）"
    body = f"""{person.display_name} 様

{sender}が、次の点検の回答期限を延長しました。
期限までに回答を提出してください。

点検: {campaign.title}
理由: {reason}

対象（{len(assignments)}件）:
{lines}
--
tenken 情報セキュリティ自己点検システム
"""
    return subject, body


# --- opening --------------------------------------------------------------------------------


@dataclass
class Opened:
    assignments: int
    mails: int
    without_recipient: list[str] = field(default_factory=list)  # units nobody can be told


def _responsible(kind: str, record, user: User) -> int | None:
    if kind == "unit":
        return record.id
    if kind in ("system", "contract"):
        return record.unit_id
    # A company as a whole: the security office that runs the campaign follows it up (its
    # contracts may belong to many divisions, none of which answers for the company).
    return user.unit_id


def open_campaign(campaign: Campaign, user: User, today: date) -> Opened:
    """Send the campaign out: one assignment per active target, due on the close date, and one
    mail per person who answers, listing their assignments."""
    if campaign.status != CampaignStatus.DRAFT:
        raise CampaignError(_("この点検は既に開始しています。"))
    if campaign.closes_on < today:
        raise CampaignError(
            _(
                "締切日（%(day)s）が過ぎています。締切日を変更してから開始してください。",
                day=wareki_iso(campaign.closes_on),
            )
        )
    kind = campaign.checklist.target_kind
    ids = active_target_ids(campaign)
    if not ids:
        raise CampaignError(_("対象が選ばれていません。対象を選んでから開始してください。"))
    if kind == "contractor" and user.unit_id is None:
        raise CampaignError(_("委託事業者を対象とする点検は、所属のある管理者が開始してください。"))
    if not transitions.move(campaign, (CampaignStatus.DRAFT,), CampaignStatus.OPEN):
        raise CampaignError(_("この点検は既に開始しています。"))
    model = MODELS[kind]
    records = db.session.scalars(sa.select(model).where(model.id.in_(ids))).all()
    made = [
        Assignment(
            campaign_id=campaign.id,
            target_kind=kind,
            responsible_unit_id=_responsible(kind, record, user),
            due_on=campaign.closes_on,
            **{TARGET_COLUMNS[kind]: record.id},
        )
        for record in records
    ]
    db.session.add_all(made)
    db.session.flush()
    opened = _notify_opened(campaign, made, user)
    trail.record(
        "campaign.open",
        campaign,
        summary=f"{campaign.code}: {len(made)}",
        before={"status": CampaignStatus.DRAFT},
        after={"status": CampaignStatus.OPEN, "assignments": len(made), "mails": opened.mails},
    )
    return opened


def _by_person(
    assignments: list[Assignment],
) -> tuple[dict[int, tuple[User, list[Assignment]]], set[str]]:
    """Each person to tell with their own assignments (one mail each, however many they
    answer), and the units nobody can be told of."""
    people: dict[int, tuple[User, list[Assignment]]] = {}
    silent: set[str] = set()
    found_for: dict[tuple, list[User]] = {}  # the same unit (and company) asked once
    for assignment in assignments:
        key = (assignment.responsible_unit_id, notify.assignment_contractor_id(assignment))
        if key not in found_for:
            found_for[key] = notify.assignment_recipients(assignment)
        if not found_for[key]:
            unit = assignment.responsible_unit
            silent.add(unit.name if unit else assignment.target_name)
        for person in found_for[key]:
            people.setdefault(person.id, (person, []))[1].append(assignment)
    return people, silent


def _notify_opened(campaign: Campaign, made: list[Assignment], user: User) -> Opened:
    people, silent = _by_person(made)
    sender = _sender(user)
    for person, theirs in people.values():
        notify.queue_mail(person.email, *_mail_open(person, campaign, theirs, sender))
    return Opened(len(made), len(people), sorted(silent))


# --- deadlines and closing ------------------------------------------------------------------


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise CampaignError(_("理由を入力してください。"), "reason")
    if len(reason) > REASON_MAX:
        raise CampaignError(
            _("理由は%(max)d文字以内で入力してください。", max=REASON_MAX), "reason"
        )
    return reason


@dataclass
class Extended:
    assignments: int  # due dates moved
    mails: int  # people told


def extend_campaign(
    campaign: Campaign, closes_on: date | None, reason: str, user: User
) -> Extended:
    """A later close date for everyone: the campaign's, and the due date of every assignment
    not handed in yet (none is shortened); the people answering those are told by mail."""
    if campaign.status != CampaignStatus.OPEN:
        raise CampaignError(_("期限を延長できるのは実施中の点検だけです。"))
    reason = _reason(reason)
    if closes_on is None:
        raise CampaignError(_("新しい締切日を入力してください。"), "closes_on")
    if closes_on <= campaign.closes_on:
        raise CampaignError(
            _(
                "新しい締切日は、現在の締切日（%(day)s）より後の日付にしてください。",
                day=wareki_iso(campaign.closes_on),
            ),
            "closes_on",
        )
    before = campaign.closes_on
    campaign.closes_on = closes_on
    # One guarded UPDATE, so that a questionnaire handed in meanwhile keeps its date.
    moved_ids = db.session.scalars(
        sa.update(Assignment)
        .where(
            Assignment.campaign_id == campaign.id,
            Assignment.status.in_(access.EDITABLE),
            sa.or_(Assignment.due_on.is_(None), Assignment.due_on < closes_on),
        )
        .values(due_on=closes_on)
        .returning(Assignment.id)
        .execution_options(synchronize_session="fetch")
    ).all()
    moved = list(db.session.scalars(sa.select(Assignment).where(Assignment.id.in_(moved_ids))))
    people, _silent = _by_person(moved)
    sender = _sender(user)
    for person, theirs in people.values():
        notify.queue_mail(person.email, *_mail_extended(person, campaign, theirs, reason, sender))
    trail.record(
        "campaign.extend",
        campaign,
        summary=f"{campaign.code}: {before.isoformat()} → {closes_on.isoformat()}",
        before={"closes_on": before},
        after={"closes_on": closes_on, "assignments": len(moved), "reason": reason},
    )
    return Extended(len(moved), len(people))


def _event(
    assignment: Assignment, action: str, from_status: str, to_status: str, user: User, comment: str
):
    db.session.add(
        AssignmentEvent(
            assignment_id=assignment.id,
            action=action,
            from_status=from_status,
            to_status=to_status,
            comment=comment,
            user_id=user.id,
        )
    )


def _due(assignment: Assignment) -> date:
    return assignment.due_on or assignment.campaign.closes_on


def extend_assignment(
    assignment: Assignment, due_on: date | None, reason: str, user: User, today: date
) -> int:
    """A later due date for one assignment not handed in yet. Past the campaign's close date,
    the assignment keeps its own window (open_until), so it can still be answered then. Returns
    how many people were told by mail."""
    if assignment.campaign.status != CampaignStatus.OPEN:
        raise CampaignError(_("終了した点検の期限は延長できません。回答を再開してください。"))
    if assignment.status not in access.EDITABLE:
        raise CampaignError(_("提出済みの回答の期限は延長できません。"))
    reason = _reason(reason)
    if due_on is None:
        raise CampaignError(_("新しい回答期限を入力してください。"), "due_on")
    if due_on <= _due(assignment) or due_on < today:
        raise CampaignError(
            _(
                "新しい回答期限は、現在の期限（%(day)s）より後の日付にしてください。",
                day=wareki_iso(_due(assignment)),
            ),
            "due_on",
        )
    before = _due(assignment)
    _event(assignment, "extend", assignment.status, assignment.status, user, reason)
    assignment.due_on = due_on
    if due_on > assignment.campaign.closes_on:
        assignment.open_until = due_on
    sender = _sender(user)
    people = notify.assignment_recipients(assignment)
    for person in people:
        notify.queue_mail(
            person.email,
            *_mail_extended(person, assignment.campaign, [assignment], reason, sender),
        )
    trail.record(
        "assignment.extend",
        assignment,
        summary=trail.assignment_summary(assignment),
        before={"due_on": before},
        after={"due_on": due_on, "reason": reason},
    )
    return len(people)


def close_campaign(campaign: Campaign, user: User) -> dict[str, int]:
    """Stop taking answers (access.accepts_work); returns the count per status at closing."""
    if campaign.status != CampaignStatus.OPEN:
        raise CampaignError(_("終了できるのは実施中の点検だけです。"))
    if not transitions.move(campaign, (CampaignStatus.OPEN,), CampaignStatus.CLOSED):
        raise CampaignError(_("終了できるのは実施中の点検だけです。"))
    counts = dict(
        db.session.execute(
            sa.select(Assignment.status, sa.func.count())
            .where(Assignment.campaign_id == campaign.id)
            .group_by(Assignment.status)
        ).all()
    )
    trail.record(
        "campaign.close",
        campaign,
        summary=campaign.code,
        before={"status": CampaignStatus.OPEN},
        after={"status": CampaignStatus.CLOSED, "assignments": counts},
    )
    return counts


def reopen_assignment(
    assignment: Assignment, user: User, reason: str, due_on: date | None, *, today=None
) -> bool:
    """Let one target answer again until `due_on`, even after its campaign closed: a handed-in
    or approved answer goes back to 差戻し (answers kept), the reason is recorded as a step of
    the assignment, and its people are told by mail. The caller commits.

    False when it is already reopened until that day (the same form posted twice): nothing is
    recorded or mailed again."""
    if user.role != Role.ADMIN:
        raise CampaignError(_("回答の再開は管理者だけが行えます。"))
    if assignment.campaign.status == CampaignStatus.DRAFT:
        raise CampaignError(_("開始していない点検の回答は再開できません。"))
    reason = _reason(reason)
    today = today or clock.today()
    if due_on is None:
        raise CampaignError(_("新しい回答期限を入力してください。"), "due_on")
    if due_on < today:
        raise CampaignError(
            _("新しい回答期限は今日（%(day)s）以降の日付にしてください。", day=wareki_iso(today)),
            "due_on",
        )
    before = {"status": assignment.status, "due_on": _due(assignment)}
    to_status = assignment.status
    if to_status in (AssignmentStatus.SUBMITTED, AssignmentStatus.APPROVED):
        to_status = AssignmentStatus.RETURNED
    if assignment.status == to_status and assignment.open_until == due_on:
        return False
    # From the status this request saw, and only if not reopened until that day meanwhile: of
    # identical requests one reopens, the others find it done.
    if not transitions.claim(
        assignment,
        sa.and_(
            Assignment.status == assignment.status,
            Assignment.open_until.is_distinct_from(due_on),
        ),
        status=to_status,
        approved_at=None,
        approved_by_id=None,
        due_on=due_on,
        open_until=due_on,
    ):
        return False
    _event(assignment, "reopen", before["status"], to_status, user, reason)
    sender = _sender(user)
    for person in notify.assignment_recipients(assignment):
        notify.queue_mail(person.email, *_mail_reopen(person, assignment, reason, sender))
    trail.record(
        "assignment.reopen",
        assignment,
        summary=trail.assignment_summary(assignment),
        before=before,
        after={"status": to_status, "due_on": due_on, "reason": reason},
    )
    return True


# --- copying for next year ------------------------------------------------------------------


def _next_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _years_on(text: str) -> str:
    text = re.sub(r"令和(\d+)年度", lambda m: f"令和{int(m.group(1)) + 1}年度", text)
    return re.sub(r"(?<!\d)(19|20)(\d\d)(?!\d)", lambda m: str(int(m.group(0)) + 1), text)


def suggested_copy(source: Campaign) -> Settings:
    """Next year's round: the latest published version of the same checklist, dates a year
    on, the years in the code and title moved on, and a code nobody uses yet."""
    latest = latest_published(source.checklist.code)
    base = _years_on(source.code)
    if base == source.code:
        base = f"{source.code}-next"
    code, n = base, 2
    while by_code(code) is not None:
        code, n = f"{base}-{n}", n + 1
    return Settings(
        code=code[:64],
        title=_years_on(source.title),
        checklist_id=latest.id if latest else None,
        opens_on=_next_year(source.opens_on),
        closes_on=_next_year(source.closes_on),
        steps=escalation.campaign_steps(source),
    )


def _source_targets(source: Campaign) -> list[int]:
    column_name = TARGET_COLUMNS[source.checklist.target_kind]
    if source.targets:
        return [getattr(t, column_name) for t in source.targets]
    # Campaigns sent out before targets were kept (or loaded as data): their assignments.
    return list(
        db.session.scalars(
            sa.select(getattr(Assignment, column_name)).where(Assignment.campaign_id == source.id)
        )
    )


def copy_campaign(source: Campaign, settings: Settings, user: User) -> Campaign:
    """A new draft from `source` with the given settings and the same targets, those that are
    still active (and only if the checklist still targets the same kind of thing)."""
    checklist = db.session.get(Checklist, settings.checklist_id) if settings.checklist_id else None
    if checklist is not None and checklist.code != source.checklist.code:
        raise CampaignError(
            _(
                "コピーでは同じチェックリスト（%(code)s）の版を選んでください。",
                code=source.checklist.code,
            ),
            "checklist_id",
        )
    _fail(settings_problems(settings))
    campaign = Campaign(status=CampaignStatus.DRAFT)
    escalation.apply(campaign, escalation.campaign_steps(source))
    _apply(campaign, settings)
    db.session.add(campaign)
    db.session.flush()
    copied = 0
    if checklist.target_kind == source.checklist.target_kind:
        kind = checklist.target_kind
        ids = set(_source_targets(source))
        active = set(db.session.scalars(candidates(kind).where(MODELS[kind].id.in_(ids))))
        db.session.add_all(
            CampaignTarget(campaign_id=campaign.id, **{TARGET_COLUMNS[kind]: i})
            for i in sorted(active)
        )
        copied = len(active)
    db.session.flush()
    trail.record(
        "campaign.copy",
        campaign,
        summary=f"{source.code} → {campaign.code}",
        after={**_facts(campaign), "source": source.code, "targets": copied},
    )
    return campaign
