"""Who may create a contractor account: the security office decides.

A division (its respondents, the managers above it) invites only an address the contractor
register holds for the contract's company: one of its contacts, or an address in one of its
mail domains. Any other address becomes an InvitationRequest that the office approves (the
invitation is then made and mailed as a direct one would be) or refuses with a reason; the
requester is told by mail and sees the decision on the assignment page. The office itself may
invite any address. Every function works in the caller's transaction: nothing here commits.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from survey import access
from survey.extensions import db
from survey.models import Assignment, Contractor, Invitation, InvitationRequest, Role, User
from survey.models.evaluations import RequestStatus
from survey.models.types import utcnow
from survey.services import audit, invitations, mail_texts, notify


class AlreadyDecided(invitations.InvitationError):
    """Someone decided on the request first (another admin, or the same double click)."""


def registered(contractor: Contractor, email: str) -> bool:
    """Whether the register holds the address for the company. Case is ignored, as it is
    wherever tenken compares addresses (earlier invitations, existing accounts)."""
    email = email.strip().lower()
    domain = email.rpartition("@")[2]
    return domain in contractor.domains.split() or email in contractor.contacts.lower().split()


def needs_approval(user: User, assignment: Assignment, email: str) -> bool:
    contract = assignment.contract
    return (
        user.role != Role.ADMIN
        and contract is not None
        and not registered(contract.contractor, email)
    )


def _summary(filed: InvitationRequest) -> str:
    return f"{audit.assignment_summary(filed.assignment)} → {filed.email}"


def request(assignment: Assignment, email: str, user: User) -> InvitationRequest:
    """File the request (the address is checked as an invitation's would be)."""
    problem = invitations.email_problem(email)
    if problem:
        raise invitations.InvitationError(problem, "email")
    email = email.strip()
    contractor_id = assignment.contract.contractor_id
    waiting = db.session.scalar(
        sa.select(InvitationRequest.id).where(
            sa.func.lower(InvitationRequest.email) == email.lower(),
            InvitationRequest.contractor_id == contractor_id,
            InvitationRequest.status == RequestStatus.PENDING,
        )
    )
    if waiting is not None:
        raise invitations.InvitationError(
            _("このメールアドレスの招待はすでに申請中です。情報政策課の判断をお待ちください。"),
            "email",
        )
    filed = InvitationRequest(
        email=email,
        contractor_id=contractor_id,
        assignment=assignment,
        requested_by=user,
        status=RequestStatus.PENDING,
    )
    db.session.add(filed)
    db.session.flush()
    audit.record(
        "invitation.request",
        filed,
        summary=_summary(filed),
        after={"assignment_id": assignment.id, "email": email},
    )
    return filed


def _decide(filed: InvitationRequest, user: User, status: str, reason: str) -> None:
    """Claim the decision with one `UPDATE … WHERE status = 'pending'`: of two decisions at
    once (two admins, a double click) only the first changes the row, so one invitation."""
    claimed = db.session.execute(
        sa.update(InvitationRequest)
        .where(
            InvitationRequest.id == filed.id,
            InvitationRequest.status == RequestStatus.PENDING,
        )
        .values(status=status, reason=reason, decided_by_id=user.id, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise AlreadyDecided(_("すでに処理されています。"))
    db.session.refresh(filed)


def approve(
    filed: InvitationRequest, user: User, *, now: datetime | None = None
) -> tuple[Invitation, str]:
    """Approve and invite: the mail is the one the requester's own invitation would have sent.
    Returns the invitation and its token (see invitations.invite)."""
    _decide(filed, user, RequestStatus.APPROVED, "")
    if not access.accepts_work(filed.assignment):
        raise invitations.InvitationError(
            _("この点検は回答を受け付けていないため、招待できません。")
        )
    invitation, token = invitations.invite(
        filed.assignment, filed.email, filed.requested_by, now=now
    )
    filed.invitation = invitation
    audit.record(
        "invitation.request_approved",
        filed,
        summary=_summary(filed),
        after={"invitation_id": invitation.id},
    )
    audit.record_invitation(invitation, filed.assignment)
    _tell_requester(filed)
    return invitation, token


def refuse(filed: InvitationRequest, user: User, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise invitations.InvitationError(_("招待しない理由を入力してください。"), "reason")
    _decide(filed, user, RequestStatus.REJECTED, reason)
    audit.record(
        "invitation.request_refused", filed, summary=_summary(filed), after={"reason": reason}
    )
    _tell_requester(filed)


def _tell_requester(filed: InvitationRequest) -> None:
    account = filed.requested_by
    if not account.active or not account.email:
        return  # the decision is on the assignment page all the same
    link = current_app.config["SURVEY_BASE_URL"].rstrip("/") + f"/assignments/{filed.assignment_id}"
    notify.queue_mail(account.email, *mail_texts.invitation_decision(filed, link))


# --- lists ----------------------------------------------------------------------------------


def pending_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(InvitationRequest)
        .where(InvitationRequest.status == RequestStatus.PENDING)
    )


def listed(status: str | None, limit: int) -> list[InvitationRequest]:
    """The requests of a status (all: None), the waiting ones first, the oldest of those
    first; decided ones newest first."""
    stmt = sa.select(InvitationRequest)
    if status:
        stmt = stmt.where(InvitationRequest.status == status)
    waiting = sa.case((InvitationRequest.status == RequestStatus.PENDING, 0), else_=1)
    order = sa.case(
        (InvitationRequest.status == RequestStatus.PENDING, InvitationRequest.id),
        else_=-InvitationRequest.id,
    )
    return list(db.session.scalars(stmt.order_by(waiting, order).limit(limit)))


def of_assignment(assignment: Assignment) -> list[InvitationRequest]:
    return list(
        db.session.scalars(
            sa.select(InvitationRequest)
            .where(InvitationRequest.assignment_id == assignment.id)
            .order_by(InvitationRequest.id.desc())
        )
    )


def request_or_none(request_id: int) -> InvitationRequest | None:
    return db.session.get(InvitationRequest, request_id)
