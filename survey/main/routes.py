from flask import render_template
from flask_login import current_user, login_required

from survey.access import can_decide_invitations
from survey.main import bp
from survey.models import Role
from survey.services import invitation_requests
from survey.services.overview import campaign_summaries, own_assignments


@bp.route("/")
@login_required
def home():
    answers_own = current_user.role in (Role.RESPONDENT, Role.CONTRACTOR)
    return render_template(
        "main/home.html",
        summaries=campaign_summaries(current_user),
        assignments=own_assignments(current_user) if answers_own else None,
        pending_invitations=invitation_requests.pending_count()
        if can_decide_invitations(current_user)
        else 0,
    )
