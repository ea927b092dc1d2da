"""Audits (実地監査・書面監査), their findings, measures and results, and the 措置状況 table.

The security office records them; auditors read everything; managers see the audits of their
subtree, respondents their own unit's, contractors their own company's (survey.access)."""

from __future__ import annotations

import tempfile

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, send_file
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from reports import followup as status_sheet
from survey import access, clock
from survey.downloads import content_disposition
from survey.extensions import db
from survey.followup import bp
from survey.followup.forms import AuditForm, FindingForm, MeasureForm, ResultForm
from survey.followup.routes import _with_blank, contractor_choices, unit_choices, url_for
from survey.formatting import parenthesized
from survey.models import Audit, AuditFinding, Contractor, FindingMeasure, OrgUnit
from survey.services import audits, trail

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _all_units():
    rows = db.session.execute(
        sa.select(OrgUnit.id, OrgUnit.name, OrgUnit.code)
        .where(OrgUnit.active.is_(True))
        .order_by(OrgUnit.code)
    )
    return [(r.id, r.name + parenthesized(r.code)) for r in rows]


@bp.route("/audits/")
def audit_list():
    stmt = access.scope_audits(
        current_user, sa.select(Audit).order_by(Audit.held_on.desc(), Audit.id.desc())
    )
    return render_template(
        "followup/audits.html",
        audits=list(db.session.scalars(stmt)),
        may_record=access.may_record_audits(current_user),
    )


@bp.route("/audits/new", methods=["GET", "POST"])
@access.guard(does=access.may_record_audits)
def audit_new():
    form = AuditForm()
    form.unit.choices = _with_blank(unit_choices(current_user), _("（なし）"))
    form.contractor.choices = _with_blank(contractor_choices(current_user), _("（なし）"))
    if request.method == "GET":
        form.held_on.data = clock.today()
        return render_template("followup/audit_new.html", form=form)
    if form.validate_on_submit():
        try:
            record = audits.create_audit(
                kind=form.kind.data,
                title=form.title.data,
                held_on=form.held_on.data,
                unit=db.session.get(OrgUnit, form.unit.data) if form.unit.data else None,
                contractor=db.session.get(Contractor, form.contractor.data)
                if form.contractor.data
                else None,
                auditors=form.auditors.data or "",
                scope=form.scope.data or "",
                user=current_user,
            )
        except audits.AuditInputError as problem:
            form.unit.errors = [str(problem)]
        else:
            db.session.commit()
            flash(_("監査を記録しました。指摘事項を追加してください。"), "success")
            return redirect(url_for("followup.audit_detail", audit_id=record.id))
    return render_template("followup/audit_new.html", form=form), 422


def _measure_form(**kwargs) -> MeasureForm:
    form = MeasureForm(**kwargs)
    form.unit.choices = _with_blank(_all_units(), _("（なし）"))
    return form


def _detail(record: Audit, *, finding_form=None, measure_forms=None, status=200):
    may_record = access.may_record_audits(current_user)
    measure_forms = measure_forms or {}
    if may_record:
        for finding in record.findings:
            if finding.id not in measure_forms:
                form = _measure_form(formdata=None, prefix=f"m{finding.id}")
                form.unit.data = record.unit_id
                measure_forms[finding.id] = form
    return (
        render_template(
            "followup/audit.html",
            audit=record,
            may_record=may_record,
            finding_form=finding_form or (FindingForm(formdata=None) if may_record else None),
            measure_forms=measure_forms,
            result_form=ResultForm(formdata=None) if may_record else None,
            may_open=access.may_open_actions(current_user, record.unit_id),
        ),
        status,
    )


@bp.route("/audits/<int:audit_id>")
def audit_detail(audit_id: int):
    return _detail(access.audit_or_404(audit_id, current_user))


@bp.route("/audits/<int:audit_id>/findings", methods=["POST"])
def finding_add(audit_id: int):
    record = access.audit_or_404(audit_id, current_user, "record")
    form = FindingForm()
    if not form.validate_on_submit():
        return _detail(record, finding_form=form, status=422)
    finding = audits.add_finding(
        record, kind=form.kind.data, heading=form.heading.data or "", text=form.text.data
    )
    db.session.commit()
    flash(_("指摘事項 %(n)s を追加しました。", n=finding.number), "success")
    return redirect(url_for("followup.audit_detail", audit_id=record.id) + f"#finding-{finding.id}")


def _finding_of(record: Audit, finding_id: int) -> AuditFinding:
    finding = db.session.get(AuditFinding, finding_id)
    if finding is None or finding.audit_id != record.id:
        abort(404)
    return finding


@bp.route("/audits/<int:audit_id>/findings/<int:finding_id>/measures", methods=["POST"])
def measure_add(audit_id: int, finding_id: int):
    record = access.audit_or_404(audit_id, current_user, "record")
    finding = _finding_of(record, finding_id)
    form = _measure_form(prefix=f"m{finding.id}")
    if not form.validate_on_submit():
        return _detail(record, measure_forms={finding.id: form}, status=422)
    audits.add_measure(
        finding,
        text=form.text.data,
        unit=db.session.get(OrgUnit, form.unit.data) if form.unit.data else None,
        taken_on=form.taken_on.data,
        user=current_user,
        result=form.result.data or "",
        result_note=form.result_note.data or "",
        result_on=form.result_on.data,
    )
    db.session.commit()
    flash(_("指摘事項 %(n)s への措置を記録しました。", n=finding.number), "success")
    return redirect(url_for("followup.audit_detail", audit_id=record.id) + f"#finding-{finding.id}")


@bp.route("/audits/<int:audit_id>/measures/<int:measure_id>/result", methods=["POST"])
def measure_result(audit_id: int, measure_id: int):
    record = access.audit_or_404(audit_id, current_user, "record")
    measure = db.session.get(FindingMeasure, measure_id)
    if measure is None or measure.finding.audit_id != record.id:
        abort(404)
    form = ResultForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return _detail(record, status=422)
    changed = audits.record_result(
        measure,
        result=form.result.data or "",
        note=form.result_note.data or "",
        result_on=form.result_on.data,
    )
    db.session.commit()
    if changed:
        flash(_("措置結果を記録しました。"), "success")
    anchor = f"#finding-{measure.finding_id}"
    return redirect(url_for("followup.audit_detail", audit_id=record.id) + anchor)


@bp.route("/audits/<int:audit_id>/status.xlsx")
def audit_export(audit_id: int):
    record = access.audit_or_404(audit_id, current_user)
    # The workbook is Japanese, whatever language the screens are in: it goes into reports.
    with force_locale("ja"):
        rows = audits.status_rows(record)
        header = audits.status_header(
            record, f"{current_user.display_name}（{current_user.username}）", clock.today()
        )
    handle = tempfile.TemporaryFile()
    status_sheet.write_status(handle, header, rows)
    handle.seek(0)
    trail.record(
        "export.audit_findings",
        record,
        summary=record.title,
        after={"rows": len(rows)},
        commit=True,
    )
    response = send_file(
        handle, mimetype=XLSX, as_attachment=True, download_name=f"audit-{record.id}.xlsx"
    )
    response.headers["Content-Disposition"] = content_disposition(
        f"{record.title}_措置状況.xlsx", f"audit-{record.id}_status.xlsx"
    )
    response.headers["Cache-Control"] = "no-store"
    return response
