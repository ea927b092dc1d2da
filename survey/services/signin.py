"""Signing in: password checks with lockout, two-factor codes (TOTP) and recovery codes.

- **Lockout.** `SIGNIN_MAX_FAILURES` failed attempts on one account within
  `SIGNIN_FAILURE_WINDOW_MINUTES` lock it for `SIGNIN_LOCK_MINUTES`. A locked account is refused
  even with the right password, and the answer is the same as for a wrong password or an unknown
  user: each of the three costs one argon2 verification and returns None, so neither the page
  nor its timing tells them apart. Unknown usernames have no row to count on; the limit per
  client address (Flask-Limiter, in survey.auth.routes) throttles them.
- **TOTP** (RFC 6238, pyotp): 6 digits, 30-second steps, one step of clock drift either way. The
  step of the last accepted code is kept, so a code (or an older one) cannot be used twice.
- **Recovery codes**: 10 per enrollment, 80 random bits each, shown once; only their SHA-256 is
  stored and each works once.

Every time comes from `now()`, which tests replace to move the clock. Nothing here commits.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

import pyotp
import sqlalchemy as sa
from flask import current_app

from survey.extensions import db
from survey.models import Role, User
from survey.models.org import RecoveryCode, UserSession
from survey.models.types import utcnow
from survey.passwords import DUMMY_HASH, verify_password
from survey.services import trail

ROLES_NEEDING_2FA = (Role.ADMIN, Role.AUDITOR)
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper
RECOVERY_GROUPS = 4  # xxxx-xxxx-xxxx-xxxx: 16 characters of 31, about 80 bits
TOTP_DIGITS = 6
TOTP_DRIFT_STEPS = 1


def now() -> datetime:
    """The current time (UTC); tests monkeypatch this to freeze or move the clock."""
    return utcnow()


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything stored is UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _setting(name: str) -> int:
    return int(current_app.config[name])


# --- password and lockout -------------------------------------------------------------------


def find_user(username: str | None) -> User | None:
    username = (username or "").strip()
    if not username:
        return None
    return db.session.scalar(sa.select(User).where(User.username == username))


def is_locked(user: User, at: datetime | None = None) -> bool:
    until = _aware(user.locked_until)
    return until is not None and until > (at or now())


def record_failure(user: User, at: datetime | None = None) -> bool:
    """Count a failed attempt (wrong password or code); lock the account at the limit.
    Returns True when this failure locked the account.

    Two conditional UPDATEs, so that concurrent attempts cannot lose a count.
    """
    at = at or now()
    window_start = at - timedelta(minutes=_setting("SIGNIN_FAILURE_WINDOW_MINUTES"))
    new_window = sa.or_(
        User.first_failed_login_at.is_(None), User.first_failed_login_at < window_start
    )
    db.session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(
            failed_logins=sa.case((new_window, 1), else_=User.failed_logins + 1),
            first_failed_login_at=sa.case((new_window, at), else_=User.first_failed_login_at),
        )
        .execution_options(synchronize_session=False)
    )
    locked = db.session.execute(
        sa.update(User)
        .where(User.id == user.id, User.failed_logins >= _setting("SIGNIN_MAX_FAILURES"))
        .values(
            locked_until=at + timedelta(minutes=_setting("SIGNIN_LOCK_MINUTES")),
            failed_logins=0,
            first_failed_login_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user)
    if locked.rowcount == 1:
        trail.record(
            "auth.lockout",
            user,
            user=None,
            username=user.username,
            after={"locked_until": user.locked_until},
        )
    return locked.rowcount == 1


def clear_failures(user: User) -> None:
    if user.failed_logins or user.first_failed_login_at or user.locked_until:
        user.failed_logins = 0
        user.first_failed_login_at = None
        user.locked_until = None


def check_password(username: str | None, password: str) -> User | None:
    """The user if the password is right and the account may sign in now; None otherwise.

    Unknown user, inactive account, locked account, wrong password: all give None after the same
    amount of work. A failure on an existing, unlocked account is counted.
    """
    at = now()
    user = find_user(username)
    if user is None:
        verify_password(DUMMY_HASH, password)
        return None
    right = verify_password(user.password_hash or DUMMY_HASH, password) and bool(user.password_hash)
    if not user.active:
        return None
    if is_locked(user, at):
        return None  # not counted: the lock does not grow while it lasts
    if not right:
        record_failure(user, at)
        return None
    return user


# --- two-factor -----------------------------------------------------------------------------


def requires_2fa(user: User) -> bool:
    """Whether this user must use two-factor sign-in (SURVEY_REQUIRE_2FA, admins and auditors)."""
    return bool(current_app.config.get("REQUIRE_2FA")) and user.role in ROLES_NEEDING_2FA


def needs_enrollment(user: User) -> bool:
    return requires_2fa(user) and not user.totp_enabled


def new_totp_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS)


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads (from the QR code or typed in)."""
    return _totp(secret).provisioning_uri(
        name=user.username, issuer_name=current_app.config.get("TOTP_ISSUER", "tenken")
    )


def _normalise_code(code: str | None) -> str:
    return "".join((code or "").split()).replace("-", "")


def looks_like_totp(code: str | None) -> bool:
    code = _normalise_code(code)
    return len(code) == TOTP_DIGITS and code.isascii() and code.isdigit()


def matching_step(secret: str, code: str | None, at: datetime | None = None) -> int | None:
    """The time step whose code this is (allowing one step of drift), or None."""
    code = _normalise_code(code)
    if not looks_like_totp(code):
        return None
    totp = _totp(secret)
    current = totp.timecode(at or now())
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def verify_totp(user: User, code: str | None, at: datetime | None = None) -> bool:
    """Check a code of an enrolled user and use it up: the same code is refused afterwards."""
    if not user.totp_enabled:
        return False
    step = matching_step(user.totp_secret, code, at)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    # Claim the step with a conditional UPDATE: two requests racing with one code, one wins.
    claimed = db.session.execute(
        sa.update(User)
        .where(
            User.id == user.id,
            sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user)
    return claimed.rowcount == 1


def enable_totp(user: User, secret: str, code: str | None, at: datetime | None = None) -> list[str]:
    """Turn two-factor sign-in on if the code proves the app has the secret; returns the new
    recovery codes (to be shown once), or raises ValueError for a wrong code."""
    at = at or now()
    step = matching_step(secret, code, at)
    if step is None:
        raise ValueError("wrong code")
    user.totp_secret = secret
    user.totp_enabled_at = at
    user.totp_last_step = step
    return new_recovery_codes(user, at)


def disable_totp(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.recovery_codes.clear()


# --- recovery codes -------------------------------------------------------------------------


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(_normalise_code(code).lower().encode()).hexdigest()


def _random_recovery_code() -> str:
    chars = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(4 * RECOVERY_GROUPS))
    return "-".join(chars[i : i + 4] for i in range(0, len(chars), 4))


def new_recovery_codes(user: User, at: datetime | None = None) -> list[str]:
    """Replace the user's recovery codes with 10 new ones; returns them in clear, once."""
    at = at or now()
    codes = [_random_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    user.recovery_codes.clear()
    db.session.flush()
    for code in codes:
        user.recovery_codes.append(RecoveryCode(code_hash=_hash_recovery(code), created_at=at))
    return codes


def use_recovery_code(user: User, code: str | None, at: datetime | None = None) -> bool:
    """Use up one unused recovery code of this user; False if there is no such code."""
    normalised = _normalise_code(code)
    if not user.totp_enabled or len(normalised) != 4 * RECOVERY_GROUPS:
        return False
    used = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_recovery(normalised),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=at or now())
        .execution_options(synchronize_session=False)
    )
    db.session.expire(user, ["recovery_codes"])
    return used.rowcount == 1


def remaining_recovery_codes(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )


# --- sessions -------------------------------------------------------------------------------


class SessionEnd(enum.StrEnum):
    """Why a session row was ended (`UserSession.end_reason`)."""

    LOGOUT = "logout"  # signed out on that browser
    EVERYWHERE = "everywhere"  # the user signed out everywhere
    PASSWORD = "password"  # the password was changed
    ENDED = "ended"  # ended from another of the user's browsers (account page)
    REPLACED = "replaced"  # a new session took its place on the same browser
    IDLE = "idle"
    EXPIRED = "expired"
    INACTIVE = "inactive"  # the account was deactivated


SESSION_TOKEN_BYTES = 32
PENDING_MINUTES = 10  # time to type the code after the password
PLEDGE_MINUTES = 60  # time to read a pledge (survey.auth.pledge) once signed in
SEEN_EVERY = timedelta(minutes=1)


def hash_session_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    user: User,
    *,
    stage: str | None = None,
    next_url: str | None = None,
    created_at: datetime | None = None,
    remote_addr: str | None = None,
    user_agent: str | None = None,
) -> tuple[UserSession, str]:
    """A new session row of this user; returns it and its token, which is stored nowhere but in
    the browser's cookie. `created_at` keeps the age of a session that continues in a new row."""
    token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    at = now()
    row = UserSession(
        id=hash_session_token(token),
        user=user,
        stage=stage,
        next_url=next_url if next_url and len(next_url) <= 2000 else None,
        created_at=created_at or at,
        seen_at=at,
        remote_addr=(remote_addr or "")[:64] or None,
        user_agent=(user_agent or "")[:255] or None,
    )
    db.session.add(row)
    return row, token


def _end(condition, reason: SessionEnd) -> int:
    # The secret of an enrolment left unfinished goes with its session.
    ended = db.session.execute(
        sa.update(UserSession)
        .where(condition, UserSession.ended_at.is_(None))
        .values(ended_at=now(), end_reason=reason, totp_setup=None)
        .execution_options(synchronize_session=False)
    )
    return ended.rowcount


def end_session(session_id: str, reason: SessionEnd) -> bool:
    """End one session; its cookie is refused from then on."""
    return _end(UserSession.id == session_id, reason) == 1


def end_user_session(user: User, session_id: str) -> bool:
    """End one of this user's sessions (from the account page); False if it is not theirs or
    already ended."""
    return (
        _end(
            sa.and_(UserSession.id == session_id, UserSession.user_id == user.id), SessionEnd.ENDED
        )
        == 1
    )


def end_all_sessions(user: User, reason: SessionEnd) -> int:
    """End every session of the user, on every browser and app server; returns how many."""
    db.session.flush()
    return _end(UserSession.user_id == user.id, reason)


def session_ended_by(row: UserSession, user: User, at: datetime | None = None) -> str | None:
    """Why this signed-in session can no longer be used, or None while it can."""
    if not user.active:
        return SessionEnd.INACTIVE
    if row.ended_at is not None:
        return row.end_reason or SessionEnd.LOGOUT
    at = at or now()
    if at - _aware(row.created_at) > timedelta(hours=_setting("SESSION_MAX_HOURS")):
        return SessionEnd.EXPIRED
    if at - _aware(row.seen_at) > timedelta(minutes=_setting("SESSION_IDLE_MINUTES")):
        return SessionEnd.IDLE
    return None


def seen_again(row: UserSession, at: datetime) -> bool:
    """Whether a request at `at` moves the session's last-seen time on: it is kept to the minute,
    so that a page does not write to the database every time (the idle limit is in minutes)."""
    return at - _aware(row.seen_at) >= SEEN_EVERY


def pending_is_live(row: UserSession, user: User, at: datetime | None = None) -> bool:
    """Whether a session between the password and the second step may still take the code."""
    age = (at or now()) - _aware(row.created_at)
    limit = PLEDGE_MINUTES if row.stage == "pledge" else PENDING_MINUTES
    return row.ended_at is None and user.active and age <= timedelta(minutes=limit)


def active_sessions(user: User) -> list[UserSession]:
    """The user's signed-in sessions that may still be in use, the latest seen first."""
    at = now()
    return list(
        db.session.scalars(
            sa.select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.stage.is_(None),
                UserSession.ended_at.is_(None),
                UserSession.created_at > at - timedelta(hours=_setting("SESSION_MAX_HOURS")),
                UserSession.seen_at > at - timedelta(minutes=_setting("SESSION_IDLE_MINUTES")),
            )
            .order_by(UserSession.seen_at.desc())
        )
    )


def purge_sessions(at: datetime | None = None) -> int:
    """Delete the rows of sessions older than the maximum lifetime: none of them can be used any
    more, ended or not. Run at every sign-in (an indexed DELETE), so no cron job is needed."""
    cutoff = (at or now()) - timedelta(hours=_setting("SESSION_MAX_HOURS"))
    deleted = db.session.execute(
        sa.delete(UserSession)
        .where(UserSession.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return deleted.rowcount
