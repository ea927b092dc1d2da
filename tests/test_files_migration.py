"""The upgrade that moved files into the database (e24194cd480e): what instance/uploads/ held
is stored, what it did not hold is recorded and can be brought in later from another server's
folder, and the downgrade writes everything back."""

from __future__ import annotations

import hashlib
from pathlib import Path

import flask_migrate
import sqlalchemy as sa

from survey.extensions import db
from survey.models import (
    ActionEvidence,
    Attachment,
    AuditEntry,
    Campaign,
    CorrectiveAction,
    Item,
    StoredFile,
)
from survey.models.types import utcnow
from survey.services import files
from tests import helpers
from tests.helpers import login

BEFORE = "2b5e084c31e3"  # evidence files on each server's disk
LARGE = b"%PDF-1.4\n" + bytes(range(256)) * (files.CHUNK_SIZE * 3 // 256)  # four chunks
FILES = {"a" * 32: b"%PDF-1.4 small", "b" * 32: LARGE, "c" * 32: b"\x89PNG\r\n\x1a\n gone"}
MISSING = "c" * 32  # on the other server's disk only


def _back_to_files_on_disk() -> None:
    """The demo database (made by create_all, as the models are) taken back to before files
    moved into the database."""
    db.session.commit()
    flask_migrate.stamp()
    flask_migrate.downgrade(revision=BEFORE)


def _old_rows(uploads: Path) -> dict[str, int]:
    """Evidence rows as the old version wrote them, and their files in `uploads` but the
    missing one: old name -> attachment or action_evidence id."""
    assignment = helpers.assignment_of("戸籍住民課")
    # Columns only: the models have columns that the old schema has not (the campaign's
    # escalation steps, an item's correct answer).
    item_id = db.session.scalar(
        sa.select(Item.id)
        .join(Campaign, Campaign.checklist_id == Item.checklist_id)
        .where(Campaign.id == assignment.campaign_id)
        .order_by(Item.id)
        .limit(1)
    )
    action_id = db.session.scalar(sa.select(CorrectiveAction.id).limit(1))
    uploads.mkdir(parents=True, exist_ok=True)  # the downgrade made it
    ids = {}
    for number, (name, data) in enumerate(FILES.items()):
        if name != MISSING:
            (uploads / name).write_bytes(data)
        columns = {
            "filename": f"証跡{number}.pdf",
            "stored_name": name,
            "content_type": "application/pdf",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "uploaded_at": utcnow(),
        }
        if name == "b" * 32:
            table, columns["action_id"] = "action_evidence", action_id
        else:
            table = "attachment"
            columns |= {"assignment_id": assignment.id, "item_id": item_id}
        old = sa.table(table, *(sa.column(key) for key in [*columns, "id"]))
        ids[name] = db.session.execute(
            sa.insert(old).values(**columns).returning(old.c.id)
        ).scalar_one()
    db.session.commit()
    return ids


def test_the_upgrade_moves_evidence_files_in_and_records_the_missing(
    demo_app, demo_runner, tmp_path, capsys
):
    _back_to_files_on_disk()
    uploads = Path(demo_app.instance_path) / "uploads"
    ids = _old_rows(uploads)
    capsys.readouterr()
    flask_migrate.upgrade()
    db.session.remove()
    said = capsys.readouterr().err  # what the person running the upgrade reads
    assert f"1 evidence file(s) not found in {uploads}" in said
    assert f"attachment {ids[MISSING]} ({MISSING})" in said and "flask files load" in said

    stored = {f.origin: f for f in db.session.scalars(sa.select(StoredFile))}
    assert set(stored) == set(FILES)
    for name, data in FILES.items():
        if name != MISSING:
            assert files.read(stored[name]) == data, name
            assert stored[name].sha256 == hashlib.sha256(data).hexdigest()
    assert db.session.get(ActionEvidence, ids["b" * 32]).file.origin == "b" * 32
    # The missing file: recorded with what was known of it, and no bytes.
    missing = stored[MISSING]
    assert not files.is_whole(missing) and missing.size == len(FILES[MISSING])
    assert sorted(p.name for p in uploads.iterdir()) == ["a" * 32, "b" * 32]  # left as it was

    client = login(demo_app, "manager")
    assignment_id = db.session.get(Attachment, ids[MISSING]).assignment_id
    url = f"/assignments/{assignment_id}/evidence/{ids[MISSING]}"
    assert client.get(url).status_code == 404
    (denied,) = db.session.scalars(sa.select(AuditEntry).filter_by(action="access.denied"))
    assert denied.after["reason"] == "file_missing"
    checked = demo_runner.invoke(args=["files", "check"])
    assert checked.exit_code == 1 and f"uploads/{MISSING}" in checked.output

    # The other server's folder holds it, and a namesake of another file with other bytes.
    other = tmp_path / "other-server-uploads"
    other.mkdir()
    (other / MISSING).write_bytes(FILES[MISSING])
    loaded = demo_runner.invoke(args=["files", "load", str(other)])
    assert loaded.exit_code == 0 and "1 件" in loaded.output, loaded.output
    assert demo_runner.invoke(args=["files", "check"]).exit_code == 0
    with client.get(url) as response:
        assert response.status_code == 200 and response.data == FILES[MISSING]
    (entry,) = db.session.scalars(sa.select(AuditEntry).filter_by(action="files.load"))
    assert entry.after == {"loaded": [missing.id], "differing": []}


def test_files_load_leaves_out_a_namesake_with_other_bytes(demo_app, demo_runner, tmp_path):
    _back_to_files_on_disk()
    _old_rows(Path(demo_app.instance_path) / "uploads")
    flask_migrate.upgrade()
    db.session.remove()
    other = tmp_path / "other"
    other.mkdir()
    (other / MISSING).write_bytes(b"\x89PNG\r\n\x1a\n else")
    result = demo_runner.invoke(args=["files", "load", str(other)])
    assert result.exit_code == 1 and "記録と内容が異なる" in result.output
    missing = db.session.scalar(sa.select(StoredFile).filter_by(origin=MISSING))
    assert not files.is_whole(missing)


def test_the_downgrade_writes_every_file_back_under_its_name(demo_app):
    assignment = helpers.assignment_of("戸籍住民課")
    attachment = Attachment(
        assignment_id=assignment.id,
        item_id=assignment.campaign.checklist.items[0].id,
        filename="新しい.pdf",
        file=helpers.stored_file(LARGE),
        content_type="application/pdf",
        size=len(LARGE),
        sha256=hashlib.sha256(LARGE).hexdigest(),
    )
    db.session.add(attachment)
    db.session.commit()
    attachment_id = attachment.id
    _back_to_files_on_disk()
    old = sa.table("attachment", sa.column("id"), sa.column("stored_name"))
    name = db.session.scalar(sa.select(old.c.stored_name).where(old.c.id == attachment_id))
    assert (Path(demo_app.instance_path) / "uploads" / name).read_bytes() == LARGE
    db.session.commit()
    flask_migrate.upgrade()  # and back in again, under the same name
    db.session.remove()
    back = db.session.get(Attachment, attachment_id)
    assert back.file.origin == name and files.read(back.file) == LARGE
