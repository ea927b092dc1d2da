"""Registers through the API: the security office and the auditors read them as the register
pages show them; the office imports a file with a preview, then applies exactly that preview,
once, by the pages' rules; nobody else is told the registers exist."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEntry, Contractor, RegisterUpload, StoredFile
from survey.services import registers
from tests.api.helpers import bearer, token_for
from tests.register_helpers import csv_bytes, read_csv, snapshot


def _contractors(demo_app) -> list[list[str]]:
    with demo_app.test_request_context():
        return read_csv(registers.export_file("contractors", "csv"))


def _upload(client, secret: str, data: bytes, kind: str = "contractors", name="台帳.csv"):
    return client.post(
        f"/api/v1/registers/{kind}/imports",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers=bearer(secret),
    )


def _apply(client, secret: str, preview: dict, kind: str = "contractors"):
    return client.post(
        f"/api/v1/registers/{kind}/imports/{preview['id']}/apply",
        json={"digest": preview["digest"]},
        headers=bearer(secret),
    )


def _imports() -> int:
    return db.session.scalar(
        sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action == "register.import")
    )


def _kept_uploads() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RegisterUpload))


def _stored_files() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile))


def _admin() -> str:
    return token_for("admin", ("answers", "admin"))


def test_the_office_and_the_auditors_read_the_registers_as_the_pages_show_them(demo_app):
    client = demo_app.test_client()
    for secret in (_admin(), token_for("auditor", ())):
        index = client.get("/api/v1/registers", headers=bearer(secret))
        assert index.status_code == 200
        kinds = {k["kind"]: k for k in index.get_json()}
        assert set(kinds) == set(registers.KINDS)
        assert kinds["contractors"]["register"] == "委託事業者台帳"
        active = kinds["contractors"]["active"]
        assert active > 0

        listed = client.get("/api/v1/registers/contractors", headers=bearer(secret)).get_json()
        assert listed["total"] == active and listed["pages"] == 1
        rows = _contractors(demo_app)
        first = listed["rows"][0]
        assert first["active"] is True
        assert [first["values"][c["key"]] for c in listed["columns"]] == rows[1]
        assert [c["title"] for c in listed["columns"]] == rows[0]

    name = rows[1][1]
    found = client.get(
        "/api/v1/registers/contractors",
        query_string={"q": name, "status": "all", "sort": "name", "dir": "desc"},
        headers=bearer(secret),
    ).get_json()
    assert [r["values"]["name"] for r in found["rows"]] == [name]
    unknown = client.get(
        "/api/v1/registers/contractors", query_string={"sort": "salary"}, headers=bearer(secret)
    )
    assert unknown.status_code == 422 and "sort" in unknown.get_json()["errors"]
    assert client.get("/api/v1/registers/payroll", headers=bearer(secret)).status_code == 404


@pytest.mark.parametrize("role", ["manager", "respondent", "contractor"])
def test_other_roles_tokens_are_not_told_the_registers_exist(demo_app, role):
    secret = token_for(role, ("answers",))
    client = demo_app.test_client()
    data = csv_bytes(_contractors(demo_app))
    before = snapshot()
    for response in (
        client.get("/api/v1/registers", headers=bearer(secret)),
        client.get("/api/v1/registers/users", headers=bearer(secret)),
        _upload(client, secret, data),
    ):
        assert response.status_code == 404
        assert response.get_json()["code"] == 404
    assert snapshot() == before and _kept_uploads() == 0
    denied = db.session.scalars(
        sa.select(AuditEntry.object_type).where(
            AuditEntry.action == "access.denied", AuditEntry.username == role
        )
    ).all()
    assert denied == ["register"] * 3


def test_a_read_only_token_cannot_import_even_the_office_s(demo_app):
    client = demo_app.test_client()
    rows = _contractors(demo_app)
    rows[1][1] = "名称変更株式会社"
    secret = token_for("admin", ())
    before = snapshot()
    refused = _upload(client, secret, csv_bytes(rows))
    assert refused.status_code == 403 and "admin" in refused.get_json()["message"]
    # A preview made with the office's admin token cannot be applied with its read-only one.
    preview = _upload(client, _admin(), csv_bytes(rows)).get_json()
    assert _apply(client, secret, preview).status_code == 403
    auditor = _upload(client, token_for("auditor", ()), csv_bytes(rows))
    assert auditor.status_code == 403
    assert snapshot() == before and _imports() == 0


def test_the_office_previews_then_applies_exactly_that_preview_once(demo_app):
    client = demo_app.test_client()
    secret = _admin()
    rows = _contractors(demo_app)
    changed_code, rows[1][1] = rows[1][0], "株式会社さくら情報システムズ"
    rows.append(["C900", "新規情報サービス株式会社"])
    before = snapshot()

    made = _upload(client, secret, csv_bytes(rows, "cp932"))
    assert made.status_code == 201, made.get_json()
    preview = made.get_json()
    assert preview["counts"] == {"added": 1, "changed": 1, "deactivated": 0}
    assert preview["added"][0]["key"] == "C900" and preview["added"][0]["row"] == len(rows)
    assert {"column": "名称", "old": _contractors(demo_app)[1][1], "new": rows[1][1]} in (
        preview["changed"][0]["fields"]
    )
    assert preview["expires_at"] and len(preview["digest"]) == 64
    assert snapshot() == before  # a preview changes nothing
    again = client.get(
        f"/api/v1/registers/contractors/imports/{preview['id']}", headers=bearer(secret)
    )
    assert again.status_code == 200 and again.get_json()["digest"] == preview["digest"]

    applied = _apply(client, secret, preview)
    assert applied.status_code == 200, applied.get_json()
    assert applied.get_json() == {
        "kind": "contractors",
        "register": "委託事業者台帳",
        "applied": True,
        "counts": {"added": 1, "changed": 1, "deactivated": 0},
    }
    names = dict(db.session.execute(sa.select(Contractor.code, Contractor.name)).all())
    assert names[changed_code] == rows[1][1] and names["C900"] == "新規情報サービス株式会社"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "register.import"))
    assert entry.username == "admin"

    # Applying twice applies once: the preview is gone, and says so.
    twice = _apply(client, secret, preview)
    assert twice.status_code == 410
    assert "適用済み" in twice.get_json()["message"]
    assert _imports() == 1 and _kept_uploads() == 0
    calls = db.session.scalars(
        sa.select(AuditEntry.summary).where(AuditEntry.action == "api.call")
    ).all()
    assert f"POST /api/v1/registers/contractors/imports/{preview['id']}/apply" in calls


def test_a_malformed_file_names_row_and_column_and_stores_nothing(demo_app):
    client = demo_app.test_client()
    rows = _contractors(demo_app)
    rows[2][1] = ""  # 名称 is required
    rows.append([rows[1][0], "重複株式会社"])
    before = snapshot()
    files_before = _stored_files()
    response = _upload(client, _admin(), csv_bytes(rows))
    assert response.status_code == 422
    problems = response.get_json()["errors"]["file"]
    assert {"row": 3, "column": "名称", "message": "値を入力してください。"} in problems
    assert any(p["row"] == len(rows) and p["column"] == "事業者コード" for p in problems)
    assert snapshot() == before
    assert _kept_uploads() == 0 and _stored_files() == files_before and _imports() == 0
    english = client.post(
        "/api/v1/registers/contractors/imports",
        data={"file": (io.BytesIO(csv_bytes(rows)), "register.csv")},
        content_type="multipart/form-data",
        headers=bearer(_admin(), "en"),
    ).get_json()
    assert english["message"] == "The file has problems and cannot be imported."
    assert {"row": 3, "column": "名称", "message": "Enter a value."} in english["errors"]["file"]

    not_a_register = _upload(client, _admin(), b"\x00\x01 nothing", name="x.csv")
    assert not_a_register.status_code == 422
    (whole_file,) = not_a_register.get_json()["errors"]["file"]
    assert whole_file["row"] is None and whole_file["column"] is None
    assert snapshot() == before and _kept_uploads() == 0 and _stored_files() == files_before


def test_a_stale_or_expired_preview_is_refused_clearly(demo_app):
    client = demo_app.test_client()
    secret = _admin()
    rows = _contractors(demo_app)
    rows[1][1] = "名称変更株式会社"
    preview = _upload(client, secret, csv_bytes(rows)).get_json()
    # Someone changes the register after the preview: nothing is applied, the preview stays.
    db.session.scalar(sa.select(Contractor).where(Contractor.code == rows[2][0])).name = "別の変更"
    db.session.commit()
    before = snapshot()
    stale = _apply(client, secret, preview)
    assert stale.status_code == 409
    assert "台帳が変更された" in stale.get_json()["message"]
    assert snapshot() == before and _imports() == 0
    # Read again, it shows the new comparison; that one applies.
    fresh = client.get(
        f"/api/v1/registers/contractors/imports/{preview['id']}", headers=bearer(secret)
    ).get_json()
    assert fresh["digest"] != preview["digest"] and fresh["counts"]["changed"] == 2
    assert _apply(client, secret, fresh).status_code == 200

    # An upload older than two hours is gone.
    old = _upload(client, secret, csv_bytes(_contractors(demo_app)[:2])).get_json()
    db.session.execute(
        sa.update(RegisterUpload).values(created_at=RegisterUpload.created_at - timedelta(hours=3))
    )
    db.session.commit()
    for response in (
        _apply(client, secret, old),
        client.get(f"/api/v1/registers/contractors/imports/{old['id']}", headers=bearer(secret)),
    ):
        assert response.status_code == 410
        assert "期限が切れています" in response.get_json()["message"]
    assert _imports() == 1


def test_a_preview_is_its_uploaders_only(demo_app):
    from survey.services.accounts import add_user

    with demo_app.test_request_context():
        add_user("admin2", "admin", password="another-long-passphrase-26", unit_code="D01")
        db.session.commit()
    client = demo_app.test_client()
    rows = _contractors(demo_app)
    rows[1][1] = "名称変更株式会社"
    preview = _upload(client, _admin(), csv_bytes(rows)).get_json()
    other = token_for("admin2", ("answers", "admin"))
    before = snapshot()
    assert _apply(client, other, preview).status_code == 410
    assert snapshot() == before
