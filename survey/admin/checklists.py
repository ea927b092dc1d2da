"""Checklist versions in the browser: list, upload, preview, publish, compare, copy, download.

The security office (admin) changes; auditors read; for everyone else the pages do not exist.
"""

from __future__ import annotations

import math
import re

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from survey import access, labels
from survey.admin import bp
from survey.admin.checklist_forms import (
    CompareForm,
    CopyForm,
    DiscardForm,
    PublishForm,
    UploadForm,
)
from survey.downloads import content_disposition
from survey.extensions import db
from survey.malformed import db_int
from survey.models import Checklist
from survey.respond.forms import questionnaire_view
from survey.services import checklist_versions as versions
from survey.services import checklists as checklist_files
from survey.services import trail

PAGE_SIZE = 20

SORT_LABELS = {
    "code": _l("コード順"),
    "title": _l("名称順"),
    "updated": _l("更新の新しい順"),
}


bp.add_app_template_global(access.can_read_checklists, "can_read_checklists")


# Admin and auditor read; for everyone else the pages do not exist. Only admin changes anything.
readers = access.guard(access.can_read_checklists, record="checklist")
admins = access.guard(access.can_read_checklists, access.can_manage_checklists, record="checklist")


def _render(template: str, status: int = 200, **context):
    return (
        render_template(
            template,
            rules=labels.REQUIREMENT_RULES,
            option_classes=labels.OPTION_CLASSES,
            fields=labels.CHECKLIST_FIELDS,
            may_manage=access.can_manage_checklists(current_user),
            **context,
        ),
        status,
    )


def _version_or_404(code: str, version: int) -> Checklist:
    checklist = checklist_files.find(code, version)
    if checklist is None:
        abort(404)
    return checklist


def _to_version(checklist: Checklist):
    return redirect(
        url_for("admin.checklist_version", code=checklist.code, version=checklist.version)
    )


# --- the list -------------------------------------------------------------------------------


@bp.route("/checklists/")
@readers
def checklists():
    text = request.args.get("q", "").strip()
    target = request.args.get("target", "")
    target = target if target in labels.TARGET_KINDS else ""
    sort = request.args.get("sort", "code")
    sort = sort if sort in versions.SORTS else "code"
    found = versions.overview(text, target, sort)
    pages = max(math.ceil(len(found) / PAGE_SIZE), 1)
    page = min(max(request.args.get("page", 1, type=db_int), 1), pages)
    args = {k: v for k, v in {"q": text, "target": target, "sort": sort}.items() if v}
    return _render(
        "admin/checklists/index.html",
        codes=found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        total=len(found),
        stored=bool(found) or db.session.scalar(db.select(Checklist.id).limit(1)) is not None,
        page=page,
        pages=pages,
        args=args,
        text=text,
        target=target,
        sort=sort,
        sorts=SORT_LABELS,
        targets=labels.TARGET_KINDS,
    )


# --- upload ---------------------------------------------------------------------------------


def _located(problem, lang: str) -> tuple[str, str]:
    """(where, what) of a problem, as `flask checklist validate` prints it in one line."""
    place = f"{problem.file}:{problem.where}" if problem.where else problem.file
    return place, problem.render(lang)[len(place) + 2 :]


def _uploaded(outcome) -> None:
    checklist = outcome.checklist
    version = checklist.version
    if outcome.action == "created":
        flash(
            _(
                "第%(version)s版を下書きとして登録しました。内容を確認して公開してください。",
                version=version,
            ),
            "success",
        )
    elif outcome.action == "replaced":
        flash(
            _("第%(version)s版の下書きを、アップロードした内容で置き換えました。", version=version),
            "success",
        )
    elif checklist.is_published:
        flash(
            _(
                "第%(version)s版は公開済みで、アップロードした内容と同じです。変更はありません。",
                version=version,
            ),
            "info",
        )
    else:
        flash(
            _(
                "第%(version)s版の下書きは、アップロードした内容と同じです。変更はありません。",
                version=version,
            ),
            "info",
        )


@bp.route("/checklists/upload", methods=["GET", "POST"])
@admins
def checklist_upload():
    form = UploadForm()
    problems: list[tuple[str, str]] = []
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        outcomes, found = checklist_files.import_upload(upload.stream, upload.filename or "")
        if not found:
            _uploaded(outcomes[0])
            return _to_version(outcomes[0].checklist)
        db.session.rollback()
        problems = [_located(problem, str(get_locale())) for problem in found]
        status = 422
    elif form.is_submitted():
        status = 422
    return _render(
        "admin/checklists/upload.html",
        status,
        form=form,
        problems=problems,
        filename=form.file.data.filename if problems else "",
        max_kb=current_app.config["CHECKLIST_MAX_BYTES"] // 1024,
    )


# --- one version ----------------------------------------------------------------------------


@bp.route("/checklists/<code>/<int:version>")
@readers
def checklist_version(code: str, version: int):
    checklist = _version_or_404(code, version)
    siblings = versions.versions(code)
    others = [c.version for c in siblings if c.version != version]
    # With the version before this one, or else the one after it.
    earlier = [number for number in others if number < version]
    compare = None
    if others:
        compare = (
            {"old": earlier[-1], "new": version} if earlier else {"old": version, "new": others[0]}
        )
    draft = versions.draft_of(code)
    lang = str(get_locale())
    description = checklist.description_for(lang)
    contractor_description = checklist.description_for(lang, "contractor")
    return _render(
        "admin/checklists/version.html",
        checklist=checklist,
        # Every option, each marked with who alone may choose it, and the staff's wording.
        sheet=questionnaire_view(checklist, ""),
        description=description,
        contractor_description=""
        if contractor_description == description
        else contractor_description,
        siblings=siblings,
        compare=compare,
        draft=draft,
        campaigns=versions.campaigns_using(checklist),
        copy_form=CopyForm(),
    )


@bp.route("/checklists/<code>/<int:version>/publish", methods=["GET", "POST"])
@admins
def checklist_publish(code: str, version: int):
    checklist = _version_or_404(code, version)
    if checklist.is_published:
        flash(_("この版は公開済みです。公開済みの版は変更できません。"), "info")
        return _to_version(checklist)
    form = PublishForm()
    if form.validate_on_submit():
        if versions.publish(checklist):
            db.session.commit()
            flash(
                _(
                    "%(label)s を公開しました。この版の内容は今後変更できません。",
                    label=checklist.label,
                ),
                "success",
            )
        else:
            flash(_("この版は公開済みです。公開済みの版は変更できません。"), "info")
        return _to_version(checklist)
    published = [v for v in versions.versions(code) if v.is_published]
    previous = published[-1] if published else None
    return _render(
        "admin/checklists/publish.html",
        checklist=checklist,
        form=form,
        previous=previous,
        diff=versions.differences(previous, checklist) if previous else None,
    )


@bp.route("/checklists/<code>/<int:version>/delete", methods=["GET", "POST"])
@admins
def checklist_discard(code: str, version: int):
    checklist = checklist_files.find(code, version)
    if checklist is None:
        if request.method == "POST":  # deleted by the first of two clicks
            flash(_("この下書きは削除済みです。"), "info")
            return redirect(url_for("admin.checklists"))
        abort(404)
    if checklist.is_published:
        flash(_("公開済みの版は削除できません。"), "error")
        return _to_version(checklist)
    form = DiscardForm()
    if form.validate_on_submit():
        label = checklist.label
        if not versions.discard_draft(checklist):
            db.session.rollback()
            flash(_("この版は公開されたか点検に使われているため、削除できません。"), "error")
            return _to_version(checklist)
        db.session.commit()
        flash(_("%(label)s の下書きを削除しました。", label=label), "success")
        remaining = versions.versions(code)
        return _to_version(remaining[-1]) if remaining else redirect(url_for("admin.checklists"))
    return _render("admin/checklists/discard.html", checklist=checklist, form=form)


@bp.route("/checklists/<code>/<int:version>/copy", methods=["POST"])
@admins
def checklist_copy(code: str, version: int):
    source = _version_or_404(code, version)
    if not CopyForm().validate_on_submit():
        abort(400)
    try:
        draft = versions.new_draft(source)
    except versions.DraftExists as exists:
        flash(
            _(
                "%(code)s には下書きの第%(version)s版があります。"
                "新しい版は、その下書きを編集して作成してください。",
                code=code,
                version=exists.draft.version,
            ),
            "error",
        )
        return _to_version(exists.draft)
    db.session.commit()
    flash(
        _(
            "第%(source)s版をもとに、第%(version)s版の下書きを作成しました。"
            "ダウンロードして編集し、アップロードしてください。",
            source=source.version,
            version=draft.version,
        ),
        "success",
    )
    return _to_version(draft)


@bp.route("/checklists/<code>/<int:version>/download.<fmt>")
@readers
def checklist_download(code: str, version: int, fmt: str):
    checklist = _version_or_404(code, version)
    if fmt not in versions.FORMATS:
        abort(404)
    response = Response(versions.export(checklist, fmt), mimetype=versions.FORMATS[fmt])
    name = versions.filename(checklist, fmt)
    response.headers["Content-Disposition"] = content_disposition(
        name, re.sub(r"[^A-Za-z0-9._-]", "_", name)
    )
    trail.record(
        "download.checklist",
        checklist,
        summary=f"{checklist.label} ({fmt})",
        after={"format": fmt},
        commit=True,
    )
    return response


# --- two versions ---------------------------------------------------------------------------


@bp.route("/checklists/<code>/compare")
@readers
def checklist_compare(code: str):
    siblings = versions.versions(code)
    if not siblings:
        abort(404)
    by_number = {checklist.version: checklist for checklist in siblings}
    form = CompareForm(request.args)
    form.old.choices = form.new.choices = [
        (c.version, _("第%(version)s版", version=c.version)) for c in siblings
    ]
    old_default = siblings[-2].version if len(siblings) > 1 else siblings[-1].version
    old = request.args.get("old", old_default, type=db_int)
    new = request.args.get("new", siblings[-1].version, type=db_int)
    if old not in by_number or new not in by_number:
        abort(404)
    form.old.data, form.new.data = old, new
    return _render(
        "admin/checklists/compare.html",
        code=code,
        form=form,
        old=by_number[old],
        new=by_number[new],
        diff=versions.differences(by_number[old], by_number[new]),
    )
