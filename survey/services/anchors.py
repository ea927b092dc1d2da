"""Anchoring the audit trail: `flask audit anchor` hands the newest entry's id and hash to places
the database's administrators cannot rewrite, and `flask audit verify` checks them later.

The hash chain shows an entry edited or removed in the middle. It cannot show entries cut off
its end (the rest still chains), nor a chain rewritten from some entry on with fresh hashes by
someone who knows the scheme. An anchor can: the entry it names must still exist and carry its
hash. Each anchor goes to

- the system log (SysLogHandler on a local socket, /dev/log), which the operating system keeps
  and can forward to another machine, and the command's standard output, which cron mails;
- the auditors' mail (accounts with the auditor role and an address, and AUDIT_ANCHOR_MAIL_TO);
- the trail itself (an `audit.anchor` entry) and the `audit_anchor` table, which verify reads
  by itself. The owner of the database can rewrite these two as well: hence the other places.

Every place gets the same line (`line`), which `parse` reads back from a file: a mail saved as
text or an extract of the system log is a valid anchors file.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app

from survey.extensions import db
from survey.models import AuditAnchor, OutgoingMail, Role, User
from survey.models.types import utcnow
from survey.services import mail_texts, notify, trail

MARKER = "audit-anchor"
SYSLOG_IDENT = "tenken: "
# The anchor within a line, wherever the line comes from (a syslog prefix, a mail's quoting).
LINE = re.compile(r"\bid=([1-9]\d*) hash=([0-9a-fA-F]{64})\b")
# The short form typed on the command line: ID:HASH.
PAIR = re.compile(r"^([1-9]\d*):([0-9a-fA-F]{64})$")


def line(entry_id: int, entry_hash: str, count: int, at: datetime) -> str:
    moment = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{MARKER} id={entry_id} hash={entry_hash} count={count} at={moment}"


def pair(text: str) -> tuple[int, str] | None:
    """`ID:HASH` as typed after --anchor; None if it is not one."""
    found = PAIR.match(text.strip())
    return (int(found[1]), found[2].lower()) if found else None


@dataclass(frozen=True)
class Parsed:
    anchors: list[tuple[int, int, str]]  # (line number, entry id, hash)
    unreadable: list[tuple[int, str]]  # (line number, line): meant as an anchor, not one


def parse(text: str) -> Parsed:
    """The anchors in a text: lines holding `id=N hash=H` (as `line` writes them) or consisting
    of `ID:HASH`. Other lines are passed over, so that a whole mail or log extract can be given;
    a line that names the marker or starts like `ID:` but is not a whole anchor is unreadable."""
    parsed = Parsed([], [])
    for number, raw in enumerate(text.splitlines(), start=1):
        found = LINE.search(raw)
        value = (int(found[1]), found[2].lower()) if found else pair(raw)
        if value is not None:
            parsed.anchors.append((number, *value))
        elif MARKER in raw or re.match(r"^\s*\d+:", raw):
            parsed.unreadable.append((number, raw.strip()))
    return parsed


# --- sending --------------------------------------------------------------------------------


def syslog_address() -> str | None:
    """The system log's socket, if there is one here (none in most containers)."""
    address = current_app.config["AUDIT_SYSLOG_ADDRESS"]
    return address if address and os.path.exists(address) else None


class _SysLog(logging.handlers.SysLogHandler):
    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        raise  # noqa: PLE0704 - called inside emit's except: the caller must know it failed


def to_syslog(address: str, text: str) -> None:
    """One message to the system log (facility authpriv); raises OSError if it cannot go."""
    handler = _SysLog(address=address, facility=logging.handlers.SysLogHandler.LOG_AUTHPRIV)
    handler.ident = SYSLOG_IDENT
    try:
        handler.emit(logging.LogRecord("tenken.audit", logging.INFO, "", 0, text, None, None))
    finally:
        handler.close()


def mail_recipients() -> list[str]:
    """The active auditors' addresses, then AUDIT_ANCHOR_MAIL_TO, each address once."""
    auditors = notify.with_address(sa.select(User).where(User.role == Role.AUDITOR))
    seen: dict[str, str] = {}
    for address in [u.email for u in auditors] + current_app.config["AUDIT_ANCHOR_MAIL_TO"]:
        if address.strip():
            seen.setdefault(address.strip().lower(), address.strip())
    return list(seen.values())


@dataclass(frozen=True)
class Sent:
    line: str
    syslog: str | None  # the socket written to; None: no system log here, or it failed
    syslog_error: str | None
    mails: list[OutgoingMail]


def send(report: trail.ChainReport) -> Sent:
    """Anchor the newest entry of a verified trail: the system log first (outside the database,
    so it stands even if the commit below fails), then, in one transaction, the table, the
    `audit.anchor` entry and the mails (queued; the caller delivers them)."""
    at = utcnow()
    text = line(report.last_id, report.last_hash, report.count, at)
    address, error = syslog_address(), None
    if address is not None:
        try:
            to_syslog(address, text)
        except OSError as failure:
            address, error = None, f"{type(failure).__name__}: {failure}"
    recipients = mail_recipients()
    sent_to = ([f"syslog {address}"] if address else []) + [f"mail {r}" for r in recipients]
    db.session.add(
        AuditAnchor(
            at=at,
            entry_id=report.last_id,
            entry_hash=report.last_hash,
            entry_count=report.count,
            sent_to=", ".join(sent_to),
        )
    )
    trail.record(
        "audit.anchor",
        object_type="audit_entry",
        object_id=report.last_id,
        summary=f"id={report.last_id} {report.last_hash[:16]}",
        after={"hash": report.last_hash, "count": report.count, "sent_to": sent_to},
    )
    link = notify.external_url("trail.entry", entry_id=report.last_id)
    subject, body = mail_texts.audit_anchor(
        report.last_id, report.last_hash, report.last_at, text, link
    )
    mails = [notify.queue_mail(r, subject, body) for r in recipients]
    db.session.commit()
    return Sent(text, address, error, mails)


def stored() -> list[AuditAnchor]:
    """The anchors sent from here, oldest first (the database's own copy)."""
    return list(db.session.scalars(sa.select(AuditAnchor).order_by(AuditAnchor.id)))
