"""Delivering queued mail over SMTP: `deliver_queued`, run by `flask mail send` from cron.

A run first claims the due mails with one conditional UPDATE (a random claim token and the
time), commits, and sends only what it claimed: two overlapping runs never send the same mail,
on PostgreSQL or SQLite. A claim older than `LEASE` belongs to a run that died and is taken
over. Each mail is marked sent (`sent_at`) right after the server accepted it and committed
at once; a server that is down or refuses is recorded on the row (`attempts`, `last_error`,
`next_attempt_at` with a growing delay) and the mail is tried again by a later run, until
`MAX_ATTEMPTS` (then an admin can retry it on the outbox page).

A run that dies between the server's acceptance and the commit sends that one mail again after
the lease: a duplicate is better than a lost invitation.

With MAIL_BACKEND=outbox (development and tests) nothing leaves the machine: mail stays queued
and readable on the outbox page.
"""

from __future__ import annotations

import secrets
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import sqlalchemy as sa
from flask import current_app

from survey.extensions import db
from survey.models import OutgoingMail
from survey.models.types import utcnow

LEASE = timedelta(minutes=15)
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(minutes=5)  # then doubling: 5, 10, 20 … minutes
LONGEST_RETRY = timedelta(hours=6)
BATCH = 200
ERROR_MAX = 1000


def now() -> datetime:
    """The clock of the delivery runs; tests replace it."""
    return utcnow()


@dataclass
class Report:
    backend: str
    sent: list[OutgoingMail] = field(default_factory=list)
    failed: list[OutgoingMail] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def backoff(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def _due(moment: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        OutgoingMail.sent_at.is_(None),
        sa.or_(OutgoingMail.attempts == 0, OutgoingMail.next_attempt_at <= moment),
        sa.or_(OutgoingMail.claimed_at.is_(None), OutgoingMail.claimed_at < moment - LEASE),
    )


def claim(moment: datetime, limit: int = BATCH, ids: list[int] | None = None) -> list[OutgoingMail]:
    """Take the due mails (oldest first) for this run and commit, so no other run takes them."""
    candidates = sa.select(OutgoingMail.id).where(_due(moment))
    if ids is not None:
        candidates = candidates.where(OutgoingMail.id.in_(ids))
    candidates = candidates.order_by(OutgoingMail.id).limit(limit)
    token = secrets.token_hex(16)
    # The condition is repeated in the UPDATE itself: on PostgreSQL a second run waiting on the
    # same rows re-checks it after the first commits, and finds them claimed.
    db.session.execute(
        sa.update(OutgoingMail)
        .where(OutgoingMail.id.in_(candidates.scalar_subquery()), _due(moment))
        .values(claim=token, claimed_at=moment)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return list(
        db.session.scalars(
            sa.select(OutgoingMail).where(OutgoingMail.claim == token).order_by(OutgoingMail.id)
        )
    )


def build_message(mail: OutgoingMail) -> EmailMessage:
    """MIME with UTF-8 throughout: RFC 2047 for the Japanese subject, a UTF-8 text body."""
    config = current_app.config
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = config["MAIL_FROM"]
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(_aware(mail.created_at))
    domain = parseaddr(config["MAIL_FROM"])[1].rpartition("@")[2] or "tenken.invalid"
    # The same id on every attempt, so a receiving system can recognise a resent duplicate.
    message["Message-ID"] = f"<tenken.{mail.id}.{_aware(mail.created_at):%Y%m%d%H%M%S}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content(mail.body, charset="utf-8")
    return message


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def connect() -> smtplib.SMTP:
    config = current_app.config
    host, port, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TIMEOUT"]
    if not host:
        raise smtplib.SMTPException("SMTP_HOST が設定されていません。")
    if config["SMTP_SECURITY"] == "ssl":
        server = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config["SMTP_SECURITY"] == "starttls":
            server.starttls(context=ssl.create_default_context())
        if config["SMTP_USER"]:
            server.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
    except BaseException:
        server.close()
        raise
    return server


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_MAX]


def _mark_sent(mail: OutgoingMail, moment: datetime) -> None:
    mail.sent_at = moment
    mail.last_attempt_at = moment
    mail.claim = None
    mail.claimed_at = None
    db.session.commit()


def _mark_failed(mail: OutgoingMail, moment: datetime, error: str) -> None:
    mail.attempts = (mail.attempts or 0) + 1
    mail.last_error = error
    mail.last_attempt_at = moment
    mail.next_attempt_at = moment + backoff(mail.attempts) if mail.attempts < MAX_ATTEMPTS else None
    mail.claim = None
    mail.claimed_at = None
    db.session.commit()


def deliver_queued(
    moment: datetime | None = None, limit: int = BATCH, ids: list[int] | None = None
) -> Report:
    """Send every due unsent mail (or only `ids`) over one SMTP connection."""
    backend = current_app.config["MAIL_BACKEND"]
    report = Report(backend)
    if backend != "smtp":
        return report
    moment = moment or now()
    server: smtplib.SMTP | None = None
    unreachable: str | None = None  # once connecting failed, the rest of the run fails with it
    try:
        for mail in claim(moment, limit, ids):
            if unreachable is None and server is None:
                try:
                    server = connect()
                except (OSError, smtplib.SMTPException) as error:
                    unreachable = _describe(error)
            if unreachable is not None:
                _mark_failed(mail, moment, unreachable)
                report.failed.append(mail)
                continue
            try:
                server.send_message(build_message(mail))
            except (smtplib.SMTPServerDisconnected, OSError) as error:
                server.close()
                server = None  # the next mail reconnects
                _mark_failed(mail, moment, _describe(error))
                report.failed.append(mail)
            except (smtplib.SMTPException, ValueError) as error:
                _mark_failed(mail, moment, _describe(error))
                report.failed.append(mail)
            else:
                _mark_sent(mail, moment)
                report.sent.append(mail)
    finally:
        if server is not None:
            _quit(server)
    return report


def _quit(server: smtplib.SMTP) -> None:
    try:
        server.quit()
    except (OSError, smtplib.SMTPException):
        server.close()


def retry_now(mail: OutgoingMail, moment: datetime | None = None) -> None:
    """An admin asks for a failed mail to be tried at once; the caller commits."""
    mail.next_attempt_at = moment or now()


def pending_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(OutgoingMail).where(OutgoingMail.sent_at.is_(None))
    )
