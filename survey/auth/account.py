"""The user's own account: two-factor sign-in, the browsers signed in (ending one, or all but
this one), changing the password.

Enrolling (`enroll`) serves both someone signed in who turns two-factor sign-in on and an admin
or auditor who must enroll right after the password step (a pending session, see
survey.auth.sessions): the secret waits in the session's row in the database, never in the
cookie, until a code from the app confirms it, and the 10 recovery codes are shown once, on the
page that confirms. Pages here, like every page, are sent with `Cache-Control: no-store`
(survey.headers): secrets and recovery codes must not stay in a cache.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey import access
from survey.auth import bp
from survey.auth.forms import (
    ChangePasswordForm,
    DisableTwoFactorForm,
    EndSessionForm,
    EnrollForm,
    NewTokenForm,
    RecoveryCodesForm,
    RevokeTokenForm,
    SignOutEverywhereForm,
)
from survey.auth.routes import DIRECTORY_UNAVAILABLE, signin_limit
from survey.auth.sessions import (
    current_session_id,
    keep_setup_secret,
    keep_this_session,
    pending_next,
    pending_user,
    setup_secret,
    sign_in_or_pledge,
)
from survey.extensions import db
from survey.passwords import min_length
from survey.services import directory, signin, tokens, trail
from survey.services.accounts import AccountError, change_password, confirm_current_password


def _forms(**given):
    forms = {
        "password_form": ChangePasswordForm(prefix="pw"),
        "disable_form": DisableTwoFactorForm(prefix="off"),
        "codes_form": RecoveryCodesForm(prefix="rc"),
        "everywhere_form": SignOutEverywhereForm(prefix="all"),
        "end_form": EndSessionForm(prefix="end"),
        "token_form": _token_form(),
        "revoke_form": RevokeTokenForm(prefix="revoke"),
    }
    forms.update(given)
    return forms


def _token_form(form: NewTokenForm | None = None) -> NewTokenForm:
    """The new-token form offering only the scopes the user's role could use."""
    form = form or NewTokenForm(prefix="token")
    offered = tokens.scopes_for(current_user)
    form.scopes.choices = [choice for choice in form.scopes.choices if choice.value in offered]
    if form.days.data is None:
        form.days.data = min(
            current_app.config["API_TOKEN_DAYS"], current_app.config["API_TOKEN_MAX_DAYS"]
        )
    return form


def _account_page(status: int = 200, new_token=None, **forms):
    user = current_user._get_current_object()
    context = _forms(**forms)
    return (
        render_template(
            "auth/account.html",
            user=user,
            required=signin.requires_2fa(user),
            codes_left=signin.remaining_recovery_codes(user) if user.totp_enabled else 0,
            password_min=min_length(),
            sessions=signin.active_sessions(user),
            current_session=current_session_id(),
            api_tokens=[(token, tokens.refusal(token)) for token in tokens.of_user(user)],
            token_max_days=current_app.config["API_TOKEN_MAX_DAYS"],
            new_token=new_token,
            **context,
        ),
        status,
    )


@bp.route("/account")
@access.guard()
def account():
    return _account_page()


@bp.route("/account/password", methods=["POST"])
@access.guard()
@signin_limit
def change_own_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm(prefix="pw")
    form.username = user.username
    if form.validate_on_submit():
        try:
            change_password(user, form.current.data, form.password.data)
        except AccountError as error:
            db.session.commit()  # a wrong current password counts as a failed sign-in
            form.current.errors = [*form.current.errors, str(error)]
        else:
            keep_this_session(user)  # the new password ends every other session
            trail.record("auth.password_change", user)
            db.session.commit()
            flash(
                _("パスワードを変更しました。他の端末のセッションはすべて終了しました。"),
                "success",
            )
            return redirect(url_for("auth.account"))
    return _account_page(password_form=form)


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@access.guard()
def sign_out_everywhere():
    form = SignOutEverywhereForm(prefix="all")
    if form.validate_on_submit():
        user = current_user._get_current_object()
        signin.end_all_sessions(user, signin.SessionEnd.EVERYWHERE)
        keep_this_session(user)
        trail.record("auth.sign_out_everywhere", user)
        db.session.commit()
        flash(_("この端末以外のすべてのセッションからログアウトしました。"), "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/sessions/end", methods=["POST"])
@access.guard()
def end_other_session():
    form = EndSessionForm(prefix="end")
    # This browser's own session ends by signing out.
    if form.validate_on_submit() and form.session.data != current_session_id():
        user = current_user._get_current_object()
        if signin.end_user_session(user, form.session.data):
            trail.record("auth.session_end", user)
            db.session.commit()
            flash(_("選択したセッションを終了しました。"), "success")
    return redirect(url_for("auth.account", _anchor="sessions"))


# --- personal access tokens for the API ------------------------------------------------------


@bp.route("/account/tokens", methods=["POST"])
@access.guard()
def new_token():
    """Make a token and show it once, on this response: it is not kept anywhere to show again
    (the page is sent no-store, like the recovery codes)."""
    user = current_user._get_current_object()
    form = _token_form(NewTokenForm(prefix="token"))
    if form.validate_on_submit():
        try:
            made = tokens.create(user, form.name.data, form.scopes.data or [], form.days.data)
        except tokens.TokenError as error:
            db.session.rollback()
            form.name.errors = [*form.name.errors, str(error)]
        else:
            trail.record(
                "api.token_create",
                made.token,
                summary=made.token.name,
                after={
                    "scopes": made.token.scopes,
                    "expires_at": made.token.expires_at.isoformat(timespec="seconds"),
                    "prefix": made.token.prefix,
                },
            )
            db.session.commit()
            return _account_page(new_token=made)
    return _account_page(422, token_form=form)


@bp.route("/account/tokens/revoke", methods=["POST"])
@access.guard()
def revoke_token():
    form = RevokeTokenForm(prefix="revoke")
    if form.validate_on_submit():
        token = tokens.revoke(current_user, form.token.data)
        if token is not None:
            trail.record("api.token_revoke", token, summary=token.name)
            db.session.commit()
            flash(_("アクセストークン「%(name)s」を無効にしました。", name=token.name), "success")
    return redirect(url_for("auth.account", _anchor="tokens"))


# --- two-factor -----------------------------------------------------------------------------


def _setup_secret() -> str:
    secret = setup_secret()
    if secret is None:
        secret = signin.new_totp_secret()
        keep_setup_secret(secret)
        db.session.commit()
    return secret


def _qr_code(uri: str) -> str | None:
    """The otpauth URI as a QR code, an SVG data: URI made here (no request leaves the server)."""
    try:
        import segno
    except ImportError:  # optional: the secret and the URI are on the page anyway
        return None
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


@bp.route("/2fa/setup", methods=["GET", "POST"])
def enroll():
    pending = pending_user("enroll")
    if pending is not None:
        user = pending
    elif current_user.is_authenticated:
        user = current_user._get_current_object()
    else:
        flash(_("ログインの手続きの有効期限が切れました。もう一度ログインしてください。"), "info")
        return redirect(url_for("auth.login"))
    if user.totp_enabled:
        return redirect(url_for("auth.account"))
    secret = _setup_secret()
    form = EnrollForm()
    if form.validate_on_submit():
        try:
            codes = signin.enable_totp(user, secret, form.code.data)
        except ValueError:
            form.code.errors = [
                *form.code.errors,
                _("確認コードが正しくありません。アプリの時刻が合っているか確かめてください。"),
            ]
        else:
            keep_setup_secret(None)
            target = pending_next() if pending is not None else url_for("auth.account")
            if pending is not None:
                target = sign_in_or_pledge(user, target)  # enrolled: signed in, or the pledge
                trail.record("auth.login", user, user=user, after={"enrolled": True})
            trail.record("auth.2fa_enable", user, user=user)
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes, target=target)
    uri = signin.provisioning_uri(user, secret)
    return render_template(
        "auth/enroll.html",
        form=form,
        secret=secret,
        uri=uri,
        qr=_qr_code(uri),
        required=pending is not None,
        user=user,
    )


@bp.route("/2fa/disable", methods=["POST"])
@access.guard()
@signin_limit
def disable_two_factor():
    user = current_user._get_current_object()
    if signin.requires_2fa(user):
        abort(403)
    form = DisableTwoFactorForm(prefix="off")
    if form.validate_on_submit():
        if _password_confirmed(user, form):
            signin.disable_totp(user)
            trail.record("auth.2fa_disable", user)
            db.session.commit()
            flash(_("2段階認証を無効にしました。"), "success")
            return redirect(url_for("auth.account"))
    return _account_page(disable_form=form)


@bp.route("/2fa/recovery-codes", methods=["POST"])
@access.guard()
@signin_limit
def new_recovery_codes():
    user = current_user._get_current_object()
    if not user.totp_enabled:
        return redirect(url_for("auth.account"))
    form = RecoveryCodesForm(prefix="rc")
    if form.validate_on_submit():
        if _password_confirmed(user, form):
            codes = signin.new_recovery_codes(user)
            trail.record("auth.recovery_codes", user)
            db.session.commit()
            return render_template(
                "auth/recovery_codes.html", codes=codes, target=url_for("auth.account")
            )
    return _account_page(codes_form=form)


def _password_confirmed(user, form) -> bool:
    """Check the current password before a change to two-factor sign-in; the form says why
    not."""
    try:
        confirmed = confirm_current_password(user, form.password.data)
    except directory.Unavailable:
        db.session.rollback()
        form.password.errors = [*form.password.errors, str(DIRECTORY_UNAVAILABLE)]
        return False
    db.session.commit()  # a wrong password's failure count
    if not confirmed:
        form.password.errors = [*form.password.errors, _("現在のパスワードが正しくありません。")]
    return confirmed
