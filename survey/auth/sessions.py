"""Sessions, held in the database: a fresh one at every sign-in, ended at sign-out, after
idleness, after a maximum lifetime, or when the user signs out everywhere.

The cookie (Flask's signed session) holds the session's random token under `sid`, besides the
language, the CSRF token and messages waiting to be shown: nothing else about the sign-in. The
row of `user_session` keyed by the token's SHA-256 holds the rest (survey.models.org.UserSession):

- when it started and was last seen: a session idle for `SESSION_IDLE_MINUTES` or older than
  `SESSION_MAX_HOURS` is ended at its next request;
- whether and why it was ended: sign-out ends the row, so a copy of the cookie is refused at once,
  on every app server; signing out everywhere and a new password end all the user's rows;
- `stage`: between the password and the second step (a TOTP code, or enrolling when two-factor
  sign-in is required), the session is *pending*, not signed in: it can open the page of its
  stage, the login page and sign out, and is sent to its stage from anywhere else; the next page
  and a TOTP secret being enrolled wait in the row as well. The last stage, "pledge", comes after
  both steps when a pledge is due (survey.services.pledges): only its page and sign-out open.

`check_session` runs before every request and reads the row with its user in one query by
primary key; that query is also how Flask-Login finds the signed-in user (`signed_in_user`).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, g, jsonify, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy.orm import joinedload

from survey.auth import bp
from survey.extensions import db
from survey.models import User
from survey.models.org import UserSession
from survey.services import pledges, signin
from survey.services.signin import SessionEnd

TOKEN_KEY = "sid"
STAGE_ENDPOINTS = {"totp": "auth.two_factor", "enroll": "auth.enroll", "pledge": "auth.pledge"}
OPEN_WHILE_PENDING = {"static", "auth.login", "auth.logout"}
# Someone who has proved who they are but owes a pledge (survey.auth.pledge) gets the pledge
# page, sign-out and static files, and nothing else.
OPEN_WHILE_PLEDGING = {"static", "auth.logout"}
# Never read nor write a session: static files, and the load balancer's probe (survey.health).
SESSIONLESS = frozenset({"static", "health.healthz"})
# Flask-Login's own keys: the user comes from the session row, so they are not kept.
LOGIN_KEYS = ("_user_id", "_fresh", "_id")

# The row with its user, and the user's unit and company (every page's header names them).
# Built once: this runs before every request.
_SESSION = (
    db.select(User, UserSession)
    .join(UserSession, UserSession.user_id == User.id)
    .options(joinedload(User.unit), joinedload(User.contractor))
    .where(UserSession.id == sa.bindparam("id"))
)


def this_session() -> tuple[UserSession, User] | None:
    """This browser's session row and its user, ended or not; read once per request."""
    if "user_session" not in g:
        token = session.get(TOKEN_KEY)
        found = None
        if isinstance(token, str):
            found = db.session.execute(_SESSION, {"id": signin.hash_session_token(token)}).first()
        g.user_session = (found.UserSession, found.User) if found else None
    return g.user_session


def signed_in_user(_request) -> User | None:
    """Flask-Login's request loader: the user of a signed-in session that may still be used."""
    found = this_session()
    if found is None:
        return None
    row, user = found
    if row.stage is not None or signin.session_ended_by(row, user) is not None:
        return None
    return user


def _client() -> dict:
    return {"remote_addr": request.remote_addr, "user_agent": request.user_agent.string}


def _open(user: User, **columns) -> UserSession:
    """A new session for this browser, in place of the one it had: nothing from before carries
    over but the chosen language."""
    found = this_session()
    if found is not None:
        signin.end_session(found[0].id, SessionEnd.REPLACED)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    row, token = signin.open_session(user, **columns, **_client())
    session[TOKEN_KEY] = token
    g.user_session = (row, user)
    return row


def start_session(user: User) -> None:
    """Sign in with a fresh session. The caller commits."""
    _open(user)
    login_user(user)  # the signed-in user for the rest of this request
    for key in LOGIN_KEYS:
        session.pop(key, None)
    user.last_login_at = signin.now()
    signin.clear_failures(user)
    signin.purge_sessions()


def _forget() -> None:
    logout_user()
    for key in (TOKEN_KEY, *LOGIN_KEYS):
        session.pop(key, None)
    g.user_session = None


def end_session(reason: SessionEnd = SessionEnd.LOGOUT) -> None:
    """End this browser's session, signed in or pending. The caller commits."""
    found = this_session()
    if found is not None and found[0].ended_at is None:
        signin.end_session(found[0].id, reason)
    _forget()


def keep_this_session(user: User) -> None:
    """After all the user's sessions were ended on purpose (sign out everywhere, a new password):
    this browser stays signed in, in a new session of the same age. The caller commits."""
    row, _user = this_session()
    _open(user, created_at=row.created_at)


# --- between the password and the second step -----------------------------------------------


def begin_pending(user: User, stage: str, next_url: str | None) -> None:
    """The caller commits."""
    _open(user, stage=stage, next_url=next_url)


def _pending() -> tuple[UserSession, User] | None:
    found = this_session()
    if found is None or found[0].stage is None:
        return None
    return found


def pending_user(stage: str) -> User | None:
    """The user whose password was right, waiting for this stage; None if there is none, it
    timed out or was ended, or the account can no longer sign in."""
    found = _pending()
    if found is None or found[0].stage != stage or not signin.pending_is_live(*found):
        return None
    return found[1]


def sign_in_or_pledge(user: User, target: str) -> str:
    """The last step of every sign-in, once the password (and TOTP code) were right: signed in,
    or, with a pledge due, a session that opens only the pledge page until it is acknowledged.
    Returns where to go next. The caller commits."""
    if pledges.due(user):
        begin_pending(user, "pledge", target)
        return url_for("auth.pledge")
    start_session(user)
    return target


def pending_next() -> str | None:
    found = _pending()
    return found[0].next_url if found else None


def drop_pending() -> None:
    """The caller commits."""
    if _pending() is not None:
        end_session(SessionEnd.EXPIRED)


# --- the TOTP secret being enrolled ----------------------------------------------------------


def setup_secret() -> str | None:
    found = this_session()
    return found[0].totp_setup if found else None


def keep_setup_secret(secret: str | None) -> None:
    """The caller commits."""
    this_session()[0].totp_setup = secret


# --- before every request -------------------------------------------------------------------

EVERYWHERE = _l("このアカウントのすべてのセッションが終了されたため、ログアウトしました。")
EXPIRED = _l("ログインの有効期限が切れました。もう一度ログインしてください。")
ENDED_MESSAGES = {
    SessionEnd.INACTIVE: _l("アカウントが無効になったため、ログアウトしました。"),
    SessionEnd.EVERYWHERE: EVERYWHERE,
    SessionEnd.PASSWORD: EVERYWHERE,
    SessionEnd.ENDED: _l("このセッションは別の端末から終了されたため、ログアウトしました。"),
    SessionEnd.IDLE: _l(
        "しばらく操作がなかったため、ログアウトしました。もう一度ログインしてください。"
    ),
}


def _back_to_login(message: str):
    if request.headers.get("X-Requested-With"):  # autosave and other scripts: say why in JSON
        return jsonify(ok=False, message=message), 401
    target = None
    if request.method == "GET":
        target = request.full_path.rstrip("?")
    return redirect(url_for("auth.login", next=target))


def _note_seen(row: UserSession) -> None:
    """Move the session's last-seen time on, at most once a minute, in a transaction of its own:
    it is kept whatever becomes of the request's, and holds no lock while the page is made."""
    at = signin.now()
    if not signin.seen_again(row, at):
        return
    with db.engine.begin() as connection:
        connection.execute(
            sa.update(UserSession).where(UserSession.id == row.id).values(seen_at=at)
        )


def _check_signed_in(row: UserSession, user: User):
    reason = signin.session_ended_by(row, user)
    if reason is not None:
        end_session(reason)
        db.session.commit()
        message = str(ENDED_MESSAGES.get(reason, EXPIRED))
        flash(message, "info")
        return _back_to_login(message)
    if signin.needs_enrollment(user):
        # Two-factor sign-in became required while signed in: enroll before anything else.
        begin_pending(user, "enroll", request.full_path.rstrip("?"))
        db.session.commit()
        return redirect(url_for("auth.enroll"))
    _note_seen(row)
    return None


def _check_pending(row: UserSession, user: User):
    stage_endpoint = STAGE_ENDPOINTS.get(row.stage)
    if stage_endpoint is None or pending_user(row.stage) is None:
        drop_pending()
        db.session.commit()
        return None
    opened = OPEN_WHILE_PLEDGING if row.stage == "pledge" else OPEN_WHILE_PENDING
    if request.endpoint not in opened | {stage_endpoint}:
        return redirect(url_for(stage_endpoint))
    return None


@bp.before_app_request
def check_session():
    if request.endpoint in SESSIONLESS:
        return None
    found = this_session()
    if found is None:
        if TOKEN_KEY in session:  # its row was purged: a session long over
            _forget()
        return None
    row, user = found
    if row.stage is not None:
        return _check_pending(row, user)
    return _check_signed_in(row, user)


def current_session_id() -> str | None:
    found = this_session() if current_user.is_authenticated else None
    return found[0].id if found else None
