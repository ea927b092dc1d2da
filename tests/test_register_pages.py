"""The registers in the browser: the security office uploads a file, checks what will change and
applies exactly that; auditors read; nobody else sees the pages."""

from __future__ import annotations

import io
import re
from html import unescape
from urllib.parse import unquote

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import (
    AuditEntry,
    Contractor,
    OrgUnit,
    RegisterUpload,
    StoredFile,
    StoredFileChunk,
    User,
)
from survey.services import registers
from tests.helpers import login
from tests.register_helpers import csv_bytes, read_csv, snapshot, xlsx_bytes


def _contractors(demo_app) -> list[list[str]]:
    with demo_app.test_request_context():
        return read_csv(registers.export_file("contractors", "csv"))


def _upload(client, kind: str, data: bytes, name: str = "台帳.csv"):
    return client.post(
        f"/admin/registers/{kind}/upload",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _token(response) -> str:
    return re.search(r"/upload/([A-Za-z0-9_-]+)$", response.headers["Location"]).group(1)


def _digest(page: str) -> str:
    return re.search(r'name="digest" type="hidden" value="([0-9a-f]+)"', page).group(1)


def test_admin_previews_then_applies_exactly_the_uploaded_file(demo_app):
    rows = _contractors(demo_app)
    rows[1][1] = "株式会社さくら情報システムズ"
    rows.append(["C900", "新規情報サービス株式会社"])
    client = login(demo_app, "admin")
    response = _upload(client, "contractors", csv_bytes(rows, "cp932"))
    assert response.status_code == 302
    token = _token(response)
    page = client.get(f"/admin/registers/contractors/upload/{token}").get_data(as_text=True)
    assert "追加: 1件" in page and "変更: 1件" in page and "無効化: 0件" in page
    assert 'id="still-used"' not in page  # nothing deactivated, nothing to warn of
    assert "株式会社さくら情報システムズ" in page and "C900" in page
    before = snapshot()
    refused = client.post(
        f"/admin/registers/contractors/upload/{token}/apply", data={"digest": _digest(page)}
    )
    assert refused.status_code == 422 and snapshot() == before  # not confirmed
    response = client.post(
        f"/admin/registers/contractors/upload/{token}/apply",
        data={"digest": _digest(page), "confirm": "y"},
    )
    assert response.status_code == 302
    names = dict(db.session.execute(sa.select(Contractor.code, Contractor.name)).all())
    assert names[rows[1][0]] == rows[1][1] and names["C900"] == "新規情報サービス株式会社"
    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "register.import")
    ).all()
    assert len(entries) == 1 and entries[0].username == "admin"
    # The same token again: the file is gone, nothing is applied twice.
    again = client.post(
        f"/admin/registers/contractors/upload/{token}/apply",
        data={"digest": _digest(page), "confirm": "y"},
    )
    assert again.status_code == 302
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action == "register.import")
        )
        == 1
    )


def test_apply_refuses_when_the_register_changed_after_the_preview(demo_app):
    rows = _contractors(demo_app)
    rows[1][1] = "名称変更株式会社"
    client = login(demo_app, "admin")
    token = _token(_upload(client, "contractors", csv_bytes(rows)))
    page = client.get(f"/admin/registers/contractors/upload/{token}").get_data(as_text=True)
    db.session.scalar(sa.select(Contractor).where(Contractor.code == rows[2][0])).name = "別の変更"
    db.session.commit()
    response = client.post(
        f"/admin/registers/contractors/upload/{token}/apply",
        data={"digest": _digest(page), "confirm": "y"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(token)
    assert db.session.scalar(sa.select(Contractor.name).where(Contractor.code == rows[1][0])) != (
        "名称変更株式会社"
    )


def test_a_stored_upload_that_was_altered_is_not_applied(demo_app):
    rows = _contractors(demo_app)
    rows[1][1] = "名称変更株式会社"
    client = login(demo_app, "admin")
    token = _token(_upload(client, "contractors", csv_bytes(rows)))
    page = client.get(f"/admin/registers/contractors/upload/{token}").get_data(as_text=True)
    # Bytes that would deactivate all but one company, with the size to match: only the
    # SHA-256 tells them from the previewed file.
    altered = csv_bytes(rows[:2])
    (file_id,) = db.session.scalars(sa.select(RegisterUpload.file_id)).all()
    db.session.execute(sa.update(StoredFileChunk).filter_by(file_id=file_id).values(data=altered))
    db.session.execute(sa.update(StoredFile).filter_by(id=file_id).values(size=len(altered)))
    db.session.commit()
    before = snapshot()
    response = client.post(
        f"/admin/registers/contractors/upload/{token}/apply",
        data={"digest": _digest(page), "confirm": "y"},
    )
    assert response.status_code == 302 and snapshot() == before


def test_another_admin_cannot_use_someone_elses_upload(demo_app):
    from survey.services import pledges
    from survey.services.accounts import add_user

    with demo_app.test_request_context():
        admin2 = add_user("admin2", "admin", password="another-long-passphrase-26", unit_code="D01")
        db.session.commit()
        # The demo's staff pledge would stop the new account at sign-in (test_pledges).
        pledges.acknowledge(admin2, [v.id for v in pledges.due(admin2)])
        db.session.commit()
    token = _token(
        _upload(login(demo_app, "admin"), "contractors", csv_bytes(_contractors(demo_app)))
    )
    other = demo_app.test_client()
    other.post("/auth/login", data={"username": "admin2", "password": "another-long-passphrase-26"})
    response = other.get(f"/admin/registers/contractors/upload/{token}")
    assert response.status_code == 302 and "/upload" in response.headers["Location"]


def test_bad_rows_are_shown_by_row_and_column_and_nothing_changes(demo_app):
    rows = [["事業者コード", "名称"], ["C001", "重複なし"], ["C001", "重複"], ["", "コードなし"]]
    client = login(demo_app, "admin")
    token = _token(_upload(client, "contractors", xlsx_bytes(rows), "bad.xlsx"))
    response = client.get(f"/admin/registers/contractors/upload/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "2件の問題があります" in page
    assert re.search(r"<td class=\"num\">3</td><td>事業者コード</td>", page)
    assert re.search(r"<td class=\"num\">4</td><td>事業者コード</td>", page)
    assert 'name="confirm"' not in page


def test_a_file_that_is_not_a_register_is_refused_on_the_preview(demo_app):
    client = login(demo_app, "admin")
    token = _token(_upload(client, "units", b"PK\x03\x04garbage", "units.xlsx"))
    response = client.get(f"/admin/registers/units/upload/{token}")
    assert response.status_code == 422 and "壊れている" in response.get_data(as_text=True)


def test_upload_without_a_file_keeps_the_form_with_an_error(demo_app):
    response = login(demo_app, "admin").post("/admin/registers/units/upload", data={})
    assert response.status_code == 422 and "ファイルを選んでください" in response.get_data(
        as_text=True
    )


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_downloads_carry_the_japanese_register_name(demo_app, fmt):
    client = login(demo_app, "auditor")
    for what in ("template", "export"):
        response = client.get(f"/admin/registers/units/{what}.{fmt}")
        assert response.status_code == 200
        disposition = response.headers["Content-Disposition"]
        assert "組織台帳" in unquote(disposition.split("filename*=UTF-8''")[1])
        assert 'filename="units_' in disposition
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "export.register").order_by(AuditEntry.id)
    )
    assert entry.username == "auditor" and entry.object_id == "units"


def test_the_list_searches_filters_sorts_and_pages(demo_app):
    client = login(demo_app, "auditor")
    page = client.get("/admin/registers/units?q=戸籍").get_data(as_text=True)
    assert "戸籍住民課" in page and "総務課" not in page
    page = client.get("/admin/registers/units?status=inactive").get_data(as_text=True)
    assert "条件に合う記録はありません" in page
    first = client.get("/admin/registers/units?sort=code&dir=desc").get_data(as_text=True)
    codes = re.findall(r"<tr>\s*<td>([A-Z0-9-]+)</td>", first)
    assert codes == sorted(codes, reverse=True) and len(codes) == 50
    second = client.get("/admin/registers/units?page=2").get_data(as_text=True)
    assert "2 / " in second
    # The pager keeps what was chosen and leaves out what was not.
    next_link = re.search(r'href="([^"]+)" rel="next"', first).group(1)
    assert unescape(next_link) == "/admin/registers/units?page=2&status=active&sort=code&dir=desc"


def test_the_index_counts_each_register(demo_app):
    page = login(demo_app, "admin").get("/admin/registers/").get_data(as_text=True)
    with demo_app.test_request_context():
        counts = registers.counts()
    for spec in registers.KINDS.values():
        assert spec.register_name in page
    assert f'<td class="num">{counts["systems"][0]}</td>' in page


@pytest.mark.parametrize("role", ["manager", "respondent", "contractor"])
def test_other_roles_are_not_told_the_registers_exist(demo_app, role):
    client = login(demo_app, role)
    for path in (
        "/admin/registers/",
        "/admin/registers/users",
        "/admin/registers/users/export.csv",
    ):
        assert client.get(path).status_code == 404
    assert _upload(client, "users", b"x").status_code == 404
    assert "台帳" not in client.get("/").get_data(as_text=True).split("</nav>")[0]


def test_auditor_reads_but_may_not_upload_or_apply(demo_app):
    admin = login(demo_app, "admin")
    token = _token(_upload(admin, "contractors", csv_bytes(_contractors(demo_app))))
    auditor = login(demo_app, "auditor")
    assert auditor.get("/admin/registers/contractors").status_code == 200
    assert _upload(auditor, "contractors", b"x").status_code == 403
    before = snapshot()
    response = auditor.post(
        f"/admin/registers/contractors/upload/{token}/apply", data={"confirm": "y"}
    )
    assert response.status_code == 403 and snapshot() == before


def test_deactivating_a_unit_still_in_use_is_flagged_before_it_is_applied(demo_app):
    with demo_app.test_request_context():
        rows = read_csv(registers.export_file("units", "csv"))
    division = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "戸籍住民課"))
    assert not db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.parent_id == division.id))
    rows = [row for row in rows if row[0] != division.code]
    client = login(demo_app, "admin")
    response = _upload(client, "units", csv_bytes(rows))
    page = client.get(f"/admin/registers/units/upload/{_token(response)}").get_data(as_text=True)
    assert "無効化: 1件" in page
    warning = page[page.index('id="still-used"') :].split("</div>", 1)[0]
    users = db.session.scalar(
        sa.select(sa.func.count(User.id)).where(User.unit_id == division.id, User.active)
    )
    assert division.code in warning and f"有効な利用者 {users}人" in warning
    assert "実施中の点検の回答" in warning
