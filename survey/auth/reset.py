"""Forgot one's password: a mailed single-use link to set a new one
(survey.services.password_resets).

The request page answers the same whatever the address typed, and is limited per address and
per client address. The link's page never signs in: after the new password, the person signs in
as usual, with the second factor if the account has one. Both pages are for someone signed
out; a signed-in user changes the password on the account page.
"""

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from survey import access
from survey.auth import bp
from survey.auth.forms import ForgotPasswordForm, ResetPasswordForm
from survey.extensions import db, limiter
from survey.passwords import min_length
from survey.services import password_resets, trail
from survey.services.accounts import AccountError
from survey.services.password_resets import LinkState

SIGNED_IN = _l("ログイン中です。パスワードはこの画面で変更できます。")
REFUSED = {LinkState.UNKNOWN: 404}  # the rest were links once: 410 Gone


def _address_key() -> str:
    return "password-reset:" + password_resets.normalise_email(request.form.get("email"))


def _refused_link(response) -> bool:
    return response.status_code in (404, 410)


def _page(template: str, status: int = 200, **context):
    response = make_response(
        render_template(template, password_min=min_length(), **context), status
    )
    # The token is in the URL: keep it out of caches and out of Referer headers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/forgot", methods=["GET", "POST"])
@access.signed_out_only("auth.account", SIGNED_IN)
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_CLIENT_LIMIT"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["PASSWORD_RESET_ADDRESS_LIMIT"],
    key_func=_address_key,
    methods=["POST"],
)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        links = password_resets.request_reset(form.email.data)
        trail.record(
            "auth.password_reset_request",
            user=None,
            summary=form.email.data,
            after={"accounts": [link.user.id for link in links]},
        )
        db.session.commit()
        return _page("auth/forgot_password.html", sent=True)
    return _page("auth/forgot_password.html", form=form, sent=False)


def _refuse(reset, why: LinkState):
    trail.record(
        "auth.password_reset_refused",
        reset,
        user=None,
        username=reset.user.username if reset is not None else "",
        after={"reason": why.value},
    )
    db.session.commit()
    return _page("auth/reset_password.html", REFUSED.get(why, 410), why=why.value, form=None)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@access.signed_out_only("auth.account", SIGNED_IN)
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    methods=["GET", "POST"],
    deduct_when=_refused_link,
)
def reset_password(token: str):
    reset = password_resets.find(token)
    why = password_resets.state(reset)
    if why != LinkState.USABLE:
        return _refuse(reset, why)
    form = ResetPasswordForm()
    form.username = reset.user.username
    if form.validate_on_submit():
        try:
            user = password_resets.complete(reset, form.password.data)
        except password_resets.LinkUnusable:
            db.session.rollback()  # another request used the link first
            reset = password_resets.find(token)
            return _refuse(reset, password_resets.state(reset))
        except AccountError as error:
            db.session.rollback()
            form.password.errors = [*form.password.errors, str(error)]
        else:
            trail.record("auth.password_reset", user, user=user)
            db.session.commit()
            flash(
                _(
                    "パスワードを再設定しました。新しいパスワードでログインしてください。"
                    "ログイン中だった端末はすべてログアウトしました。"
                ),
                "success",
            )
            return redirect(url_for("auth.login"))
    return _page("auth/reset_password.html", why=why.value, form=form, account=reset.user)
