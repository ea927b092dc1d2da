"""The registers on screen: counts, lists, templates and exports for admin and auditor; upload →
preview → apply for admin only. Everyone else is told nothing (404, recorded as refused)."""

from __future__ import annotations

import math

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey import access, clock
from survey.access import can_manage_registers, can_read_registers
from survey.admin import bp
from survey.admin.register_forms import ApplyForm, UploadForm
from survey.downloads import content_disposition
from survey.extensions import db
from survey.malformed import db_int
from survey.services import register_uploads, registers, trail
from survey.services.register_files import MAX_BYTES, size_limit_text
from survey.urls import list_url

PAGE_SIZE = 50
MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}

bp.add_app_template_global(can_read_registers, "can_read_registers")


def _spec(kind: str) -> registers.Kind:
    spec = registers.kind_or_none(kind)
    if spec is None:
        abort(404)
    return spec


# Admin and auditor read the registers; for everyone else the pages do not exist.
readers = access.guard(can_read_registers, record="register", id_arg="kind")
managers = access.guard(can_read_registers, can_manage_registers, record="register", id_arg="kind")


@bp.route("/registers/")
@readers
def registers_index():
    return render_template(
        "admin/registers/index.html", kinds=registers.KINDS.values(), counts=registers.counts()
    )


@bp.route("/registers/<kind>")
@readers
def register_list(kind: str):
    spec = _spec(kind)
    query = request.args.get("q", "").strip()
    status = request.args.get("status", "active")
    status = status if status in registers.STATUSES else "active"
    sort = request.args.get("sort", spec.key)
    sort = sort if any(c.key == sort for c in spec.columns) else spec.key
    descending = request.args.get("dir") == "desc"
    found = registers.listing(spec, query, status, sort, descending)
    pages = max(1, math.ceil(len(found) / PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=db_int), 1), pages)
    rows = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return render_template(
        "admin/registers/list.html",
        spec=spec,
        rows=rows,
        total=len(found),
        page=page,
        pages=pages,
        args={"q": query, "status": status, "sort": sort, "dir": "desc" if descending else None},
        url_for=list_url,
    )


def _download(filename: str, fallback: str, fmt: str, data: bytes) -> Response:
    response = Response(data, mimetype=MIME[fmt])
    response.headers["Content-Disposition"] = content_disposition(filename, fallback)
    return response


@bp.route("/registers/<kind>/template.<fmt>")
@readers
def register_template(kind: str, fmt: str):
    spec = _spec(kind)
    if fmt not in MIME:
        abort(404)
    return _download(
        f"{spec.register_name}_テンプレート.{fmt}",
        f"{kind}_template.{fmt}",
        fmt,
        registers.template_file(kind, fmt),
    )


@bp.route("/registers/<kind>/export.<fmt>")
@readers
def register_export(kind: str, fmt: str):
    spec = _spec(kind)
    if fmt not in MIME:
        abort(404)
    data = registers.export_file(kind, fmt)
    trail.record("export.register", object_type="register", object_id=kind, summary=fmt)
    db.session.commit()
    stamp = clock.today().strftime("%Y%m%d")
    return _download(f"{spec.register_name}_{stamp}.{fmt}", f"{kind}_{stamp}.{fmt}", fmt, data)


@bp.route("/registers/<kind>/upload", methods=["GET", "POST"])
@managers
def register_upload(kind: str):
    spec = _spec(kind)
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.stream.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            form.file.errors.append(
                _("ファイルが大きすぎます（上限 %(limit)s）。", limit=size_limit_text())
            )
        else:
            token = register_uploads.save(current_user.id, kind, upload.filename or "", data)
            db.session.commit()
            return redirect(url_for("admin.register_preview", kind=kind, token=token))
    return render_template(
        "admin/registers/upload.html", spec=spec, form=form, limit=size_limit_text()
    ), (422 if form.errors else 200)


def _upload_or_gone(kind: str, token: str):
    upload = register_uploads.load(token, current_user.id, kind)
    if upload is None:
        _gone()
    return upload


def _gone() -> None:
    flash(
        _(
            "この取り込みは適用済みか、期限が切れています。"
            "もう一度ファイルをアップロードしてください。"
        ),
        "info",
    )


def _preview(upload: register_uploads.Upload) -> registers.Preview:
    return registers.preview(upload.kind, upload.data, upload.filename, actor=current_user)


@bp.route("/registers/<kind>/upload/<token>")
@managers
def register_preview(kind: str, token: str):
    spec = _spec(kind)
    upload = _upload_or_gone(kind, token)
    if upload is None:
        return redirect(url_for("admin.register_upload", kind=kind))
    result = _preview(upload)
    form = ApplyForm(digest=result.digest())
    return _render_preview(spec, result, form, token)


def _render_preview(spec, result, form, token, status: int = 200):
    return render_template(
        "admin/registers/preview.html", spec=spec, result=result, form=form, token=token
    ), (status if result.ok else 422)


@bp.route("/registers/<kind>/upload/<token>/apply", methods=["POST"])
@managers
def register_apply(kind: str, token: str):
    spec = _spec(kind)
    upload = _upload_or_gone(kind, token)
    if upload is None:
        return redirect(url_for("admin.register_list", kind=kind))
    result = _preview(upload)
    form = ApplyForm()
    if not form.validate_on_submit() or not result.ok:
        return _render_preview(spec, result, form, token, 422)
    outcome = register_uploads.apply(token, result, form.digest.data)
    if outcome == register_uploads.STALE:
        flash(
            _(
                "確認の後で台帳が変更されたため、取り込みませんでした。"
                "最新の内容と比べた結果を確認してください。"
            ),
            "error",
        )
        return redirect(url_for("admin.register_preview", kind=kind, token=token))
    if outcome == register_uploads.GONE:  # applied meanwhile by a request that came first
        db.session.rollback()
        _gone()
        return redirect(url_for("admin.register_list", kind=kind))
    db.session.commit()
    if outcome == register_uploads.APPLIED:
        flash(
            _(
                "%(register)sを更新しました（追加 %(added)d件、変更 %(changed)d件、"
                "無効化 %(deactivated)d件）。",
                register=spec.register_name,
                **result.counts(),
            ),
            "success",
        )
    else:
        flash(_("台帳とファイルの内容は同じです。変更はありません。"), "info")
    return redirect(url_for("admin.register_list", kind=kind))
