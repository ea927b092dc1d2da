"""Delegation (委任): a respondent hands a questionnaire, or some of its categories, to a
colleague; the delegate answers those items and marks the part done; the delegator reviews and
submits, and may withdraw the delegation.

Who may be handed a part: a staff account of the unit that answers the questionnaire, or, from
a contractor's account, a staff account of its own company (Role.STAFF with the company's
contractor_id): either's only access is the delegation (survey.access.delegated_part). Only the
side that handed a part over takes it back (access.withdraws). Every step is an AssignmentEvent
naming its delegation (the questionnaire's history; a delegate's shows their own steps only),
an audit entry, and a mail to the other side; the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from survey import access, clock
from survey.extensions import db
from survey.models import Assignment, AssignmentEvent, Delegation, Role, User
from survey.models.types import utcnow
from survey.services import mail_texts, notify, trail, transitions

NOTE_MAX = 1000


class Refused(Exception):
    """The delegation cannot be made as asked; `problems` maps form fields to messages."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("delegation refused")
        self.problems = problems


class AlreadyMoved(Exception):
    """Another request made the same hand-over, marked the part done or withdrew it first (a
    double click)."""


def candidates(assignment: Assignment, user: User) -> list[User]:
    """Whom `user` may hand a part of the questionnaire to: the active staff accounts of the
    unit that answers it; from a contractor's account, the active staff accounts of its own
    company (another contractor's account sees the whole already). Never another unit or
    company, never the user."""
    if user.role == Role.CONTRACTOR:
        stmt = sa.select(User).where(
            User.role == Role.STAFF, User.contractor_id == user.contractor_id
        )
    else:
        stmt = sa.select(User).where(
            User.role == Role.STAFF, User.unit_id == assignment.responsible_unit_id
        )
    stmt = stmt.where(User.active.is_(True), User.id != user.id)
    return list(db.session.scalars(stmt.order_by(User.display_name, User.id)))


def of_assignment(assignment: Assignment, *, withdrawn: bool = False) -> list[Delegation]:
    """The questionnaire's delegations not withdrawn (with `withdrawn`, those too: the API's
    record of them), oldest first, with the people and the categories the page shows (two
    queries, whatever their number)."""
    stmt = sa.select(Delegation).where(Delegation.assignment_id == assignment.id)
    if not withdrawn:
        stmt = stmt.where(Delegation.ended_at.is_(None))
    return list(
        db.session.scalars(
            stmt.order_by(Delegation.id).options(
                joinedload(Delegation.delegate),
                joinedload(Delegation.delegator),
                selectinload(Delegation.categories),
            )
        )
    )


def handed_to(user: User) -> list[Delegation]:
    """What was handed to the user and not withdrawn, on questionnaires they still see (the
    inbox's 依頼された回答), the nearest due date first."""
    visible = access.scope_assignments(user, sa.select(Assignment.id))
    return list(
        db.session.scalars(
            sa.select(Delegation)
            .where(
                Delegation.delegate_id == user.id,
                Delegation.ended_at.is_(None),
                Delegation.assignment_id.in_(visible),
            )
            .order_by(Delegation.done_at.is_not(None), Delegation.due_on, Delegation.id)
        )
    )


def handed_out(assignment_ids: Sequence[int]) -> dict[int, list[Delegation]]:
    """The parts of these questionnaires handed to someone and not withdrawn, by questionnaire,
    oldest first, with their delegates and categories (the inbox's rows: one query)."""
    found: dict[int, list[Delegation]] = {}
    if not assignment_ids:
        return found
    for delegation in db.session.scalars(
        sa.select(Delegation)
        .where(Delegation.assignment_id.in_(assignment_ids), Delegation.ended_at.is_(None))
        .order_by(Delegation.id)
        .options(joinedload(Delegation.delegate), joinedload(Delegation.categories))
    ).unique():
        found.setdefault(delegation.assignment_id, []).append(delegation)
    return found


def _event(delegation: Delegation, action: str, user: User) -> None:
    # The questionnaire's status does not move: the step is recorded beside the review's.
    assignment = delegation.assignment
    db.session.add(
        AssignmentEvent(
            assignment_id=assignment.id,
            action=action,
            from_status=assignment.status,
            to_status=assignment.status,
            comment=describe(delegation),
            user_id=user.id,
            delegation_id=delegation.id,
        )
    )


def _record(action: str, delegation: Delegation, user: User) -> None:
    trail.record(
        action,
        delegation,
        summary=f"{trail.assignment_summary(delegation.assignment)} → "
        f"{delegation.delegate.display_name}",
        after={
            "assignment_id": delegation.assignment_id,
            "delegate": delegation.delegate.username,
            "categories": [c.code for c in delegation.categories],
            "due_on": delegation.due_on.isoformat(),
        },
        user=user,
    )


def _link(assignment: Assignment) -> str:
    return notify.external_url("respond.assignment", assignment_id=assignment.id)


def delegate(
    assignment: Assignment,
    delegator: User,
    delegate_id: int | None,
    category_ids: Sequence[int],
    due_on: date | None,
    note: str = "",
) -> Delegation:
    """Hand the categories to the colleague; raises Refused naming each problem. A category
    already handed to someone (not withdrawn, not done) is not handed twice; the same hand-over
    posted again (a double click, a retry) raises AlreadyMoved and makes nothing."""
    transitions.hold(assignment)  # what is taken is read after a request at the same moment
    problems: dict[str, str] = {}
    chosen = {user.id: user for user in candidates(assignment, delegator)}.get(delegate_id or 0)
    if chosen is None:
        problems["delegate"] = _("依頼する相手を一覧から選んでください。")
    checklist_categories = {c.id: c for c in assignment.campaign.checklist.categories}
    categories = [checklist_categories[i] for i in category_ids if i in checklist_categories]
    if not categories or len(categories) != len(set(category_ids)):
        problems["categories"] = _("依頼する分類を選んでください。")
    else:
        standing = of_assignment(assignment)
        if _made_already(standing, delegator, delegate_id, categories):
            db.session.rollback()  # the lock is not held while the page is drawn
            raise AlreadyMoved()
        busy = _taken(standing)
        overlap = [c for c in categories if c.id in busy]
        if overlap:
            problems["categories"] = _(
                "%(codes)s はすでにほかの人に依頼しています。",
                codes="、".join(c.code for c in overlap),
            )
    today = clock.today()
    deadline = assignment.due_on or assignment.campaign.closes_on
    if due_on is None:
        problems["due_on"] = _("期限を入力してください。")
    elif due_on < today:
        problems["due_on"] = _("期限には今日以降の日付を入力してください。")
    elif today <= deadline < due_on:
        # Past the questionnaire's own deadline (still open, overdue) any day from today will do.
        problems["due_on"] = _("期限は点検の回答期限より後にはできません。")
    if len(note) > NOTE_MAX:
        problems["note"] = _("連絡事項は%(max)d文字以内で入力してください。", max=NOTE_MAX)
    if problems:
        db.session.rollback()
        raise Refused(problems)
    delegation = Delegation(
        assignment=assignment,
        delegator=delegator,
        delegate=chosen,
        due_on=due_on,
        note=note.strip(),
        categories=sorted(categories, key=lambda c: c.position),
    )
    db.session.add(delegation)
    db.session.flush()
    _event(delegation, "delegate", delegator)
    _record("delegation.create", delegation, delegator)
    notify.mail_users([chosen], *mail_texts.delegation_request(delegation, _link(assignment)))
    return delegation


def _made_already(standing: list[Delegation], delegator: User, delegate_id, categories) -> bool:
    """Whether this very hand-over is open already: same delegator, colleague and categories."""
    wanted = {c.id for c in categories}
    return any(
        d.delegator_id == delegator.id
        and d.delegate_id == delegate_id
        and d.done_at is None
        and {c.id for c in d.categories} == wanted
        for d in standing
    )


def taken(assignment: Assignment) -> set[int]:
    """The categories handed to someone who has not finished them: not handed twice."""
    return _taken(of_assignment(assignment))


def _taken(standing: list[Delegation]) -> set[int]:
    return {
        category.id
        for delegation in standing
        if delegation.done_at is None
        for category in delegation.categories
    }


def describe(delegation: Delegation) -> str:
    """The step's line in the history: to whom, which categories, by when (names and codes as
    stored, so the line reads the same in either language)."""
    part = "、".join(f"{c.code} {c.title}" for c in delegation.categories)
    return (
        f"{delegation.delegate.display_name} さん：{part}（期限 {delegation.due_on.isoformat()}）"
    )


def _claim(delegation: Delegation, **values) -> None:
    """One guarded UPDATE from the state this request saw: a double click takes it once."""
    claimed = db.session.execute(
        sa.update(Delegation)
        .where(
            Delegation.id == delegation.id,
            Delegation.ended_at.is_(None),
            *((Delegation.done_at.is_(None),) if "done_at" in values else ()),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise AlreadyMoved()
    db.session.refresh(delegation)


def mark_done(delegation: Delegation, user: User) -> None:
    """The delegate says their part is answered; the delegator is told."""
    if delegation.delegate_id != user.id:
        raise PermissionError
    _claim(delegation, done_at=utcnow())
    assignment = delegation.assignment
    _event(delegation, "delegate_done", user)
    _record("delegation.done", delegation, user)
    notify.mail_users(
        [delegation.delegator], *mail_texts.delegation_done(delegation, _link(assignment))
    )


def withdraw(delegation: Delegation, user: User) -> None:
    """Take the part back (the side that handed it over: access.withdraws): the delegate's
    access ends at once; their answers stay, in the history under their name."""
    if not access.withdraws(user, delegation):
        raise PermissionError
    _claim(delegation, ended_at=utcnow(), ended_by_id=user.id)
    _event(delegation, "delegate_end", user)
    _record("delegation.withdraw", delegation, user)
    notify.mail_users(
        [delegation.delegate],
        *mail_texts.delegation_withdrawn(delegation, notify.external_url("respond.index")),
    )


def reminders(today: date, days_before: int):
    """The daily digest's source (services/reminders.py): each part handed over and not yet
    marked done, to its delegate from `days_before` days before its due date; once the date
    has passed, to the delegator too, who answers for the questionnaire. A part of a
    questionnaire already handed in, or of a campaign closed, is no longer asked for."""
    from survey.models import Campaign
    from survey.models.campaigns import COUNTED_STATUSES, CampaignStatus
    from survey.services.reminders import Reminder

    stmt = (
        sa.select(Delegation)
        .join(Assignment, Assignment.id == Delegation.assignment_id)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .where(
            Delegation.ended_at.is_(None),
            Delegation.done_at.is_(None),
            Delegation.due_on <= today + timedelta(days=days_before),
            Assignment.status.not_in(COUNTED_STATUSES),
            # Only while the questionnaire takes answers (a reopened one after its campaign).
            sa.or_(Campaign.status == CampaignStatus.OPEN, Assignment.open_until >= today),
        )
        .order_by(Delegation.due_on, Delegation.id)
        .options(joinedload(Delegation.delegate), joinedload(Delegation.delegator))
    )
    for delegation in db.session.scalars(stmt):
        people = [delegation.delegate]
        if delegation.due_on < today:
            people.append(delegation.delegator)
        line = mail_texts.delegation_reminder_line(delegation, today, _link(delegation.assignment))
        for person in people:
            if person.active and (person.email or "").strip():
                yield Reminder(
                    person.email.strip(),
                    person.display_name,
                    f"delegation:{delegation.id}",
                    line,
                    delegation.due_on,
                )
