"""Uploaded register files kept between preview and apply.

The file is kept in the database (services/files.py), so the preview and the apply may be served
by different app servers, keyed by a random token that only the uploader may use. Applying
reads exactly these bytes again (checked by their SHA-256), so what is applied is what was
previewed; the apply deletes the upload in its own transaction, so the same token cannot apply
twice. Only a hash of the token is stored, and unused uploads expire.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from survey.extensions import db
from survey.models import RegisterUpload, StoredFile
from survey.models.types import utcnow
from survey.services import files, registers, uploads

MAX_AGE = timedelta(hours=2)
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass(frozen=True)
class Upload:
    token: str
    kind: str
    filename: str
    data: bytes
    expires_at: datetime


def _key(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def save(user_id: int, kind: str, filename: str, data: bytes) -> str:
    """Keep the file for its preview and apply, in the caller's transaction; its token."""
    _expire()
    token = secrets.token_urlsafe(24)
    stored = files.store(io.BytesIO(data))
    db.session.add(
        RegisterUpload(
            id=_key(token),
            user_id=user_id,
            kind=kind,
            filename=uploads.clean_filename(filename, "register"),
            file_id=stored.id,
        )
    )
    return token


def load(token: str, user_id: int, kind: str) -> Upload | None:
    """The upload if it exists, is this user's, for this register, unexpired and unaltered."""
    if not TOKEN_RE.match(token or ""):
        return None
    row = db.session.scalar(
        sa.select(RegisterUpload).where(
            RegisterUpload.id == _key(token),
            RegisterUpload.user_id == user_id,
            RegisterUpload.kind == kind,
            RegisterUpload.created_at > utcnow() - MAX_AGE,
        )
    )
    file = db.session.get(StoredFile, row.file_id) if row else None
    if file is None or not files.is_whole(file):
        return None
    data = files.read(file)
    if hashlib.sha256(data).hexdigest() != file.sha256:
        return None
    return Upload(token, kind, row.filename, data, _aware(row.created_at) + MAX_AGE)


def _aware(at: datetime) -> datetime:
    """SQLite hands back stored moments without their offset (they are UTC)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def discard(token: str) -> bool:
    """Delete the upload in the caller's transaction; False if it is gone already (a request
    that came first applied it: the caller then applies nothing)."""
    file_id = db.session.scalar(
        sa.delete(RegisterUpload)
        .where(RegisterUpload.id == _key(token))
        .returning(RegisterUpload.file_id)
    )
    files.delete([file_id] if file_id is not None else [])
    return file_id is not None


# What applying a confirmed preview came to (`apply`).
APPLIED, UNCHANGED, STALE, GONE = "applied", "unchanged", "stale", "gone"


def apply(token: str, result: registers.Preview, digest: str) -> str:
    """Apply the upload `token` as `result` (its preview, read again just now), in the caller's
    transaction, if the caller confirmed exactly this plan (`digest`, from the preview it was
    shown). STALE: the register changed since, nothing applied, the upload kept for a new look;
    GONE: a request that came first applied it (the caller rolls back). The pages and the API
    both apply through here, so the same rules hold for both."""
    if digest != result.digest():
        return STALE
    if not discard(token):
        return GONE
    return APPLIED if registers.apply(result) else UNCHANGED


def _expire() -> None:
    file_ids = db.session.scalars(
        sa.delete(RegisterUpload)
        .where(RegisterUpload.created_at <= utcnow() - MAX_AGE)
        .returning(RegisterUpload.file_id)
    ).all()
    files.delete(file_ids)
