"""Files live in the database: any app server serves a file another one stored, downloads are
read a chunk at a time, and a file that is not all there is a recorded 404."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import (
    Attachment,
    AuditEntry,
    Contractor,
    OrgUnit,
    RegisterUpload,
    StoredFile,
    StoredFileChunk,
)
from survey.models.types import utcnow
from survey.services import files, registers
from tests import helpers
from tests.conftest import make_app
from tests.helpers import login
from tests.register_helpers import csv_bytes, read_csv

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

# A PDF's signature and then more than ten chunks, the last one shorter.
LARGE = b"%PDF-1.4\n" + bytes(range(256)) * (files.CHUNK_SIZE * 10 // 256) + b"end"


@pytest.fixture
def second(demo_app, tmp_path):
    """Another app server on the same database, with an instance folder of its own."""
    other = make_app(demo_app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "second-instance")
    yield other
    with other.app_context():
        db.engine.dispose()


@pytest.fixture
def questionnaire(demo_app, tmp_path):
    checklist = helpers.import_checklist(tmp_path, EVIDENCE)
    unit = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "戸籍住民課"))
    return helpers.open_campaign(checklist, [unit], code="evidence-test")[0]


def _upload_evidence(client, assignment, data: bytes, name: str) -> Attachment:
    item = assignment.campaign.checklist.items[0]
    form = helpers.form_data(assignment) | {f"evidence_{item.id}": (io.BytesIO(data), name)}
    # Werkzeug's client closes the request body (a temporary file past 500 KB) only along a
    # redirect it follows.
    with client.post(
        f"/assignments/{assignment.id}",
        data=form,
        content_type="multipart/form-data",
        follow_redirects=True,
    ) as response:
        assert response.status_code == 200 and len(response.history) == 1
    return db.session.scalars(sa.select(Attachment).order_by(Attachment.id.desc())).first()


def _url(attachment: Attachment) -> str:
    return f"/assignments/{attachment.assignment_id}/evidence/{attachment.id}"


def _entries(action: str) -> list[AuditEntry]:
    return db.session.scalars(sa.select(AuditEntry).filter_by(action=action)).all()


# --- two app servers, one database ----------------------------------------------------------


def test_evidence_uploaded_on_one_server_downloads_from_another(
    demo_app, second, questionnaire, tmp_path
):
    attachment = _upload_evidence(
        login(demo_app, "respondent"), questionnaire, b"%PDF-1.4 on the first", "点検記録.pdf"
    )
    # A manager of the unit, on the other server.
    with login(second, "manager").get(_url(attachment)) as response:
        assert response.status_code == 200
        assert response.data == b"%PDF-1.4 on the first"
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["Content-Length"] == str(len(b"%PDF-1.4 on the first"))
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="file-{attachment.file_id}.pdf"; '
            "filename*=UTF-8''%E7%82%B9%E6%A4%9C%E8%A8%98%E9%8C%B2.pdf"
        )
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Neither server keeps anything on its own disk.
    assert not (tmp_path / "instance" / "uploads").exists()
    assert not (tmp_path / "second-instance" / "uploads").exists()
    (download,) = _entries("download.evidence")
    assert download.username == "manager" and download.after["sha256"] == attachment.sha256


def test_evidence_downloads_are_refused_on_every_server_as_on_one(demo_app, second, questionnaire):
    attachment = _upload_evidence(
        login(demo_app, "respondent"), questionnaire, b"%PDF-1.4 x", "a.pdf"
    )
    # A contractor may not see 戸籍住民課's questionnaire, whichever server they ask.
    for server in (demo_app, second):
        response = login(server, "contractor").get(_url(attachment))
        assert response.status_code == 404
    assert [e.after["reason"] for e in _entries("access.denied")] == ["scope", "scope"]
    assert _entries("download.evidence") == []


def _contractors(app) -> list[list[str]]:
    with app.test_request_context():
        return read_csv(registers.export_file("contractors", "csv"))


def test_a_register_previewed_on_one_server_is_applied_on_another(demo_app, second):
    rows = _contractors(demo_app)
    rows.append(["C900", "新規情報サービス株式会社"])
    first = login(demo_app, "admin")
    response = first.post(
        "/admin/registers/contractors/upload",
        data={"file": (io.BytesIO(csv_bytes(rows)), "委託先.csv")},
        content_type="multipart/form-data",
    )
    token = re.search(r"/upload/([A-Za-z0-9_-]+)$", response.headers["Location"]).group(1)
    there = login(second, "admin")  # the same admin, whose next request the other server took
    page = there.get(f"/admin/registers/contractors/upload/{token}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "期限が切れています" not in text and "追加: 1件" in text
    digest = re.search(r'name="digest" type="hidden" value="([0-9a-f]+)"', text).group(1)
    applied = there.post(
        f"/admin/registers/contractors/upload/{token}/apply",
        data={"digest": digest, "confirm": "y"},
    )
    assert applied.status_code == 302
    assert db.session.scalar(sa.select(Contractor.name).where(Contractor.code == "C900"))
    # Gone for both servers once applied: the first one cannot apply it again.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RegisterUpload)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == 0
    again = first.post(
        f"/admin/registers/contractors/upload/{token}/apply",
        data={"digest": digest, "confirm": "y"},
    )
    assert again.status_code == 302
    assert len(_entries("register.import")) == 1


def test_an_expired_register_upload_is_refused_and_removed_by_the_next_upload(demo_app):
    client = login(demo_app, "admin")
    data = {"file": (io.BytesIO(csv_bytes(_contractors(demo_app))), "委託先.csv")}
    location = client.post(
        "/admin/registers/contractors/upload", data=data, content_type="multipart/form-data"
    ).headers["Location"]
    db.session.execute(sa.update(RegisterUpload).values(created_at=utcnow() - timedelta(hours=3)))
    db.session.commit()
    response = client.get(location, follow_redirects=True)
    assert "期限が切れています" in response.get_data(as_text=True)
    (old,) = db.session.scalars(sa.select(RegisterUpload.id)).all()
    data = {"file": (io.BytesIO(csv_bytes(_contractors(demo_app))), "委託先.csv")}
    client.post(
        "/admin/registers/contractors/upload", data=data, content_type="multipart/form-data"
    )
    (new,) = db.session.scalars(sa.select(RegisterUpload)).all()
    assert new.id != old
    # The expired upload's file went with it (SQLite may give its id to the new one).
    assert db.session.scalars(sa.select(StoredFile.id)).all() == [new.file_id]
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(StoredFileChunk)
            .filter(StoredFileChunk.file_id != new.file_id)
        )
        == 0
    )


# --- streamed, a chunk at a time ------------------------------------------------------------


class ChunkReads:
    """Counts the statements that read a chunk's bytes (not the lengths is_whole adds up)."""

    def __init__(self, engine):
        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        if re.search(r"SELECT stored_file_chunk\.data\s", statement):
            self.count += 1


def test_a_large_download_is_read_a_chunk_at_a_time(demo_app, questionnaire):
    attachment = _upload_evidence(login(demo_app, "respondent"), questionnaire, LARGE, "大.pdf")
    parts = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(StoredFileChunk)
        .filter_by(file_id=attachment.file_id)
    )
    assert parts == 11 and attachment.size == len(LARGE)
    reads = ChunkReads(db.engine)
    response = login(demo_app, "manager").get(_url(attachment), buffered=False)
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Length"] == str(len(LARGE))
    # Werkzeug's test client, like a server, takes the first chunk along with the headers.
    assert reads.count == 1
    received = []
    for piece in response.response:
        received.append(piece)
        assert reads.count == len(received)  # never a chunk more than was taken
    assert len(received) == parts and b"".join(received) == LARGE
    response.close()


def test_an_upload_is_stored_in_chunks_and_reads_back_whole(app):
    stored = files.store(io.BytesIO(LARGE[10:]), head=LARGE[:10])
    sizes = db.session.scalars(
        sa.select(sa.func.length(StoredFileChunk.data))
        .filter_by(file_id=stored.id)
        .order_by(StoredFileChunk.part)
    ).all()
    assert sizes == [files.CHUNK_SIZE] * 10 + [len(LARGE) - 10 * files.CHUNK_SIZE]
    assert files.read(stored) == LARGE and files.is_whole(stored)
    assert stored.size == len(LARGE)


def test_an_upload_over_the_limit_leaves_nothing_behind(app):
    with pytest.raises(files.TooLarge):
        files.store(io.BytesIO(LARGE), limit=3 * files.CHUNK_SIZE)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFileChunk)) == 0


# --- a file not all there ---------------------------------------------------------------------


def test_a_file_missing_a_chunk_is_a_recorded_404_not_a_broken_download(
    demo_app, questionnaire, demo_runner
):
    attachment = _upload_evidence(login(demo_app, "respondent"), questionnaire, LARGE, "大.pdf")
    db.session.execute(sa.delete(StoredFileChunk).filter_by(file_id=attachment.file_id, part=5))
    db.session.commit()
    response = login(demo_app, "manager").get(_url(attachment))
    assert response.status_code == 404
    (denied,) = _entries("access.denied")
    assert denied.object_type == "attachment" and denied.object_id == str(attachment.id)
    assert denied.after["reason"] == "file_missing"
    assert _entries("download.evidence") == []
    checked = demo_runner.invoke(args=["files", "check"])
    assert checked.exit_code == 1
    assert f"ファイル {attachment.file_id}: 内容がそろっていません" in checked.output


def test_files_check_finds_bytes_that_are_not_the_file(demo_app, questionnaire, demo_runner):
    attachment = _upload_evidence(
        login(demo_app, "respondent"), questionnaire, b"%PDF-1.4 x", "a.pdf"
    )
    assert demo_runner.invoke(args=["files", "check"]).exit_code == 0
    db.session.execute(
        sa.update(StoredFileChunk).filter_by(file_id=attachment.file_id).values(data=b"%PDF-1.4 y")
    )
    db.session.commit()
    checked = demo_runner.invoke(args=["files", "check"])
    assert checked.exit_code == 1 and "SHA-256 と一致しません" in checked.output
