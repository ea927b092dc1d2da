"""Registers (台帳): read as the register pages show them (the security office and the
auditors), and import a file with a preview then an apply (the security office), by the pages'
rules: survey.services.registers reads and compares, survey.services.register_uploads keeps the
file between the two steps and applies it once.

An import is two calls, as on the pages: POST the file, and get the changes it would make and a
preview id (or, for a file with problems, a 422 naming each row and column, and nothing kept);
then POST the preview's digest to apply it. The file is compared with the register again at
apply: if the register changed since the preview, nothing is applied (409) and the preview can
be read again; an applied or expired preview is gone (410).
"""

from __future__ import annotations

import math

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import abort

from survey import access
from survey.api import blueprint, needs
from survey.api.schemas import (
    RegisterAppliedSchema,
    RegisterApplySchema,
    RegisterArgs,
    RegisterFileSchema,
    RegisterKindSchema,
    RegisterPageSchema,
    RegisterPreviewSchema,
)
from survey.extensions import db
from survey.services import register_uploads, registers
from survey.services.register_files import MAX_BYTES
from survey.services.uploads import clean_filename

bp = blueprint(
    "registers", "/registers", "台帳（組織・利用者・情報システム・委託事業者・委託契約）"
)
# As on the pages: admin and auditor read, only the security office imports; for everyone else
# the registers do not exist (404, recorded as a refused access).
readers = access.guard(access.can_read_registers, record="register", id_arg="kind")
managers = access.guard(
    access.can_read_registers, access.can_manage_registers, record="register", id_arg="kind"
)
PAGE_SIZE = 100
# The registers and a preview id's form, in the document (the routes still answer 404 or 410
# for others).
KIND = {
    "in": "path",
    "name": "kind",
    "description": "the register",
    "schema": {"type": "string", "enum": list(registers.KINDS)},
}
PREVIEW = {
    "in": "path",
    "name": "preview_id",
    "description": "the id the upload answered with",
    "schema": {"type": "string", "pattern": register_uploads.TOKEN_RE.pattern},
}


def _spec(kind: str) -> registers.Kind:
    spec = registers.kind_or_none(kind)
    if spec is None:
        abort(404)
    return spec


def _columns(spec: registers.Kind) -> list[dict]:
    return [{"key": c.key, "title": c.label} for c in spec.columns]


@bp.route("", methods=["GET"])
@readers
@bp.response(200, RegisterKindSchema(many=True))
def register_index():
    """Each register with its number of active and inactive records, and its columns."""
    counts = registers.counts()
    return [
        {
            "kind": code,
            "register": spec.register_name,
            "active": counts[code][0],
            "inactive": counts[code][1],
            "columns": _columns(spec),
        }
        for code, spec in registers.KINDS.items()
    ]


@bp.route("/<kind>", methods=["GET"], parameters=[KIND])
@readers
@bp.arguments(RegisterArgs, location="query")
@bp.response(200, RegisterPageSchema)
def register_rows(args, kind: str):
    """The register's records as its page lists them (search, status, sort), 100 a page."""
    spec = _spec(kind)
    sort = args["sort"] or spec.key
    if not any(c.key == sort for c in spec.columns):
        abort(
            422,
            errors={
                "sort": [
                    _(
                        "並べ替えに使える列は %(columns)s です。",
                        columns=", ".join(c.key for c in spec.columns),
                    )
                ]
            },
        )
    found = registers.listing(spec, args["q"].strip(), args["status"], sort, args["dir"] == "desc")
    page = args["page"]
    return {
        "kind": spec.code,
        "register": spec.register_name,
        "columns": _columns(spec),
        "total": len(found),
        "page": page,
        "pages": max(1, math.ceil(len(found) / PAGE_SIZE)),
        "rows": [
            {
                "active": record.obj.active,
                "values": {c.key: c.show(record.values[c.key]) for c in spec.columns},
            }
            for record in found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        ],
    }


def _refuse_problems(result: registers.Preview) -> None:
    """A 422 naming every problem by row (as Excel numbers them: the header is 1) and column
    (its header); row and column are null for a problem of the whole file."""
    db.session.rollback()
    abort(
        422,
        message=_("ファイルに問題があるため、取り込めません。"),
        errors={
            "file": [
                {"row": p.row, "column": p.column, "message": str(p.message)}
                for p in result.problems
            ]
        },
    )


def _upload(kind: str, preview_id: str) -> register_uploads.Upload:
    upload = register_uploads.load(preview_id, current_user.id, kind)
    if upload is None:
        _gone()
    return upload


def _gone() -> None:
    """Applied already, expired, or never this user's: the same answer for each."""
    db.session.rollback()
    abort(
        410,
        message=_(
            "この取り込みは適用済みか、期限が切れています。"
            "もう一度ファイルをアップロードしてください。"
        ),
    )


def _preview(upload: register_uploads.Upload) -> registers.Preview:
    return registers.preview(upload.kind, upload.data, upload.filename, actor=current_user)


def _changes(changes: list[registers.Change]) -> list[dict]:
    return [
        {
            "key": change.key,
            "name": change.name,
            "row": change.row,
            "fields": [
                {"column": column, "old": old, "new": new} for column, old, new in change.fields
            ],
        }
        for change in changes
    ]


def _shown(upload: register_uploads.Upload, result: registers.Preview) -> dict:
    return {
        "id": upload.token,
        "kind": result.kind.code,
        "register": result.kind.register_name,
        "filename": upload.filename,
        "expires_at": upload.expires_at,
        "digest": result.digest(),
        "counts": result.counts(),
        "added": _changes(result.added),
        "changed": _changes(result.changed),
        "deactivated": _changes(result.deactivated),
        "still_used": result.still_used,
    }


@bp.route("/<kind>/imports", methods=["POST"], parameters=[KIND])
@managers
@needs("admin")
@bp.arguments(RegisterFileSchema, location="files")
@bp.response(201, RegisterPreviewSchema)
def register_import(_files, kind: str):
    """Upload the whole register (.xlsx or CSV) and get what applying it would change: records
    to add, to change (column: old → new) and to deactivate, under a preview id that expires
    after two hours. A file with problems is a 422 listing each (row, column, message), and is
    not kept."""
    _spec(kind)
    upload = request.files["file"]
    data = upload.stream.read(MAX_BYTES + 1)  # one byte more: the preview says it is too large
    filename = clean_filename(upload.filename, "register")
    result = registers.preview(kind, data, filename, actor=current_user)
    if not result.ok:
        _refuse_problems(result)
    token = register_uploads.save(current_user.id, kind, filename, data)
    db.session.commit()  # the apply may come to another app server
    return _shown(_upload(kind, token), result)


@bp.route("/<kind>/imports/<preview_id>", methods=["GET"], parameters=[KIND, PREVIEW])
@managers
@needs("admin")
@bp.response(200, RegisterPreviewSchema)
def register_preview(kind: str, preview_id: str):
    """The preview again, compared with the register as it is now (after a 409: the new
    changes and digest). A 422 if the register changed so that the file no longer fits."""
    _spec(kind)
    upload = _upload(kind, preview_id)
    result = _preview(upload)
    if not result.ok:
        _refuse_problems(result)
    return _shown(upload, result)


@bp.route("/<kind>/imports/<preview_id>/apply", methods=["POST"], parameters=[KIND, PREVIEW])
@managers
@needs("admin")
@bp.arguments(RegisterApplySchema)
@bp.response(200, RegisterAppliedSchema)
def register_apply(posted: dict, kind: str, preview_id: str):
    """Apply the preview whose digest is sent, once: the preview id is gone afterwards (410).
    Nothing is stored when the file no longer fits the register (422) or the register changed
    since the preview (409)."""
    spec = _spec(kind)
    upload = _upload(kind, preview_id)
    result = _preview(upload)
    if not result.ok:
        _refuse_problems(result)
    outcome = register_uploads.apply(preview_id, result, posted["digest"])
    if outcome == register_uploads.STALE:
        abort(
            409,
            message=_(
                "確認の後で台帳が変更されたため、取り込みませんでした。"
                "最新の内容と比べた結果を確認してください。"
            ),
        )
    if outcome == register_uploads.GONE:  # applied meanwhile by a request that came first
        _gone()
    db.session.commit()
    return {
        "kind": spec.code,
        "register": spec.register_name,
        "applied": outcome == register_uploads.APPLIED,
        "counts": result.counts(),
    }
