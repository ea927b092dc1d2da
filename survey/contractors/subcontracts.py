"""Contracts and subcontracting (再委託): the list that flags unapproved subcontracting, a
contract's chain, a contractor's request and the owning unit's decision."""

from __future__ import annotations

import math

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from survey import access
from survey.contractors import bp
from survey.contractors.forms import DecisionForm, SubcontractRequestForm
from survey.contractors.routes import PAGE_SIZE, sort_args
from survey.extensions import db
from survey.malformed import db_int
from survey.models import Contract, Contractor, OrgUnit
from survey.models.evaluations import RequestStatus
from survey.services import subcontracting

SUBCONTRACTING = {
    "none": _l("再委託なし"),
    "requested": _l("承認申請中"),
    "approved": _l("事前承認済"),
    "allowed": _l("契約で認めている"),
}
REQUEST_STATUSES = {"pending": _l("承認待ち"), "approved": _l("承認"), "rejected": _l("不承認")}
FLAGS = {
    "flagged": _l("要確認（未承認・承認待ち）"),
    "unapproved": _l("未承認の再委託あり"),
    "pending": _l("承認待ちの申請あり"),
}
CONTRACT_SORTS = {
    "code": Contract.code,
    "title": Contract.title,
    "contractor": Contractor.name,
    "unit": OrgUnit.name,
    "staff": Contract.staff_count,
}


@bp.app_template_global()
def subcontracting_label(code: str) -> str:
    return str(SUBCONTRACTING.get(code, code))


@bp.app_template_global()
def request_status_label(code: str) -> str:
    return str(REQUEST_STATUSES.get(code, code))


def _decided_already(contract):
    """A decision posted after the request was decided (a double click, another decider)."""
    flash(_("この申請はすでに判断されています。"), "info")
    return redirect(url_for("contractors.contract", contract_id=contract.id))


@bp.route("/contracts")
@access.guard(sees=access.sees_whole, record="contract")
def contracts():
    unapproved = subcontracting.unapproved_clause().label("unapproved")
    pending = subcontracting.pending_clause().label("pending")
    stmt = access.scope_contracts(
        current_user,
        sa.select(Contract, unapproved, pending)
        .join(Contractor, Contractor.id == Contract.contractor_id)
        .join(OrgUnit, OrgUnit.id == Contract.unit_id),
    )
    flag = request.args.get("flag", "")
    if flag == "flagged":
        stmt = stmt.where(
            sa.or_(subcontracting.unapproved_clause(), subcontracting.pending_clause())
        )
    elif flag == "unapproved":
        stmt = stmt.where(subcontracting.unapproved_clause())
    elif flag == "pending":
        stmt = stmt.where(subcontracting.pending_clause())
    query = request.args.get("q", "").strip()
    if query:
        like = f"%{query}%"
        stmt = stmt.where(
            sa.or_(Contract.title.like(like), Contract.code.like(like), Contractor.name.like(like))
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(1, request.args.get("page", 1, type=db_int)), pages)
    sort, descending = sort_args(CONTRACT_SORTS, "code")
    column = CONTRACT_SORTS[sort]
    rows = db.session.execute(
        stmt.order_by(column.desc() if descending else column, Contract.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "contractors/contracts.html",
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        sort=sort,
        descending=descending,
        args={"flag": flag, "q": query},
        flags=FLAGS,
    )


@bp.route("/contracts/<int:contract_id>")
@access.guard()
def contract(contract_id: int):
    contract = access.contract_or_404(contract_id, current_user)
    return render_template(
        "contractors/contract.html",
        contract=contract,
        chain=[(s, subcontracting.is_approved(s)) for s in contract.subcontracts],
        requests=subcontracting.requests_of(contract),
        may_request=access.can_request_subcontract(current_user, contract),
        may_decide=access.can_decide_subcontract(current_user, contract),
        sees_company=access.can_manage_contractors(current_user)
        or current_user.contractor_id == contract.contractor_id,
    )


@bp.route("/contracts/<int:contract_id>/subcontract-requests/new", methods=["GET", "POST"])
@access.guard()
def request_subcontract(contract_id: int):
    contract = access.contract_or_404(contract_id, current_user)
    if not access.can_request_subcontract(current_user, contract):
        abort(403)
    form = SubcontractRequestForm()
    if form.validate_on_submit():
        try:
            subcontracting.request(
                contract,
                current_user,
                company_name=form.company_name.data,
                work=form.work.data,
                data_handled=form.data_handled.data,
                staff_count=form.staff_count.data,
            )
        except subcontracting.Invalid as error:
            db.session.rollback()
            for name, message in error.problems.items():
                getattr(form, name).errors = [message]
        else:
            db.session.commit()
            flash(_("再委託の承認を申請しました。委託元の所属が判断します。"), "success")
            return redirect(url_for("contractors.contract", contract_id=contract.id))
    status = 422 if request.method == "POST" else 200
    return render_template("contractors/request.html", contract=contract, form=form), status


@bp.route("/subcontract-requests/<int:request_id>", methods=["GET", "POST"])
@access.guard()
def decide(request_id: int):
    """The request in full with the decision form: the page is its own confirmation step."""
    filed = access.subcontract_request_or_404(request_id, current_user)
    contract = filed.contract
    may_decide = (
        access.can_decide_subcontract(current_user, contract)
        and filed.status == RequestStatus.PENDING
    )
    form = DecisionForm()
    if request.method == "POST":
        if not may_decide:
            if access.can_decide_subcontract(current_user, contract):
                return _decided_already(contract)
            abort(403)
        if form.validate_on_submit():
            try:
                if form.decision.data == "approve":
                    subcontracting.approve(filed, current_user, form.conditions.data or "")
                else:
                    subcontracting.reject(filed, current_user, form.conditions.data or "")
            except subcontracting.AlreadyDecided:
                db.session.rollback()
                return _decided_already(contract)
            except subcontracting.Invalid as error:
                db.session.rollback()
                form.conditions.errors = list(error.problems.values())
            else:
                db.session.commit()
                flash(
                    _("再委託を承認しました。")
                    if filed.status == RequestStatus.APPROVED
                    else _("再委託を不承認としました。"),
                    "success",
                )
                return redirect(url_for("contractors.contract", contract_id=contract.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "contractors/decide.html", filed=filed, contract=contract, form=form, may_decide=may_decide
    ), status
