"""`flask logs ...`: import, rules, rounds and samples, retention, and the lists the rules use."""

from __future__ import annotations

import sqlalchemy as sa

from survey.extensions import db
from survey.models import (
    AuditEntry,
    LogEntry,
    LogImport,
    ReviewRound,
    SampledEntry,
    SamplingRuleSet,
    ServedDistrict,
    StaffHousehold,
)
from survey.services import logs
from tests.log_helpers import HEADER, build_ward, counts, csv_bytes, row


def _file(tmp_path, rows, name="log.csv", encoding="cp932"):
    path = tmp_path / name
    path.write_bytes(csv_bytes([HEADER, *rows], encoding))
    return str(path)


def _trail(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


ROWS = [
    row("2024/10/01 09:00", "D04-01-0001", "R-1"),
    row("2024/10/01 21:00", "D04-01-0001", "R-2"),
    row("2024/10/02 10:00", "X99-0001", "R-3"),
]


def test_import_checks_then_imports_once(app, tmp_path):
    build_ward()
    runner = app.test_cli_runner()
    path = _file(tmp_path, ROWS)
    checked = runner.invoke(args=["logs", "import", "JUKI", path, "--check"])
    assert checked.exit_code == 0 and "問題はありません: 3 行" in checked.output
    assert counts() == (0, 0)
    done = runner.invoke(args=["logs", "import", "JUKI", path])
    assert done.exit_code == 0 and "取り込みました: 3 行" in done.output
    assert "台帳にない利用者ID: X99-0001（1 行）" in done.output
    again = runner.invoke(args=["logs", "import", "JUKI", path])
    assert again.exit_code == 0 and "取り込み済み" in again.output
    assert counts() == (1, 3)
    (recorded,) = _trail("log.import")  # the import names whoever the trail does
    assert db.session.scalar(sa.select(LogImport.imported_by_name)) == recorded.username


def test_import_lists_every_problem_and_stores_nothing(app, tmp_path):
    build_ward()
    path = _file(tmp_path, [*ROWS, row("昨日", "D04-01-0001"), row("2024/10/03 9:00", "")])
    result = app.test_cli_runner().invoke(args=["logs", "import", "JUKI", path, "--lang", "en"])
    assert result.exit_code == 1
    assert "row 5, '操作日時': The time '昨日' cannot be read" in result.output
    assert "row 6, '職員ID': The value is empty." in result.output
    assert counts() == (0, 0)


def test_an_unknown_source_is_named_with_those_registered(app, tmp_path):
    build_ward()
    result = app.test_cli_runner().invoke(args=["logs", "import", "NOPE", _file(tmp_path, ROWS)])
    assert result.exit_code == 1 and "登録済み: JUKI" in result.output


def test_rules_import_the_shipped_set_once_and_refuse_a_changed_version(app, tmp_path):
    runner = app.test_cli_runner()
    assert (
        "standard@1 標準の抽出ルール: 登録しました" in runner.invoke(args=["logs", "rules"]).output
    )
    assert "登録済みです" in runner.invoke(args=["logs", "rules"]).output
    changed = tmp_path / "changed.yaml"
    text = logs.shipped_rule_files()[0].read_text(encoding="utf-8")
    changed.write_text(text.replace("per_unit: 5", "per_unit: 6"), encoding="utf-8")
    result = runner.invoke(args=["logs", "rules", str(changed)])
    assert result.exit_code == 1 and "新しい版番号（2）" in result.output
    newer = tmp_path / "v2.yaml"
    newer.write_text(text.replace("version: 1", "version: 2"), encoding="utf-8")
    assert "standard@2" in runner.invoke(args=["logs", "rules", str(newer)]).output
    older = tmp_path / "v0.yaml"
    older.write_text(text.replace("version: 1", "version: 1\ndescription: x"), encoding="utf-8")
    assert runner.invoke(args=["logs", "rules", str(older)]).exit_code == 1
    assert db.session.scalar(sa.select(sa.func.count(SamplingRuleSet.id))) == 2
    assert len(_trail("log.rules")) == 2


def test_a_round_is_planned_then_sampled_then_checked(app, tmp_path):
    build_ward()
    runner = app.test_cli_runner()
    runner.invoke(args=["logs", "rules"])
    runner.invoke(args=["logs", "import", "JUKI", _file(tmp_path, ROWS)])
    made = runner.invoke(
        args=["logs", "round", "R2024-10", "--source", "JUKI", "--from", "2024-10-01",
              "--to", "2024-10-31", "--seed", "s1"]
    )  # fmt: skip
    assert made.exit_code == 0 and "seed s1" in made.output, made.output
    drawn = runner.invoke(args=["logs", "sample", "R2024-10"])
    assert "期間中の 3 件から 3 件を抽出しました" in drawn.output, drawn.output
    checked = runner.invoke(args=["logs", "sample", "R2024-10"])
    assert "再現できます" in checked.output
    round_ = db.session.scalar(sa.select(ReviewRound))
    assert round_.status == "sampled" and round_.rule_set.label == "standard@1"
    assert [e.after["sampled"] for e in _trail("log.sample")] == [3]
    assert runner.invoke(args=["logs", "round", "R2024-10", "--source", "JUKI", "--from",
                               "2024-10-01", "--to", "2024-10-31"]).exit_code == 1  # fmt: skip


def test_purge_deletes_logs_past_retention_and_rounds_keep_their_copies(app, tmp_path):
    build_ward()
    runner = app.test_cli_runner()
    runner.invoke(args=["logs", "rules"])
    runner.invoke(args=["logs", "import", "JUKI", _file(tmp_path, ROWS)])
    recent = [row("2026/11/02 09:00", "D04-01-0001", "R-9")]
    runner.invoke(args=["logs", "import", "JUKI", _file(tmp_path, recent, "recent.csv")])
    runner.invoke(args=["logs", "round", "R1", "--source", "JUKI", "--from", "2024-10-01",
                        "--to", "2024-10-31"])  # fmt: skip
    runner.invoke(args=["logs", "sample", "R1"])
    app.config["LOG_RETENTION_DAYS"] = 365
    result = runner.invoke(args=["logs", "purge", "--today", "2025-10-01"])
    assert "取り込み 0 件を削除しました" in result.output  # 2024-10-02 is 364 days before
    result = runner.invoke(args=["logs", "purge", "--today", "2025-10-04"])
    assert "取り込み 1 件を削除しました" in result.output, result.output
    assert counts() == (2, 1)
    purged = db.session.scalar(sa.select(LogImport).where(LogImport.purged_at.is_not(None)))
    assert purged.filename == "log.csv"
    (entry,) = _trail("log.purge")
    assert entry.after["deleted"] == 3 and entry.object_id == str(purged.id)
    copies = db.session.scalars(sa.select(SampledEntry)).all()
    assert len(copies) == 3 and {c.entry_id for c in copies} == {None}
    assert {c.record_id for c in copies} == {"R-1", "R-2", "R-3"}
    checked = runner.invoke(args=["logs", "sample", "R1"])
    assert "削除されたログを含む" in checked.output
    assert "取り込み 0 件" in runner.invoke(args=["logs", "purge", "--today", "2025-10-04"]).output
    assert db.session.scalar(sa.select(sa.func.count(LogEntry.id))) == 1


def test_districts_and_households_replace_their_lists(app, tmp_path):
    ward = build_ward()
    runner = app.test_cli_runner()
    districts = tmp_path / "districts.csv"
    districts.write_bytes(
        csv_bytes(
            [
                ["組織コード・事業者コード", "地区"],
                ["D04-06", "北部"],
                ["C003", "北部"],
                ["C003", "中央"],
                ["C003", "中央"],
            ],
            "cp932",
        )  # fmt: skip
    )
    assert (
        "3 件に置き換えました" in runner.invoke(args=["logs", "districts", str(districts)]).output
    )
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([["組織コード", "地区"], ["D04-06", "北部"], ["Z99", "南部"]]))
    result = runner.invoke(args=["logs", "districts", str(bad)])
    assert result.exit_code == 1 and "3 行目" in result.output and "Z99" in result.output
    assert db.session.scalar(sa.select(sa.func.count(ServedDistrict.id))) == 3
    households = tmp_path / "households.xlsx"
    from tests.register_helpers import xlsx_bytes

    households.write_bytes(xlsx_bytes([["利用者ID", "宛名番号"], ["D04-01-0001", "R-HOME"]]))
    result = runner.invoke(args=["logs", "households", "JUKI", str(households)])
    assert "1 件に置き換えました" in result.output, result.output
    stored = db.session.scalar(sa.select(StaffHousehold))
    assert (stored.source_id, stored.user_code) == (ward.source.id, "D04-01-0001")
    assert [e.action for e in _trail("log.districts") + _trail("log.households")] == [
        "log.districts",
        "log.households",
    ]


def test_an_inactive_source_imports_nothing(app, tmp_path):
    ward = build_ward()
    ward.source.active = False
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["logs", "import", "JUKI", _file(tmp_path, ROWS)])
    assert result.exit_code == 1 and "無効です" in result.output
    assert counts() == (0, 0)
