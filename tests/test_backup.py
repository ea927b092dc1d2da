"""The security office backs the database up and restores it onto a database that is gone, on
SQLite and on PostgreSQL (TEST_DATABASE_URL) alike: the restore drill, and every refusal that
leaves the database as it was."""

from __future__ import annotations

import io
import json
from pathlib import Path

import flask_migrate
import pandas as pd
import pytest
import sqlalchemy as sa

from reports import aggregate
from survey import demo
from survey.extensions import db
from survey.models import Attachment, AuditEntry, Campaign, OrgUnit, User
from survey.services import trail
from tests import helpers
from tests.conftest import PG_URL, _pg_admin_engine
from tests.helpers import form_data, login

EVIDENCE = """\
code: evidence
version: 1
title: 証跡
target: unit
categories:
  - code: A
    title: 記録
    items:
      - number: 1
        text: 点検記録を保管している
        evidence: always
"""


def _create(runner, tmp_path) -> Path:
    created = runner.invoke(args=["backup", "create", str(tmp_path / "backups")])
    assert created.exit_code == 0, created.output
    (folder,) = (tmp_path / "backups").iterdir()
    return folder


def backup_file(folder: Path) -> str:
    (dump,) = (p.name for p in folder.iterdir() if p.name != "manifest.json")
    return dump


def _destroy() -> None:
    """The disaster: the database file deleted, or the PostgreSQL database dropped."""
    url = db.engine.url
    db.session.remove()
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
    else:
        with _pg_admin_engine().connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{url.database}" WITH (FORCE)'))


def _gone() -> bool:
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        return not Path(url.database).exists()
    with _pg_admin_engine().connect() as conn:
        found = conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
        )
        return found.first() is None


def _figures() -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """The results per item of every campaign, as the reports count them, and the rows of
    every table."""
    with db.engine.connect() as conn:
        codes = conn.scalars(sa.select(Campaign.code).order_by(Campaign.code)).all()
        results = {code: aggregate.per_item(conn, code)[1] for code in codes}
        counts = {
            name: conn.scalar(sa.select(sa.func.count()).select_from(table))
            for name, table in db.metadata.tables.items()
        }
    return results, counts


def _evidence(app, tmp_path) -> tuple:
    """A respondent's evidence file: the signed-in client and the file's address."""
    checklist = helpers.import_checklist(tmp_path, EVIDENCE)
    unit = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "戸籍住民課"))
    mine = helpers.open_campaign(checklist, [unit], code="backup-drill")[0]
    client = login(app, "respondent")
    upload = {f"evidence_{checklist.items[0].id}": (io.BytesIO(b"%PDF-1.4 drill"), "a.pdf")}
    assert client.post(f"/assignments/{mine.id}", data=form_data(mine) | upload).status_code == 302
    stored = db.session.scalar(sa.select(Attachment.id).where(Attachment.assignment_id == mine.id))
    return client, f"/assignments/{mine.id}/evidence/{stored}"


def _download(client, address: str) -> bytes:
    response = client.get(address)
    try:
        assert response.status_code == 200
        return response.data
    finally:
        response.close()


@pytest.fixture
def migrated_demo(empty_database_app):
    """The demo ward in a database built by the migrations, as in production."""
    flask_migrate.upgrade()
    demo.load()
    return empty_database_app


def test_restore_drill_brings_back_figures_files_and_trail_onto_a_database_that_is_gone(
    migrated_demo, tmp_path
):
    app = migrated_demo
    client, address = _evidence(app, tmp_path)
    document = _download(client, address)
    results, counts = _figures()
    head = trail.newest_entry(db.session)
    revision = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
    runner = app.test_cli_runner()

    folder = _create(runner, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["database"] == db.engine.dialect.name
    assert manifest["alembic_revision"] == revision
    assert manifest["audit_head"] == {"id": head[0], "hash": head[1]}
    assert manifest["row_counts"] == {"alembic_version": 1, **counts}
    assert manifest["evidence_files"] == "database"
    assert list(manifest["files"]) == [backup_file(folder)]

    _destroy()
    assert _gone()
    restored = runner.invoke(args=["backup", "restore", str(folder)])
    assert restored.exit_code == 0, restored.output
    assert "行数はバックアップの記録と一致" in restored.output
    assert "改ざんや削除は見つかりませんでした" in restored.output
    assert "控え 1 件と照合しました" in restored.output

    after_results, after_counts = _figures()
    assert after_results.keys() == results.keys()
    for code, frame in results.items():
        pd.testing.assert_frame_equal(after_results[code], frame)
    # The trail as it was when the backup was taken, then the restore's own entry; the
    # backup's entry (written after the copy) is not in the copy.
    assert after_counts == counts | {"audit_entry": counts["audit_entry"] + 1}
    assert db.session.get(AuditEntry, head[0]).hash == head[1]
    last = db.session.get(AuditEntry, head[0] + 1)
    assert last.action == "backup.restore" and last.after["replaced_newest"] is None
    assert last.after["backup_head"] == manifest["audit_head"]
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    assert _download(client, address) == document == b"%PDF-1.4 drill"


def test_a_database_without_tenken_s_tables_is_not_backed_up(empty_database_app, tmp_path):
    result = empty_database_app.test_cli_runner().invoke(
        args=["backup", "create", str(tmp_path / "b")]
    )
    assert result.exit_code == 1 and "tenken のテーブルがありません" in result.output
    assert not (tmp_path / "b").exists()


def test_a_damaged_backup_is_refused_before_anything_is_touched(demo_app, tmp_path):
    runner = demo_app.test_cli_runner()
    folder = _create(runner, tmp_path)
    dump = folder / backup_file(folder)
    damaged = bytearray(dump.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    dump.write_bytes(bytes(damaged))
    _destroy()

    result = runner.invoke(args=["backup", "restore", str(folder)])
    assert result.exit_code == 1
    assert f"{dump} が壊れています" in result.output and "何も変更していません" in result.output
    assert _gone()  # not even an empty database was made

    dump.unlink()
    result = runner.invoke(args=["backup", "restore", str(folder)])
    assert result.exit_code == 1 and f"{dump} がありません" in result.output


def test_folders_that_are_no_backup_are_named_as_such(demo_app, tmp_path):
    runner = demo_app.test_cli_runner()

    def refused(folder) -> str:
        result = runner.invoke(args=["backup", "restore", str(folder)])
        assert result.exit_code == 1
        return result.output

    assert "というフォルダはありません" in refused(tmp_path / "nowhere")
    assert "バックアップではありません（manifest.json がありません）" in refused(tmp_path)
    folder = _create(runner, tmp_path)
    assert f"新しい順: {folder.name}" in refused(tmp_path / "backups")  # the folder above it
    (folder / "manifest.json").write_text("{not json", encoding="utf-8")
    assert "を読めません" in refused(folder)
    (folder / "manifest.json").write_text('{"created_at": "2026-01-01"}', encoding="utf-8")
    assert "tenken のバックアップの形式（format 1）ではありません" in refused(folder)


def _edit_manifest(folder: Path, **changes) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(manifest | changes), encoding="utf-8")


def test_a_backup_of_another_database_or_a_newer_schema_is_refused(demo_app, tmp_path):
    runner = demo_app.test_cli_runner()
    folder = _create(runner, tmp_path)
    other = "sqlite" if PG_URL else "postgresql"
    _edit_manifest(folder, database=other)
    result = runner.invoke(args=["backup", "restore", str(folder)])
    assert result.exit_code == 1
    assert f"このバックアップは {'SQLite' if PG_URL else 'PostgreSQL'} の" in result.output

    _edit_manifest(folder, database=db.engine.dialect.name, alembic_revision="f00dfeedbeef")
    result = runner.invoke(args=["backup", "restore", str(folder)])
    assert result.exit_code == 1
    assert "スキーマ（リビジョン f00dfeedbeef）は、この版の tenken にはありません" in result.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) > 100  # nothing touched


def test_a_database_holding_data_is_replaced_only_when_forced_and_confirmed(demo_app, tmp_path):
    runner = demo_app.test_cli_runner()
    folder = _create(runner, tmp_path)
    db.session.execute(sa.update(User).values(display_name="壊れた"))
    db.session.commit()
    login(demo_app, "respondent")  # the trail goes on after the backup: a sign-in
    newest = trail.newest_entry(db.session)

    def admin_name() -> str:
        db.session.remove()
        return db.session.scalar(sa.select(User.display_name).where(User.username == "admin"))

    refused = runner.invoke(args=["backup", "restore", str(folder)])
    assert refused.exit_code == 1 and "データがあります" in refused.output
    assert "--force" in refused.output and admin_name() == "壊れた"

    declined = runner.invoke(args=["backup", "restore", str(folder), "--force"], input="n\n")
    assert "データをすべて削除して" in declined.output and "よろしいですか" in declined.output
    assert declined.exit_code == 1 and "復元を取りやめました" in declined.output
    assert admin_name() == "壊れた"

    done = runner.invoke(args=["backup", "restore", str(folder), "--force"], input="y\n")
    assert done.exit_code == 0, done.output
    assert admin_name() == "情報 守"
    last = db.session.scalar(sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert last.action == "backup.restore"
    assert last.after["replaced_newest"] == {"id": newest[0], "hash": newest[1]}
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def _alter_an_entry() -> None:
    """Someone with the owner's rights rewrites an entry before the backup is taken."""
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_no_change")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_entry_no_update")
        conn.exec_driver_sql("UPDATE audit_entry SET summary = 'rewritten' WHERE id = 2")


def test_a_restored_trail_that_does_not_verify_fails_the_restore(demo_app, tmp_path):
    runner = demo_app.test_cli_runner()
    _alter_an_entry()
    folder = _create(runner, tmp_path)
    _destroy()
    result = runner.invoke(args=["backup", "restore", str(folder)])
    assert result.exit_code == 1
    assert "行数はバックアップの記録と一致" in result.output  # restored, but:
    assert "監査ログの改ざんを検出しました: id=2" in result.output


@pytest.mark.skipif(PG_URL is not None, reason="a SQLite file")
def test_a_database_file_that_is_no_longer_a_database_is_replaced_when_forced(demo_app, tmp_path):
    runner = demo_app.test_cli_runner()
    folder = _create(runner, tmp_path)
    _destroy()
    Path(db.engine.url.database).write_bytes(b"\x00" * 4096)  # the disk's damage
    refused = runner.invoke(args=["backup", "restore", str(folder)])
    assert refused.exit_code == 1 and "データがあります" in refused.output
    done = runner.invoke(args=["backup", "restore", str(folder), "--force", "--yes"])
    assert done.exit_code == 0, done.output
    last = db.session.scalar(sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert last.action == "backup.restore" and last.after["replaced_newest"] is None
