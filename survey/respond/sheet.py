"""The Excel answer sheet: download it, fill it in offline, upload it as a draft."""

from __future__ import annotations

import re

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import HiddenField, SubmitField

from survey import access
from survey.access import assignment_or_404
from survey.downloads import content_disposition
from survey.extensions import db
from survey.respond import bp
from survey.services import answer_sheet, answering, trail

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SheetUploadForm(FlaskForm):
    sheet = FileField(
        _l("記入した回答シート（.xlsx）"),
        validators=[
            FileRequired(_l("ファイルを選んでください。")),
            FileAllowed(["xlsx"], _l("Excel のブック（.xlsx）を選んでください。")),
        ],
        render_kw={"accept": f".xlsx,{XLSX}"},
    )
    submit = SubmitField(_l("取り込む"))
    # Set only on the page listing what a stale sheet would overwrite: uploading again with it
    # is the respondent's confirmation (survey/services/answer_sheet.py).
    confirm = HiddenField()


@bp.route("/<int:assignment_id>/sheet.xlsx")
@access.guard()
def sheet_download(assignment_id: int):
    # It holds every item: a delegate, who sees only their part, has none.
    assignment = assignment_or_404(assignment_id, current_user, "whole")
    code = re.sub(r"[^A-Za-z0-9._-]", "_", assignment.campaign.code)
    audience = answering.audience_of(current_user)
    response = Response(answer_sheet.build_sheet(assignment, audience), mimetype=XLSX)
    response.headers["Content-Disposition"] = content_disposition(
        answer_sheet.sheet_filename(assignment), f"answer-sheet_{code}_{assignment.id}.xlsx"
    )
    response.headers["Cache-Control"] = "no-store"  # it holds the answers
    trail.record_assignment("download.sheet", assignment, commit=True)
    return response


@bp.route("/<int:assignment_id>/sheet", methods=["GET", "POST"])
@access.guard()
def sheet_upload(assignment_id: int):
    assignment = assignment_or_404(assignment_id, current_user, "answer")
    if not access.sees_whole(current_user):
        abort(403)  # a sheet holds every item; a delegate answers their part on the page
    form = SheetUploadForm()
    problems: list[str] = []
    differences: list[answer_sheet.Difference] = []
    status = 200
    if form.validate_on_submit():
        try:
            imported = answer_sheet.import_sheet(
                assignment, form.sheet.data.stream, current_user, form.confirm.data or ""
            )
        except answer_sheet.SheetError as error:
            db.session.rollback()
            problems, status = error.problems, 422
        except answer_sheet.Stale as stale:
            differences, status = stale.differences, 409
            form.confirm.data = stale.token
        except answering.Conflict:  # save() has rolled back
            problems = [
                _(
                    "取り込んでいる間に、ほかの人がこの点検の回答を保存しました。何も取り込んでいません。"
                    "もう一度アップロードしてください。"
                )
            ]
            status = 409
        else:
            if imported.changed:  # an import that changes nothing records nothing
                action = "answer.sheet_overwrite" if imported.overwritten else "answer.sheet_import"
                trail.record_answers(assignment, action, imported.changed)
            db.session.commit()
            dropped = answering.dropped_message(imported.changed)
            if dropped:
                flash(dropped, "info")
            if imported.changed:
                flash(
                    _(
                        "回答シートを取り込み、%(n)d 項目の回答を下書きとして保存しました。"
                        "内容を確認して提出してください。",
                        n=len(imported.changed),
                    ),
                    "success",
                )
            else:
                flash(_("回答シートを取り込みました。変更された回答はありませんでした。"), "info")
            if imported.overwritten:
                flash(
                    _(
                        "回答シートのダウンロード後に画面で変更された %(n)d 項目の回答を、"
                        "回答シートの内容で上書きしました。以前の回答は変更履歴で確認できます。",
                        n=imported.overwritten,
                    ),
                    "info",
                )
            return redirect(url_for("respond.assignment", assignment_id=assignment.id))
    elif form.is_submitted():
        status = 422
    return (
        render_template(
            "respond/sheet_upload.html",
            assignment=assignment,
            form=form,
            problems=problems,
            differences=differences,
            limit=answer_sheet.MAX_SHEET_BYTES // (1024 * 1024),
        ),
        status,
    )
