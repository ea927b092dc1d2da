from flask import render_template
from flask_login import current_user

from survey import access, clock
from survey.extensions import db
from survey.main import bp
from survey.models import Contractor, Role
from survey.services import delegations, evaluations, inbox, invitation_requests
from survey.services.overview import campaign_summaries, own_assignments

DESK_ROWS = 10  # the rest is one click away, in 回答・承認


@bp.route("/")
@access.guard()
def home():
    answers_own = current_user.role in (Role.RESPONDENT, Role.CONTRACTOR)
    today = clock.today()
    waiting = inbox.awaiting_approval(current_user, today)
    company = (
        db.session.get(Contractor, current_user.contractor_id)
        if current_user.role == Role.CONTRACTOR
        else None
    )
    return render_template(
        "main/home.html",
        # A staff account's only work is the parts handed to it (listed above), not campaigns.
        summaries=campaign_summaries(current_user) if access.sees_whole(current_user) else None,
        assignments=own_assignments(current_user) if answers_own else None,
        handed_to=delegations.handed_to(current_user),
        waiting=waiting[:DESK_ROWS],
        waiting_count=len(waiting),
        recommendations=evaluations.open_recommendations(company, today) if company else None,
        company=company,
        pending_invitations=invitation_requests.pending_count()
        if access.can_decide_invitations(current_user)
        else 0,
    )
