"""Invitations: a contract's owning division lets its contractor's contact set a password.

The link carries a random token; only its SHA-256 is stored, so a copy of the database holds no
usable link. A link works once, until it expires (`INVITATION_DAYS`), and inviting the same
address for the same company again revokes the links sent before. Every function works in the
caller's transaction: nothing here commits.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from survey.extensions import db
from survey.models import Assignment, Invitation, Role, User
from survey.models.types import utcnow
from survey.passwords import password_problem
from survey.services import mail_texts
from survey.services.accounts import set_password
from survey.services.notify import queue_mail

TOKEN_BYTES = 32
TOKEN_MAX = 128  # token_urlsafe(32) is 43 characters; anything much longer is not ours
EMAIL_MAX = 254
DISPLAY_NAME_MAX = 100  # User.display_name
# local@domain.tld: enough to catch typing mistakes without a dependency; the mail itself is
# the real test of an address.
EMAIL_RE = re.compile(r"[^@\s\x00-\x1f]+@[^@\s.\x00-\x1f]+(?:\.[^@\s.\x00-\x1f]+)+")
USERNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{2,63}")
USERNAME_CHARS = re.compile(r"[^A-Za-z0-9._@+-]")
PATH = "/auth/invite/"  # the route of survey.auth.invite.accept_invitation


class InvitationError(ValueError):
    """The input cannot be used; `field` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvitationUnusable(InvitationError):
    """The invitation was used, revoked or expired while the form was being filled in."""


# --- rules shared by the forms and the service ----------------------------------------------


def email_problem(email: str | None) -> str | None:
    email = (email or "").strip()
    if not email:
        return _("メールアドレスを入力してください。")
    if len(email) > EMAIL_MAX or not EMAIL_RE.fullmatch(email):
        return _("メールアドレスの形式が正しくありません（例: tanaka@example.co.jp）。")
    return None


def _username_taken(username: str) -> bool:
    # Case-insensitive, so that "Sakura" and "sakura" cannot both exist and be confused.
    stmt = sa.select(User.id).where(sa.func.lower(User.username) == username.lower())
    return db.session.scalar(stmt) is not None


def username_problem(username: str | None) -> str | None:
    username = (username or "").strip()
    if not username:
        return _("ユーザー名を入力してください。")
    if not USERNAME_RE.fullmatch(username):
        return _(
            "ユーザー名は3〜64文字の半角英数字と記号（. _ - @ +）で入力してください。"
            "先頭は英数字にしてください。"
        )
    if _username_taken(username):
        return _("このユーザー名は既に使われています。別のユーザー名を入力してください。")
    return None


# Passwords follow the one policy of survey.passwords (`password_problem`, imported above).


# --- inviting -------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link(token: str) -> str:
    return current_app.config["SURVEY_BASE_URL"].rstrip("/") + PATH + token


def invite(
    assignment: Assignment, email: str, invited_by: User | None, *, now: datetime | None = None
) -> tuple[Invitation, str]:
    """Create an invitation for the contractor of the assignment's contract and queue its mail.

    Returns the invitation and the token, which exists nowhere else: show it or lose it.
    """
    problem = email_problem(email)
    if problem:
        raise InvitationError(problem, "email")
    contract = assignment.contract
    if contract is None:
        raise InvitationError(_("委託事業者を招待できるのは、委託業務の点検だけです。"))
    email = email.strip()
    now = now or utcnow()
    earlier = sa.select(Invitation).where(
        sa.func.lower(Invitation.email) == email.lower(),
        Invitation.contractor_id == contract.contractor_id,
        Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None),
    )
    for old in db.session.scalars(earlier):
        old.revoked_at = now
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation = Invitation(
        token_hash=hash_token(token),
        email=email,
        contractor_id=contract.contractor_id,
        assignment_id=assignment.id,
        invited_by_id=invited_by.id if invited_by is not None else None,
        created_at=now,
        expires_at=now + timedelta(days=current_app.config.get("INVITATION_DAYS", 14)),
    )
    db.session.add(invitation)
    queue_mail(email, *mail_texts.invitation(assignment, invitation, link(token), invited_by))
    return invitation, token


# --- accepting ------------------------------------------------------------------------------


def _usable(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > now,
    )


def find_valid(token: str | None, *, now: datetime | None = None) -> Invitation | None:
    """The invitation of this token if it can still be used; None for any reason it cannot."""
    if not token or len(token) > TOKEN_MAX:
        return None
    return db.session.scalar(
        sa.select(Invitation).where(
            Invitation.token_hash == hash_token(token), _usable(now or utcnow())
        )
    )


def existing_account(invitation: Invitation) -> User | None:
    """An active account of the same company with the invited address: the invitation then
    sets its password instead of creating a second account."""
    return db.session.scalar(
        sa.select(User)
        .where(
            sa.func.lower(User.email) == invitation.email.lower(),
            User.contractor_id == invitation.contractor_id,
            User.role == Role.CONTRACTOR,
            User.active.is_(True),
        )
        .order_by(User.id)
        .limit(1)
    )


def suggest_username(email: str) -> str:
    """The address's local part, made a valid username, with a number if it is taken."""
    base = USERNAME_CHARS.sub("", email.split("@", 1)[0]).lstrip("._@+-")[:60]
    if not USERNAME_RE.fullmatch(base):
        return base
    for candidate in [base] + [f"{base}{n}" for n in range(2, 10)]:
        if not _username_taken(candidate):
            return candidate
    return base


def accept(
    invitation: Invitation,
    username: str | None,
    display_name: str | None,
    password: str,
    *,
    now: datetime | None = None,
) -> User:
    """Create the contractor's account (or set the password of its existing one) and use up the
    invitation. Raises InvitationError for bad input, InvitationUnusable if the link was used,
    revoked or expired meanwhile; the caller rolls back on either."""
    now = now or utcnow()
    user = existing_account(invitation)
    if user is None:
        username = (username or "").strip()
        display_name = (display_name or "").strip()
        problem = username_problem(username)
        if problem:
            raise InvitationError(problem, "username")
        if not display_name:
            raise InvitationError(_("表示名を入力してください。"), "display_name")
        if len(display_name) > DISPLAY_NAME_MAX:
            raise InvitationError(_("表示名は100文字以内で入力してください。"), "display_name")
    problem = password_problem(password, user.username if user else username)
    if problem:
        raise InvitationError(problem, "password")
    # Claim the invitation with one conditional UPDATE: of two requests racing with the same
    # link, exactly one changes the row.
    claimed = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, _usable(now))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise InvitationUnusable(_("この招待リンクは無効か、有効期限が切れています。"))
    if user is None:
        user = User(
            username=username,
            display_name=display_name,
            email=invitation.email,
            role=Role.CONTRACTOR,
            contractor_id=invitation.contractor_id,
        )
        db.session.add(user)
    set_password(user, password)  # for an existing account, this also ends its other sessions
    invitation.used_at = now
    invitation.user = user
    return user
