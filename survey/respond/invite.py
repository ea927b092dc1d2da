"""Inviting a contract's contractor to answer: the owning division, its manager or the security
office sends a single-use link by mail (survey.services.invitations). A division's address the
contractor register does not hold for the company becomes a request the security office decides
(survey.services.invitation_requests).

A refused address is flashed and kept in the session, so that the assignment page shows the
form again with what was typed (`invite_form_for`).
"""

from flask import current_app, flash, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey import access
from survey.access import assignment_or_404
from survey.auth.invite_forms import InviteForm
from survey.extensions import db
from survey.formatting import format_datetime
from survey.models import Assignment, Invitation, InvitationRequest, Role
from survey.respond import bp
from survey.services import invitation_requests, invitations, trail

PREFIX = "invite"  # field names "invite-email": no clash with the other forms of the page
KEPT = "invite_email"


@bp.app_template_global()
def invite_form_for(assignment: Assignment) -> InviteForm:
    """The form for the assignment page, holding the address of a refused attempt if any.

    Also a template global, so respond/_invite_form.html builds it when the page passes none.
    """
    kept = session.pop(KEPT, None) or {}
    email = kept.get("email", "") if kept.get("assignment_id") == assignment.id else ""
    return InviteForm(formdata=None, prefix=PREFIX, data={"email": email})


@bp.app_template_global()
def invitation_requests_for(assignment: Assignment) -> list[InvitationRequest]:
    """The requests to invite for this contract, with the office's decisions, for the staff who
    see the assignment; the company does not see whom its client asked about, nor a delegate
    (a staff account sees only the items handed to it)."""
    if assignment.contract_id is None or current_user.role in (Role.CONTRACTOR, Role.STAFF):
        return []
    return invitation_requests.of_assignment(assignment)


def _refused(assignment: Assignment, email: str | None, messages: list[str]):
    for message in messages:
        flash(message, "error")
    session[KEPT] = {"assignment_id": assignment.id, "email": (email or "")[:300]}
    return redirect(url_for("respond.assignment", assignment_id=assignment.id))


@bp.route("/<int:assignment_id>/invite", methods=["POST"])
@access.guard()
def invite(assignment_id: int):
    assignment = assignment_or_404(assignment_id, current_user, "invite")
    form = InviteForm(prefix=PREFIX)
    if not form.validate_on_submit():
        return _refused(assignment, form.email.data, [e for es in form.errors.values() for e in es])
    if invitation_requests.needs_approval(current_user, assignment, form.email.data):
        return _request(assignment, form.email.data)
    try:
        invitation, token = invitations.invite(assignment, form.email.data, current_user)
    except invitations.InvitationError as error:
        db.session.rollback()
        return _refused(assignment, form.email.data, [error.message])
    trail.record_invitation(invitation, assignment)
    db.session.commit()
    flash_sent(invitation, token)
    return redirect(url_for("respond.assignment", assignment_id=assignment.id))


def _request(assignment: Assignment, email: str):
    """An address the register does not hold for the company: the security office decides."""
    try:
        invitation_requests.request(assignment, email, current_user)
    except invitations.InvitationError as error:
        db.session.rollback()
        return _refused(assignment, email, [error.message])
    db.session.commit()
    flash(
        _(
            "%(email)s は委託事業者台帳にこの事業者の連絡先として登録されていないため、"
            "情報政策課に招待を申請しました。承認されると招待メールが送られます。",
            email=email.strip(),
        ),
        "info",
    )
    return redirect(url_for("respond.assignment", assignment_id=assignment.id))


def flash_sent(invitation: Invitation, token: str) -> None:
    """Tell whoever made the invitation that it went out (and, outside production, its link)."""
    flash(
        _(
            "招待メールを送信しました（有効期限: %(expires)s）。",
            expires=format_datetime(invitation.expires_at),
        ),
        "success",
    )
    if current_app.config["SURVEY_ENV"] != "production":
        flash(
            _(
                "開発環境のためメールは送られません。招待リンク: %(link)s",
                link=url_for("auth.accept_invitation", token=token, _external=True),
            ),
            "info",
        )
