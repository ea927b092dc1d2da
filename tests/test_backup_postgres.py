"""Backups on PostgreSQL: the client programs and versions a restore depends on, checked before
anything changes; a server set up by the production guide gets everything back, protections
included; a database in use is not emptied under the application."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import NamedTuple

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask

from survey import demo
from survey.extensions import db
from survey.models import AuditEntry, User
from tests import helpers
from tests.conftest import PG_URL, make_app
from tests.postgres_guide import drop_guide, guide_commands, psql, url_as
from tests.test_backup import _create, _destroy, _edit_manifest, _gone

pytestmark = pytest.mark.skipif(
    PG_URL is None, reason="runs when TEST_DATABASE_URL names PostgreSQL"
)


def _only_on_path(monkeypatch, tmp_path, **programs: str) -> None:
    """Client programs in front of the real ones: name → what `--version` prints."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, version in programs.items():
        program = folder / name
        program.write_text(f"#!/bin/sh\necho '{version}'\n", encoding="utf-8")
        program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


def test_without_pg_dump_no_backup_is_made_and_the_message_says_what_to_install(
    demo_app, tmp_path, monkeypatch
):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = demo_app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "b")])
    assert result.exit_code == 1
    assert "pg_dump が見つかりません" in result.output and "postgresql-client" in result.output
    assert not any((tmp_path / "b").iterdir())  # no half-made folder left behind


def test_a_pg_dump_older_than_the_server_is_refused(demo_app, tmp_path, monkeypatch):
    _only_on_path(monkeypatch, tmp_path, pg_dump="pg_dump (PostgreSQL) 9.6.24")
    result = demo_app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "b")])
    assert result.exit_code == 1
    assert "pg_dump 9.6 では PostgreSQL" in result.output
    assert "サーバーと同じか新しい版の pg_dump" in result.output
    assert not any((tmp_path / "b").iterdir())


def test_versions_that_cannot_read_the_backup_are_refused_before_anything_changes(
    demo_app, tmp_path, monkeypatch
):
    runner = demo_app.test_cli_runner()
    folder = _create(runner, tmp_path)
    _destroy()

    with monkeypatch.context() as patched:
        patched.setenv("PATH", str(tmp_path))
        result = runner.invoke(args=["backup", "restore", str(folder)])
    assert result.exit_code == 1 and "pg_restore が見つかりません" in result.output

    with monkeypatch.context() as patched:
        _only_on_path(patched, tmp_path, pg_restore="pg_restore (PostgreSQL) 12.22")
        result = runner.invoke(args=["backup", "restore", str(folder)])
    assert result.exit_code == 1 and "pg_restore 12.22 では読めません" in result.output

    _edit_manifest(folder, versions={"server": "99.1", "pg_dump": "15.20"})
    result = runner.invoke(args=["backup", "restore", str(folder)])
    assert result.exit_code == 1
    assert "PostgreSQL 99.1 のサーバーで作られました" in result.output
    assert "古い版のサーバーには復元できません" in result.output
    assert _gone()


def test_a_database_in_use_is_not_emptied(demo_app, tmp_path):
    runner = demo_app.test_cli_runner()
    folder = _create(runner, tmp_path)
    other = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    try:
        with other.connect():  # the application, still running
            result = runner.invoke(args=["backup", "restore", str(folder), "--force", "--yes"])
    finally:
        other.dispose()
    assert result.exit_code == 1
    assert "ほかの接続が 1 件あります" in result.output and "停止してから" in result.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) > 100


class GuideBackup(NamedTuple):
    name: str  # the database; its roles are NAME_owner and NAME_app
    folder: Path
    setup: str  # the guide's commands
    narrow: str
    owner: Flask
    app: Flask


@pytest.fixture
def guide_backup(tmp_path):
    """A backup of a database set up by the production guide (its two roles), taken by the
    nightly job as the application's role; then the server is lost, roles and all."""
    if shutil.which("psql") is None:
        pytest.fail("psql (postgresql-client) is needed to run the guide's commands")
    name = f"tenken_drill_{uuid.uuid4().hex[:8]}"
    setup, narrow = guide_commands(name)
    psql(setup)
    try:
        owner = make_app(url_as(f"{name}_owner", name), tmp_path / "owner")
        with owner.app_context():
            flask_migrate.upgrade()
            demo.load()
            db.session.remove()
            db.engine.dispose()
        psql(narrow, database=name)
        app = make_app(url_as(f"{name}_app", name), tmp_path / "app")
        with app.app_context():
            folder = _create(app.test_cli_runner(), tmp_path)
            db.session.remove()
            db.engine.dispose()
        drop_guide(name)
        yield GuideBackup(name, folder, setup, narrow, owner, app)
    finally:
        drop_guide(name)


def test_a_new_server_set_up_by_the_guide_gets_the_backup_back_with_its_protections(
    guide_backup,
):
    name, folder, setup, narrow, owner, app = guide_backup
    # The guide's roles and empty database on the new server; the owner restores, then the
    # trail is narrowed again (the tables were made anew, with the default privileges).
    psql(setup)
    with owner.app_context():
        result = owner.test_cli_runner().invoke(args=["backup", "restore", str(folder)])
        assert result.exit_code == 0, result.output
        assert "改ざんや削除は見つかりませんでした" in result.output
        db.session.remove()
        db.engine.dispose()
    psql(narrow, database=name)
    with app.app_context():
        mine = helpers.assignment_of("戸籍住民課")
        client = helpers.login(app, "respondent")
        saved = client.post(
            f"/assignments/{mine.id}", data=helpers.form_data(mine, answers={1: "no"})
        )
        assert saved.status_code == 302
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            with db.engine.begin() as conn:
                conn.execute(sa.update(AuditEntry).values(summary="rewritten"))
        db.session.remove()
        db.engine.dispose()


def test_a_restore_that_fails_leaves_the_database_as_missing_as_it_was(guide_backup, tmp_path):
    name, folder = guide_backup.name, guide_backup.folder
    # The roles the dump grants to were not created first: pg_restore stops inside its
    # transaction, and the database made for it is dropped again.
    superuser = make_app(
        sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False),
        tmp_path / "superuser",
    )
    with superuser.app_context():
        result = superuser.test_cli_runner().invoke(args=["backup", "restore", str(folder)])
        assert result.exit_code == 1
        assert "pg_restore が失敗しました" in result.output
        assert f'role "{name}_' in result.output and "does not exist" in result.output
        assert _gone()
        db.engine.dispose()
