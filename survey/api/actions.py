"""Corrective actions (是正措置): read, and move one step on (start, report, verify, send
back) with the pages' rules (survey.services.actions)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_login import current_user
from flask_smorest import abort

from survey import access
from survey.api import blueprint, needs
from survey.api.schemas import ActionArgs, ActionSchema, ActionStepSchema
from survey.extensions import db
from survey.models import CorrectiveAction
from survey.services import actions

bp = blueprint("actions", "/actions", "是正措置")
PAGE_SIZE = 100
# The security office's steps need the admin scope; the owner's, the answers scope.
_SCOPE = {"start": "answers", "report": "answers", "verify": "admin", "send_back": "admin"}


@bp.route("", methods=["GET"])
@access.guard()
@bp.arguments(ActionArgs, location="query")
@bp.response(200, ActionSchema(many=True))
def action_list(args):
    """The actions the user sees (survey.access.scope_actions), 100 a page."""
    stmt = access.scope_actions(current_user, sa.select(CorrectiveAction))
    if args["status"]:
        stmt = stmt.where(CorrectiveAction.status == args["status"])
    stmt = stmt.order_by(CorrectiveAction.due_on, CorrectiveAction.id)
    return db.session.scalars(stmt.offset((args["page"] - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()


@bp.route("/<int:action_id>", methods=["GET"])
@access.guard()
@bp.response(200, ActionSchema)
def action_detail(action_id: int):
    return access.action_or_404(action_id, current_user)


@bp.route("/<int:action_id>/status", methods=["POST"])
@access.guard()
@bp.arguments(ActionStepSchema)
@bp.response(200, ActionSchema)
def action_step(posted: dict, action_id: int):
    """One step from the status the caller saw (`expected`); a status that moved on is a 409.
    A report needs the measure taken; a send-back, the reason (`comment`)."""
    needs(_SCOPE[posted["step"]])(lambda: None)()
    action = access.action_or_404(action_id, current_user, posted["step"])
    try:
        actions.take_step(
            action,
            posted["step"],
            current_user,
            expected=posted["expected"],
            comment=posted["comment"],
            measure=posted["measure"],
        )
    except actions.StepRefused as refused:
        db.session.rollback()
        stale = db.session.get(CorrectiveAction, action_id).status != posted["expected"]
        abort(409 if stale else 422, message=str(refused))
    db.session.commit()
    return db.session.get(CorrectiveAction, action_id)
