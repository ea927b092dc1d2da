"""The pledge page at sign-in (survey.services.pledges): a person who owes a pledge gets, after
the password and TOTP steps, a session that opens this page and sign-out only
(survey.auth.sessions); acknowledging signs them in and takes them where they were going."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey.auth import bp
from survey.auth.forms import PledgeForm
from survey.auth.sessions import drop_pending, pending_next, pending_user, start_session
from survey.extensions import db
from survey.malformed import db_int
from survey.services import pledges


@bp.route("/pledge", methods=["GET", "POST"])
def pledge():
    user = pending_user("pledge")
    if user is None:
        if current_user.is_authenticated:  # acknowledged already (a second click)
            return redirect(url_for("main.home"))
        drop_pending()
        db.session.commit()
        flash(_("ログインの手続きの有効期限が切れました。もう一度ログインしてください。"), "info")
        return redirect(url_for("auth.login"))
    target = pending_next() or url_for("main.home")
    owed = pledges.due(user)
    form = PledgeForm()
    if not owed:  # acknowledged in another window meanwhile
        return _signed_in(user, target)
    if form.validate_on_submit():
        try:
            pledges.acknowledge(user, _shown(form.versions.data))
        except pledges.PledgeError as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for("auth.pledge"))
        return _signed_in(
            user, target, _("誓約書への同意を記録しました。控えはアカウント画面から印刷できます。")
        )
    form.versions.data = ",".join(str(v.id) for v in owed)
    status = 422 if form.errors else 200
    return render_template("auth/pledge.html", form=form, owed=owed, user=user), status


def _shown(text: str | None) -> list[int]:
    """The ids of the versions the page showed (a hidden field: anything unreadable is none)."""
    shown = []
    for part in (text or "").split(","):
        try:
            shown.append(db_int(part))
        except ValueError:
            continue
    return shown


def _signed_in(user, target: str, message: str | None = None):
    start_session(user)  # a fresh session: the message goes in after it
    db.session.commit()
    if message:
        flash(message, "success")
    return redirect(target)
