"""Accepting an invitation: the contractor's contact opens the mailed link and sets a password.

Every link that cannot be used — unknown, used, revoked or expired — gets the same 404 page, so
the page reveals nothing about tokens. Someone already signed in is asked to sign out first
instead of being signed out by a GET that any page could trigger.
"""

from flask import flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from survey.auth import bp
from survey.auth.invite_forms import AcceptInvitationForm, SetPasswordForm
from survey.auth.sessions import begin_pending, sign_in_or_pledge
from survey.extensions import db
from survey.models.types import utcnow
from survey.passwords import min_length
from survey.services import invitations, trail

TEMPLATE = "auth/accept_invitation.html"


def _page(status: int = 200, **context):
    response = make_response(
        render_template(TEMPLATE, password_min=min_length(), **context), status
    )
    # The token is in the URL: keep it out of caches and out of Referer headers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _unusable():
    return _page(404, invitation=None)


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    if current_user.is_authenticated:
        return _page(signed_in=True, invitation=None)
    invitation = invitations.find_valid(token)
    if invitation is None:
        return _unusable()
    account = invitations.existing_account(invitation)
    if account is not None:
        form = SetPasswordForm()
        form.account_username = account.username
    else:
        form = AcceptInvitationForm()
        if not form.is_submitted():
            form.username.data = invitations.suggest_username(invitation.email)
    if form.validate_on_submit():
        new_account = isinstance(form, AcceptInvitationForm)
        try:
            user = invitations.accept(
                invitation,
                form.username.data if new_account else None,
                form.display_name.data if new_account else None,
                form.password.data,
            )
            user.last_login_at = utcnow()
            trail.record(
                "invitation.accept",
                user,
                user=user,
                after={"invitation_id": invitation.id, "new_account": new_account},
            )
            db.session.commit()
        except invitations.InvitationUnusable:
            db.session.rollback()
            return _unusable()
        except (invitations.InvitationError, IntegrityError) as error:
            db.session.rollback()
            if isinstance(error, IntegrityError):
                # Someone took the username between the check and the insert.
                error = invitations.InvitationError(
                    _("このユーザー名は既に使われています。別のユーザー名を入力してください。"),
                    "username",
                )
            field = form[error.field] if error.field in form else form.password
            field.errors = [*field.errors, error.message]
        else:
            if user.totp_enabled:
                # A reset through the mailed link is no way around the account's second factor.
                begin_pending(user, "totp", url_for("main.home"))
                db.session.commit()  # the session's row
                return redirect(url_for("auth.two_factor"))
            destination = sign_in_or_pledge(user, url_for("main.home"))
            db.session.commit()  # the session's row
            flash(_("アカウントを設定しました。点検への回答を始められます。"), "success")
            return redirect(destination)
    return _page(invitation=invitation, account=account, form=form)
