from flask import render_template
from flask_login import current_user

from survey import access
from survey.main import bp
from survey.models import Role
from survey.services.overview import campaign_summaries, own_assignments


@bp.route("/")
@access.guard()
def home():
    answers_own = current_user.role in (Role.RESPONDENT, Role.CONTRACTOR)
    return render_template(
        "main/home.html",
        summaries=campaign_summaries(current_user),
        assignments=own_assignments(current_user) if answers_own else None,
    )
