"""The outbox as the security office sees it: every queued mail, searched and paged."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from survey.extensions import db
from survey.models import OutgoingMail

PAGE_SIZE = 50
TEXT_MAX = 200

_unsent = OutgoingMail.sent_at.is_(None)
# The states of OutgoingMail.state, as SQL.
STATES = {
    "queued": sa.and_(_unsent, OutgoingMail.attempts == 0),
    "failing": sa.and_(
        _unsent, OutgoingMail.attempts > 0, OutgoingMail.next_attempt_at.is_not(None)
    ),
    "failed": sa.and_(_unsent, OutgoingMail.attempts > 0, OutgoingMail.next_attempt_at.is_(None)),
    "sent": OutgoingMail.sent_at.is_not(None),
}


@dataclass(frozen=True)
class Page:
    mails: list[OutgoingMail]
    total: int
    page: int
    pages: int


def statement(text: str = "", state: str = "") -> sa.Select:
    stmt = sa.select(OutgoingMail)
    text = text.strip()[:TEXT_MAX].lower()
    if text:
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(OutgoingMail.recipient).contains(text, autoescape=True),
                sa.func.lower(OutgoingMail.subject).contains(text, autoescape=True),
            )
        )
    if state in STATES:
        stmt = stmt.where(STATES[state])
    return stmt


def search(text: str = "", state: str = "", page: int = 1) -> Page:
    """Newest first."""
    stmt = statement(text, state)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    mails = db.session.scalars(
        stmt.order_by(OutgoingMail.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    )
    return Page(list(mails), total, page, pages)


def counts() -> dict[str, int]:
    """How many mails are in each state, for the filter's labels."""
    return {
        state: db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingMail).where(cond))
        for state, cond in STATES.items()
    }
