"""The companies due for evaluation, a company's history, starting an evaluation, and the
notice that a contract ends when a recommendation was not followed."""

from __future__ import annotations

import math

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from reports import pages, rounds, tables
from survey import access, clock
from survey.contractors import bp
from survey.contractors.forms import ConfirmForm
from survey.downloads import content_disposition
from survey.extensions import db
from survey.malformed import db_int
from survey.models import Contract
from survey.services import evaluations, subcontracting, trail, uploads

PAGE_SIZE = 50

DUE_STATUSES = {"overdue": _l("期限超過"), "due": _l("未実施"), "done": _l("実施済")}
RECOMMENDATION_STATES = {
    "open": _l("是正待ち"),
    "reported": _l("措置報告済（確認待ち）"),
    "resolved": _l("是正確認済"),
    "overdue": _l("期限超過（委託終了の検討）"),
    "end_noticed": _l("委託終了を通知済"),
}
DUE_SORTS = {
    "code": lambda r: r.contractor.code,
    "name": lambda r: r.contractor.name,
    "last_year": lambda r: r.last_year or 0,
    "contracts": lambda r: r.contracts,
    "status": lambda r: ("overdue", "due", "done").index(r.status),
}


@bp.app_template_global()
def due_status_label(code: str) -> str:
    return str(DUE_STATUSES.get(code, code))


@bp.app_template_global()
def recommendation_state_label(code: str) -> str:
    return str(RECOMMENDATION_STATES.get(code, code))


@bp.app_template_global()
def may_view_assignment(assignment) -> bool:
    """Whether to link to an assignment's answers: a link the user may not follow would 404 (a
    manager outside the evaluator's subtree, a company looking at its own evaluation)."""
    return (
        assignment is not None
        and current_user.is_authenticated
        and access.can(current_user, "view", assignment)
    )


@bp.app_template_global("fiscal_year_label")
def fiscal_year_label(year: int) -> str:
    """令和8年度 on a Japanese page, FY2026 on an English one (the fiscal year from April)."""
    if str(get_locale()) == "en":
        return f"FY{year}"
    return evaluations.fiscal_year_label(year)


bp.add_app_template_global(access.can_manage_contractors, "can_manage_contractors")


def paginate(rows: list, page: int) -> tuple[list, int, int]:
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    page = min(max(1, page), pages)
    return rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], page, pages


def sort_args(allowed, default: str) -> tuple[str, bool]:
    sort = request.args.get("sort", default)
    return (sort if sort in allowed else default), request.args.get("dir") == "desc"


@bp.route("/")
@access.guard(does=access.can_manage_contractors)
def index():
    today = clock.today()
    rows = evaluations.due_rows(access.scope_contracts(current_user, sa.select(Contract.id)), today)
    in_scope = set(db.session.scalars(access.scope_contractors(current_user)))
    status = request.args.get("status", "pending")
    if status == "pending":
        rows = [r for r in rows if r.status != "done"]
    elif status in DUE_STATUSES:
        rows = [r for r in rows if r.status == status]
    query = request.args.get("q", "").strip()
    if query:
        rows = [r for r in rows if query in r.contractor.name or query in r.contractor.code]
    sort, descending = sort_args(DUE_SORTS, "status")
    rows.sort(key=lambda r: (DUE_SORTS[sort](r), r.contractor.code), reverse=descending)
    shown, page, pages = paginate(rows, request.args.get("page", 1, type=db_int))
    return render_template(
        "contractors/index.html",
        rows=shown,
        total=len(rows),
        page=page,
        pages=pages,
        sort=sort,
        descending=descending,
        args={"status": status, "q": query},
        fiscal_year=evaluations.fiscal_year(today),
        recommendations_overdue=[
            r
            for r in evaluations.recommendations_overdue(today)
            if r.evaluation.contractor_id in in_scope
        ],
        form=ConfirmForm(),
    )


@bp.route("/<int:contractor_id>")
@access.guard()
def contractor(contractor_id: int):
    company = access.contractor_or_404(contractor_id, current_user)
    today = clock.today()
    contracts = db.session.scalars(
        access.scope_contracts(
            current_user, sa.select(Contract).where(Contract.contractor_id == company.id)
        ).order_by(Contract.code)
    ).all()
    recommendations = [
        (r, evaluations.recommendation_state(r, today))
        for r in evaluations.recommendations_of(company)
    ]
    return render_template(
        "contractors/contractor.html",
        company=company,
        evaluations=evaluations.history(company),
        recommendations=recommendations,
        contracts=contracts,
        inspections=pages.company_page(_company_rounds(contracts)),
        unapproved=_flagged(contracts),
        open_evaluation=evaluations.open_evaluation(company, today),
        fiscal_year=evaluations.fiscal_year(today),
        may_evaluate=access.can_evaluate(current_user),
        form=ConfirmForm(),
    )


def _company_rounds(contracts: list[Contract]) -> rounds.CompanyRounds:
    """The self-inspections of the contracts the user sees (a manager, his subtree's)."""
    return rounds.company_rounds(db.session.connection(), [c.id for c in contracts])


@bp.route("/<int:contractor_id>/rounds.<fmt>")
@access.guard()
def rounds_export(contractor_id: int, fmt: str):
    """The company's self-inspections across its contracts and rounds, as CSV or JSON: the
    contracts the user sees, as on the company's page."""
    company = access.contractor_or_404(contractor_id, current_user)
    if fmt not in ("csv", "json"):
        abort(404)
    contracts = db.session.scalars(
        access.scope_contracts(
            current_user, sa.select(Contract).where(Contract.contractor_id == company.id)
        )
    ).all()
    table = tables.company_table(_company_rounds(contracts))
    encoding = "cp932" if request.args.get("encoding") == "cp932" else "utf-8"
    if fmt == "csv":
        body = b"".join(tables.encode_csv(tables.csv_lines(table), encoding))
        mimetype = f"text/csv; charset={'Shift_JIS' if encoding == 'cp932' else 'utf-8'}"
    else:
        head = tables.company_head(company.code, company.name, table, clock.zone())
        body = "".join(tables.json_document(head, table, clock.zone())).encode("utf-8")
        mimetype = "application/json"
    response = Response(body, content_type=mimetype)
    fallback = f"{company.code}_rounds.{fmt}"
    response.headers["Content-Disposition"] = content_disposition(
        uploads.clean_filename(f"{company.name}_自己点検の推移.{fmt}", fallback), fallback
    )
    response.headers["Cache-Control"] = "no-store"
    trail.record_contractor_export(company.code, f"rounds.{fmt}", encoding=encoding)
    return response


def _flagged(contracts: list[Contract]) -> set[int]:
    if not contracts:
        return set()
    ids = [c.id for c in contracts]
    return set(
        db.session.scalars(
            sa.select(Contract.id).where(
                Contract.id.in_(ids),
                sa.or_(subcontracting.unapproved_clause(), subcontracting.pending_clause()),
            )
        )
    )


@bp.route("/<int:contractor_id>/evaluation", methods=["POST"])
@access.guard()
def start_evaluation(contractor_id: int):
    company = access.contractor_or_404(contractor_id, current_user)
    if not access.can_evaluate(current_user) or not ConfirmForm().validate_on_submit():
        abort(403)
    try:
        assignment = evaluations.start(company, current_user.unit, current_user, clock.today())
    except evaluations.CannotStart as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("contractors.contractor", contractor_id=company.id))
    db.session.commit()
    flash(
        _(
            "%(company)s の評価票を用意しました。"
            "%(unit)s の担当者が回答し、承認されると評価が確定します。",
            company=company.name,
            unit=assignment.responsible_unit.name,
        ),
        "success",
    )
    return redirect(url_for("respond.assignment", assignment_id=assignment.id))


@bp.route("/recommendations/<int:recommendation_id>/end-notice", methods=["POST"])
@access.guard()
def end_notice(recommendation_id: int):
    recommendation = access.recommendation_or_404(recommendation_id, current_user)
    if not access.can_evaluate(current_user) or not ConfirmForm().validate_on_submit():
        abort(403)
    company = recommendation.evaluation.contractor
    if not request.form.get("confirm"):
        flash(_("委託終了を通知したことを確認する欄にチェックを入れてください。"), "error")
        return redirect(url_for("contractors.contractor", contractor_id=company.id))
    try:
        noticed = evaluations.notice_contract_end(recommendation, clock.today())
    except ValueError:
        flash(_("期限を過ぎて是正されていない是正勧告だけが委託終了の対象です。"), "error")
    else:
        db.session.commit()
        if noticed:
            flash(
                _("%(company)s への委託終了の通知を記録しました。", company=company.name), "success"
            )
        else:
            flash(_("委託終了の通知はすでに記録されています。"), "info")
    return redirect(url_for("contractors.contractor", contractor_id=company.id))
