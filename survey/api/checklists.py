"""Checklists: the versions (read) and importing a file (the security office)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import request
from flask_babel import get_locale
from flask_smorest import abort

from survey import access
from survey.api import blueprint, needs
from survey.api.schemas import (
    ChecklistDetailSchema,
    ChecklistFileSchema,
    ChecklistSchema,
    ImportedSchema,
)
from survey.extensions import db
from survey.models import Checklist
from survey.services import checklists as checklist_files

bp = blueprint("checklists", "/checklists", "チェックリスト（版）")
readers = access.guard(access.can_read_checklists, record="checklist")
admins = access.guard(access.can_read_checklists, access.can_manage_checklists, record="checklist")


@bp.route("", methods=["GET"])
@readers
@bp.response(200, ChecklistSchema(many=True))
def checklist_list():
    """Every version of every checklist, newest first within a code."""
    return db.session.scalars(
        sa.select(Checklist).order_by(Checklist.code, Checklist.version.desc())
    ).all()


@bp.route("/<code>/<int:version>", methods=["GET"])
@readers
@bp.response(200, ChecklistDetailSchema)
def checklist_version(code: str, version: int):
    """One version with its items and each item's options."""
    checklist = checklist_files.find(code, version)
    if checklist is None or checklist.version != version:
        abort(404)
    fields = ("code", "version", "title", "target_kind", "published_at", "content_hash")
    return {
        **{name: getattr(checklist, name) for name in fields},
        "items": [_item(item) for item in checklist.items],
    }


def _item(item) -> dict:
    return {
        "number": item.number,
        "key": item.key,
        "text": item.text,
        "options": [
            {"code": o.code, "label": o.label, "klass": o.klass} for o in item.scale.options
        ],
        "condition_number": item.condition_number,
        "condition_options": item.condition_options,
    }


@bp.route("", methods=["POST"])
@admins
@needs("admin")
@bp.arguments(ChecklistFileSchema, location="files")
@bp.response(201, ImportedSchema)
def checklist_import(_files):
    """Import a checklist file (YAML or Excel) as a draft version, as the upload page does:
    every problem is reported (422) and nothing is stored then."""
    upload = request.files["file"]
    outcomes, problems = checklist_files.import_upload(upload.stream, upload.filename or "")
    if problems:
        db.session.rollback()
        lang = str(get_locale())
        abort(
            422,
            errors={
                "file": [problem.render(lang) for problem in problems],
            },
        )
    outcome = outcomes[0]
    return {"action": outcome.action, "checklist": outcome.checklist}
