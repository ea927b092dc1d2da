"""Evidence files: checked by content, stored under random names outside the static folder."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import abort, current_app
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from survey.extensions import db
from survey.models import Assignment, Attachment, Item, User
from survey.services import trail, uploads

# What a file must start with to be what its type claims; the name and the browser's word for
# the type are not trusted.
SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"PK\x03\x04": "application/zip",  # .xlsx, .docx and other Office files are zip archives
}


class EvidenceRefused(ValueError):
    pass


def upload_dir() -> Path:
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def content_type(head: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES.items() if head.startswith(magic)), None)


@dataclass(frozen=True)
class StoredFile:
    """A checked upload written under a random name: what its metadata row records."""

    filename: str
    stored_name: str
    content_type: str
    size: int
    sha256: str

    def columns(self) -> dict:
        return asdict(self)


def save_upload(upload: FileStorage) -> StoredFile:
    """Check an upload by its content and size, and store it; EvidenceRefused says why not.

    Shared by every kind of evidence (answers, corrective actions): one set of rules."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    data = upload.read(limit + 1)
    if not data:
        raise EvidenceRefused(_("ファイルが空です。"))
    if len(data) > limit:
        raise EvidenceRefused(
            _("ファイルが大きすぎます（上限 %(mb)d MB）。", mb=limit // (1024 * 1024))
        )
    kind = content_type(data[:8])
    if kind is None:
        raise EvidenceRefused(
            _("PDF、画像（PNG・JPEG）、Office 文書のいずれかを添付してください。")
        )
    stored_name = secrets.token_hex(16)
    (upload_dir() / stored_name).write_bytes(data)
    return StoredFile(
        filename=uploads.clean_filename(upload.filename, "evidence"),
        stored_name=stored_name,
        content_type=kind,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def store(assignment: Assignment, item: Item, upload: FileStorage, user: User) -> Attachment:
    saved = save_upload(upload)
    attachment = Attachment(
        assignment_id=assignment.id, item_id=item.id, uploaded_by_id=user.id, **saved.columns()
    )
    db.session.add(attachment)
    return attachment


def path_of(attachment) -> Path:
    """Where the file of an Attachment or an ActionEvidence lives."""
    return upload_dir() / attachment.stored_name


def file_or_404(row, kind: str) -> Path:
    """The file of an Attachment or an ActionEvidence (`kind` in the audit trail). A file gone
    from the disk (a restore without the uploads folder) is a 404, recorded as a refused access,
    not a server error."""
    path = path_of(row)
    if not path.is_file():
        trail.record_denied(kind, row.id, current_user, found=row, reason="file_missing")
        abort(404)
    return path
