"""Subcontracting (再委託) with prior approval: a contractor asks, the owning unit decides.

Approving adds the subcontractor to the contract's register (Subcontract) and marks the
contract's subcontracting approved. A contract is flagged when it has a subcontractor that no
approved request covers (unless the contract itself allows subcontracting) or a request waits.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from survey.extensions import db
from survey.models import Contract, Subcontract, User
from survey.models.evaluations import RequestStatus, SubcontractRequest
from survey.models.registers import Subcontracting
from survey.models.types import utcnow
from survey.services import notify, trail, transitions

STAFF_MAX = 100000


class Invalid(Exception):
    def __init__(self, problems: dict[str, str]):
        super().__init__(problems)
        self.problems = problems


class AlreadyDecided(Exception):
    """Another decision on the request came first (a double click, two deciders at once)."""


def check(company_name: str, work: str, data_handled: str, staff_count) -> dict[str, str]:
    """Problems of a request, by field; empty when it may be filed."""
    problems = {}
    if not company_name.strip():
        problems["company_name"] = _("再委託先の名称を入力してください。")
    if not work.strip():
        problems["work"] = _("再委託する業務の内容を入力してください。")
    if not data_handled.strip():
        problems["data_handled"] = _("再委託先が取り扱う個人情報を入力してください。")
    if not isinstance(staff_count, int) or not 1 <= staff_count <= STAFF_MAX:
        problems["staff_count"] = _("取扱者数は 1 以上の整数で入力してください。")
    return problems


def request(
    contract: Contract,
    user: User,
    *,
    company_name: str,
    work: str,
    data_handled: str,
    staff_count: int,
) -> SubcontractRequest:
    problems = check(company_name, work, data_handled, staff_count)
    if problems:
        raise Invalid(problems)
    filed = SubcontractRequest(
        contract=contract,
        company_name=company_name.strip(),
        work=work.strip(),
        data_handled=data_handled.strip(),
        staff_count=staff_count,
        requested_by=user,
        status=RequestStatus.PENDING,
    )
    db.session.add(filed)
    if contract.subcontracting == Subcontracting.NONE:
        contract.subcontracting = Subcontracting.REQUESTED
    db.session.flush()
    trail.record("subcontract.request", filed, summary=f"{contract.title} → {filed.company_name}")
    for account in deciders(contract):
        _mail(
            account,
            f"【情報セキュリティ自己点検】再委託の承認申請（{contract.title}）",
            f"{contract.contractor.name}から、次の再委託について事前承認の申請がありました。\n\n"
            + _summary(filed),
        )
    return filed


def approve(filed: SubcontractRequest, user: User, conditions: str = "") -> Subcontract:
    _decide(filed, user, RequestStatus.APPROVED, conditions)
    contract = filed.contract
    subcontract = Subcontract(
        contract=contract,
        company_name=filed.company_name,
        work=filed.work,
        staff_count=filed.staff_count,
    )
    db.session.add(subcontract)
    filed.subcontract = subcontract
    if contract.subcontracting != Subcontracting.ALLOWED:
        contract.subcontracting = Subcontracting.APPROVED
    db.session.flush()
    trail.record("subcontract.approve", filed, summary=filed.company_name, after=conditions)
    _tell_requester(filed, _("承認"))
    return subcontract


def reject(filed: SubcontractRequest, user: User, conditions: str) -> None:
    if not conditions.strip():
        raise Invalid({"conditions": _("不承認の理由を入力してください。")})
    _decide(filed, user, RequestStatus.REJECTED, conditions)
    contract = filed.contract
    if contract.subcontracting == Subcontracting.REQUESTED and not _pending(contract):
        contract.subcontracting = Subcontracting.NONE
    trail.record("subcontract.reject", filed, summary=filed.company_name, after=conditions)
    _tell_requester(filed, _("不承認"))


def _decide(filed: SubcontractRequest, user: User, status: str, conditions: str) -> None:
    """Claim the decision with one `UPDATE … WHERE status = 'pending'`: of two concurrent
    decisions (two deciders, a double click) only the first matches, so one Subcontract row."""
    if not transitions.move(
        filed,
        (RequestStatus.PENDING,),
        status,
        conditions=conditions.strip(),
        decided_by_id=user.id,
        decided_at=utcnow(),
    ):
        raise AlreadyDecided(_("この申請はすでに判断されています。"))
    db.session.refresh(filed)


def _pending(contract: Contract) -> bool:
    return bool(
        db.session.scalar(
            sa.select(
                sa.exists().where(
                    SubcontractRequest.contract_id == contract.id,
                    SubcontractRequest.status == RequestStatus.PENDING,
                )
            )
        )
    )


def deciders(contract: Contract) -> list[User]:
    """The owning unit's respondents and the managers above it, who decide on requests."""
    return notify.unit_recipients(contract.unit) + notify.managers_above(contract.unit)


def _summary(filed: SubcontractRequest) -> str:
    return (
        f"契約：{filed.contract.code} {filed.contract.title}\n"
        f"再委託先：{filed.company_name}\n業務：{filed.work}\n"
        f"取り扱う個人情報：{filed.data_handled}\n取扱者数：{filed.staff_count}人\n"
        f"{current_app.config['SURVEY_BASE_URL']}/contractors/contracts/{filed.contract_id}\n"
    )


def _mail(account: User, subject: str, body: str) -> None:
    notify.queue_mail(account.email, subject, f"{account.display_name} 様\n\n{body}")


def _tell_requester(filed: SubcontractRequest, outcome: str) -> None:
    account = filed.requested_by
    if account is None or not account.email:
        return
    conditions = f"\n条件・理由：{filed.conditions}\n" if filed.conditions else "\n"
    _mail(
        account,
        f"【情報セキュリティ自己点検】再委託の申請結果：{outcome}（{filed.contract.title}）",
        f"再委託の申請は「{outcome}」となりました。{conditions}\n" + _summary(filed),
    )


# --- flags on contracts ---------------------------------------------------------------------


def unapproved_clause() -> sa.ColumnElement[bool]:
    """A contract with a subcontractor that no approved request covers, where the contract
    does not itself allow subcontracting."""
    approved = sa.exists().where(
        SubcontractRequest.subcontract_id == Subcontract.id,
        SubcontractRequest.status == RequestStatus.APPROVED,
    )
    return sa.and_(
        Contract.subcontracting != Subcontracting.ALLOWED,
        sa.exists().where(Subcontract.contract_id == Contract.id, ~approved),
    )


def pending_clause() -> sa.ColumnElement[bool]:
    return sa.exists().where(
        SubcontractRequest.contract_id == Contract.id,
        SubcontractRequest.status == RequestStatus.PENDING,
    )


def is_approved(subcontract: Subcontract) -> bool:
    if subcontract.contract.subcontracting == Subcontracting.ALLOWED:
        return True
    return bool(
        db.session.scalar(
            sa.select(
                sa.exists().where(
                    SubcontractRequest.subcontract_id == subcontract.id,
                    SubcontractRequest.status == RequestStatus.APPROVED,
                )
            )
        )
    )


def requests_of(contract: Contract) -> list[SubcontractRequest]:
    return list(
        db.session.scalars(
            sa.select(SubcontractRequest)
            .where(SubcontractRequest.contract_id == contract.id)
            .order_by(SubcontractRequest.requested_at.desc(), SubcontractRequest.id.desc())
        )
    )
