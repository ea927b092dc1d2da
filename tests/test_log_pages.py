"""The office's log pages on the demo ward: registering a source, importing a file through the
preview, starting a round; and nobody else gets to see any of it."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from survey import demo_logs
from survey.extensions import db
from survey.models import AuditEntry, InformationSystem, LogEntry, LogImport, LogSource, ReviewRound
from tests.helpers import login
from tests.register_helpers import csv_bytes

HEADER = demo_logs.HEADER
SOURCE_FORM = {
    "code": "KOKUHO",
    "name": "国民健康保険システム 照会ログ",
    "encoding": "auto",
    "delimiter": ",",
    "user_pattern": demo_logs.PATTERN,
    "time_column": "操作日時",
    "user_column": "職員ID",
    "record_column": "宛名番号",
    "district_column": "地区",
    "active": "y",
}


def _system(name: str) -> int:
    return db.session.scalar(sa.select(InformationSystem.id).where(InformationSystem.name == name))


def _log(*rows) -> bytes:
    return csv_bytes([HEADER, *rows], "cp932")


def _row(when: str, who: str, record: str = "0000000001", request: str = "R-1") -> list[str]:
    return [when, who, "TM-1", "住民票照会", record, "中央", "01", request]


def _upload(client, data: bytes, name: str = "log.csv", code: str = demo_logs.SOURCE):
    response = client.post(f"/logs/sources/{code}/upload", data={"file": (io.BytesIO(data), name)})
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def test_the_office_registers_a_source_and_problems_show_beside_their_fields(demo_app):
    client = login(demo_app, "admin")
    form = {
        **SOURCE_FORM,
        "system_id": _system("国民健康保険システム"),
        "user_pattern": "(?P<who>.+",
    }
    form.pop("time_column")
    refused = client.post("/logs/sources/new", data=form)
    assert refused.status_code == 422
    assert "日時の列" in refused.text and "この列の見出しを指定してください" in refused.text
    assert "正規表現として正しくありません" in refused.text
    assert 'value="国民健康保険システム 照会ログ"' in refused.text  # what was typed stays
    assert db.session.scalar(sa.select(LogSource).where(LogSource.code == "KOKUHO")) is None
    form = {**SOURCE_FORM, "system_id": _system("国民健康保険システム")}
    assert client.post("/logs/sources/new", data=form).status_code == 302
    source = db.session.scalar(sa.select(LogSource).where(LogSource.code == "KOKUHO"))
    assert source.system.name == "国民健康保険システム" and source.terminal_column == ""
    taken = client.post("/logs/sources/new", data=form)
    assert taken.status_code == 422 and "登録済みです" in taken.text
    page = client.get("/logs/")
    assert "国民健康保険システム 照会ログ" in page.text


def test_changing_a_source_keeps_its_code_and_is_recorded(demo_app):
    client = login(demo_app, "admin")
    page = client.get("/logs/sources/JUKI/edit")
    assert 'value="操作日時"' in page.text
    source = db.session.scalar(sa.select(LogSource).where(LogSource.code == "JUKI"))
    form = {**SOURCE_FORM, "code": "JUKI", "system_id": source.system_id, "name": "住民記録 照会"}
    assert client.post("/logs/sources/JUKI/edit", data=form).status_code == 302
    db.session.refresh(source)
    assert source.name == "住民記録 照会" and source.terminal_column == ""
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "log.source"))
    assert [e.summary for e in entries][-1] == "JUKI 住民記録 照会"


def test_a_file_is_previewed_then_imported_once(demo_app):
    client = login(demo_app, "admin")
    data = _log(_row("2026/11/02 09:00:00", "D04-01-0001"), _row("2026/11/02 09:01", "zz-9"))
    preview = client.get(_upload(client, data))
    assert preview.status_code == 200
    assert "行数: 2" in preview.text and "zz-9" in preview.text  # the id no register holds
    # The demo's September and October files only: a preview imports nothing.
    assert db.session.scalar(sa.select(sa.func.count(LogImport.id))) == 2
    action = re.search(r'action="([^"]+/import)"', preview.text).group(1)
    done = client.post(action, follow_redirects=True)
    assert "log.csv を取り込みました（2 行）" in done.text
    assert db.session.scalar(sa.select(sa.func.count(LogImport.id))) == 3
    again = client.get(_upload(client, data, "again.csv"))
    assert "このファイルは取り込み済みです" in again.text and "/import" not in again.text
    assert client.post(action).status_code == 302  # the token is spent: back to upload


def test_a_file_with_problems_lists_them_and_imports_nothing(demo_app):
    client = login(demo_app, "admin")
    data = _log(_row("2026/11/02 09:00", "D04-01-0001"), _row("いつか", "D04-01-0001"))
    preview = client.get(_upload(client, data))
    assert preview.status_code == 422
    assert "1件の問題があります。何も取り込んでいません。" in preview.text
    assert "日時「いつか」を読めません" in preview.text and "/import" not in preview.text
    before = db.session.scalar(sa.select(sa.func.count(LogEntry.id)))
    token = preview.request.path.rsplit("/", 1)[-1]
    refused = client.post(f"/logs/sources/JUKI/upload/{token}/import")
    assert refused.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(LogEntry.id))) == before


def test_starting_a_round_draws_its_sample_and_shows_the_counts(demo_app):
    client = login(demo_app, "admin")
    source = db.session.scalar(sa.select(LogSource).where(LogSource.code == "JUKI"))
    form = {
        "source_id": source.id,
        "rule_set_id": db.session.scalar(sa.select(ReviewRound.rule_set_id).limit(1)),
        "period_from": "2026-10-01",
        "period_to": "2026-10-15",
        "seed": "again",
    }
    page = client.post("/logs/rounds/new", data=form, follow_redirects=True)
    assert page.status_code == 200 and "ログ点検「住民記録システム 照会ログ" in page.text
    made = db.session.scalar(sa.select(ReviewRound).where(ReviewRound.seed == "again"))
    assert made.code == "JUKI-20261001-20261015" and made.status == "sampled"
    assert "南部地域事務所" in page.text and "短時間の大量照会" in page.text
    assert 'id="figures"' in page.text


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"period_from": "2026-12-01", "period_to": "2026-12-31"},
            "period_from",
            "取り込まれていません",
        ),
        ({"period_to": "2026-09-01"}, "period_to", "開始日以降"),
        ({"code": "JUKI-2026-10"}, "code", "使われています"),
        ({"rule_set_id": "999"}, "rule_set_id", "抽出ルールを選んでください"),
    ],
)
def test_a_round_that_cannot_start_says_why(demo_app, change, field, message):
    client = login(demo_app, "admin")
    source = db.session.scalar(sa.select(LogSource).where(LogSource.code == "JUKI"))
    form = {
        "source_id": source.id,
        "rule_set_id": db.session.scalar(sa.select(ReviewRound.rule_set_id).limit(1)),
        "period_from": "2026-10-01",
        "period_to": "2026-10-31",
        **change,
    }
    page = client.post("/logs/rounds/new", data=form)
    assert page.status_code == 422 and message in page.text
    assert db.session.scalar(sa.select(sa.func.count(ReviewRound.id))) == 2  # the demo's two


@pytest.mark.parametrize("role", ["auditor", "manager", "respondent", "contractor"])
def test_nobody_but_the_office_sees_the_log_pages_and_each_try_is_recorded(demo_app, role):
    client = login(demo_app, role)
    assert 'href="/logs/"' not in client.get("/").text  # no menu entry
    for path in ("/logs/", "/logs/imports", "/logs/rounds/JUKI-2026-10", "/logs/sources/JUKI/edit"):
        assert client.get(path).status_code == 404
    denied = db.session.scalars(
        sa.select(AuditEntry).where(
            AuditEntry.action == "access.denied", AuditEntry.username == role
        )
    ).all()
    assert len(denied) == 4


def test_a_source_cannot_take_anothers_code(demo_app):
    client = login(demo_app, "admin")
    form = {**SOURCE_FORM, "system_id": _system("国民健康保険システム")}
    assert client.post("/logs/sources/new", data=form).status_code == 302
    juki = db.session.scalar(sa.select(LogSource).where(LogSource.code == "JUKI"))
    form = {**SOURCE_FORM, "code": "KOKUHO", "system_id": juki.system_id}
    taken = client.post("/logs/sources/JUKI/edit", data=form)
    assert taken.status_code == 422 and "登録済みです" in taken.text
    db.session.refresh(juki)
    assert juki.code == "JUKI"
