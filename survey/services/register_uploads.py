"""Uploaded register files kept between preview and apply.

The file is stored under the instance folder, keyed by a random token that only the uploader
may use. Applying reads exactly these bytes again (checked by their SHA-256), so what is applied
is what was previewed; once applied, the file is removed, so the same token cannot apply twice.
Only a hash of the token names the files, and unused uploads expire.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from survey.services import uploads

MAX_AGE_SECONDS = 2 * 60 * 60
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass(frozen=True)
class Upload:
    token: str
    kind: str
    filename: str
    data: bytes


def _folder(instance_path: str) -> Path:
    folder = Path(instance_path) / "register-uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _paths(instance_path: str, token: str) -> tuple[Path, Path]:
    name = hashlib.sha256(token.encode("ascii")).hexdigest()
    folder = _folder(instance_path)
    return folder / f"{name}.json", folder / f"{name}.bin"


def save(instance_path: str, user_id: int, kind: str, filename: str, data: bytes) -> str:
    _expire(instance_path)
    token = secrets.token_urlsafe(24)
    meta_path, data_path = _paths(instance_path, token)
    data_path.write_bytes(data)
    meta = {
        "user_id": user_id,
        "kind": kind,
        "filename": uploads.clean_filename(filename, "register"),
        "sha256": hashlib.sha256(data).hexdigest(),
        "created": time.time(),
    }
    meta_path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return token


def load(instance_path: str, token: str, user_id: int, kind: str) -> Upload | None:
    """The upload if it exists, is this user's, for this register, unexpired and unaltered."""
    if not TOKEN_RE.match(token or ""):
        return None
    meta_path, data_path = _paths(instance_path, token)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        data = data_path.read_bytes()
    except (OSError, ValueError):
        return None
    if (
        meta.get("user_id") != user_id
        or meta.get("kind") != kind
        or time.time() - meta.get("created", 0) > MAX_AGE_SECONDS
        or hashlib.sha256(data).hexdigest() != meta.get("sha256")
    ):
        return None
    return Upload(token, kind, meta.get("filename", ""), data)


def discard(instance_path: str, token: str) -> None:
    for path in _paths(instance_path, token):
        path.unlink(missing_ok=True)


def _expire(instance_path: str) -> None:
    limit = time.time() - MAX_AGE_SECONDS
    for path in _folder(instance_path).iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except OSError:
            continue
