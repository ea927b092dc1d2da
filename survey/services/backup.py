"""Backups of the whole database, and restores onto an empty or missing one.

`create` writes a new folder: the database (PostgreSQL: pg_dump's custom format; SQLite: a copy
through the online backup API), both consistent while the app keeps running, and manifest.json,
which says what the copy holds: tenken's version and the schema's Alembic revision, the
database's kind and versions, the audit trail's newest entry, the rows of every table and the
sha256 of each file. Evidence files are stored in the database, so the copy holds them too.

`check` reads a backup and the database it would go into, and changes nothing: the folder is a
backup of this kind of database, of a schema this code knows, every checksum matches, the tools
and the server can read it. `restore` then loads it onto a missing or empty database (or, told
to, onto one that holds data, emptied first), checks that every table holds the rows the
manifest counted and records the restore in the audit trail.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app

from survey import clock
from survey.extensions import db, migrate
from survey.models.trail import GENESIS_HASH
from survey.models.types import utcnow
from survey.services import trail

MANIFEST = "manifest.json"
FORMAT = 1
# Where the evidence files are: in the database's rows, so the dump is the whole backup.
EVIDENCE_FILES = "database"


class BackupError(RuntimeError):
    """A refusal or failure, in Japanese, saying what is wrong and what to do."""


class Store(Protocol):
    """One kind of database: how it is copied out and loaded back."""

    kind: str  # "sqlite" | "postgresql", as in the manifest
    dump_name: str  # the file in the backup folder

    def describe(self) -> str: ...
    def dump(self, target: Path) -> tuple[dict[str, Any], dict[str, str]]: ...
    def check_restore(self, dump: Path, versions: dict[str, str]) -> None: ...
    def state(self) -> str: ...
    def load(self, dump: Path, state: str) -> None: ...


@dataclass(frozen=True)
class Plan:
    """A checked backup and the database it would replace."""

    folder: Path
    manifest: dict[str, Any]
    store: Store
    state: str  # missing | empty | data

    @property
    def holds_data(self) -> bool:
        return self.state == "data"

    @property
    def head(self) -> trail.Anchor | None:
        """The newest audit entry when the backup was taken: the restored trail must end on it."""
        head = self.manifest["audit_head"]
        if not head["id"]:
            return None
        return trail.Anchor(head["id"], head["hash"], f"{self.folder / MANIFEST} の記録")


@dataclass(frozen=True)
class Restored:
    plan: Plan
    current_schema: bool  # False: the backup's schema is older than this code's (db upgrade)


def _store() -> Store:
    url = db.engine.url
    if url.get_backend_name() == "postgresql":
        from survey.services.backup_postgres import PostgresStore

        return PostgresStore(url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        from survey.services.backup_sqlite import SqliteStore

        return SqliteStore(Path(url.database))
    raise BackupError(
        f"{url.get_backend_name()} のデータベースのバックアップには対応していません。"
    )


def facts(conn: sa.Connection) -> dict[str, Any]:
    """What the manifest says about a database, read on `conn` (inside the backup's snapshot)."""
    tables = sorted(sa.inspect(conn).get_table_names())
    counts = {
        name: conn.scalar(sa.select(sa.func.count()).select_from(sa.table(name))) for name in tables
    }
    revision = None
    if "alembic_version" in tables:
        revision = conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    head_id, head_hash = (0, GENESIS_HASH)
    if "audit_entry" in tables:
        head_id, head_hash = trail.newest_entry(conn)
    return {
        "alembic_revision": revision,
        "audit_head": {"id": head_id, "hash": head_hash},
        "row_counts": counts,
    }


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


# --- create -----------------------------------------------------------------------------------


def _new_folder(directory: Path) -> tuple[Path, str]:
    now = clock.local(utcnow())
    folder = Path(directory) / now.strftime("tenken-%Y%m%d-%H%M%S")
    try:
        # Only the backup's owner may read it: it holds every answer, comment and file.
        folder.mkdir(parents=True, mode=0o700)
    except FileExistsError as error:
        raise BackupError(
            f"{folder} は既にあります。少し待ってから、もう一度実行してください。"
        ) from error
    except OSError as error:
        raise BackupError(f"{folder} を作れません: {error.strerror}") from error
    return folder, now.isoformat(timespec="seconds")


def create(directory: Path) -> tuple[Path, dict[str, Any]]:
    """Write a new backup folder under `directory`; return it and its manifest."""
    store = _store()
    if not sa.inspect(db.engine).has_table("audit_entry"):
        raise BackupError(
            f"{store.describe()} には tenken のテーブルがありません（flask --app wsgi db upgrade"
            " の前です）。バックアップするものがありません。"
        )
    folder, created_at = _new_folder(directory)
    dump = folder / store.dump_name
    try:
        found, versions = store.dump(dump)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # no folder that looks like a backup
        raise
    manifest = {
        "format": FORMAT,
        "tenken_version": importlib.metadata.version("tenken"),
        "created_at": created_at,
        "database": store.kind,
        "versions": versions,
        **found,
        "evidence_files": EVIDENCE_FILES,
        "files": {store.dump_name: _digest(dump)},
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False)
    (folder / MANIFEST).write_text(text + "\n", encoding="utf-8")
    trail.record(
        "backup.create",
        after={"folder": str(folder), "audit_head": manifest["audit_head"]},
        commit=True,
    )
    return folder, manifest


# --- check ------------------------------------------------------------------------------------


def _backups_inside(folder: Path) -> list[str]:
    return sorted(
        (child.name for child in folder.iterdir() if (child / MANIFEST).is_file()), reverse=True
    )


def _read_manifest(folder: Path) -> dict[str, Any]:
    if not folder.is_dir():
        raise BackupError(f"{folder} というフォルダはありません。")
    path = folder / MANIFEST
    if not path.is_file():
        inside = _backups_inside(folder)
        if inside:
            raise BackupError(
                f"{folder} はバックアップを入れておくフォルダです。復元するバックアップのフォルダを"
                f"指定してください（新しい順: {'、'.join(inside[:5])}）。"
            )
        raise BackupError(f"{folder} はバックアップではありません（{MANIFEST} がありません）。")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(f"{path} を読めません: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(
            f"{path} は tenken のバックアップの形式（format {FORMAT}）ではありません。"
        )
    return manifest


def _check_kind(manifest: dict[str, Any], store: Store) -> None:
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    if manifest["database"] != store.kind:
        raise BackupError(
            f"このバックアップは {names.get(manifest['database'], manifest['database'])} の"
            f"データベースのものです。復元先（{store.describe()}）には復元できません。"
        )


def _revisions() -> ScriptDirectory:
    return ScriptDirectory.from_config(
        migrate.get_config(current_app.extensions["migrate"].directory)
    )


def _check_revision(manifest: dict[str, Any]) -> None:
    revision = manifest["alembic_revision"]
    if revision is None:  # a database built without migrations (the tests' create_all)
        return
    if revision not in {script.revision for script in _revisions().walk_revisions()}:
        raise BackupError(
            f"このバックアップのスキーマ（リビジョン {revision}）は、この版の tenken には"
            f"ありません。バックアップを作った版（tenken {manifest['tenken_version']}）"
            "以降に更新してから復元してください。"
        )


def _check_files(folder: Path, manifest: dict[str, Any], store: Store) -> None:
    files = manifest["files"]
    if store.dump_name not in files:
        raise BackupError(f"{folder / MANIFEST} に {store.dump_name} の記載がありません。")
    for name, digest in files.items():
        path = folder / Path(name).name
        if not path.is_file():
            raise BackupError(f"{path} がありません。何も変更していません。")
        if _digest(path) != digest:
            raise BackupError(
                f"{path} が壊れています（sha256 が {MANIFEST} の値と違います）。"
                "何も変更していません。"
            )


def check(folder: Path) -> Plan:
    """Read the backup in `folder` and the database it would go into; change nothing."""
    folder = Path(folder)
    manifest = _read_manifest(folder)
    store = _store()
    _check_kind(manifest, store)
    _check_revision(manifest)
    _check_files(folder, manifest, store)
    store.check_restore(folder / store.dump_name, manifest["versions"])
    return Plan(folder, manifest, store, store.state())


# --- restore ----------------------------------------------------------------------------------


def _check_counts(plan: Plan) -> None:
    with db.engine.connect() as conn:
        found = facts(conn)
    expected = plan.manifest["row_counts"]
    wrong = [
        f"{name}: {expected.get(name, 'なし')} → {found['row_counts'].get(name, 'なし')}"
        for name in sorted(set(expected) | set(found["row_counts"]))
        if expected.get(name) != found["row_counts"].get(name)
    ]
    if wrong:
        raise BackupError(
            "復元したデータベースの行数がバックアップの記録と一致しません（表: 記録 → 復元後）: "
            + "、".join(wrong)
        )


def _newest_replaced() -> dict[str, Any] | None:
    """The newest audit entry of the data about to be replaced, if it has a readable trail."""
    try:
        with db.engine.connect() as conn:
            if not sa.inspect(conn).has_table("audit_entry"):
                return None
            newest_id, newest_hash = trail.newest_entry(conn)
    except sa.exc.DBAPIError:
        return None  # the damaged database the restore is for
    return {"id": newest_id, "hash": newest_hash}


def restore(plan: Plan, *, force: bool = False) -> Restored:
    """Load a checked backup. A database holding data is emptied first only when `force`d.
    Stop the application first: nothing may write while the database is replaced."""
    if plan.holds_data and not force:
        raise BackupError(
            f"{plan.store.describe()} にはデータがあります。バックアップで置き換えるときは "
            "--force を付けてください（いまのデータはすべて削除されます）。"
        )
    # The restored trail ends where the backup was taken; what the replaced data had after
    # that is named in the first entry written after the restore, so the gap stays on record.
    replaced = _newest_replaced() if plan.holds_data else None
    db.session.remove()
    db.engine.dispose()  # no pooled connection may hold on to what is replaced
    plan.store.load(plan.folder / plan.store.dump_name, plan.state)
    _check_counts(plan)
    trail.record(
        "backup.restore",
        after={
            "backup": str(plan.folder),
            "created_at": plan.manifest["created_at"],
            "backup_head": plan.manifest["audit_head"],
            "replaced_newest": replaced,
        },
        commit=True,
    )
    revision = plan.manifest["alembic_revision"]
    return Restored(plan, revision is None or revision == _revisions().get_current_head())
