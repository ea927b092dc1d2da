"""Invitation requests (招待の承認): the addresses divisions asked to invite that the contractor
register does not hold for the company. The security office approves (the invitation is made and
mailed) or refuses with a reason; for everyone else the pages do not exist (404, recorded)."""

from __future__ import annotations

from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length

from survey import access
from survey.admin import bp
from survey.extensions import db
from survey.models.evaluations import RequestStatus
from survey.respond.invite import flash_sent
from survey.services import audit, invitation_requests, invitations

bp.add_app_template_global(access.can_decide_invitations, "can_decide_invitations")

LIST_SIZE = 200
REASON_MAX = 2000


class DecisionForm(FlaskForm):
    reason = TextAreaField(
        _l("承認しない理由（承認しない場合は必須）"), validators=[Length(max=REASON_MAX)]
    )
    approve = SubmitField(_l("承認して招待メールを送る"))
    refuse = SubmitField(_l("承認しない"))


def office_only(view):
    @wraps(view)
    @login_required
    def guarded(*args, **kwargs):
        if not access.can_decide_invitations(current_user):
            audit.record_denied(
                "invitation_request", kwargs.get("request_id"), current_user, reason="role"
            )
            abort(404)
        return view(*args, **kwargs)

    return guarded


@bp.route("/invitation-requests/")
@office_only
def invitation_requests_index():
    status = request.args.get("status", RequestStatus.PENDING)
    status = status if status in set(RequestStatus) else ""
    return render_template(
        "admin/invitations/index.html",
        filed=invitation_requests.listed(status or None, LIST_SIZE),
        status=status,
        pending=invitation_requests.pending_count(),
        limit=LIST_SIZE,
    )


@bp.route("/invitation-requests/<int:request_id>", methods=["GET", "POST"])
@office_only
def invitation_request(request_id: int):
    """The request in full with the decision form: the page is its own confirmation step."""
    filed = invitation_requests.request_or_none(request_id)
    if filed is None:
        abort(404)
    form = DecisionForm()
    if request.method == "POST":
        if form.validate_on_submit() and (form.approve.data or form.refuse.data):
            return _decide(filed, form)
        if not form.errors:
            flash(_("承認するか、承認しないかを選んでください。"), "error")
    status = 422 if request.method == "POST" else 200
    return render_template("admin/invitations/show.html", filed=filed, form=form), status


def _decide(filed, form: DecisionForm):
    try:
        if form.approve.data:
            invitation, token = invitation_requests.approve(filed, current_user)
        else:
            invitation_requests.refuse(filed, current_user, form.reason.data)
    except invitation_requests.AlreadyDecided as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("admin.invitation_request", request_id=filed.id))
    except invitations.InvitationError as error:
        db.session.rollback()
        if error.field == "reason":
            form.reason.errors = [error.message]
        else:
            flash(error.message, "error")
        return render_template("admin/invitations/show.html", filed=filed, form=form), 422
    db.session.commit()
    if form.approve.data:
        flash_sent(invitation, token)
    else:
        flash(_("招待を承認しませんでした。申請した人に理由を知らせました。"), "success")
    return redirect(url_for("admin.invitation_requests_index"))
