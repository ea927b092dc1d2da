"""Assignments (the questionnaires a user sees) and their answers: read, and save with the
web form's revision rule — answers read at a revision that has moved on are a 409; the parts
of them handed to colleagues (委任), read."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import abort

from survey import access
from survey.api import blueprint, needs
from survey.api.schemas import (
    AnswersSchema,
    AssignmentArgs,
    AssignmentSchema,
    DelegationSchema,
    SaveAnswersSchema,
    SavedSchema,
)
from survey.extensions import db
from survey.models import Assignment, Campaign
from survey.services import answering, delegations, trail

bp = blueprint("assignments", "/assignments", "回答の依頼（点検票）と回答")
PAGE_SIZE = 100


@bp.route("", methods=["GET"])
@access.guard()
@bp.arguments(AssignmentArgs, location="query")
@bp.response(200, AssignmentSchema(many=True))
def assignment_list(args):
    """The questionnaires the user sees (survey.access.scope_assignments), 100 a page."""
    stmt = access.scope_assignments(current_user, sa.select(Assignment))
    if args["campaign"]:
        stmt = stmt.join(Campaign, Campaign.id == Assignment.campaign_id).where(
            Campaign.code == args["campaign"]
        )
    stmt = stmt.order_by(Assignment.id).offset((args["page"] - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    return db.session.scalars(stmt).all()


@bp.route("/<int:assignment_id>", methods=["GET"])
@access.guard()
@bp.response(200, AssignmentSchema)
def assignment_detail(assignment_id: int):
    return access.assignment_or_404(assignment_id, current_user)


@bp.route("/<int:assignment_id>/delegations", methods=["GET"])
@access.guard()
@bp.response(200, DelegationSchema(many=True))
def delegation_list(assignment_id: int):
    """The parts of the questionnaire handed to colleagues, withdrawn ones too, oldest first;
    a staff account sees only those handed to it."""
    assignment = access.assignment_or_404(assignment_id, current_user)
    return [
        delegation
        for delegation in delegations.of_assignment(assignment, withdrawn=True)
        if access.sees_delegation(current_user, delegation)
    ]


@bp.route("/<int:assignment_id>/delegations/<int:delegation_id>", methods=["GET"])
@access.guard()
@bp.response(200, DelegationSchema)
def delegation_detail(assignment_id: int, delegation_id: int):
    assignment = access.assignment_or_404(assignment_id, current_user)
    return access.delegation_or_404(assignment, delegation_id, current_user)


def _answers(assignment: Assignment) -> dict:
    numbers = {item.id: item.number for item in assignment.campaign.checklist.items}
    stored = answering.stored_inputs(assignment)
    return {
        "assignment": assignment.id,
        "revision": assignment.revision,
        "status": assignment.status,
        "answers": [
            {"item": numbers[item_id], "option": value.option, "comment": value.comment}
            for item_id, value in sorted(stored.items(), key=lambda pair: numbers[pair[0]])
        ],
    }


@bp.route("/<int:assignment_id>/answers", methods=["GET"])
@access.guard()
@bp.response(200, AnswersSchema)
def answers(assignment_id: int):
    """The stored answers, by item number, and the revision to save them back at."""
    return _answers(access.assignment_or_404(assignment_id, current_user))


@bp.route("/<int:assignment_id>/answers", methods=["PUT"])
@access.guard()
@needs("answers")
@bp.arguments(SaveAnswersSchema)
@bp.response(200, SavedSchema)
@bp.alt_response(409, description="the answers changed since `revision`")
def save_answers(posted: dict, assignment_id: int):
    """Save a draft of the items sent (the others stay as stored), as the form's 下書き保存
    does: the same checks, history and audit entry. A revision that has moved on is a 409
    with the current revision and the items changed since."""
    assignment = access.assignment_or_404(assignment_id, current_user, "answer")
    by_number = {item.number: item.id for item in assignment.campaign.checklist.items}
    unknown = sorted({a["item"] for a in posted["answers"]} - by_number.keys())
    if unknown:
        abort(422, errors={"answers": {str(n): [_("この点検にない項目です。")] for n in unknown}})
    inputs = {
        by_number[a["item"]]: answering.ItemInput(a["option"] or None, a["comment"])
        for a in posted["answers"]
    }
    try:
        changed = answering.save(
            assignment, inputs, current_user, revision=posted["revision"], source="api"
        )
    except answering.Conflict as conflict:
        numbers = {v: k for k, v in by_number.items()}
        abort(
            409,
            errors={
                "revision": conflict.revision,
                "changed_items": sorted({numbers[c.item_id] for c in conflict.changes}),
            },
        )
    except answering.Invalid as invalid:
        db.session.rollback()
        numbers = {v: k for k, v in by_number.items()}
        abort(422, errors={"answers": {str(numbers[i]): m for i, m in invalid.problems.items()}})
    answered, asked = answering.progress(assignment)
    if changed:
        trail.record_answers(assignment, "answer.api", changed)
    revision = assignment.revision
    db.session.commit()
    return {
        "revision": revision,
        "changed": [change.number for change in changed],
        "answered": answered,
        "asked": asked,
    }
