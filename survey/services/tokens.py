"""Personal access tokens for the REST API: made, checked, revoked.

A token is 32 random bytes (256 bits) from `secrets`, so its SHA-256 is enough to keep it
safe in the database: a slow hash (bcrypt, argon2) protects guessable passwords against a
stolen table, but nobody guesses 256 random bits, and every API call checks the token — a
slow hash would cost each call tens of milliseconds and invite a denial of service. The
lookup is by the hash itself (a unique index), so no comparison leaks timing about a stored
token either.

Scopes narrow what the token's user may do and never widen it: the API asks survey.access as
the user, and the scope only takes away (read: look; answers: save answers and report on
one's corrective actions; admin: the security office's changes). A user is offered only the
scopes their role could use at all.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from survey.extensions import db
from survey.models import ApiToken, Role, User
from survey.services import signin

PREFIX = "tenken_"
SCOPES = ("read", "answers", "admin")
# Who could ever use a scope: the access rules decide the rest, call by call.
_ROLE_SCOPES = {
    Role.ADMIN: {"read", "answers", "admin"},
    Role.AUDITOR: {"read"},
    Role.MANAGER: {"read", "answers"},
    Role.RESPONDENT: {"read", "answers"},
    Role.CONTRACTOR: {"read", "answers"},
}
# last_used_at is written at most this often, like a session's seen_at.
_USE_RESOLUTION = timedelta(minutes=1)
NAME_MAX = 100


class TokenError(ValueError):
    """A token that cannot be made as asked; the message says why, in the user's language."""


@dataclass(frozen=True)
class Made:
    token: ApiToken
    secret: str  # shown once, on the page that made it; never stored


def scopes_for(user: User) -> list[str]:
    """The scopes this user may give a token, in SCOPES order."""
    allowed = _ROLE_SCOPES.get(user.role, set())
    return [scope for scope in SCOPES if scope in allowed]


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _days(days: int | None) -> int:
    longest = int(current_app.config["API_TOKEN_MAX_DAYS"])
    if days is None:
        return min(int(current_app.config["API_TOKEN_DAYS"]), longest)
    if not 1 <= days <= longest:
        raise TokenError(
            _("有効期間は1日から%(days)d日までの日数で指定してください。", days=longest)
        )
    return days


def create(user: User, name: str, scopes: list[str], days: int | None = None) -> Made:
    """A new token of `user` (not committed), reading and doing what `scopes` add (answers,
    admin). Scopes the user's role cannot use are refused, not quietly dropped."""
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise TokenError(_("トークンの名前を%(max)d文字以内で入力してください。", max=NAME_MAX))
    chosen = {"read", *scopes}  # every token reads; the rest is chosen
    if not chosen <= set(scopes_for(user)):
        raise TokenError(_("あなたの権限を超える範囲のトークンは作成できません。"))
    lifetime = _days(days)
    secret = PREFIX + secrets.token_urlsafe(32)
    at = signin.now()
    token = ApiToken(
        user=user,
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[: len(PREFIX) + 4],
        scopes=" ".join(scope for scope in SCOPES if scope in chosen),
        created_at=at,
        expires_at=at + timedelta(days=lifetime),
    )
    db.session.add(token)
    db.session.flush()
    return Made(token, secret)


def refusal(token: ApiToken | None, at: datetime | None = None) -> str | None:
    """Why this token cannot be used now (a code), or None while it can."""
    if token is None:
        return "unknown"
    if token.revoked_at is not None:
        return "revoked"
    if not token.user.active:
        return "inactive"
    # Never more than the user's rights today: a role changed since the token was made (to a
    # 職員, who has no token, or to a role without its scopes) stops it.
    if not set(token.scopes.split()) <= set(scopes_for(token.user)):
        return "beyond_role"
    if (at or signin.now()) >= signin._aware(token.expires_at):
        return "expired"
    return None


def find(secret: str) -> ApiToken | None:
    """The token stored for this secret, usable or not."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    return db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))


def mark_used(token: ApiToken) -> None:
    at = signin.now()
    last = signin._aware(token.last_used_at)
    if last is None or at - last >= _USE_RESOLUTION:
        token.last_used_at = at


def of_user(user: User) -> list[ApiToken]:
    """The user's tokens, newest first, revoked and expired ones included (with their state)."""
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke(user: User, token_id: int) -> ApiToken | None:
    """Revoke one of the user's own tokens; None if they have no such usable token."""
    token = db.session.scalar(
        sa.select(ApiToken).where(
            ApiToken.id == token_id, ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)
        )
    )
    if token is not None:
        token.revoked_at = signin.now()
    return token
