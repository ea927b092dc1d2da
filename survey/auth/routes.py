"""Signing in and out.

Sign-in has up to two steps. The password step (`login`) never signs in an account that has
two-factor sign-in: it leaves the session *pending* (survey.auth.sessions) and asks for a code
(`two_factor`). An admin or auditor without two-factor sign-in, when SURVEY_REQUIRE_2FA is on,
is sent to enroll (survey.auth.account.enroll) and can do nothing else until done.

Every failed password looks the same whether the user is unknown, locked or mistyped; POSTs that
fail are limited per client address (LOGIN_RATE_LIMIT, shared by the steps that check a
password or a code), and repeated failures lock the account (survey.services.signin).
With a directory configured, names without a local password are checked there
(survey.services.accounts.authenticate): a directory that cannot be asked gets a page of its
own (503) and counts against no one.
"""

import time
from urllib.parse import urlsplit

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from survey.auth import bp
from survey.auth.forms import CodeForm, LoginForm
from survey.auth.sessions import (
    begin_pending,
    drop_pending,
    end_session,
    pending_next,
    pending_user,
    sign_in_or_pledge,
    start_session,
)
from survey.extensions import db, limiter
from survey.services import directory, signin, trail
from survey.services.accounts import authenticate

__all__ = ["start_session", "signin_limit"]


def _safe_next(target: str | None) -> str:
    # Only local paths: an attacker's link must not bounce a user off-site after login.
    if target and target.startswith("/") and not target.startswith("//"):
        if not urlsplit(target).netloc and "\\" not in target:
            return target
    return url_for("main.home")


def _login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _failed(response) -> bool:
    # Only failures count: a whole office signing in at nine behind one proxy is not an attack,
    # nor is it when the directory is down (503).
    return response.status_code not in (302, 503)


# One budget per client address for every step that checks a password or a code.
signin_limit = limiter.shared_limit(
    _login_rate_limit, scope="signin", methods=["POST"], deduct_when=_failed
)


@bp.route("/login", methods=["GET", "POST"])
@signin_limit
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data)
        except directory.Unavailable as error:
            return _directory_unavailable(form, error)
        except directory.Refused as refused:
            return _directory_refused(form, refused)
        if user is None:
            trail.record("auth.login_failed", user=None, username=form.username.data)
            db.session.commit()  # the failure count and the log entry
            flash(_("ユーザー名またはパスワードが正しくありません。"), "error")
        else:
            target = _safe_next(request.args.get("next"))
            if user.totp_enabled:
                begin_pending(user, "totp", target)
                destination = url_for("auth.two_factor")
            elif signin.needs_enrollment(user):
                begin_pending(user, "enroll", target)
                destination = url_for("auth.enroll")
            else:
                destination = sign_in_or_pledge(user, target)
                trail.record("auth.login", user, user=user)
            db.session.commit()
            return redirect(destination)
    return render_template("auth/login.html", form=form)


DIRECTORY_UNAVAILABLE = _l(
    "ディレクトリサーバーに接続できません。しばらくしてからもう一度お試しください。"
    "続く場合は情報政策課にお問い合わせください。"
)
# The password was right: saying why is no help to someone guessing it.
DIRECTORY_REFUSALS = {
    "no_role": _l(
        "ディレクトリのグループで tenken の利用が認められていません。"
        "情報政策課にお問い合わせください。"
    ),
    "no_unit": _l(
        "ディレクトリの所属が tenken の所属に対応していません。情報政策課にお問い合わせください。"
    ),
    "local_account": _l(
        "同じユーザー名のローカルアカウントがあるため、ディレクトリのアカウントではログイン"
        "できません。情報政策課にお問い合わせください。"
    ),
}


def _directory_unavailable(form, error):
    """Nobody's password was wrong: nothing is counted against the account, nor against the
    client's limit (503), and the office sees the cause in the audit trail."""
    db.session.rollback()
    trail.record(
        "auth.directory_unavailable",
        user=None,
        username=form.username.data,
        after={"error": str(error)[:500]},
    )
    db.session.commit()
    flash(str(DIRECTORY_UNAVAILABLE), "error")
    return render_template("auth/login.html", form=form), 503


def _directory_refused(form, refused):
    db.session.rollback()
    trail.record(
        "auth.login_failed",
        user=None,
        username=form.username.data,
        after={"reason": refused.reason},
    )
    db.session.commit()
    message = DIRECTORY_REFUSALS.get(refused.reason)
    flash(str(message) if message else _("ユーザー名またはパスワードが正しくありません。"), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/2fa", methods=["GET", "POST"])
@signin_limit
def two_factor():
    user = pending_user("totp")
    if user is None:
        return _start_again()
    form = CodeForm()
    if form.validate_on_submit():
        if signin.is_locked(user):
            return _locked_out()
        code = form.code.data
        used_recovery_code = False
        accepted = signin.verify_totp(user, code)
        if not accepted and not signin.looks_like_totp(code):
            accepted = used_recovery_code = signin.use_recovery_code(user, code)
        if accepted:
            target = sign_in_or_pledge(user, _safe_next(pending_next()))
            step = "recovery_code" if used_recovery_code else "totp"
            trail.record("auth.login", user, user=user, after={"second_step": step})
            db.session.commit()
            if used_recovery_code:
                left = signin.remaining_recovery_codes(user)
                flash(
                    _(
                        "回復コードを使ってログインしました。残りの回復コードは%(count)s個です。"
                        "少なくなったら、アカウント画面で新しい回復コードを発行してください。",
                        count=left,
                    ),
                    "info",
                )
            return redirect(target)
        signin.record_failure(user)
        trail.record(
            "auth.login_failed", user, user=None, username=user.username, after={"step": "2fa"}
        )
        db.session.commit()
        if signin.is_locked(user):
            return _locked_out()
        form.code.errors = [*form.code.errors, _("確認コードが正しくありません。")]
    return render_template("auth/two_factor.html", form=form)


def _start_again():
    drop_pending()
    db.session.commit()
    flash(_("ログインの手続きの有効期限が切れました。もう一度ログインしてください。"), "info")
    return redirect(url_for("auth.login"))


def _locked_out():
    drop_pending()
    db.session.commit()
    flash(
        _(
            "確認コードを続けて間違えたため、しばらくログインできません。"
            "しばらくしてからもう一度お試しください。"
        ),
        "error",
    )
    return redirect(url_for("auth.login"))


@bp.route("/logout", methods=["POST"])
def logout():
    # Also ends a sign-in waiting for its second step, so it needs no signed-in user.
    if current_user.is_authenticated:
        trail.record("auth.logout")
    end_session()  # its row: a copy of the cookie is refused from now on
    db.session.commit()
    flash(_("ログアウトしました。"), "info")
    return redirect(url_for("auth.login"))


@bp.errorhandler(429)
def too_many_attempts(_error):
    response = make_response(render_template("auth/too_many_attempts.html"), 429)
    current = limiter.current_limit
    if current is not None:
        response.headers["Retry-After"] = str(max(1, int(current.reset_at - time.time())))
    return response
