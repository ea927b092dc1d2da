"""The one permission gate: who may see which assignments, units and registers.

Every list a view shows is built from these scoped queries, so a role can never see what the
scope leaves out, whatever id it puts in a URL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import NamedTuple, TypeVar

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import aliased, joinedload

from survey import clock
from survey.extensions import db
from survey.models import (
    Answer,
    AnswerHistory,
    Assignment,
    AssignmentEvent,
    Campaign,
    Checklist,
    Contract,
    Contractor,
    Delegation,
    DelegationCategory,
    ExportJob,
    Item,
    OrgUnit,
    Role,
    User,
)
from survey.models.campaigns import AssignmentStatus, CampaignStatus
from survey.models.evaluations import EVALUATION_CHECKLIST, Recommendation, SubcontractRequest
from survey.services import trail

SEE_ALL = (Role.ADMIN, Role.AUDITOR)

Rule = Callable[[User], bool]


# --- guarding routes ------------------------------------------------------------------------


def guard(sees: Rule | None = None, does: Rule | None = None, *, record: str = "page", id_arg=None):
    """The one way a route is guarded, as a decorator (or, wrapped around a no-op, a blueprint's
    before_request): a signed-in user, else the sign-in page. Someone for whom the pages do not
    exist (`sees` is false) gets a 404 recorded as a refused access, so probing reveals nothing;
    someone who may see them but not do this (`does` is false) gets a 403."""

    def decorate(view):
        @wraps(view)
        @login_required
        def guarded(*args, **kwargs):
            if sees is not None and not sees(current_user):
                object_id = (request.view_args or {}).get(id_arg) if id_arg else None
                trail.record_denied(record, object_id, current_user, reason="role")
                abort(404)
            if does is not None and not does(current_user):
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate


def signed_out_only(endpoint: str, message: str | None = None):
    """For pages meant for someone not signed in (asking for a new password by mail): a
    signed-in user is sent to `endpoint` instead, with `message` if given."""

    def decorate(view):
        @wraps(view)
        def checked(*args, **kwargs):
            if current_user.is_authenticated:
                if message:
                    flash(str(message), "info")
                return redirect(url_for(endpoint))
            return view(*args, **kwargs)

        return checked

    return decorate


def guard_blueprint(bp, sees: Rule | None = None, *, record: str = "page") -> None:
    """Every route of `bp` guarded as `guard(sees)` would."""
    bp.before_request(guard(sees, record=record)(lambda: None))


def sees_all(user: User) -> bool:
    """The security office and the auditors."""
    return user.role in SEE_ALL


def subtree_ids(unit_id: int, name: str = "tree") -> sa.Select:
    """The ids of a unit and every unit below it (a recursive CTE, one query at any depth;
    `name` tells it apart from another subtree in the same statement)."""
    tree = sa.select(OrgUnit.id).where(OrgUnit.id == unit_id).cte(name, recursive=True)
    tree = tree.union_all(sa.select(OrgUnit.id).join(tree, OrgUnit.parent_id == tree.c.id))
    return sa.select(tree.c.id)


def ancestor_ids(unit_id: int, name: str = "above") -> sa.Select:
    """The ids of a unit and every unit above it (a recursive CTE, one query at any depth)."""
    above = (
        sa.select(OrgUnit.id, OrgUnit.parent_id)
        .where(OrgUnit.id == unit_id)
        .cte(name, recursive=True)
    )
    above = above.union_all(
        sa.select(OrgUnit.id, OrgUnit.parent_id).join(above, OrgUnit.id == above.c.parent_id)
    )
    return sa.select(above.c.id)


def evaluation_campaigns() -> sa.Select:
    """The campaigns that evaluate contractors: the security office answers them about a
    company, so the company neither answers nor sees them (it sees the result instead)."""
    return (
        sa.select(Campaign.id)
        .join(Checklist, Checklist.id == Campaign.checklist_id)
        .where(Checklist.code == EVALUATION_CHECKLIST)
    )


def scope_assignments(user: User, stmt: sa.Select) -> sa.Select:
    """Restrict a query over Assignment to what `user` may see."""
    if user.role in SEE_ALL:
        return stmt
    if user.role == Role.MANAGER and user.unit_id is not None:
        return stmt.where(Assignment.responsible_unit_id.in_(subtree_ids(user.unit_id)))
    if user.role == Role.RESPONDENT and user.unit_id is not None:
        return stmt.where(Assignment.responsible_unit_id == user.unit_id)
    if user.role == Role.STAFF and user.unit_id is not None:
        # Only what was handed to them, and only while they are of the unit that answers it.
        return stmt.where(
            Assignment.id.in_(delegated_to(user.id)),
            Assignment.responsible_unit_id == user.unit_id,
        )
    if user.role == Role.STAFF and user.contractor_id is not None:
        # A company's staff: likewise, while their company answers it.
        return stmt.where(
            Assignment.id.in_(delegated_to(user.id)), company_answers(user.contractor_id)
        )
    if user.role == Role.CONTRACTOR and user.contractor_id is not None:
        return stmt.where(company_answers(user.contractor_id))
    return stmt.where(sa.false())


def company_answers(contractor_id: int) -> sa.ColumnElement[bool]:
    """The questionnaires a company answers, as a condition over Assignment: those of its
    contracts, and those about the company itself but its evaluation (the office's)."""
    own_contracts = sa.select(Contract.id).where(Contract.contractor_id == contractor_id)
    return sa.or_(
        Assignment.contract_id.in_(own_contracts),
        sa.and_(
            Assignment.contractor_id == contractor_id,
            Assignment.campaign_id.not_in(evaluation_campaigns()),
        ),
    )


# --- delegation (委任): parts of a questionnaire handed to a colleague -------------------------


def delegated_to(user_id: int) -> sa.Select:
    """The ids of the questionnaires with a delegation to the user that is not withdrawn."""
    return sa.select(Delegation.assignment_id).where(
        Delegation.delegate_id == user_id, Delegation.ended_at.is_(None)
    )


def delegated_part(user: User, assignment: Assignment, *, answering: bool = False):
    """The categories (ids) of the questionnaire a staff account sees — with `answering`, those
    it may still answer (its part not marked done) — as a frozenset; None for every other role,
    whose access the role decides. A staff account sees nothing else of the questionnaire: its
    page, its saves, its history and its evidence files are cut to these categories."""
    if user.role != Role.STAFF:
        return None
    if not _on_answering_side(user, assignment):
        return frozenset()  # moved to another unit or company: what was handed over stays behind
    stmt = (
        sa.select(DelegationCategory.category_id)
        .join(Delegation, Delegation.id == DelegationCategory.delegation_id)
        .where(
            Delegation.assignment_id == assignment.id,
            Delegation.delegate_id == user.id,
            Delegation.ended_at.is_(None),
        )
    )
    if answering:
        stmt = stmt.where(Delegation.done_at.is_(None))
    return frozenset(db.session.scalars(stmt))


def _on_answering_side(user: User, assignment: Assignment) -> bool:
    """Whether a staff account belongs to the unit or the company that answers the
    questionnaire."""
    if user.unit_id is not None:
        return user.unit_id == assignment.responsible_unit_id
    if user.contractor_id is not None:
        return _company_answers_it(user.contractor_id, assignment)
    return False


def _company_answers_it(contractor_id: int | None, assignment: Assignment) -> bool:
    contract = assignment.contract
    return (contract is not None and contract.contractor_id == contractor_id) or (
        assignment.contractor_id is not None
        and assignment.contractor_id == contractor_id
        and assignment.campaign.checklist.code != EVALUATION_CHECKLIST
    )


def withdraws(user: User, delegation: Delegation) -> bool:
    """Whether `user` may take a part back: someone who answers the questionnaire, on the side
    that handed it over — of the delegator's company when a contractor's account delegated, of
    the answering unit when the unit's respondent did. On a contract's questionnaire, which both
    the division and the company answer, neither takes back what the other handed over."""
    if not answers_for(user, delegation.assignment):
        return False
    if delegation.delegator.role == Role.CONTRACTOR:
        return (
            user.role == Role.CONTRACTOR
            and user.contractor_id == delegation.delegator.contractor_id
        )
    return user.role != Role.CONTRACTOR


def delegated_items(user: User, assignment: Assignment, *, answering: bool = False):
    """The item ids of `delegated_part` (None: the whole questionnaire, as the role allows)."""
    part = delegated_part(user, assignment, answering=answering)
    if part is None:
        return None
    if not part:
        return frozenset()
    return frozenset(
        db.session.scalars(sa.select(Item.id).where(Item.category_id.in_(sorted(part))))
    )


def sees_whole(user: User) -> bool:
    """Whether the user's access is more than parts handed to them: everyone's but a staff
    account's, which sees only the part of a questionnaire handed to it (no answer sheet, print
    view or result, which hold every item) and for which the lists of a unit's or a company's
    work (the contracts) do not exist."""
    return user.role != Role.STAFF


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
        return _company_answers_it(user.contractor_id, assignment)
    return False


# --- four eyes: who reviews a questionnaire ---------------------------------------------------

# A return or a reopen starts a new round of answering: what happened before it is not what is
# handed in now.
_ROUND_STARTS = ("return", "reopen")


def _round_start(column) -> sa.ScalarSelect:
    """`column` (id or time) of the questionnaire's last return or reopen (NULL: none yet)."""
    started = aliased(AssignmentEvent)
    return (
        sa.select(sa.func.max(getattr(started, column)))
        .where(started.assignment_id == Assignment.id, started.action.in_(_ROUND_STARTS))
        .correlate(Assignment)  # nested in the EXISTS below, it still belongs to the assignment
        .scalar_subquery()
    )


def involved(user_id: int) -> sa.ColumnElement[bool]:
    """Whether the user had a hand in what is handed in now: wrote one of the stored answers,
    changed one in this round (the answer history since the last return or reopen), or handed
    it in in this round. Nobody approves what they wrote or handed in themselves."""
    round_at, round_id = _round_start("at"), _round_start("id")
    submitted = aliased(AssignmentEvent)
    return sa.or_(
        sa.exists().where(Answer.assignment_id == Assignment.id, Answer.answered_by_id == user_id),
        sa.exists().where(
            AnswerHistory.assignment_id == Assignment.id,
            AnswerHistory.changed_by_id == user_id,
            sa.or_(round_at.is_(None), AnswerHistory.changed_at >= round_at),
        ),
        sa.exists().where(
            submitted.assignment_id == Assignment.id,
            submitted.action == "submit",
            submitted.user_id == user_id,
            submitted.id > sa.func.coalesce(round_id, 0),
        ),
    )


def handed_in_by_contractor() -> sa.ColumnElement[bool]:
    """Whether the questionnaire's latest hand-in was made by a contractor's account."""
    submitted = aliased(AssignmentEvent)
    role = (
        sa.select(User.role)
        .join(submitted, submitted.user_id == User.id)
        .where(submitted.assignment_id == Assignment.id, submitted.action == "submit")
        .order_by(submitted.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return role == Role.CONTRACTOR


def reviewable(user: User) -> sa.ColumnElement[bool]:
    """The questionnaires `user` approves or returns, as a condition over Assignment (the
    campaign's state and the status aside): the manager of the responsible unit's subtree, the
    security office, and for a contract, the owning division — accountable for its contractor's
    answers — when the contractor handed them in (what the division hands in itself goes to its
    manager). Never anyone who had a hand in the answers (`involved`), whatever their role."""
    if user.role == Role.ADMIN:
        by_role = sa.true()
    elif user.role == Role.MANAGER and user.unit_id is not None:
        by_role = Assignment.responsible_unit_id.in_(subtree_ids(user.unit_id, "reviewed"))
    elif user.role == Role.RESPONDENT and user.unit_id is not None:
        by_role = sa.and_(
            Assignment.contract_id.is_not(None),
            Assignment.responsible_unit_id == user.unit_id,
            handed_in_by_contractor(),
        )
    else:
        return sa.false()
    return sa.and_(by_role, sa.not_(involved(user.id)))


def reviewers(assignment: Assignment) -> sa.Select:
    """The users who review this questionnaire: `reviewable` seen from the questionnaire, as
    one query over the users (the campaign's state and the status aside). A manager reviews
    the subtree of their unit, so the managers are those of the units above it."""
    by_role = sa.or_(
        User.role == Role.ADMIN,
        sa.and_(
            User.role == Role.MANAGER,
            User.unit_id.in_(ancestor_ids(assignment.responsible_unit_id, "reviewed_from")),
        ),
        sa.and_(
            User.role == Role.RESPONDENT,
            Assignment.contract_id.is_not(None),
            User.unit_id == Assignment.responsible_unit_id,
            handed_in_by_contractor(),
        ),
    )
    return (
        sa.select(User)
        .join(Assignment, Assignment.id == assignment.id)
        .where(by_role, sa.not_(involved(User.id)))
    )


def reviews(user: User, assignment: Assignment) -> bool:
    """Whether `user` is a reviewer of this questionnaire (`reviewable`, in one query), whatever
    its status."""
    return (
        db.session.scalar(
            sa.select(Assignment.id).where(Assignment.id == assignment.id, reviewable(user))
        )
        is not None
    )


class ReviewNote(NamedTuple):
    """What the questionnaire page says to a user without the review buttons."""

    by_division: bool  # the contractor handed it in: its division may confirm it
    involved: bool  # the user had a hand in it, so may not review it
    own_division: bool  # the user's division handed in its own contract questionnaire


def review_note(user: User, assignment: Assignment) -> ReviewNote:
    """Who reviews this handed-in questionnaire, and why this user does not (one query)."""
    by_division, was_involved = db.session.execute(
        sa.select(handed_in_by_contractor(), involved(user.id)).where(
            Assignment.id == assignment.id
        )
    ).one()
    by_division = bool(assignment.contract_id is not None and by_division)
    own_division = (
        assignment.contract_id is not None
        and not by_division
        and user.role == Role.RESPONDENT
        and user.unit_id == assignment.responsible_unit_id
    )
    return ReviewNote(by_division, bool(was_involved), own_division)


def accepts_work(assignment: Assignment, today: date | None = None) -> bool:
    """Whether an assignment takes answers and reviews: while its campaign is open, or, after
    the campaign, until the end of the window given to this assignment alone (`open_until`:
    reopened, or its deadline extended past the close)."""
    if assignment.campaign.status == CampaignStatus.OPEN:
        return True
    if assignment.campaign.status != CampaignStatus.CLOSED or assignment.open_until is None:
        return False
    return (today or clock.today()) <= assignment.open_until


def can(user: User, action: str, assignment: Assignment) -> bool:
    """The one answer to "may this user do this to this assignment?".

    Actions: view, answer (edit: for a staff account, only its delegated part until it marks
    it done), submit (hand in: who answers it by role, never a delegate), delegate (hand a part
    to a colleague, and withdraw it: the same people), whole (the answer sheet and the print
    view, which hold every item: whoever views it but a staff account), review (approve or
    return: `reviewable`, never by whoever had a hand in the answers), invite (a contractor),
    result (its own score and grade: for whoever may view it whole, once handed in).
    """
    open_campaign = action != "view" and accepts_work(assignment)
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
        if not (open_campaign and assignment.status in EDITABLE):
            return False
        if user.role == Role.STAFF:
            return bool(delegated_part(user, assignment, answering=True))
        return answers_for(user, assignment)
    if action in ("submit", "delegate"):
        return open_campaign and assignment.status in EDITABLE and answers_for(user, assignment)
    if action == "whole":
        return sees_whole(user) and can(user, "view", assignment)
    if action == "review":
        return (
            open_campaign
            and assignment.status == AssignmentStatus.SUBMITTED
            and reviews(user, assignment)
        )
    if action == "result":
        # Whoever may see the assignment whole, once it is handed in (submitted or approved).
        return sees_whole(user) and assignment.status in (
            AssignmentStatus.SUBMITTED,
            AssignmentStatus.APPROVED,
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


# What every page of an assignment reads with it: its campaign and checklist, and what its name
# is drawn from (Assignment.target_name).
_WITH_ASSIGNMENT = (
    joinedload(Assignment.campaign).joinedload(Campaign.checklist),
    *(
        joinedload(target)
        for target in (
            Assignment.unit,
            Assignment.system,
            Assignment.contract,
            Assignment.contractor,
        )
    ),
)


def assignment_or_404(assignment_id: int, user: User, action: str = "view") -> Assignment:
    """The assignment if the user may see it; 404 otherwise, so that guessing ids reveals
    nothing. A visible assignment the user may not act on is a 403."""
    # The scope's own query (as can(user, "view", …) asks it) loads the assignment with what
    # every page of it reads: one query instead of four (docs/performance.md).
    assignment = db.session.scalar(
        scope_assignments(user, sa.select(Assignment))
        .where(Assignment.id == assignment_id)
        .options(*_WITH_ASSIGNMENT)
    )
    if assignment is None:
        found = db.session.get(Assignment, assignment_id)
        trail.record_denied("assignment", assignment_id, user, found=found)
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


# --- checklists -----------------------------------------------------------------------------


def can_read_checklists(user) -> bool:
    """The checklist pages: the security office and the auditors. For everyone else they do
    not exist (404); an auditor is refused (403) what would change anything."""
    return bool(user and user.is_authenticated and user.role in SEE_ALL)


def can_manage_checklists(user) -> bool:
    """Upload, publish and copy checklist versions: the security office only."""
    return bool(user and user.is_authenticated and user.role == Role.ADMIN)


# --- running campaigns ----------------------------------------------------------------------


def can_manage_campaigns(user: User) -> bool:
    """Creating, opening, extending, closing, copying campaigns and reopening assignments: the
    security office only."""
    return user.is_authenticated and user.role == Role.ADMIN


def can_view_progress(user: User, campaign=None) -> bool:
    """Who follows a campaign's progress: the same people, on the same scope, as its results
    (admin and auditor everything; a manager the campaigns reaching their subtree)."""
    return can_view_results(user, campaign)


# --- contractors: evaluations, recommendations, contracts and subcontracting ----------------


def can_manage_contractors(user: User) -> bool:
    """The 委託先管理 pages (the list of companies due for evaluation): the security office,
    auditors, and managers for the companies of their subtree's contracts."""
    return user.role in SEE_ALL or (user.role == Role.MANAGER and user.unit_id is not None)


def scope_contracts(user: User, stmt: sa.Select) -> sa.Select:
    """Restrict a query over Contract: a manager's subtree, a respondent's unit, a contractor's
    own company."""
    if user.role in SEE_ALL:
        return stmt
    if user.role == Role.MANAGER and user.unit_id is not None:
        return stmt.where(Contract.unit_id.in_(subtree_ids(user.unit_id)))
    if user.role == Role.RESPONDENT and user.unit_id is not None:
        return stmt.where(Contract.unit_id == user.unit_id)
    if user.role == Role.CONTRACTOR and user.contractor_id is not None:
        return stmt.where(Contract.contractor_id == user.contractor_id)
    return stmt.where(sa.false())


def scope_contractors(user: User) -> sa.Select:
    """The ids of the companies whose evaluations the user may see: every company for the
    security office and auditors, those with a contract in a manager's subtree, and a
    contractor's own company. Respondents: none (evaluations are the office's business)."""
    if user.role in SEE_ALL:
        return sa.select(Contractor.id)
    if user.role == Role.MANAGER and user.unit_id is not None:
        return scope_contracts(user, sa.select(Contract.contractor_id))
    if user.role == Role.CONTRACTOR and user.contractor_id is not None:
        return sa.select(Contractor.id).where(Contractor.id == user.contractor_id)
    return sa.select(Contractor.id).where(sa.false())


def _visible(user: User, ids: sa.Select, object_id: int) -> bool:
    return db.session.scalar(sa.select(sa.literal(object_id).in_(ids)))


T = TypeVar("T")


def _shown_or_404(
    kind: str, record_id: int, user: User, found: T | None, visible: Callable[[T], bool]
) -> T:
    """`found` if the user may see it (`visible(found)`); otherwise the attempt is recorded and
    the answer is a 404 whether the record exists or not, so that guessing ids reveals nothing."""
    if found is None or not visible(found):
        trail.record_denied(kind, record_id, user, found=found)
        abort(404)
    return found


def contractor_or_404(contractor_id: int, user: User) -> Contractor:
    return _shown_or_404(
        "contractor",
        contractor_id,
        user,
        db.session.get(Contractor, contractor_id),
        lambda company: _visible(user, scope_contractors(user), company.id),
    )


def _contract_visible(user: User, contract_id: int) -> bool:
    return _visible(user, scope_contracts(user, sa.select(Contract.id)), contract_id)


def contract_or_404(contract_id: int, user: User) -> Contract:
    return _shown_or_404(
        "contract",
        contract_id,
        user,
        db.session.get(Contract, contract_id),
        lambda contract: _contract_visible(user, contract.id),
    )


def recommendation_or_404(recommendation_id: int, user: User) -> Recommendation:
    return _shown_or_404(
        "recommendation",
        recommendation_id,
        user,
        db.session.get(Recommendation, recommendation_id),
        lambda found: _visible(user, scope_contractors(user), found.evaluation.contractor_id),
    )


def subcontract_request_or_404(request_id: int, user: User) -> SubcontractRequest:
    return _shown_or_404(
        "subcontract_request",
        request_id,
        user,
        db.session.get(SubcontractRequest, request_id),
        lambda filed: _contract_visible(user, filed.contract_id),
    )


def sees_delegation(user: User, delegation: Delegation) -> bool:
    """Whether a delegation of a questionnaire the user sees is theirs to see: a staff account
    sees only those handed to it, everyone else all of them."""
    return sees_whole(user) or delegation.delegate_id == user.id


def delegation_or_404(assignment: Assignment, delegation_id: int, user: User) -> Delegation:
    """One delegation of a questionnaire the user sees (assignment_or_404 first); a staff
    account sees only those handed to it (sees_delegation)."""

    def visible(found: Delegation) -> bool:
        return found.assignment_id == assignment.id and sees_delegation(user, found)

    return _shown_or_404(
        "delegation", delegation_id, user, db.session.get(Delegation, delegation_id), visible
    )


def can_evaluate(user: User) -> bool:
    """Starting an evaluation and giving notice of a contract's end: the security office."""
    return user.role == Role.ADMIN


def can_request_subcontract(user: User, contract: Contract) -> bool:
    """Only the company carrying out the contract asks to subcontract its work."""
    return (
        user.role == Role.CONTRACTOR
        and contract.active
        and user.contractor_id == contract.contractor_id
    )


def can_decide_subcontract(user: User, contract: Contract) -> bool:
    """The owning unit decides (its respondents, the managers above it), or the office."""
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.MANAGER:
        return _in_subtree(user, contract.unit_id)
    return user.role == Role.RESPONDENT and user.unit_id == contract.unit_id


# --- registers --------------------------------------------------------------------------------


def can_read_registers(user: User) -> bool:
    """The registers (units, users, systems, contractors, contracts): admin and auditor read
    them; nobody else knows the pages exist."""
    return bool(user and user.is_authenticated and user.role in SEE_ALL)


def can_manage_registers(user: User) -> bool:
    """Only the security office uploads and applies registers."""
    return bool(user and user.is_authenticated and user.role == Role.ADMIN)


# --- mail -----------------------------------------------------------------------------------


def can_manage_mail(user) -> bool:
    """The outbox (every mail the system sent, invitation links included): the security office
    only. Auditors neither: the mails' links are credentials, not records."""
    return bool(user and user.is_authenticated and user.role == Role.ADMIN)


# --- access-log review (ログ点検) ---------------------------------------------------------------


def can_review_logs(user) -> bool:
    """The office's log pages (sources, imports, rounds): the security office only. The logs
    say who looked up which resident's record, so for everyone else the pages do not exist."""
    return bool(user and user.is_authenticated and user.role == Role.ADMIN)


# The review of a round, routed: a sheet is the head's (the managers of its head unit) and
# the next level up's (the managers above, and the office); an entry whose explanation was asked
# is also its employee's, or for contractor staff their company's. Auditors, as for the office's
# log pages, see none of it: the entries say who looked up which resident.


def scope_sheets(user: User, stmt: sa.Select) -> sa.Select:
    """Restrict a query over ReviewSheet: the office every sheet; a manager those answered in
    their unit or below it (their own as head, those below to approve); nobody else any."""
    from survey.models import ReviewSheet

    if user.role == Role.ADMIN:
        return stmt
    if user.role == Role.MANAGER and user.unit_id is not None:
        return stmt.where(ReviewSheet.head_unit_id.in_(subtree_ids(user.unit_id, "sheets")))
    return stmt.where(sa.false())


def heads(user: User, sheet) -> bool:
    """The head who answers the sheet: a manager of its head unit. Only they see the record
    numbers whole."""
    return (
        user.role == Role.MANAGER
        and sheet.head_unit_id is not None
        and user.unit_id == sheet.head_unit_id
    )


def answered_sheet(user_id: int, sheet) -> bool:
    """Whether the user answered an entry of the sheet or handed it in."""
    from survey.models import EntryReview

    if sheet.submitted_by_id == user_id:
        return True
    return bool(
        db.session.scalar(
            sa.select(
                sa.exists().where(
                    EntryReview.sheet_id == sheet.id, EntryReview.answered_by_id == user_id
                )
            )
        )
    )


def approves(user: User, sheet) -> bool:
    """The next level up: the managers of the units above the head unit, and the office;
    never who answered it."""
    if user.role == Role.ADMIN:
        by_role = True
    elif user.role == Role.MANAGER and sheet.head_unit_id is not None:
        by_role = user.unit_id != sheet.head_unit_id and _in_subtree(user, sheet.head_unit_id)
    else:
        by_role = False
    return by_role and not answered_sheet(user.id, sheet)


def sheet_or_404(sheet_id: int, user: User):
    from survey.models import ReviewSheet

    return _shown_or_404(
        "review_sheet",
        sheet_id,
        user,
        db.session.get(ReviewSheet, sheet_id),
        lambda found: _visible(user, scope_sheets(user, sa.select(ReviewSheet.id)), found.id),
    )


def scope_explanations(user: User, stmt: sa.Select) -> sa.Select:
    """Restrict a query over EntryReview joined to SampledEntry to the entries whose
    explanation was asked of this user: their own look-ups, or for a company's accounts its
    staff's."""
    from survey.models import EntryReview, SampledEntry

    asked = EntryReview.explain_asked_at.is_not(None)
    if user.role == Role.CONTRACTOR and user.contractor_id is not None:
        return stmt.where(asked, SampledEntry.contractor_id == user.contractor_id)
    return stmt.where(asked, SampledEntry.user_id == user.id)


def explanation_or_404(sampled_id: int, user: User):
    from survey.models import EntryReview

    asked = scope_explanations(user, sa.select(EntryReview.sampled_id).join(EntryReview.sampled))
    return _shown_or_404(
        "sampled_entry",
        sampled_id,
        user,
        db.session.get(EntryReview, sampled_id),
        lambda review: _visible(user, asked, review.sampled_id),
    )


def takes_part_in_log_reviews(user) -> bool:
    """Whether the review pages exist for the user: the office, a manager with a sheet in their
    subtree, anyone asked to explain an entry."""
    from survey.models import EntryReview, ReviewSheet

    if not (user and user.is_authenticated):
        return False
    if user.role == Role.ADMIN:
        return True
    sheets = scope_sheets(user, sa.select(ReviewSheet.id))
    asked = scope_explanations(user, sa.select(EntryReview.sampled_id).join(EntryReview.sampled))
    return bool(db.session.scalar(sa.select(sa.or_(sa.exists(sheets), sa.exists(asked)))))


# --- invitations the register does not cover --------------------------------------------------


def can_decide_invitations(user) -> bool:
    """Who may create a contractor account for an address the register does not hold: the
    security office alone (survey.services.invitation_requests)."""
    return bool(user and user.is_authenticated and user.role == Role.ADMIN)


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

    action = _shown_or_404(
        "corrective_action",
        action_id,
        user,
        db.session.get(CorrectiveAction, action_id),
        lambda found: can_action(user, "view", found),
    )
    if verb != "view" and not can_action(user, verb, action):
        abort(403)
    return action


def may_record_audits(user: User) -> bool:
    return user.role == Role.ADMIN


def audit_or_404(audit_id: int, user: User, verb: str = "view"):
    """The audit if the user may see it (404 and a record otherwise); 403 for a visible audit
    the user may not record findings or measures on."""
    from survey.models import Audit

    found = _shown_or_404(
        "audit",
        audit_id,
        user,
        db.session.get(Audit, audit_id),
        lambda _found: (
            user.role in SEE_ALL
            or db.session.scalar(
                scope_audits(user, sa.select(Audit.id)).where(Audit.id == audit_id)
            )
            is not None
        ),
    )
    if verb != "view" and not may_record_audits(user):
        abort(403)
    return found


def can_view_audit(user) -> bool:
    """The audit trail's pages (監査ログ): the security office and the auditors."""
    return bool(user and user.is_authenticated and user.role in SEE_ALL)


def can_view_followup_dashboard(user: User) -> bool:
    return bool(user and user.is_authenticated and user.role in SEE_ALL)


def job_or_404(job_id: int, user: User) -> ExportJob:
    """An export job and its file are its owner's alone: the file holds what the owner's scope
    showed on the day, and nobody else, the office included, asked for it. Another user's job
    is a 404, like a guessed id."""
    return _shown_or_404(
        "export_job",
        job_id,
        user,
        db.session.get(ExportJob, job_id),
        lambda job: job.owner_id == user.id,
    )


# --- pledges (誓約書) --------------------------------------------------------------------------


def can_manage_pledges(user) -> bool:
    """Writing and publishing pledges: the security office only."""
    return bool(user and user.is_authenticated and user.role == Role.ADMIN)


def follows_pledges(user) -> bool:
    """Who follows the pledges' completion: the office and the auditors (everyone), managers
    (their subtree, the staff pledges only). For everyone else those pages do not exist; each
    person has their own acknowledgements (survey.pledges.mine)."""
    return bool(user and user.is_authenticated and user.role in (*SEE_ALL, Role.MANAGER))


def has_pledges(user) -> bool:
    """Whether the menu leads to the person's own pledges: anyone who has given one, which is
    everyone a published pledge concerns (it is asked at sign-in). The ward's own accounts are
    all asked the staff pledge: the menu needs no query for them on every page; a company's
    accounts have pledges only where a contract requires them."""
    from survey.models.pledges import PledgeAcknowledgement

    if not (user and user.is_authenticated):
        return False
    if user.contractor_id is None:
        return True
    given = sa.select(PledgeAcknowledgement.id).where(PledgeAcknowledgement.user_id == user.id)
    return bool(db.session.scalar(sa.select(sa.exists(given))))


def scope_pledges(user: User, stmt: sa.Select) -> sa.Select:
    """Restrict a query over Pledge: managers follow the staff pledges, not the companies'."""
    from survey.models.pledges import Audience, Pledge

    if user.role in SEE_ALL:
        return stmt
    if user.role == Role.MANAGER and user.unit_id is not None:
        return stmt.where(Pledge.audience == Audience.STAFF)
    return stmt.where(sa.false())


def pledge_people(user: User) -> sa.Select:
    """The accounts whose acknowledgements `user` may count: everyone for the office and the
    auditors, a manager's unit and the units below it."""
    stmt = sa.select(User)
    if user.role in SEE_ALL:
        return stmt
    if user.role == Role.MANAGER and user.unit_id is not None:
        return stmt.where(User.unit_id.in_(subtree_ids(user.unit_id, "pledged")))
    return stmt.where(sa.false())


def pledge_or_404(code: str, user: User):
    from survey.models.pledges import Pledge

    found = db.session.scalar(scope_pledges(user, sa.select(Pledge).where(Pledge.code == code)))
    if found is None:
        trail.record_denied("pledge", code, user)
        abort(404)
    return found


def acknowledgement_or_404(acknowledgement_id: int, user: User):
    """A printable acknowledgement is its signer's alone, the office's neither: it counts who
    signed on the completion pages."""
    from survey.models.pledges import PledgeAcknowledgement

    return _shown_or_404(
        "pledge_acknowledgement",
        acknowledgement_id,
        user,
        db.session.get(PledgeAcknowledgement, acknowledgement_id),
        lambda found: found.user_id == user.id,
    )


# --- training (研修・理解度テスト) ---------------------------------------------------------------


def follows_training(user) -> bool:
    """The courses' completion pages: the office and auditors (every unit), managers (their
    subtree). Everyone else only takes their own courses."""
    return bool(
        user and user.is_authenticated and user.role in (Role.ADMIN, Role.AUDITOR, Role.MANAGER)
    )


def manages_training(user) -> bool:
    """Preparing, opening and closing courses: the security office."""
    return bool(user and user.is_authenticated and user.role == Role.ADMIN)


def scope_enrolments(user: User, stmt: sa.Select) -> sa.Select:
    """Restrict a query over Enrolment: every person for the office and auditors; for a
    manager, the people of their subtree (and themselves); for anyone else, themselves. A
    contractor's account sees its own, never its colleagues'."""
    from survey.models import Enrolment

    if user.role in SEE_ALL:
        return stmt
    if user.role == Role.MANAGER and user.unit_id is not None:
        return stmt.where(
            sa.or_(
                Enrolment.unit_id.in_(subtree_ids(user.unit_id, "trained")),
                Enrolment.user_id == user.id,
            )
        )
    return stmt.where(Enrolment.user_id == user.id)


def takes_training(user) -> bool:
    """Whether the training pages exist for the user: the office, managers, and anyone
    enrolled on a course under way or done."""
    from survey.models import Course, CourseStatus, Enrolment

    if not (user and user.is_authenticated):
        return False
    if follows_training(user):
        return True
    enrolled = (
        sa.select(Enrolment.id)
        .join(Course)
        .where(Enrolment.user_id == user.id, Course.status != CourseStatus.DRAFT)
    )
    return bool(db.session.scalar(sa.select(sa.exists(enrolled))))


def course_or_404(course_id: int, user: User):
    """A course whose completion the user follows (the office any; a manager one with someone
    of their subtree enrolled); 404 and a record otherwise."""
    from survey.models import Course, Enrolment

    def visible(course) -> bool:
        if user.role in SEE_ALL:
            return True
        enrolled = scope_enrolments(user, sa.select(Enrolment.id)).where(
            Enrolment.course_id == course.id, Enrolment.user_id != user.id
        )
        return user.role == Role.MANAGER and bool(db.session.scalar(sa.select(sa.exists(enrolled))))

    return _shown_or_404("course", course_id, user, db.session.get(Course, course_id), visible)


def enrolment_or_404(enrolment_id: int, user: User):
    """One's own place on a course: the person alone reads its material and takes its test
    (nobody sits a test for someone else, the office neither)."""
    from survey.models import Enrolment

    return _shown_or_404(
        "enrolment",
        enrolment_id,
        user,
        db.session.get(Enrolment, enrolment_id),
        lambda found: found.user_id == user.id,
    )


def attempt_or_404(attempt_id: int, user: User):
    """A test attempt: its person's alone (others see scores on the completion pages)."""
    from survey.models import Attempt

    return _shown_or_404(
        "test_attempt",
        attempt_id,
        user,
        db.session.get(Attempt, attempt_id),
        lambda found: found.enrolment.user_id == user.id,
    )
