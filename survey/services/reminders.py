"""Deadline reminders: one mail per person, listing everything of theirs that is due soon or
overdue; run daily by `flask reminders send` from a timer, on one node or all of them
(`send_daily`: the first run of the day makes the mails, survey.services.daily).

Extension point — reminder sources. A source is a function

    source(today: datetime.date) -> Iterable[Reminder]

yielding one `Reminder(email, name, key, line, due_on)` per person and thing to remind:
`key` names the thing, unique across sources ("assignment:42", "action:7"), `line` is its
text in the mail (see mail_texts.reminder_line), `due_on` sorts the lines. Add a source to
`SOURCES` (e.g. overdue corrective actions) and its lines join the same daily mail.

A person gets each key at most once a day: the `reminder_log` row (address, key, day) is
written in the transaction that queues the mail, under a unique constraint, so a second run
the same day — or two runs at once — queues nothing twice, whatever happens to the delivery.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from survey.extensions import db
from survey.models import Assignment, Campaign, DailyRun, ReminderLog
from survey.models.campaigns import AssignmentStatus, CampaignStatus
from survey.services import daily, mail_texts, notify, trail

NOT_HANDED_IN = (AssignmentStatus.NOT_STARTED, AssignmentStatus.DRAFT, AssignmentStatus.RETURNED)


@dataclass(frozen=True)
class Reminder:
    email: str
    name: str  # how the mail greets the person
    key: str  # what is reminded, unique across sources
    line: str  # its text in the mail
    due_on: date


Source = Callable[[date], Iterable[Reminder]]


@dataclass
class Letter:
    """The one mail a person gets today."""

    email: str
    name: str
    reminders: list[Reminder] = field(default_factory=list)


def days_before() -> int:
    return current_app.config["REMINDER_DAYS_BEFORE"]


def assignment_reminders(today: date) -> Iterable[Reminder]:
    """Assignments of open campaigns not handed in, due within REMINDER_DAYS_BEFORE days or
    overdue: to the responsible unit's respondents and, for contracts, the contractor."""
    due = sa.func.coalesce(Assignment.due_on, Campaign.closes_on)
    stmt = (
        sa.select(Assignment)
        .join(Campaign)
        .where(
            # a reopened questionnaire takes answers after its campaign closed (open_until)
            sa.or_(
                sa.and_(Campaign.status == CampaignStatus.OPEN, Campaign.opens_on <= today),
                Assignment.open_until >= today,
            ),
            Assignment.status.in_(NOT_HANDED_IN),
            due <= today + timedelta(days=days_before()),
        )
        .order_by(Assignment.id)
    )
    for assignment in db.session.scalars(stmt):
        link = notify.external_url("respond.assignment", assignment_id=assignment.id)
        line = mail_texts.reminder_line(assignment, today, link)
        due_on = assignment.due_on or assignment.campaign.closes_on
        for user in notify.assignment_recipients(assignment):
            yield Reminder(
                user.email.strip(), user.display_name, f"assignment:{assignment.id}", line, due_on
            )


def action_reminders(today: date) -> Iterable[Reminder]:
    """Corrective actions past their due date and not yet verified: to their owners, daily
    until the measure is reported (a reported action waits for the office, not the owner)."""
    from survey.models.followup import ActionStatus
    from survey.services import actions

    for overdue in actions.overdue_actions(today):
        action = overdue.action
        if action.status == ActionStatus.REPORTED:
            continue
        line = mail_texts.action_reminder_line(action, today, actions.link(action))
        for user in overdue.recipients:
            yield Reminder(
                user.email.strip(), user.display_name, f"action:{action.id}", line, action.due_on
            )


def training_reminders(today: date) -> Iterable[Reminder]:
    """Courses not passed yet (survey/services/training.py, which imports this module)."""
    from survey.services import training

    return training.reminders(today)


SOURCES: list[Source] = [assignment_reminders, action_reminders, training_reminders]


def approval_reminders(today: date) -> Iterable[Reminder]:
    """Questionnaires handed in and still taking reviews, to each person who may approve them:
    the approvers' daily digest when the office chose it (APPROVAL_MAIL=daily)."""
    waiting = db.session.scalars(
        sa.select(Assignment)
        .join(Campaign)
        .where(
            Assignment.status == AssignmentStatus.SUBMITTED,
            sa.or_(
                Campaign.status == CampaignStatus.OPEN,
                sa.and_(Campaign.status == CampaignStatus.CLOSED, Assignment.open_until >= today),
            ),
        )
        .order_by(Assignment.submitted_at, Assignment.id)
    )
    for assignment in waiting:
        link = notify.external_url("respond.assignment", assignment_id=assignment.id)
        line = mail_texts.approval_line(assignment, link)
        due_on = assignment.due_on or assignment.campaign.closes_on
        for user in notify.approvers(assignment):
            yield Reminder(
                user.email.strip(), user.display_name, f"approval:{assignment.id}", line, due_on
            )


def digests() -> list[tuple[list[Source], Callable]]:
    """The daily mails: deadline reminders, and the approvers' digest when chosen."""
    found: list[tuple[list[Source], Callable]] = [(SOURCES, mail_texts.reminder)]
    if current_app.config["APPROVAL_MAIL"] == "daily":
        found.append(([approval_reminders], mail_texts.approval_digest))
    return found


def _already_sent(today: date) -> set[tuple[str, str]]:
    rows = db.session.execute(
        sa.select(ReminderLog.recipient, ReminderLog.key).where(ReminderLog.day == today)
    )
    return {(recipient, key) for recipient, key in rows}


def plan(today: date, sources: list[Source] | None = None) -> list[Letter]:
    """Who would get which lines today, leaving out what they were already sent today."""
    done = _already_sent(today)
    letters: dict[str, Letter] = {}
    for source in SOURCES if sources is None else sources:
        for reminder in source(today):
            address = reminder.email.lower()
            if (address, reminder.key) in done:
                continue
            letter = letters.setdefault(address, Letter(reminder.email, reminder.name))
            if all(r.key != reminder.key for r in letter.reminders):
                letter.reminders.append(reminder)
    for letter in letters.values():
        letter.reminders.sort(key=lambda r: (r.due_on, r.key))
    return sorted(letters.values(), key=lambda letter: letter.email.lower())


def send(
    today: date, sources: list[Source] | None = None, compose: Callable | None = None
) -> list[Letter]:
    """Queue today's reminders (or, with `compose`, another daily mail), each mail committed
    with its log rows; returns what was queued.

    A letter that another run queued meanwhile fails on the unique log and is skipped.
    """
    queued = []
    compose = compose or mail_texts.reminder
    for letter in plan(today, sources):
        subject, body = compose(letter.name, [r.line for r in letter.reminders], days_before())
        mail = notify.queue_mail(letter.email, subject, body)
        db.session.flush()
        db.session.add_all(
            ReminderLog(recipient=letter.email.lower(), key=r.key, day=today, mail_id=mail.id)
            for r in letter.reminders
        )
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            continue
        queued.append(letter)
    if queued:
        trail.record(
            "reminder.send",
            summary=f"{today.isoformat()} {len(queued)}",
            after={"day": today, "recipients": [letter.email for letter in queued]},
            commit=True,
        )
    return queued


JOB = "reminders"  # its daily_run rows


@dataclass
class Daily:
    """What a daily run made: its letters, or, when another run had taken the day, that run."""

    letters: list[Letter]
    taken_by: DailyRun | None = None


def send_daily(today: date, again: bool = False) -> Daily:
    """Today's daily mails (`digests`), made by one run a day however many nodes start one: the
    run that claims the day makes them; the others make nothing and say who did. `again` makes
    them after all (after a run that died): what was queued that day is not queued twice.

    A run that fails gives the day back, so that the next one makes what is missing."""
    claimed = daily.claim(JOB, today)
    if not claimed and not again:
        return Daily([], daily.holder(JOB, today))
    try:
        letters = [
            letter for sources, compose in digests() for letter in send(today, sources, compose)
        ]
    except Exception:
        db.session.rollback()
        if claimed:
            daily.release(JOB, today)
        raise
    return Daily(letters)
