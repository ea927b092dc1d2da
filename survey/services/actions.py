"""Corrective actions (是正措置): opening one, its steps, the lists, and who hears about it.

An action is opened (from a noncompliant answer, an audit finding, a 是正勧告 or by hand), its
owner (a unit, or a contractor) marks it in progress and reports the measure taken with
evidence files, and the security office verifies it or sends it back. Every step is an
ActionEvent, an audit entry and a queued mail, in the caller's transaction: nothing here
commits.

A step names the status it was taken from (the one the user's page showed). The status moves
with one `UPDATE … WHERE status = <that>` (services.transitions), so of two concurrent steps one
wins and the other is refused; a step posted again after it succeeded (a double click) does
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import FileStorage

from reports.dates import wareki_iso
from survey.access import subtree_ids
from survey.extensions import db
from survey.models import Contractor, OrgUnit, Role, User
from survey.models.followup import (
    ActionEvent,
    ActionEvidence,
    ActionSource,
    ActionStatus,
    CorrectiveAction,
)
from survey.models.types import utcnow
from survey.services import evidence, notify, trail, transitions

TITLE_MAX = 300
TEXT_MAX = 4000


class StepRefused(ValueError):
    """The step cannot be taken: the status changed meanwhile, or the input is incomplete."""


# verb -> (statuses it may start from, status it leads to)
STEPS = {
    "start": ((ActionStatus.OPEN,), ActionStatus.IN_PROGRESS),
    "report": ((ActionStatus.OPEN, ActionStatus.IN_PROGRESS), ActionStatus.REPORTED),
    "verify": ((ActionStatus.REPORTED,), ActionStatus.VERIFIED),
    "send_back": ((ActionStatus.REPORTED,), ActionStatus.IN_PROGRESS),
}
UNFINISHED = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.REPORTED)


def open_action(
    *,
    title: str,
    due_on: date,
    created_by: User | None,
    unit: OrgUnit | None = None,
    contractor: Contractor | None = None,
    description: str = "",
    source: str = ActionSource.MANUAL,
    assignment=None,
    item=None,
    finding=None,
    notify: bool = True,
) -> CorrectiveAction:
    """Add an open action to the session (the caller commits), with its first event, an audit
    entry and a mail to its owners (`notify=False` when the caller sends its own, as a 是正勧告
    does)."""
    if unit is None and contractor is None:
        raise ValueError("an action needs a unit or a contractor to fix it")
    unfinished = _unfinished_for(assignment, item, finding)
    if unfinished is not None:
        return unfinished
    action = CorrectiveAction(
        title=title.strip()[:TITLE_MAX],
        description=description,
        due_on=due_on,
        unit=unit,
        contractor=contractor,
        source=source,
        assignment=assignment,
        campaign=assignment.campaign if assignment is not None else None,
        item=item,
        finding=finding,
        created_by=created_by,
        status=ActionStatus.OPEN,
    )
    db.session.add(action)
    db.session.add(
        ActionEvent(action=action, kind="open", to_status=ActionStatus.OPEN, user=created_by)
    )
    trail.record(
        "action.open",
        action,
        summary=action.title,
        after={"source": str(source), "due_on": due_on, "owner": owner_name(action)},
        user=created_by if created_by is not None else trail.CURRENT,
    )
    if notify:
        _notify(action, "open", "")
    return action


def _unfinished_for(assignment, item, finding) -> CorrectiveAction | None:
    """The action not yet verified for the same answer (assignment and item) or the same
    finding: the 登録 form posted twice, or opened again from the same answer, leads to it
    rather than to a second action and a second round of mail."""
    if finding is not None:
        same = CorrectiveAction.finding_id == finding.id
    elif assignment is not None and item is not None:
        same = sa.and_(
            CorrectiveAction.assignment_id == assignment.id, CorrectiveAction.item_id == item.id
        )
    else:
        return None
    return db.session.scalar(
        sa.select(CorrectiveAction)
        .where(same, CorrectiveAction.status.in_(UNFINISHED))
        .order_by(CorrectiveAction.id)
        .limit(1)
    )


def owner_name(action: CorrectiveAction) -> str:
    if action.contractor is not None:
        return action.contractor.name
    return action.unit.name if action.unit is not None else ""


# --- steps ------------------------------------------------------------------------------------


def take_step(
    action: CorrectiveAction,
    verb: str,
    user: User,
    *,
    expected: str,
    comment: str = "",
    measure: str = "",
    uploads: Iterable[FileStorage] = (),
) -> bool:
    """Move the action one step on from `expected` (the status the user saw).

    Returns False when this very step was already taken (a repeated post): nothing changes.
    Raises StepRefused when the status moved on otherwise, or the input is not enough;
    evidence.EvidenceRefused for a file that is not accepted (the caller rolls back).
    """
    sources, target = STEPS[verb]
    comment, measure = comment.strip(), measure.strip()
    if action.status != expected or expected not in sources:
        if _already_taken(action, verb, target):
            return False
        raise StepRefused(_stale_message(action))
    if verb == "report" and not measure:
        raise StepRefused(_("講じた措置の内容を入力してください。"))
    if verb == "send_back" and not comment:
        raise StepRefused(_("差し戻す理由を入力してください。"))
    if not _move(action, verb, user, expected, target, measure):
        db.session.refresh(action)
        if _already_taken(action, verb, target):
            return False
        raise StepRefused(_stale_message(action))
    stored = [_store(action, upload, user) for upload in uploads if upload and upload.filename]
    db.session.add(
        ActionEvent(
            action=action,
            kind=verb,
            from_status=expected,
            to_status=target,
            comment=measure if verb == "report" else comment,
            user=user,
        )
    )
    details = {"status": str(target)}
    if comment:
        details["comment"] = comment[:200]
    if stored:
        details["evidence"] = [{"file": s.filename, "sha256": s.sha256} for s in stored]
    trail.record(
        f"action.{verb}",
        action,
        summary=action.title,
        before={"status": expected},
        after=details,
        user=user,
    )
    _notify(action, verb, comment)
    return True


def _move(action, verb, user, expected, target, measure) -> bool:
    values: dict = {}
    now = utcnow()
    if verb == "report":
        values.update(measure=measure, reported_at=now)
    if verb == "verify":
        values.update(verified_at=now, verified_by_id=user.id)
    if not transitions.move(action, (expected,), target, **values):
        return False
    db.session.refresh(action)
    return True


def _already_taken(action: CorrectiveAction, verb: str, target: str) -> bool:
    last = db.session.scalar(
        sa.select(ActionEvent)
        .where(ActionEvent.action_id == action.id)
        .order_by(ActionEvent.id.desc())
        .limit(1)
    )
    return action.status == target and last is not None and last.kind == verb


def _stale_message(action: CorrectiveAction) -> str:
    from survey.labels import ACTION_STATUSES, label

    return _(
        "この是正措置は、画面を開いた後に状態が「%(status)s」に変わっています。"
        "最新の内容を確認してください。",
        status=label(ACTION_STATUSES, action.status),
    )


def _store(action: CorrectiveAction, upload: FileStorage, user: User) -> ActionEvidence:
    saved = evidence.save_upload(upload)
    row = ActionEvidence(action_id=action.id, uploaded_by_id=user.id, **saved.columns())
    db.session.add(row)
    db.session.flush()
    trail.record(
        "action.evidence",
        row,
        summary=row.filename,
        after={"action_id": action.id, "size": row.size, "sha256": row.sha256},
        user=user,
    )
    return row


# --- who hears about it -----------------------------------------------------------------------


def owners(action: CorrectiveAction) -> list[User]:
    """The people who fix it: the company's accounts, or the unit's respondents (active, with
    a mail address); the first to be reminded when it is late (survey.services.escalation)."""
    if action.contractor_id is not None:
        return notify.contractor_recipients(action.contractor_id)
    return notify.unit_recipients(action.unit)


def owner_recipients(action: CorrectiveAction) -> list[User]:
    """Who hears of its steps: its owners and, for a unit's, the managers of the unit and of
    every unit above it."""
    if action.contractor_id is not None:
        return owners(action)
    return owners(action) + notify.managers_above(action.unit)


def office_recipients() -> list[User]:
    return notify.with_address(sa.select(User).where(User.role == Role.ADMIN))


def _recipients(action: CorrectiveAction, verb: str) -> list[User]:
    """Opened, verified, sent back: the owners. Started: whoever opened it. Reported: the
    office too, which verifies."""
    opener = [action.created_by] if action.created_by is not None else []
    if verb in ("open", "verify", "send_back"):
        return owner_recipients(action)
    if verb == "report":
        return office_recipients() + opener
    return opener


MAIL_SUBJECTS = {
    "open": "是正措置のお願い",
    "start": "是正措置の対応開始",
    "report": "是正措置の措置報告",
    "verify": "是正措置の確認完了",
    "send_back": "是正措置の差し戻し",
}


def link(action: CorrectiveAction) -> str:
    return current_app.config["SURVEY_BASE_URL"].rstrip("/") + f"/followup/actions/{action.id}"


def _notify(action: CorrectiveAction, verb: str, comment: str) -> None:
    """Japanese mail, whatever language the acting user reads: it goes to other people."""
    subject = f"【情報セキュリティ自己点検】{MAIL_SUBJECTS[verb]}（{action.title}）"
    lines = {
        "open": "次の事項について是正措置をお願いします。期限までに措置を講じ、"
        "tenken で措置内容を報告してください。",
        "start": "次の是正措置の対応が始まりました。",
        "report": "次の是正措置について、講じた措置が報告されました。内容を確認してください。",
        "verify": "報告いただいた措置を確認し、この是正措置を完了としました。"
        "ご対応ありがとうございました。",
        "send_back": "報告いただいた措置について、次の理由で差し戻します。"
        "対応のうえ、あらためて報告してください。",
    }[verb]
    body = [lines, "", f"件名: {action.title}", f"対応: {owner_name(action)}"]
    body.append(f"期限: {wareki_iso(action.due_on)}")
    if verb == "report" and action.measure:
        body += ["", "措置内容:", action.measure]
    if comment:
        body += ["", "コメント:" if verb != "send_back" else "差し戻しの理由:", comment]
    body += ["", link(action)]
    notify.mail_users(_recipients(action, verb), subject, "\n".join(body) + "\n")


# --- lists ------------------------------------------------------------------------------------


SORTS = {
    "due_on": (CorrectiveAction.due_on,),
    "status": (CorrectiveAction.status, CorrectiveAction.due_on),
    "created_at": (CorrectiveAction.created_at,),
    "title": (CorrectiveAction.title,),
}
PAGE_SIZE = 50


@dataclass
class Filters:
    campaign_id: int | None = None
    unit_id: int | None = None  # the unit and every unit below it
    contractor_id: int | None = None
    status: str | None = None  # a status, or "unfinished"
    due_from: date | None = None
    due_to: date | None = None
    overdue: bool = False
    sort: str = "due_on"
    descending: bool = False
    today: date = field(default_factory=date.today)


def overdue_clause(today: date) -> sa.ColumnElement[bool]:
    return sa.and_(
        CorrectiveAction.status != ActionStatus.VERIFIED, CorrectiveAction.due_on < today
    )


def statement(filters: Filters) -> sa.Select:
    stmt = sa.select(CorrectiveAction)
    if filters.campaign_id:
        stmt = stmt.where(CorrectiveAction.campaign_id == filters.campaign_id)
    if filters.unit_id:
        stmt = stmt.where(CorrectiveAction.unit_id.in_(subtree_ids(filters.unit_id)))
    if filters.contractor_id:
        stmt = stmt.where(CorrectiveAction.contractor_id == filters.contractor_id)
    if filters.status == "unfinished":
        stmt = stmt.where(CorrectiveAction.status.in_(UNFINISHED))
    elif filters.status:
        stmt = stmt.where(CorrectiveAction.status == filters.status)
    if filters.due_from:
        stmt = stmt.where(CorrectiveAction.due_on >= filters.due_from)
    if filters.due_to:
        stmt = stmt.where(CorrectiveAction.due_on <= filters.due_to)
    if filters.overdue:
        stmt = stmt.where(overdue_clause(filters.today))
    return stmt


def search(scoped: sa.Select, filters: Filters, page: int) -> tuple[int, list[CorrectiveAction]]:
    """One page of the (already scoped) actions, and how many there are in all."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(scoped.subquery()))
    keys = SORTS.get(filters.sort, SORTS["due_on"])
    order = [k.desc() if filters.descending else k.asc() for k in keys]
    rows = db.session.scalars(
        scoped.order_by(*order, CorrectiveAction.id)
        .options(joinedload(CorrectiveAction.unit), joinedload(CorrectiveAction.contractor))
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return total, list(rows)


@dataclass(frozen=True)
class Counts:
    unfinished: int
    overdue: int
    reported: int  # waiting for the office to verify


def counts(scoped_ids: sa.Select, today: date) -> Counts:
    """`scoped_ids`: a scoped select of CorrectiveAction.id."""
    base = sa.select(sa.func.count()).where(CorrectiveAction.id.in_(scoped_ids))
    return Counts(
        unfinished=db.session.scalar(base.where(CorrectiveAction.status.in_(UNFINISHED))),
        overdue=db.session.scalar(base.where(overdue_clause(today))),
        reported=db.session.scalar(base.where(CorrectiveAction.status == ActionStatus.REPORTED)),
    )


def most_urgent(scoped: sa.Select, today: date, limit: int = 10) -> list[CorrectiveAction]:
    """Unfinished actions, the longest overdue first, then the nearest due."""
    stmt = (
        scoped.where(CorrectiveAction.status.in_(UNFINISHED))
        .order_by(CorrectiveAction.due_on, CorrectiveAction.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class Overdue:
    action: CorrectiveAction
    days: int  # days past due
    recipients: list[User]


def overdue_actions(today: date) -> list[Overdue]:
    """Every action not verified and past its due date, the longest overdue first, each with its
    owners (the escalation's first step; the heads follow in survey.services.reminders).

    For the campaign reminders: call it in an app context; it reads and changes nothing, and
    `link(action)` gives the address to put in a mail.
    """
    rows = db.session.scalars(
        sa.select(CorrectiveAction)
        .where(overdue_clause(today))
        .order_by(CorrectiveAction.due_on, CorrectiveAction.id)
    )
    return [Overdue(action, (today - action.due_on).days, owners(action)) for action in rows]


CSV_HEADER = (
    "ID",
    "件名",
    "所管の所属",
    "委託事業者",
    "登録元",
    "点検",
    "期限",
    "状態",
    "期限超過",
    "登録日",
    "措置内容",
    "報告日時",
    "確認日時",
)


def csv_rows(scoped: sa.Select, today: date) -> Iterable[list]:
    """The (already scoped and filtered) actions as the rows of the CSV export, in Japanese:
    the file goes into the office's own spreadsheets."""
    from survey.labels import ACTION_SOURCES, ACTION_STATUSES, label

    stmt = scoped.order_by(CorrectiveAction.due_on, CorrectiveAction.id).options(
        joinedload(CorrectiveAction.unit),
        joinedload(CorrectiveAction.contractor),
        joinedload(CorrectiveAction.campaign),
    )
    for action in db.session.scalars(stmt):
        yield [
            action.id,
            action.title,
            action.unit.name if action.unit else "",
            action.contractor.name if action.contractor else "",
            label(ACTION_SOURCES, action.source),
            action.campaign.title if action.campaign else "",
            action.due_on.isoformat(),
            label(ACTION_STATUSES, action.status),
            "期限超過" if action.is_overdue(today) else "",
            action.created_at.date().isoformat(),
            action.measure,
            action.reported_at.isoformat(timespec="minutes") if action.reported_at else "",
            action.verified_at.isoformat(timespec="minutes") if action.verified_at else "",
        ]
