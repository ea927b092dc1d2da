"""The office's escalation defaults (督促の段階): read, as campaigns are, by the office and the
auditors; they are changed on the admin page only."""

from __future__ import annotations

from survey import access
from survey.api import blueprint
from survey.api.schemas import StepsSchema
from survey.services import escalation

bp = blueprint("escalation", "/escalation", "督促の段階（既定値）")


@bp.route("", methods=["GET"])
@access.guard(does=access.sees_all)
@bp.response(200, StepsSchema)
def escalation_defaults():
    """The steps a new campaign starts from and every overdue corrective action follows."""
    return escalation.office_steps()
