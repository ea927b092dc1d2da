"""The daily digest: one mail per person per day, whatever the number of campaigns, listing
every questionnaire and corrective action whose escalation step reaches them (the respondents,
then the unit head, then the head of the unit above: survey.services.escalation) and, when the
office chose it, what waits for their approval; run daily by `flask reminders send` from a
timer, on one node or all of them (`send_daily`: the first run of the day makes the mails,
survey.services.daily).

Extension point — reminder sources. A source is a function

    source(today: datetime.date) -> Iterable[Reminder]

yielding one `Reminder(email, name, key, line, due_on)` per person and thing to remind:
`key` names the thing, unique across sources ("assignment:42", "action:7"), `line` is its
text in the mail (shaped by mail_texts.digest_line), `due_on` sorts the lines. Add a source
to `SOURCES` and its lines join the same daily mail.

A person gets one digest a day: the `reminder_log` rows (address, key, day) are written in the
transaction that queues the mail, under a unique constraint; an address with a row that day is
left out of any later run that day, and two runs at once queue no key twice, whatever happens
to the delivery.
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
from survey.services import daily, escalation, mail_texts, notify, trail

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


def assignment_reminders(today: date) -> Iterable[Reminder]:
    """Assignments of open campaigns not handed in whose first escalation step has come (the
    campaign's steps, survey.services.escalation): to the responsible unit's respondents and,
    for contracts, the contractor; from later steps on also to the unit head, then to the head
    of the unit above."""
    due = sa.func.coalesce(Assignment.due_on, Campaign.closes_on)
    running = sa.or_(
        sa.and_(Campaign.status == CampaignStatus.OPEN, Campaign.opens_on <= today),
        # a reopened questionnaire takes answers after its campaign closed (open_until)
        Assignment.open_until >= today,
    )
    # Per campaign: due dates near enough for its first step (a date sum is not portable SQL).
    firsts = {}
    for campaign in db.session.scalars(
        sa.select(Campaign).where(
            Campaign.id.in_(sa.select(Assignment.campaign_id).join(Campaign).where(running))
        )
    ):
        enabled = escalation.campaign_steps(campaign).enabled()
        if enabled:
            firsts[campaign.id] = today - timedelta(days=enabled[0][1])
    if not firsts:
        return
    stmt = (
        sa.select(Assignment)
        .join(Campaign)
        .where(
            running,
            Assignment.status.in_(NOT_HANDED_IN),
            sa.or_(
                *(
                    sa.and_(Assignment.campaign_id == campaign_id, due <= last_due)
                    for campaign_id, last_due in firsts.items()
                )
            ),
        )
        .order_by(Assignment.id)
    )
    for assignment in db.session.scalars(stmt):
        due_on = assignment.due_on or assignment.campaign.closes_on
        found = escalation.reached(
            escalation.campaign_steps(assignment.campaign),
            due_on,
            today,
            assignment.responsible_unit,
            notify.assignment_recipients(assignment),
        )
        if found is None:
            continue
        link = notify.external_url("respond.assignment", assignment_id=assignment.id)
        line = mail_texts.reminder_line(assignment, today, link, found.step)
        for user in found.people:
            yield Reminder(
                user.email.strip(), user.display_name, f"assignment:{assignment.id}", line, due_on
            )


def action_reminders(today: date) -> Iterable[Reminder]:
    """Corrective actions past their due date and not yet verified, daily until the measure is
    reported (a reported action waits for the office, not the owner): to their owners, then up
    the unit's heads along the office's escalation steps."""
    from survey.models.followup import ActionStatus
    from survey.services import actions

    steps = escalation.office_steps()
    for overdue in actions.overdue_actions(today):
        action = overdue.action
        if action.status == ActionStatus.REPORTED:
            continue
        found = escalation.reached(steps, action.due_on, today, action.unit, overdue.recipients)
        if found is None:
            continue
        line = mail_texts.action_reminder_line(action, today, actions.link(action), found.step)
        for user in found.people:
            yield Reminder(
                user.email.strip(), user.display_name, f"action:{action.id}", line, action.due_on
            )


def _days_before() -> int | None:
    """How many days before a deadline the first step of the office's escalation defaults
    starts (negative: after it); None when the office left every step out. The log review's
    sheets and the parts handed to a colleague are reminded from then, as a questionnaire's
    respondents are."""
    enabled = escalation.office_steps().enabled()
    return -enabled[0][1] if enabled else None


def log_review_reminders(today: date) -> Iterable[Reminder]:
    """ログ点検: review sheets due soon or overdue, to their heads, and the explanations the
    heads wait for, to the employees asked (services/log_reviews.py)."""
    from survey.services import log_reviews

    days = _days_before()
    return [] if days is None else log_reviews.reminders(today, days)


def training_reminders(today: date) -> Iterable[Reminder]:
    """Courses not passed yet, climbing the office's escalation steps
    (survey/services/training.py, which imports this module)."""
    from survey.services import training

    return training.reminders(today, escalation.office_steps())


def delegation_reminders(today: date) -> Iterable[Reminder]:
    """Parts of questionnaires handed to a colleague and not yet marked done
    (services/delegations.py), from the first of the office's steps before their due date."""
    from survey.services import delegations

    days = _days_before()
    return [] if days is None else delegations.reminders(today, days)


def pledge_reminders(today: date) -> Iterable[Reminder]:
    """Pledges due and not yet given, climbing the office's escalation steps from the day each
    was first asked (survey/services/pledges.py, which imports this module)."""
    from survey.services import pledges

    return pledges.reminders(today, escalation.office_steps())


SOURCES: list[Source] = [
    assignment_reminders,
    action_reminders,
    log_review_reminders,
    training_reminders,
    delegation_reminders,
    pledge_reminders,
]
APPROVAL = "approval:"  # the keys of what waits for approval: their own part of the digest


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
                user.email.strip(), user.display_name, f"{APPROVAL}{assignment.id}", line, due_on
            )


def sources() -> list[Source]:
    """What the day's digest lists: the deadline reminders, and what waits for approval when
    the office chose the approvers' digest (APPROVAL_MAIL=daily)."""
    found = list(SOURCES)
    if current_app.config["APPROVAL_MAIL"] == "daily":
        found.append(approval_reminders)
    return found


def _mailed(today: date) -> set[str]:
    return set(
        db.session.scalars(
            sa.select(ReminderLog.recipient).where(ReminderLog.day == today).distinct()
        )
    )


def plan(today: date, sources: list[Source] | None = None) -> list[Letter]:
    """Who would get which lines today, leaving out whoever already had their digest today."""
    done = _mailed(today)
    letters: dict[str, Letter] = {}
    for source in SOURCES if sources is None else sources:
        for reminder in source(today):
            address = reminder.email.lower()
            if address in done:
                continue
            letter = letters.setdefault(address, Letter(reminder.email, reminder.name))
            if all(r.key != reminder.key for r in letter.reminders):
                letter.reminders.append(reminder)
    for letter in letters.values():
        letter.reminders.sort(key=lambda r: (r.due_on, r.key))
    return sorted(letters.values(), key=lambda letter: letter.email.lower())


def send(today: date, sources: list[Source] | None = None) -> list[Letter]:
    """Queue today's digests, each mail committed with its log rows; returns what was queued.

    A letter that another run queued meanwhile fails on the unique log and is skipped.
    """
    queued = []
    for letter in plan(today, sources):
        approvals = [r.line for r in letter.reminders if r.key.startswith(APPROVAL)]
        due = [r.line for r in letter.reminders if not r.key.startswith(APPROVAL)]
        subject, body = mail_texts.digest(letter.name, due, approvals)
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
    """Today's digests, made by one run a day however many nodes start one: the run that claims
    the day makes them; the others make nothing and say who did. `again` makes them after all
    (after a run that died): whoever had their digest that day gets no second one.

    A run that fails gives the day back, so that the next one makes what is missing."""
    claimed = daily.claim(JOB, today)
    if not claimed and not again:
        return Daily([], daily.holder(JOB, today))
    try:
        letters = send(today, sources())
    except Exception:
        db.session.rollback()
        if claimed:
            daily.release(JOB, today)
        raise
    return Daily(letters)
