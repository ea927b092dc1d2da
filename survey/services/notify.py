"""Mail: queued in the database within the caller's transaction, delivered later.

Queuing in the same transaction as the change it reports means a mail exists exactly when the
change was committed; survey.services.mailer delivers the queue over SMTP (`flask mail send`).

For other areas composing mail (texts go in survey.services.mail_texts):

    users = notify.unit_recipients(unit)            # the unit's respondents with an address
    notify.mail_users(users, subject, body)          # one mail per distinct address
    notify.external_url("respond.assignment", assignment_id=42)   # a link for a mail
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from survey.extensions import db
from survey.models import Assignment, Contract, OrgUnit, OutgoingMail, Role, User
from survey.models.campaigns import AssignmentStatus
from survey.services import mail_texts

SUBJECT_MAX = 255


def _one_line(text: str) -> str:
    # A line break in a header would let text inject further headers once the mail is sent.
    return " ".join(text.split())


def queue_mail(recipient: str, subject: str, body: str) -> OutgoingMail:
    mail = OutgoingMail(
        recipient=_one_line(recipient),
        subject=_one_line(subject)[:SUBJECT_MAX],
        body=body,
    )
    db.session.add(mail)
    return mail


def with_address(stmt: sa.Select) -> list[User]:
    """The active users the statement selects who have a mail address, by id."""
    stmt = stmt.where(User.active.is_(True), User.email.is_not(None), User.email != "")
    return list(db.session.scalars(stmt.order_by(User.id)))


def unit_recipients(unit: OrgUnit | None) -> list[User]:
    """The active respondents of a unit who have a mail address."""
    if unit is None:
        return []
    return with_address(
        sa.select(User).where(User.unit_id == unit.id, User.role == Role.RESPONDENT)
    )


def managers_above(unit: OrgUnit | None) -> list[User]:
    """The active managers of a unit and of every unit above it who have a mail address (one
    query at any depth)."""
    from survey import access

    if unit is None:
        return []
    above = access.ancestor_ids(unit.id)
    return with_address(sa.select(User).where(User.unit_id.in_(above), User.role == Role.MANAGER))


def contractor_recipients(contractor_id: int | None) -> list[User]:
    """The active accounts of a contractor company who have a mail address."""
    if contractor_id is None:
        return []
    return with_address(
        sa.select(User).where(User.contractor_id == contractor_id, User.role == Role.CONTRACTOR)
    )


def assignment_contractor_id(assignment: Assignment) -> int | None:
    if assignment.contractor_id is not None:
        return assignment.contractor_id
    if assignment.contract_id is not None:
        return db.session.scalar(
            sa.select(Contract.contractor_id).where(Contract.id == assignment.contract_id)
        )
    return None


def assignment_recipients(assignment: Assignment) -> list[User]:
    """Who answers an assignment: the responsible unit's respondents and, for a contract or a
    company, the contractor's own accounts — unless access says they do not answer it (a
    company never answers its own evaluation)."""
    from survey import access

    return unit_recipients(assignment.responsible_unit) + [
        user
        for user in contractor_recipients(assignment_contractor_id(assignment))
        if access.answers_for(user, assignment)
    ]


def mail_users(users: Iterable[User], subject: str, body: str) -> list[OutgoingMail]:
    """Queue the same mail to each user, once per address (two accounts may share one)."""
    seen: set[str] = set()
    mails = []
    for user in users:
        address = (user.email or "").strip()
        if address and address.lower() not in seen:
            seen.add(address.lower())
            mails.append(queue_mail(address, subject, body))
    return mails


def external_url(endpoint: str, **values) -> str:
    """An absolute link for a mail, always on SURVEY_BASE_URL: never the Host header of the
    request that triggered the mail (which a client chooses), and it works from the CLI."""
    base = urlsplit(current_app.config["SURVEY_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


# --- the review workflow --------------------------------------------------------------------


def approvers(assignment: Assignment) -> list[User]:
    """Who may approve (or confirm) a handed-in questionnaire and has a mail address: the
    managers above its unit and, for what a contractor handed in, the owning division's
    respondents — those access.can lets review it (nobody who had a hand in it), in one query.
    The security office reviews everything and is not mailed about each questionnaire."""
    from survey import access

    if assignment.status != AssignmentStatus.SUBMITTED or not access.accepts_work(assignment):
        return []
    reviewers = access.reviewers(assignment).where(User.role != Role.ADMIN)
    return with_address(reviewers)


def assignment_submitted(assignment: Assignment, submitter: User) -> list[OutgoingMail]:
    """Tell the approvers at once that a questionnaire waits for them, unless the office
    chose one digest a day (APPROVAL_MAIL=daily, sent by `flask reminders send`)."""
    if current_app.config["APPROVAL_MAIL"] != "immediate":
        return []
    link = external_url("respond.assignment", assignment_id=assignment.id)
    texts = mail_texts.approval_request(assignment, submitter, link)
    return mail_users(approvers(assignment), *texts)


def _reviewed(assignment: Assignment, reviewer: User, texts) -> list[OutgoingMail]:
    # The reviewer is not told of their own decision (an owning division may review its
    # contractor's answers and be among the recipients).
    users = [u for u in assignment_recipients(assignment) if u.id != reviewer.id]
    link = external_url("respond.assignment", assignment_id=assignment.id)
    return mail_users(users, *texts(link))


def assignment_returned(assignment: Assignment, reviewer: User, reason: str) -> list[OutgoingMail]:
    """Tell the people who answer that their answers came back, and why."""
    return _reviewed(
        assignment,
        reviewer,
        lambda link: mail_texts.assignment_returned(assignment, reviewer, reason, link),
    )


def assignment_approved(assignment: Assignment, reviewer: User, comment: str) -> list[OutgoingMail]:
    return _reviewed(
        assignment,
        reviewer,
        lambda link: mail_texts.assignment_approved(assignment, reviewer, comment, link),
    )
