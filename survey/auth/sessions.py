"""Sessions: a fresh one at every sign-in, ended after idleness, after a maximum lifetime, or when
the user signs out everywhere.

The session (Flask's signed cookie) holds, besides Flask-Login's user id:

- `signed_in_at` and `seen_at` (Unix seconds): a session idle for `SESSION_IDLE_MINUTES` or older
  than `SESSION_MAX_HOURS` is ended at its next request;
- `epoch`: the user's `session_epoch` when the session started. Raising the user's epoch (sign
  out everywhere, a new password) ends every session that carries an older one;
- `pending`: between the password and the second step (a TOTP code, or enrolling when two-factor
  sign-in is required), the user id and stage. Such a session is not signed in: it can open the
  page of its stage, the login page and sign out, and is sent to its stage from anywhere else.

`check_session` runs before every request.
"""

from __future__ import annotations

from flask import current_app, flash, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from survey.auth import bp
from survey.extensions import db
from survey.models import User
from survey.services import signin

PENDING_MINUTES = 10  # time to type the code after the password
STAGE_ENDPOINTS = {"totp": "auth.two_factor", "enroll": "auth.enroll"}
OPEN_WHILE_PENDING = {"static", "auth.login", "auth.logout"}


def _timestamp() -> int:
    return int(signin.now().timestamp())


def _fresh_session() -> None:
    """Forget everything in the session but the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def start_session(user: User) -> None:
    """Sign in with a fresh session: nothing from before sign-in carries over but the language."""
    _fresh_session()
    login_user(user)
    now = _timestamp()
    session["signed_in_at"] = now
    session["seen_at"] = now
    session["epoch"] = user.session_epoch
    user.last_login_at = signin.now()
    signin.clear_failures(user)


def end_session() -> None:
    logout_user()
    _fresh_session()


def keep_this_session(user: User) -> None:
    """After the user's epoch was raised on purpose: this session stays signed in."""
    session["epoch"] = user.session_epoch


# --- between the password and the second step -----------------------------------------------


def begin_pending(user: User, stage: str, next_url: str | None) -> None:
    _fresh_session()
    session["pending"] = {
        "user": user.id,
        "stage": stage,
        "at": _timestamp(),
        "next": next_url,
        "epoch": user.session_epoch,
    }


def pending_user(stage: str) -> User | None:
    """The user whose password was right, waiting for this stage; None if there is none, it
    timed out, or the account can no longer sign in."""
    pending = session.get("pending")
    if not isinstance(pending, dict) or pending.get("stage") != stage:
        return None
    if _timestamp() - int(pending.get("at", 0)) > PENDING_MINUTES * 60:
        return None
    user = db.session.get(User, pending.get("user"))
    if user is None or not user.active or user.session_epoch != pending.get("epoch"):
        return None
    return user


def pending_next() -> str | None:
    pending = session.get("pending")
    return pending.get("next") if isinstance(pending, dict) else None


def drop_pending() -> None:
    session.pop("pending", None)


# --- before every request -------------------------------------------------------------------

# `seen_at` is kept to the minute: an unchanged session is not signed and sent again, which
# every request would otherwise pay for, and an idle limit counted in minutes needs no more.
SEEN_EVERY = 60


def _ended_because(user: User) -> str | None:
    if not user.active:
        return _("アカウントが無効になったため、ログアウトしました。")
    if session.get("epoch") != user.session_epoch:
        return _("このアカウントのすべてのセッションが終了されたため、ログアウトしました。")
    now = _timestamp()
    signed_in_at = session.get("signed_in_at")
    seen_at = session.get("seen_at")
    if not isinstance(signed_in_at, int) or not isinstance(seen_at, int):
        return _("ログインの有効期限が切れました。もう一度ログインしてください。")
    if now - signed_in_at > current_app.config["SESSION_MAX_HOURS"] * 3600:
        return _("ログインの有効期限が切れました。もう一度ログインしてください。")
    if now - seen_at > current_app.config["SESSION_IDLE_MINUTES"] * 60:
        return _("しばらく操作がなかったため、ログアウトしました。もう一度ログインしてください。")
    return None


def _back_to_login(message: str):
    if request.headers.get("X-Requested-With"):  # autosave and other scripts: say why in JSON
        return jsonify(ok=False, message=message), 401
    target = None
    if request.method == "GET":
        target = request.full_path.rstrip("?")
    return redirect(url_for("auth.login", next=target))


@bp.before_app_request
def check_session():
    if request.endpoint == "static":
        return None
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        problem = _ended_because(user)
        if problem:
            end_session()
            flash(problem, "info")
            return _back_to_login(problem)
        if signin.needs_enrollment(user):
            # Two-factor sign-in became required while signed in: enroll before anything else.
            end_session()
            begin_pending(user, "enroll", request.full_path.rstrip("?"))
            return redirect(url_for("auth.enroll"))
        now = _timestamp()
        if now - session.get("seen_at", 0) >= SEEN_EVERY:
            session["seen_at"] = now
        return None
    pending = session.get("pending")
    if isinstance(pending, dict):
        stage_endpoint = STAGE_ENDPOINTS.get(pending.get("stage"))
        if stage_endpoint is None or pending_user(pending["stage"]) is None:
            drop_pending()
            return None
        if request.endpoint not in OPEN_WHILE_PENDING | {stage_endpoint}:
            return redirect(url_for(stage_endpoint))
    return None
