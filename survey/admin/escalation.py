"""The office's escalation defaults (督促の段階): the steps a new campaign starts from and every
overdue corrective action follows (survey.services.escalation). The security office only."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey import access
from survey.admin import bp
from survey.campaigns.forms import StepsForm
from survey.extensions import db
from survey.services import escalation
from survey.services.campaigns import step_field

# For everyone but the office the page does not exist (404), as the other office-only pages
# under /admin/ (the outbox, invitation requests) answer.
office_only = access.guard(access.can_manage_campaigns, record="escalation")


@bp.route("/escalation", methods=["GET", "POST"])
@office_only
def escalation_defaults():
    form = StepsForm()
    if request.method == "GET":
        form.fill_steps(escalation.office_steps())
        return render_template("admin/escalation.html", form=form)
    # Parse the numbers first, then the service's rules, so every problem shows at once.
    form.validate()
    if not any(field.errors for field in form):
        try:
            escalation.save_defaults(form.steps(), current_user)
        except escalation.StepsError as error:
            for step, message in error.problems.items():
                form[step_field(step)].errors = [message]
        else:
            db.session.commit()
            flash(
                _("督促の段階の既定値を保存しました。新しく作成する点検から使われます。"), "success"
            )
            return redirect(url_for("admin.escalation_defaults"))
    return render_template("admin/escalation.html", form=form), 422
