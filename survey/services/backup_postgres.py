"""A PostgreSQL database in and out of a backup, with pg_dump and pg_restore.

The dump runs in a snapshot exported by the transaction that reads the manifest's figures, so
the figures describe exactly what was dumped while the app keeps writing. A restore runs in one
transaction (`--single-transaction --exit-on-error`): all of it or nothing. Objects are owned
by whoever restores (`--no-owner`: the owner role of docs/deployment.md); the grants to the
application's role come back with the dump.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from psycopg.conninfo import make_conninfo

from survey.services.backup import BackupError, facts

MAINTENANCE_DATABASE = "postgres"

# Everything the current schema holds that a restore would create again, as (DROP kind, name):
# tables, views and sequences, routines (the audit trail's trigger function) and types; not
# what belongs to an extension.
SCHEMA_OBJECTS = """
WITH schema AS (SELECT oid FROM pg_namespace WHERE nspname = current_schema()),
extension AS (SELECT objid FROM pg_depend WHERE deptype = 'e')
SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
       WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
       c.oid::regclass::text
  FROM pg_class c
 WHERE c.relnamespace = (SELECT oid FROM schema) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
   AND c.oid NOT IN (SELECT objid FROM extension)
UNION ALL
SELECT 'ROUTINE', p.oid::regprocedure::text
  FROM pg_proc p
 WHERE p.pronamespace = (SELECT oid FROM schema) AND p.oid NOT IN (SELECT objid FROM extension)
UNION ALL
SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.oid::regtype::text
  FROM pg_type t LEFT JOIN pg_class r ON r.oid = t.typrelid
 WHERE t.typnamespace = (SELECT oid FROM schema) AND t.oid NOT IN (SELECT objid FROM extension)
   AND (t.typtype IN ('e', 'r', 'd') OR r.relkind = 'c')
"""


def _tool(name: str) -> tuple[str, str]:
    """The path of a PostgreSQL client program and its version."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} が見つかりません。PostgreSQL のクライアント（Debian では "
            "apt-get install postgresql-client）を、サーバーと同じか新しい版で入れてください。"
        )
    output = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    found = re.search(r"\(PostgreSQL\) (\d+(?:\.\d+)?)", output)
    if found is None:
        raise BackupError(f"{path} の版が分かりません（{output.strip()}）。")
    return path, found.group(1)


def _major(version: str) -> int:
    return int(version.split(".")[0])


class PostgresStore:
    kind = "postgresql"
    dump_name = "tenken.dump"

    def __init__(self, url: sa.URL):
        self.url = url

    def describe(self) -> str:
        where = self.url.host or self.url.query.get("host") or "ローカル"
        return f"PostgreSQL（{where}）のデータベース {self.url.database}"

    # --- connections ---

    def _engine(self, database: str | None = None, **options: Any) -> sa.Engine:
        url = self.url.set(database=database) if database else self.url
        return sa.create_engine(url, poolclass=sa.pool.NullPool, **options)

    def _client(self, *args: str) -> list[str]:
        """Arguments naming the database for pg_dump and pg_restore (not the password)."""
        params = self.url.translate_connect_args(username="user", database="dbname")
        params.pop("password", None)
        params.update(self.url.query)  # e.g. host=/var/run/postgresql
        return [*args, f"--dbname={make_conninfo(**params)}"]

    def _run(self, args: list[str]) -> None:
        # The password travels in the environment: on the command line, `ps` would show it.
        env = dict(os.environ)
        if self.url.password:
            env["PGPASSWORD"] = self.url.password
        done = subprocess.run(args, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise BackupError(f"{Path(args[0]).name} が失敗しました:\n{done.stderr.strip()}")

    def _server_version(self, conn: sa.Connection) -> str:
        return conn.scalar(sa.text("SHOW server_version")).split()[0]

    # --- backup ---

    def dump(self, target: Path) -> tuple[dict[str, Any], dict[str, str]]:
        pg_dump, version = _tool("pg_dump")
        engine = self._engine()
        try:
            with engine.connect() as conn:
                conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    server = self._server_version(conn)
                    if _major(version) < _major(server):
                        raise BackupError(
                            f"pg_dump {version} では PostgreSQL {server} のサーバーのバックアップを"
                            "取れません。サーバーと同じか新しい版の pg_dump を入れてください。"
                        )
                    snapshot = conn.scalar(sa.text("SELECT pg_export_snapshot()"))
                    found = facts(conn)
                    self._run(
                        self._client(
                            pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={target}"
                        )
                    )
        finally:
            engine.dispose()
        return found, {"server": server, "pg_dump": version}

    # --- restore ---

    def check_restore(self, dump: Path, versions: dict[str, str]) -> None:
        pg_restore, version = _tool("pg_restore")
        if _major(version) < _major(versions["pg_dump"]):
            raise BackupError(
                f"このバックアップは pg_dump {versions['pg_dump']} で作られました。pg_restore "
                f"{version} では読めません。同じか新しい版の pg_restore を入れてください。"
            )
        server = self._reach()
        if _major(server) < _major(versions["server"]):
            raise BackupError(
                f"このバックアップは PostgreSQL {versions['server']} のサーバーで作られました。"
                f"復元先のサーバーは {server} です。古い版のサーバーには復元できません。"
            )
        self._run([pg_restore, "--list", "--file=/dev/null", str(dump)])

    def _reach(self) -> str:
        """The server's version, from the database itself or, if it is missing, the server's
        maintenance database."""
        for database in (None, MAINTENANCE_DATABASE):
            engine = self._engine(database)
            try:
                with engine.connect() as conn:
                    return self._server_version(conn)
            except sa.exc.OperationalError as error:
                failure = error.orig
            finally:
                engine.dispose()
        raise BackupError(
            f"PostgreSQL に接続できません（{self.describe()}、データベースがないときは "
            f"{MAINTENANCE_DATABASE} に接続して作ります）: {failure}"
        )

    def _exists(self) -> bool:
        engine = self._engine(MAINTENANCE_DATABASE)
        try:
            with engine.connect() as conn:
                return bool(
                    conn.scalar(
                        sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                        {"name": self.url.database},
                    )
                )
        except sa.exc.OperationalError:
            return True  # no maintenance database to ask: the database itself must answer
        finally:
            engine.dispose()

    def state(self) -> str:
        engine = self._engine()
        try:
            with engine.connect() as conn:
                return "data" if conn.execute(sa.text(SCHEMA_OBJECTS)).first() else "empty"
        except sa.exc.OperationalError as error:
            if self._exists():
                raise BackupError(f"{self.describe()} に接続できません: {error.orig}") from error
            return "missing"
        finally:
            engine.dispose()

    def _maintenance(self, statement: str) -> None:
        """CREATE or DROP the database, from the server's maintenance database."""
        engine = self._engine(MAINTENANCE_DATABASE, isolation_level="AUTOCOMMIT")
        name = engine.dialect.identifier_preparer.quote(self.url.database)
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(statement.format(name=name))
        finally:
            engine.dispose()

    def _create(self) -> None:
        try:
            self._maintenance("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'")
        except sa.exc.DBAPIError as error:
            raise BackupError(
                f"{self.describe()} がないため作ろうとしましたが、作れませんでした: {error.orig}\n"
                "PostgreSQL の管理者に空のデータベースを作ってもらってから（docs/deployment.md の"
                "「2. PostgreSQL: two roles」）、もう一度実行してください。"
            ) from error

    def _empty(self) -> None:
        """Drop everything a restore creates. Only when no one else is connected: the app must
        be stopped."""
        engine = self._engine()
        try:
            with engine.begin() as conn:
                others = conn.scalar(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                if others:
                    raise BackupError(
                        f"{self.describe()} に、ほかの接続が {others} 件あります。アプリケーション"
                        "（gunicorn）を停止してから、もう一度実行してください。何も変更していません。"
                    )
                for kind, name in conn.execute(sa.text(SCHEMA_OBJECTS)).all():
                    conn.exec_driver_sql(f"DROP {kind} IF EXISTS {name} CASCADE")
        finally:
            engine.dispose()

    def load(self, dump: Path, state: str) -> None:
        pg_restore, _version = _tool("pg_restore")
        if state == "missing":
            self._create()
        elif state == "data":
            self._empty()
        try:
            self._run(
                self._client(pg_restore, "--no-owner", "--single-transaction", "--exit-on-error")
                + [str(dump)]
            )
        except BackupError as error:
            if state == "missing":
                self._maintenance("DROP DATABASE {name}")  # as missing as it was
            elif state == "data":
                raise BackupError(
                    f"{error}\n復元を取り消しました。{self.describe()} は空です（元のデータは"
                    "削除済み）。原因を直してから、もう一度実行してください。"
                ) from error
            raise
