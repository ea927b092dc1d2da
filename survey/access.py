"""The one permission gate: who may see which assignments, units and registers.

Every list a view shows is built from these scoped queries, so a role can never see what the
scope leaves out, whatever id it puts in a URL.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort

from survey.extensions import db
from survey.models import Assignment, Contract, OrgUnit, Role, User
from survey.models.campaigns import AssignmentStatus, CampaignStatus
from survey.services import audit

SEE_ALL = (Role.ADMIN, Role.AUDITOR)


def subtree_ids(unit_id: int) -> sa.Select:
    """The ids of a unit and every unit below it (a recursive CTE, one query at any depth)."""
    tree = sa.select(OrgUnit.id).where(OrgUnit.id == unit_id).cte("tree", recursive=True)
    tree = tree.union_all(sa.select(OrgUnit.id).join(tree, OrgUnit.parent_id == tree.c.id))
    return sa.select(tree.c.id)


def scope_assignments(user: User, stmt: sa.Select) -> sa.Select:
    """Restrict a query over Assignment to what `user` may see."""
    if user.role in SEE_ALL:
        return stmt
    if user.role == Role.MANAGER and user.unit_id is not None:
        return stmt.where(Assignment.responsible_unit_id.in_(subtree_ids(user.unit_id)))
    if user.role == Role.RESPONDENT and user.unit_id is not None:
        return stmt.where(Assignment.responsible_unit_id == user.unit_id)
    if user.role == Role.CONTRACTOR and user.contractor_id is not None:
        own_contracts = sa.select(Contract.id).where(Contract.contractor_id == user.contractor_id)
        return stmt.where(
            sa.or_(
                Assignment.contract_id.in_(own_contracts),
                Assignment.contractor_id == user.contractor_id,
            )
        )
    return stmt.where(sa.false())


# --- decisions on one assignment ------------------------------------------------------------

EDITABLE = (AssignmentStatus.NOT_STARTED, AssignmentStatus.DRAFT, AssignmentStatus.RETURNED)


def _in_subtree(user: User, unit_id: int | None) -> bool:
    if user.unit_id is None or unit_id is None:
        return False
    return db.session.scalar(sa.select(sa.literal(unit_id).in_(subtree_ids(user.unit_id))))


def answers_for(user: User, assignment: Assignment) -> bool:
    """The people who fill in this questionnaire: the responsible unit's staff, and for a
    contract, the contractor's own staff."""
    if user.role == Role.RESPONDENT:
        return user.unit_id == assignment.responsible_unit_id
    if user.role == Role.CONTRACTOR:
        contract = assignment.contract
        return (contract is not None and contract.contractor_id == user.contractor_id) or (
            assignment.contractor_id is not None and assignment.contractor_id == user.contractor_id
        )
    return False


def _reviews(user: User, assignment: Assignment) -> bool:
    """Who approves or returns: the manager of the responsible unit's subtree, the security
    office, and for a contract answered by its contractor, the owning division, which is
    accountable for its contractor's answers."""
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.MANAGER:
        return _in_subtree(user, assignment.responsible_unit_id)
    if user.role == Role.RESPONDENT and assignment.contract_id is not None:
        return user.unit_id == assignment.responsible_unit_id
    return False


def can(user: User, action: str, assignment: Assignment) -> bool:
    """The one answer to "may this user do this to this assignment?".

    Actions: view, answer (edit and submit), review (approve or return), invite (a contractor).
    """
    open_campaign = assignment.campaign.status == CampaignStatus.OPEN
    if action == "view":
        return user.role in SEE_ALL or (
            db.session.scalar(
                scope_assignments(user, sa.select(Assignment.id)).where(
                    Assignment.id == assignment.id
                )
            )
            is not None
        )
    if action == "answer":
        return open_campaign and assignment.status in EDITABLE and answers_for(user, assignment)
    if action == "review":
        return (
            open_campaign
            and assignment.status == AssignmentStatus.SUBMITTED
            and _reviews(user, assignment)
        )
    if action == "invite":
        return (
            open_campaign
            and assignment.contract_id is not None
            and (
                user.role == Role.ADMIN
                or (user.role == Role.RESPONDENT and user.unit_id == assignment.responsible_unit_id)
                or (user.role == Role.MANAGER and _in_subtree(user, assignment.responsible_unit_id))
            )
        )
    raise ValueError(f"unknown action {action!r}")


def assignment_or_404(assignment_id: int, user: User, action: str = "view") -> Assignment:
    """The assignment if the user may see it; 404 otherwise, so that guessing ids reveals
    nothing. A visible assignment the user may not act on is a 403."""
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or not can(user, "view", assignment):
        audit.record_denied("assignment", assignment_id, user, found=assignment)
        abort(404)
    if action != "view" and not can(user, action, assignment):
        abort(403)
    return assignment


# --- results of a campaign ------------------------------------------------------------------


def can_view_results(user: User, campaign=None) -> bool:
    """Who may see a campaign's figures and download them: admin and auditor, every campaign;
    a manager, the campaigns with assignments in their subtree, and then only figures computed
    on that subtree (results_units). Respondents and contractors: never. Without a campaign:
    whether the user may see results at all (the menu link)."""
    if user.role in SEE_ALL:
        return True
    if user.role != Role.MANAGER or user.unit_id is None:
        return False
    if campaign is None:
        return True
    in_scope = sa.exists().where(
        Assignment.campaign_id == campaign.id,
        Assignment.responsible_unit_id.in_(subtree_ids(user.unit_id)),
    )
    return bool(db.session.scalar(sa.select(in_scope)))


def results_units(user: User) -> sa.Select | None:
    """The responsible units whose assignments count in the figures `user` sees (None: all)."""
    if user.role in SEE_ALL:
        return None
    if user.role == Role.MANAGER and user.unit_id is not None:
        return subtree_ids(user.unit_id)
    return sa.select(OrgUnit.id).where(sa.false())


# --- corrective actions (是正措置) and audits (監査) --------------------------------------------


def scope_actions(user: User, stmt: sa.Select) -> sa.Select:
    """Restrict a query over CorrectiveAction to what `user` may see: admin and auditor all;
    a manager, actions whose unit is in their subtree; a respondent, their own unit's; a
    contractor, their own company's only."""
    from survey.models import CorrectiveAction

    return _scope_owned(user, stmt, CorrectiveAction.unit_id, CorrectiveAction.contractor_id)


def scope_audits(user: User, stmt: sa.Select) -> sa.Select:
    """Restrict a query over Audit the same way, by the audited unit or company."""
    from survey.models import Audit

    return _scope_owned(user, stmt, Audit.unit_id, Audit.contractor_id)


def _scope_owned(user: User, stmt: sa.Select, unit_column, contractor_column) -> sa.Select:
    if user.role in SEE_ALL:
        return stmt
    if user.role == Role.MANAGER and user.unit_id is not None:
        return stmt.where(unit_column.in_(subtree_ids(user.unit_id)))
    if user.role == Role.RESPONDENT and user.unit_id is not None:
        return stmt.where(unit_column == user.unit_id)
    if user.role == Role.CONTRACTOR and user.contractor_id is not None:
        return stmt.where(contractor_column == user.contractor_id)
    return stmt.where(sa.false())


def owns_action(user: User, action) -> bool:
    """Who fixes it and reports the measure: for a contractor's action, that company's users;
    otherwise the owning unit's respondents and the managers above it."""
    if action.contractor_id is not None:
        return user.role == Role.CONTRACTOR and user.contractor_id == action.contractor_id
    if user.role == Role.RESPONDENT:
        return user.unit_id == action.unit_id
    if user.role == Role.MANAGER:
        return _in_subtree(user, action.unit_id)
    return False


def may_open_actions(user: User, unit_id: int | None = None) -> bool:
    """Admin anywhere; a manager for units in their subtree (without a unit: at all)."""
    if user.role == Role.ADMIN:
        return True
    if user.role != Role.MANAGER:
        return False
    return unit_id is None or _in_subtree(user, unit_id)


def can_action(user: User, verb: str, action) -> bool:
    """The one answer to "may this user do this to this corrective action?".

    Verbs: view, start (mark in progress), report (the measure taken), verify, send_back.
    Whether the action's current status allows the step is the service's business.
    """
    from survey.models import CorrectiveAction

    if verb == "view":
        return user.role in SEE_ALL or (
            db.session.scalar(
                scope_actions(user, sa.select(CorrectiveAction.id)).where(
                    CorrectiveAction.id == action.id
                )
            )
            is not None
        )
    if verb in ("start", "report"):
        return owns_action(user, action)
    if verb in ("verify", "send_back"):
        return user.role == Role.ADMIN
    raise ValueError(f"unknown verb {verb!r}")


def action_or_404(action_id: int, user: User, verb: str = "view"):
    """The action if the user may see it (404 and a record otherwise); 403 for a visible action
    the user may not act on."""
    from survey.models import CorrectiveAction

    action = db.session.get(CorrectiveAction, action_id)
    if action is None or not can_action(user, "view", action):
        audit.record_denied("corrective_action", action_id, user, found=action)
        abort(404)
    if verb != "view" and not can_action(user, verb, action):
        abort(403)
    return action


def may_record_audits(user: User) -> bool:
    return user.role == Role.ADMIN


def audit_or_404(audit_id: int, user: User):
    from survey.models import Audit

    found = db.session.get(Audit, audit_id)
    visible = found is not None and (
        user.role in SEE_ALL
        or db.session.scalar(scope_audits(user, sa.select(Audit.id)).where(Audit.id == audit_id))
        is not None
    )
    if not visible:
        audit.record_denied("audit", audit_id, user, found=found)
        abort(404)
    return found


def can_view_followup_dashboard(user: User) -> bool:
    return bool(user and user.is_authenticated and user.role in SEE_ALL)
