"""Backups of a SQLite deployment: the database through SQLite's online backup API (consistent
while the app keeps running) and the uploaded evidence files, with a manifest of checksums.

PostgreSQL deployments use pg_dump / pg_restore instead (see the README); these functions refuse
to run there rather than produce a backup that looks complete and is not.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

from flask import current_app

from survey.extensions import db
from survey.services import trail

MANIFEST = "manifest.json"


class BackupError(RuntimeError):
    pass


def _sqlite_path() -> Path:
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(
            "このコマンドは SQLite のデータベースだけを扱います。PostgreSQL では pg_dump と "
            "pg_restore を使ってください（README の「Backups」を参照）。"
        )
    return Path(url.database)


def _uploads() -> Path:
    return Path(current_app.instance_path) / "uploads"


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def create(directory: Path) -> Path:
    """Write a new backup folder under `directory` and return it."""
    database = _sqlite_path()
    target = Path(directory) / datetime.now().strftime("tenken-%Y%m%d-%H%M%S")
    target.mkdir(parents=True, exist_ok=False)
    with sqlite3.connect(database) as source, sqlite3.connect(target / "tenken.db") as copy:
        source.backup(copy)
    source.close()
    copy.close()
    files = {"tenken.db": _digest(target / "tenken.db")}
    if _uploads().is_dir():
        shutil.copytree(_uploads(), target / "uploads")
        for path in sorted((target / "uploads").iterdir()):
            files[f"uploads/{path.name}"] = _digest(path)
    manifest = {"created_at": datetime.now().isoformat(timespec="seconds"), "files": files}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    trail.record("backup.create", after={"folder": str(target)}, commit=True)
    return target


def restore(backup: Path) -> int:
    """Replace the database and uploads with a backup's, after checking every checksum.

    Returns the number of files restored. Stop the application before restoring.
    """
    backup = Path(backup)
    database = _sqlite_path()
    try:
        manifest = json.loads((backup / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(
            f"{backup} はバックアップではありません（{MANIFEST} を読めません）。"
        ) from error
    for name, digest in manifest["files"].items():
        path = backup / name
        if not path.is_file() or _digest(path) != digest:
            raise BackupError(f"{path} が壊れているか、ありません。復元を中止しました。")
    # The restored trail ends where the backup was taken; what came after is named in the
    # first entry written after the restore, so the gap itself stays on record.
    newest_id, newest_hash = trail.newest_entry(db.session)
    replaced = {"id": newest_id, "hash": newest_hash}
    db.session.remove()
    db.engine.dispose()  # no connection may keep the old file open
    with sqlite3.connect(backup / "tenken.db") as source, sqlite3.connect(database) as live:
        source.backup(live)
    source.close()
    live.close()
    if _uploads().exists():
        shutil.rmtree(_uploads())
    if (backup / "uploads").is_dir():
        shutil.copytree(backup / "uploads", _uploads())
    trail.record(
        "backup.restore", after={"backup": str(backup), "replaced_newest": replaced}, commit=True
    )
    return len(manifest["files"])
