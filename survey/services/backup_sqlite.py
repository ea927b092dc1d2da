"""A SQLite database in and out of a backup, through SQLite's online backup API: the copy is
consistent while the app keeps running, and a restore replaces the whole file's content at
once."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from survey.services.backup import BackupError, facts

WAL_FILES = ("-wal", "-shm")


def _read_only(path: Path) -> sqlite3.Connection:
    """Never writes, nor leaves a journal beside the file."""
    return sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)


class SqliteStore:
    kind = "sqlite"
    dump_name = "tenken.db"

    def __init__(self, path: Path):
        self.path = path

    def describe(self) -> str:
        return f"SQLite のデータベース {self.path}"

    def dump(self, target: Path) -> tuple[dict[str, Any], dict[str, str]]:
        if not self.path.is_file():
            raise BackupError(f"{self.describe()} がありません。")
        with (
            closing(sqlite3.connect(self.path)) as source,
            closing(sqlite3.connect(target)) as copy,
        ):
            source.backup(copy)
            # The live file is in WAL mode; the copy stands alone, with no -wal file beside it.
            copy.execute("PRAGMA journal_mode=DELETE")
        engine = sa.create_engine("sqlite://", creator=lambda: _read_only(target))
        try:
            with engine.connect() as conn:
                return facts(conn), {"sqlite": sqlite3.sqlite_version}
        finally:
            engine.dispose()

    def check_restore(self, dump: Path, versions: dict[str, str]) -> None:
        try:
            with closing(_read_only(dump)) as conn:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as error:
            raise BackupError(
                f"{dump} は SQLite のデータベースとして読めません: {error}"
            ) from error

    def state(self) -> str:
        if not self.path.exists():
            return "missing"
        if self.path.stat().st_size == 0:
            return "empty"
        try:
            with closing(_read_only(self.path)) as conn:
                (objects,) = conn.execute(
                    "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
                ).fetchone()
        except sqlite3.DatabaseError:
            return "data"  # a file, but no database: replaced only when told to
        return "data" if objects else "empty"

    def load(self, dump: Path, state: str) -> None:
        # The file is replaced whole, with the -wal and -shm files beside it: SQLite would
        # replay a -wal left by the old file into the new one. (Also what is replaced when
        # the old file is no database at all.)
        for path in (self.path, *(self.path.with_name(self.path.name + s) for s in WAL_FILES)):
            path.unlink(missing_ok=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with closing(_read_only(dump)) as source, closing(sqlite3.connect(self.path)) as live:
                source.backup(live)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{self.path} に書き込めません: {error}") from error
