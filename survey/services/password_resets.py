"""Password reset by mail, for local accounts.

Someone who forgot their password types their e-mail address (not their user name: the address
is what the mail proves, and people remember it). Every active account with a password of its
own (`local_accounts`) and that address gets a mail with a link; the page answers the same
whether there were none, one or several, and the request does the same kind of work either way
(a few INSERTs, no SMTP: the mail is queued and `flask mail send` delivers it), so neither the
page nor its timing tells whether the address is known.

A link carries a random token; only its SHA-256 is stored (PasswordReset). It works once, for
`PASSWORD_RESET_MINUTES`, and a newer request for the same account revokes the earlier links.
Using it sets the password through `accounts.set_password` (the one policy; every session of
the user ends) and does not sign in: the next sign-in still asks for the second factor.
Every function works in the caller's transaction: nothing here commits.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from survey.extensions import db
from survey.models import PasswordReset, User
from survey.services import mail_texts, signin
from survey.services.accounts import set_password
from survey.services.notify import external_url, queue_mail

TOKEN_BYTES = 32
TOKEN_MAX = 128  # token_urlsafe(32) is 43 characters; anything much longer is not ours
EMAIL_MAX = 254


class LinkState(enum.StrEnum):
    """What a link is worth; every state but USABLE is also the reason recorded for a refusal."""

    USABLE = "usable"
    UNKNOWN = "unknown"
    USED = "used"
    SUPERSEDED = "superseded"  # a newer link was asked for, or the password was set otherwise
    EXPIRED = "expired"
    ACCOUNT = "account"  # the account was deactivated or lost its local password meanwhile


class LinkUnusable(ValueError):
    """The link was used or revoked, or expired, while the form was being filled in."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str | None) -> str:
    return (email or "").strip().lower()[:EMAIL_MAX]


def local_accounts(email: str) -> list[User]:
    """The active accounts with a local password and this address (two may share one)."""
    address = normalise_email(email)
    if not address:
        return []
    # An account with no password of its own (signing in some other way) has nothing to reset.
    stmt = sa.select(User).where(
        sa.func.lower(User.email) == address,
        User.active.is_(True),
        User.password_hash.is_not(None),
    )
    return list(db.session.scalars(stmt.order_by(User.id)))


def _revoke_open_links(user: User, at: datetime) -> None:
    db.session.execute(
        sa.update(PasswordReset)
        .where(
            PasswordReset.user_id == user.id,
            PasswordReset.used_at.is_(None),
            PasswordReset.revoked_at.is_(None),
        )
        .values(revoked_at=at)
        .execution_options(synchronize_session=False)
    )


def _send_link(user: User, at: datetime) -> PasswordReset:
    _revoke_open_links(user, at)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    minutes = int(current_app.config["PASSWORD_RESET_MINUTES"])
    reset = PasswordReset(
        user=user,
        token_hash=hash_token(token),
        created_at=at,
        expires_at=at + timedelta(minutes=minutes),
    )
    db.session.add(reset)
    link = external_url("auth.reset_password", token=token)
    queue_mail(user.email, *mail_texts.password_reset(user, link, reset.expires_at))
    return reset


def request_reset(email: str) -> list[PasswordReset]:
    """Mail a new link to every local account with this address; the links made (none for an
    unknown address — the caller must not let that show)."""
    at = signin.now()
    return [_send_link(user, at) for user in local_accounts(email)]


# --- using a link ---------------------------------------------------------------------------


def find(token: str | None) -> PasswordReset | None:
    """The reset this token belongs to, usable or not; None for a token that was never ours."""
    if not token or len(token) > TOKEN_MAX:
        return None
    return db.session.scalar(
        sa.select(PasswordReset).where(PasswordReset.token_hash == hash_token(token))
    )


def state(reset: PasswordReset | None, at: datetime | None = None) -> LinkState:
    if reset is None:
        return LinkState.UNKNOWN
    if reset.used_at is not None:
        return LinkState.USED
    if reset.revoked_at is not None:
        return LinkState.SUPERSEDED
    expires_at = reset.expires_at
    if expires_at.tzinfo is None:  # SQLite hands back naive datetimes; everything stored is UTC
        expires_at = expires_at.replace(tzinfo=UTC)
    if expires_at <= (at or signin.now()):
        return LinkState.EXPIRED
    user = reset.user
    if not user.active or not user.password_hash:
        return LinkState.ACCOUNT
    return LinkState.USABLE


def _usable(at: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        PasswordReset.used_at.is_(None),
        PasswordReset.revoked_at.is_(None),
        PasswordReset.expires_at > at,
    )


def complete(reset: PasswordReset, password: str) -> User:
    """Set the account's new password and use the link up; every session of the user ends.
    Raises accounts.AccountError for a password the policy refuses (nothing is changed) and
    LinkUnusable if the link stopped working meanwhile; the caller rolls back on either."""
    at = signin.now()
    user = reset.user
    set_password(user, password)
    # One conditional UPDATE claims the link: of two requests racing with it, exactly one wins.
    claimed = db.session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.id == reset.id, _usable(at))
        .values(used_at=at)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise LinkUnusable(reset.id)
    db.session.refresh(reset)
    # The lock of repeated failed sign-ins goes too: the new password is known only to whoever
    # reads the account's mail, and whoever forgot a password has often locked the account.
    user.locked_until = None
    _revoke_open_links(user, at)  # none should be left, but a link must not outlive its use
    if user.email:
        queue_mail(user.email, *mail_texts.password_reset_done(user, at))
    return user
