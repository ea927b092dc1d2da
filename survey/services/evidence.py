"""Evidence files: checked by content, stored in the database (services/files.py)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from survey.extensions import db
from survey.models import Assignment, Attachment, Item, StoredFile, User
from survey.services import files, trail, uploads

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


def content_type(head: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES.items() if head.startswith(magic)), None)


@dataclass(frozen=True)
class SavedUpload:
    """A checked upload stored in the database: what its metadata row records."""

    filename: str
    file: StoredFile
    content_type: str

    def columns(self) -> dict:
        return {
            "filename": self.filename,
            "file": self.file,
            "content_type": self.content_type,
            "size": self.file.size,
            "sha256": self.file.sha256,
        }


def save_upload(upload: FileStorage) -> SavedUpload:
    """Check an upload by its content and size, and store it; EvidenceRefused says why not.

    Shared by every kind of evidence (answers, corrective actions): one set of rules."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    head = upload.stream.read(files.CHUNK_SIZE)
    if not head:
        raise EvidenceRefused(_("ファイルが空です。"))
    kind = content_type(head[:8])
    if kind is None:
        raise EvidenceRefused(
            _("PDF、画像（PNG・JPEG）、Office 文書のいずれかを添付してください。")
        )
    try:
        stored = files.store(upload.stream, head=head, limit=limit)
    except files.TooLarge:
        raise EvidenceRefused(
            _("ファイルが大きすぎます（上限 %(mb)d MB）。", mb=limit // (1024 * 1024))
        ) from None
    return SavedUpload(uploads.clean_filename(upload.filename, "evidence"), stored, kind)


def store(assignment: Assignment, item: Item, upload: FileStorage, user: User) -> Attachment:
    saved = save_upload(upload)
    attachment = Attachment(
        assignment_id=assignment.id, item_id=item.id, uploaded_by_id=user.id, **saved.columns()
    )
    db.session.add(attachment)
    return attachment


def file_or_404(row, kind: str) -> StoredFile:
    """The stored file of an Attachment or an ActionEvidence (`kind` in the audit trail). A file
    not wholly in the database (left out of a restore, or not found when the upgrade moved the
    files in) is a 404, recorded as a refused access, not a server error."""
    if not files.is_whole(row.file):
        trail.record_denied(kind, row.id, current_user, found=row, reason="file_missing")
        abort(404)
    return row.file
