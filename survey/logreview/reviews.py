"""The review of a round by the people accountable: the office routes a round and follows its
figures (on the round's page, in Excel and CSV); a head answers their unit's sheet, may ask an
employee to explain an entry, and hands it in; the next level up approves it or sends it back;
the employee writes the explanation. Each view is scoped by survey/access.py; a sheet or an
entry out of scope does not exist (404, recorded)."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from reports.accesslogs import review as review_report
from survey import access, clock
from survey.extensions import db
from survey.formatting import format_date
from survey.logreview import bp
from survey.logreview.forms import (
    DecideForm,
    ExplainForm,
    IncidentForm,
    RouteForm,
    SheetForm,
    StepForm,
)
from survey.logreview.routes import render_round
from survey.models import EntryReview, Incident, Role
from survey.models.logs import INCIDENT_STEPS
from survey.models.types import utcnow
from survey.services import log_reviews, logs, trail

bp.add_app_template_global(access.takes_part_in_log_reviews, "takes_part_in_log_reviews")

office = access.guard(access.can_review_logs, record="log_source")
taking_part = access.guard(access.takes_part_in_log_reviews, record="review_sheet")


def _lang() -> str:
    return str(get_locale() or "ja")


def _round(code: str):
    round_ = logs.round_by_code(code)
    if round_ is None:
        abort(404)
    return round_


# --- the office -------------------------------------------------------------------------------


@bp.route("/rounds/<code>/route", methods=["POST"])
@office
def route_round(code: str):
    round_ = _round(code)
    form = RouteForm()
    if form.validate_on_submit():
        try:
            sheets = log_reviews.route(round_, form.due_on.data)
        except log_reviews.Refused as refused:
            db.session.rollback()
            form.due_on.errors.append(str(refused))
            flash(str(refused), "error")  # shown even once the form is gone (routed already)
        else:
            db.session.commit()
            flash(_("%(n)s 所属の所属長に確認を依頼しました。", n=sheets), "success")
            return redirect(url_for("logreview.round_detail", code=code))
    return render_round(round_, route_form=form), 422


def _heading(round_) -> review_report.Heading:
    return review_report.Heading(
        title=round_.title,
        round_code=round_.code,
        period=f"{format_date(round_.period_from)}〜{format_date(round_.period_to)}",
        due=format_date(round_.due_on) if round_.due_on else "－",
        generated_at=clock.local(utcnow()),
        generated_by=current_user.display_name,
    )


@bp.route("/rounds/<code>/figures.xlsx")
@office
def figures_xlsx(code: str):
    round_ = _round(code)
    figures = log_reviews.review_figures(round_)
    out = io.BytesIO()
    review_report.write_xlsx(
        figures,
        logs.rules_of(round_.rule_set),
        _heading(round_),
        out,
        trend=log_reviews.trend(round_),
    )
    trail.record("log.export", round_, summary=f"{round_.code} xlsx", commit=True)
    out.seek(0)
    return send_file(
        out,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"ログ点検_{round_.code}_集計.xlsx",
    )


@bp.route("/rounds/<code>/figures.csv")
@office
def figures_csv(code: str):
    round_ = _round(code)
    figures = log_reviews.review_figures(round_)
    data = review_report.csv_bytes(figures, logs.rules_of(round_.rule_set), _lang())
    trail.record("log.export", round_, summary=f"{round_.code} csv", commit=True)
    return send_file(
        io.BytesIO(data),
        mimetype="text/csv; charset=utf-8",
        as_attachment=True,
        download_name=f"ログ点検_{round_.code}_集計.csv",
    )


@bp.route("/rounds/<code>/trend.csv")
@office
def trend_csv(code: str):
    round_ = _round(code)
    data = review_report.trend_csv_bytes(
        log_reviews.trend(round_), logs.rules_of(round_.rule_set), _lang()
    )
    trail.record("log.export", round_, summary=f"{round_.code} trend csv", commit=True)
    return send_file(
        io.BytesIO(data),
        mimetype="text/csv; charset=utf-8",
        as_attachment=True,
        download_name=f"ログ点検_{round_.code}_推移.csv",
    )


# --- heads, approvers and employees -----------------------------------------------------------


@bp.route("/reviews/")
@taking_part
def desk():
    # A head's own units' figures round by round (access.scope_sheets: never another unit's).
    mine = (
        log_reviews.unit_rounds(log_reviews.head_units(current_user))
        if current_user.role == Role.MANAGER
        else []
    )
    return render_template("logreview/desk.html", desk=log_reviews.desk(current_user), mine=mine)


def _posted(rows) -> dict[int, log_reviews.Posted]:
    values = request.form
    return {
        row.entry.id: log_reviews.Posted(
            values.get(f"verdict-{row.entry.id}", ""),
            values.get(f"request-{row.entry.id}", ""),
            values.get(f"comment-{row.entry.id}", ""),
        )
        for row in rows
        if f"verdict-{row.entry.id}" in values
    }


def _render_sheet(sheet, rows, *, posted=None, problems=None, status=200, incident_form=None):
    log_reviews.record_view(sheet, rows, current_user)
    db.session.commit()  # the view is recorded whatever the page shows next
    # The office records a confirmed flag as an incident (access.can_review_logs: the office).
    confirmed = [
        row
        for row in rows
        if access.can_review_logs(current_user) and log_reviews.may_open_incident(sheet, row.review)
    ]
    return render_template(
        "logreview/sheet.html",
        sheet=sheet,
        rows=rows,
        posted=posted or {},
        problems=problems or {},
        heads=access.heads(current_user, sheet),
        approves=sheet.status == "submitted" and access.approves(current_user, sheet),
        editable=sheet.status in log_reviews.EDITABLE,
        ruleset=logs.rules_of(sheet.round.rule_set),
        form=SheetForm(),
        step=StepForm(),
        decide_form=DecideForm(),
        confirmed=confirmed,
        incidents={row.entry.id: log_reviews.incident_of(row.entry.id) for row in confirmed},
        incident_form=incident_form or IncidentForm(),
        today=clock.today(),
        lang=_lang(),
    ), status


@bp.route("/reviews/<int:sheet_id>")
@taking_part
def sheet(sheet_id: int):
    found = access.sheet_or_404(sheet_id, current_user)
    return _render_sheet(found, log_reviews.rows(found, current_user))


@bp.route("/reviews/<int:sheet_id>", methods=["POST"])
@taking_part
def sheet_save(sheet_id: int):
    found = access.sheet_or_404(sheet_id, current_user)
    if not access.heads(current_user, found):
        abort(403)
    rows = log_reviews.rows(found, current_user)
    posted = _posted(rows)
    if not SheetForm().validate_on_submit():
        return _render_sheet(found, rows, posted=posted, status=422)
    try:
        changed = log_reviews.save_answers(found, posted, current_user)
    except log_reviews.Invalid as invalid:
        db.session.rollback()
        flash(_("入力に誤りがあります。各記録の欄を確認してください。"), "error")
        return _render_sheet(found, rows, posted=posted, problems=invalid.problems, status=422)
    except log_reviews.Refused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return _render_sheet(found, rows, posted=posted, status=409)
    db.session.commit()
    flash(
        _("%(n)s 件の回答を保存しました。", n=changed) if changed else _("変更はありません。"),
        "success" if changed else "info",
    )
    return redirect(url_for("logreview.sheet", sheet_id=sheet_id))


def _step(found, take) -> bool | None:
    """Take a step on the sheet; None (with the reason flashed) if it was refused."""
    if not StepForm().validate_on_submit():
        abort(400)
    try:
        done = take(found)
    except log_reviews.Refused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return None
    db.session.commit()
    return done


@bp.route("/reviews/<int:sheet_id>/entries/<int:sampled_id>/ask", methods=["POST"])
@taking_part
def ask(sheet_id: int, sampled_id: int):
    found = access.sheet_or_404(sheet_id, current_user)
    if not access.heads(current_user, found):
        abort(403)
    review = db.session.get(EntryReview, sampled_id)
    if review is None or review.sheet_id != found.id:
        abort(404)
    done = _step(found, lambda s: log_reviews.ask_explanation(s, review, current_user))
    if done is not None:
        flash(_("説明を依頼しました。") if done else _("既に説明を依頼しています。"), "info")
    return redirect(url_for("logreview.sheet", sheet_id=sheet_id))


@bp.route("/reviews/<int:sheet_id>/submit", methods=["POST"])
@taking_part
def submit(sheet_id: int):
    found = access.sheet_or_404(sheet_id, current_user)
    if not access.heads(current_user, found):
        abort(403)
    done = _step(found, lambda s: log_reviews.submit(s, current_user))
    if done is not None:
        flash(_("点検票を提出しました。") if done else _("既に提出しています。"), "success")
    return redirect(url_for("logreview.sheet", sheet_id=sheet_id))


@bp.route("/reviews/<int:sheet_id>/decide", methods=["POST"])
@taking_part
def decide(sheet_id: int):
    found = access.sheet_or_404(sheet_id, current_user)
    if not access.approves(current_user, found) and found.decided_by_id != current_user.id:
        abort(403)
    form = DecideForm()
    approve = request.form.get("decision") == "approve"
    if not form.validate_on_submit():
        abort(400)
    try:
        done = log_reviews.decide(found, current_user, approve, form.comment.data or "")
    except log_reviews.Refused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        rows = log_reviews.rows(found, current_user)
        return _render_sheet(found, rows, status=409 if found.status != "submitted" else 422)
    db.session.commit()
    if approve:
        message = _("点検票を承認しました。") if done else _("既に承認しています。")
    else:
        message = _("点検票を差し戻しました。") if done else _("既に差し戻しています。")
    flash(message, "success")
    return redirect(url_for("logreview.sheet", sheet_id=sheet_id))


# --- incidents (the office) -------------------------------------------------------------------


@bp.route("/reviews/<int:sheet_id>/entries/<int:sampled_id>/incident", methods=["POST"])
@office
def incident_open(sheet_id: int, sampled_id: int):
    found = access.sheet_or_404(sheet_id, current_user)
    review = db.session.get(EntryReview, sampled_id)
    if review is None or review.sheet_id != found.id:
        abort(404)
    form = IncidentForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        incident = log_reviews.open_incident(found, review, form.description.data, current_user)
    except log_reviews.Refused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        rows = log_reviews.rows(found, current_user)
        return _render_sheet(found, rows, status=422, incident_form=form)
    db.session.commit()
    if incident is None:
        flash(_("この照会は既にインシデントとして記録されています。"), "info")
    else:
        flash(_("インシデントとして記録しました。"), "success")
    return redirect(url_for("logreview.incidents"))


@bp.route("/incidents")
@office
def incidents():
    return render_template(
        "logreview/incidents.html",
        incidents=log_reviews.incidents(),
        steps=INCIDENT_STEPS,
        step=StepForm(),
    )


@bp.route("/incidents/<int:incident_id>/status", methods=["POST"])
@office
def incident_status(incident_id: int):
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        abort(404)
    done = _step(
        incident,
        lambda i: log_reviews.advance_incident(i, request.form.get("status", ""), current_user),
    )
    if done is not None:
        flash(
            _("インシデントの状況を更新しました。") if done else _("既に更新されています。"),
            "success" if done else "info",
        )
    return redirect(url_for("logreview.incidents"))


@bp.route("/explain/<int:sampled_id>", methods=["GET", "POST"])
@taking_part
def explain(sampled_id: int):
    review = access.explanation_or_404(sampled_id, current_user)
    form = ExplainForm()
    status = 200
    if form.validate_on_submit():
        try:
            done = log_reviews.explain(review, form.explanation.data or "", current_user)
        except log_reviews.Refused as refused:
            db.session.rollback()
            form.explanation.errors.append(str(refused))
            status = 422
        else:
            db.session.commit()
            flash(_("説明を送りました。") if done else _("変更はありません。"), "success")
            return redirect(url_for("logreview.explain", sampled_id=sampled_id))
    elif form.is_submitted():
        status = 422
    elif not form.explanation.data:
        form.explanation.data = review.explanation
    log_reviews.record_explanation_view(review, current_user)
    db.session.commit()
    return render_template(
        "logreview/explain.html",
        review=review,
        entry=review.sampled,
        record=review_report.mask(review.sampled.record_id),
        form=form,
    ), status
