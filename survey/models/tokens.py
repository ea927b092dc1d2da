"""Personal access tokens: how a program calls /api/v1 in the name of a user."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.org import User
from survey.models.types import utcnow


class ApiToken(db.Model):
    """A token a user made on their account page, for a subset of what they may do.

    Only the SHA-256 of the token is stored (like a session's): the token itself is shown once.
    `scopes` narrows the user's rights (read, answers, admin) and never widens them: every call
    still goes through survey.access as the user.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The token's first characters, so that its owner tells their tokens apart on the page.
    prefix: Mapped[str] = mapped_column(sa.String(16))
    scopes: Mapped[str] = mapped_column(sa.String(40))  # space-separated, e.g. "read answers"
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    # Written at most once a minute, as a session's seen_at: not on every call.
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    user: Mapped[User] = relationship()

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())
