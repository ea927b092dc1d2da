"""The security office backs up a SQLite deployment and restores it without losing anything."""

import io

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer, Attachment, OrgUnit, StoredFileChunk, User
from survey.services import files
from tests import helpers
from tests.conftest import PG_URL
from tests.helpers import form_data, login

pytestmark = pytest.mark.skipif(PG_URL is not None, reason="SQLite backups; see test below")

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


def test_backup_then_restore_brings_back_data_and_files(demo_app, demo_client, tmp_path):
    # Some evidence (in the database since files moved there), for the backup to carry.
    checklist = helpers.import_checklist(tmp_path, EVIDENCE)
    unit = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "戸籍住民課"))
    mine = helpers.open_campaign(checklist, [unit], code="backup-test")[0]
    item = checklist.items[0]
    client = login(demo_app, "respondent")
    data = form_data(mine) | {f"evidence_{item.id}": (io.BytesIO(b"%PDF-1.4 x"), "a.pdf")}
    assert client.post(f"/assignments/{mine.id}", data=data).status_code == 302
    answers = db.session.scalar(sa.select(sa.func.count(Answer.id)))
    runner = demo_app.test_cli_runner()

    created = runner.invoke(args=["backup", "create", str(tmp_path / "backups")])
    assert created.exit_code == 0, created.output
    folder = next((tmp_path / "backups").iterdir())
    assert (folder / "manifest.json").exists()

    # Disaster: answers deleted, the evidence file's bytes gone.
    db.session.execute(sa.delete(Answer))
    db.session.execute(sa.update(User).values(display_name="壊れた"))
    db.session.execute(sa.delete(StoredFileChunk))
    db.session.commit()

    restored = runner.invoke(args=["backup", "restore", str(folder), "--yes"])
    assert restored.exit_code == 0, restored.output
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == answers
    assert (
        db.session.scalar(sa.select(User.display_name).where(User.username == "admin")) == "情報 守"
    )
    assert files.read(db.session.scalar(sa.select(Attachment)).file) == b"%PDF-1.4 x"


def test_damaged_backup_is_refused_and_nothing_changes(demo_app, tmp_path):
    runner = demo_app.test_cli_runner()
    runner.invoke(args=["backup", "create", str(tmp_path / "b")])
    folder = next((tmp_path / "b").iterdir())
    (folder / "tenken.db").write_bytes(b"not a database")
    result = runner.invoke(args=["backup", "restore", str(folder), "--yes"])
    assert result.exit_code == 1 and "壊れているか" in result.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) > 100


def test_restore_of_a_folder_that_is_no_backup_is_refused(demo_app, tmp_path):
    result = demo_app.test_cli_runner().invoke(args=["backup", "restore", str(tmp_path), "--yes"])
    assert result.exit_code == 1 and "バックアップではありません" in result.output


def test_a_restore_is_recorded_with_the_newest_entry_it_replaced(demo_app, tmp_path):
    from survey.models import AuditEntry

    runner = demo_app.test_cli_runner()
    runner.invoke(args=["backup", "create", str(tmp_path / "b")])
    folder = next((tmp_path / "b").iterdir())
    login(demo_app, "respondent")  # something happens after the backup: a sign-in
    newest = db.session.scalar(sa.select(sa.func.max(AuditEntry.id)))
    assert runner.invoke(args=["backup", "restore", str(folder), "--yes"]).exit_code == 0
    db.session.remove()
    last = db.session.scalar(sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert last.action == "backup.restore"
    assert last.after["replaced_newest"]["id"] == newest
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
