"""The audit trail is a hash chain that `flask audit verify` checks, and the database keeps it
append-only: an edited or removed entry is named, and two writers never fork the chain.
Anchors (`flask audit anchor`: the newest id and hash, sent to the system log and the auditors'
mail) reveal what the chain alone cannot: entries cut off its end, a chain rewritten whole."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from survey import clock
from survey.extensions import db
from survey.models import AuditAnchor, AuditEntry, OutgoingMail
from survey.models.trail import GENESIS_HASH
from survey.services import trail
from survey.services.accounts import add_user
from tests.smtp_server import smtp_settings

CLERK = SimpleNamespace(id=7, username="clerk")


def _record_many(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        trail.record(
            "answer.save",
            object_type="assignment",
            object_id=i,
            summary=f"保存 {i}",
            before={"answers": {"1": {"option": None, "comment": ""}}},
            after={"answers": {"1": {"option": "yes", "comment": f"コメント{i}"}}},
            user=CLERK,
            remote_addr="192.0.2.10",
        )
        if i % 10 == 9:
            db.session.commit()
    db.session.commit()


def _entries() -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))


def _dialect() -> str:
    return db.engine.dialect.name


def _drop_trigger(kind: str) -> None:
    """Take the database's protection away, as someone with the owner's rights could."""
    with db.engine.begin() as conn:
        if _dialect() == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_no_change")
        else:
            conn.exec_driver_sql(f"DROP TRIGGER audit_entry_no_{kind}")


def _refused(sql: str) -> None:
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.exec_driver_sql(sql)


def test_entries_chain_from_the_genesis_hash_and_verify(app, runner):
    _record_many(120)
    entries = _entries()
    assert [e.id for e in entries] == list(range(1, 121))
    assert entries[0].prev_hash == GENESIS_HASH
    for earlier, later in zip(entries, entries[1:], strict=False):
        assert later.prev_hash == earlier.hash
        assert later.at >= earlier.at
    first = entries[0]
    assert (first.username, first.user_id, first.remote_addr) == ("clerk", 7, "192.0.2.10")
    assert first.after == {"answers": {"1": {"option": "yes", "comment": "コメント0"}}}

    report = trail.verify(batch=7)  # several fetches: the rows stream
    assert (report.count, report.last_id, report.problem) == (120, 120, None)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "120 件" in result.output and "改ざんや削除は見つかりませんでした" in result.output


def test_an_empty_trail_verifies(app, runner):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "0 件" in result.output


def test_recording_is_one_insert_however_long_the_trail(app):
    _record_many(300)
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()).upper())

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        trail.record("download.sheet", object_type="assignment", object_id=1, user=CLERK)
        db.session.commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    touching = [s for s in statements if "AUDIT_ENTRY" in s]
    assert len([s for s in touching if s.startswith("INSERT")]) == 1
    reads = [s for s in touching if s.startswith("SELECT")]
    assert len(reads) == 1 and "ORDER BY AUDIT_ENTRY.ID DESC" in reads[0] and "LIMIT" in reads[0]


def test_a_rolled_back_entry_leaves_no_gap(app, runner):
    _record_many(3)
    trail.record("download.sheet", user=CLERK)
    db.session.rollback()  # the change it belonged to failed
    _record_many(2, start=3)
    assert [e.id for e in _entries()] == [1, 2, 3, 4, 5]
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_writers_at_the_same_time_append_one_after_the_other(app):
    """Four writers, each in its own app context, session and connection, as four requests
    would be: the chain stays one line (a fork would show as two entries with one prev_hash,
    or as a failed verify)."""
    _record_many(1)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def writer(number: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                for i in range(25):
                    trail.record(
                        "download.sheet", summary=f"{number}-{i}", user=CLERK, remote_addr=None
                    )
                    db.session.commit()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    entries = _entries()
    assert len(entries) == 101
    assert len({e.prev_hash for e in entries}) == 101  # no two entries share a parent
    report = trail.verify()
    assert report.problem is None and report.count == 101


def test_the_database_refuses_changes_and_verify_names_an_edited_entry(app, runner):
    _record_many(10)
    _refused("UPDATE audit_entry SET summary = 'x' WHERE id = 4")
    _refused("DELETE FROM audit_entry WHERE id = 4")
    if _dialect() == "postgresql":
        _refused("TRUNCATE audit_entry")
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0

    _drop_trigger("update")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_entry SET summary = '保存 999' WHERE id = 4")
    moment = clock.local(_entries()[3].at).strftime("%Y-%m-%d %H:%M:%S")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "改ざん" in result.output and "id=4" in result.output and moment in result.output
    assert trail.verify().problem.entry_id == 4


def test_verify_names_a_deleted_entry(app, runner):
    _record_many(10)
    _drop_trigger("delete")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_entry WHERE id = 6")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "削除" in result.output and "id=6" in result.output
    assert "id=5" in result.output and "id=7" in result.output  # the entries around the gap
    problem = trail.verify().problem
    assert (problem.kind, problem.entry_id, problem.last_missing) == ("removed", 6, 6)


def test_verify_names_the_first_entry_when_it_is_deleted(app, runner):
    _record_many(3)
    _drop_trigger("delete")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_entry WHERE id = 1")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "id=1" in result.output


def test_verify_names_an_entry_rewritten_with_a_fresh_hash(app, runner):
    """Someone who knows the scheme rewrites entry 5 and recomputes its hash: entry 5 checks
    out alone, but entry 6 still holds the old hash of 5."""
    _record_many(10)
    entry = _entries()[4]
    values = {name: getattr(entry, name) for name in trail.HASHED}
    values["summary"] = "書き換え"
    forged = trail.entry_hash(entry.prev_hash, values)
    _drop_trigger("update")
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE audit_entry SET summary = :s, hash = :h WHERE id = 5"),
            {"s": "書き換え", "h": forged},
        )
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "id=5" in result.output and "書き換え" in result.output
    assert trail.verify().problem.entry_id == 5


def test_times_are_kept_in_utc_to_the_microsecond(app):
    moment = datetime(2026, 6, 2, 23, 30, 15, 123456, tzinfo=UTC)
    in_tokyo = datetime(2026, 6, 3, 8, 30, 15, 123456, tzinfo=ZoneInfo("Asia/Tokyo"))
    trail.record("auth.login", user=CLERK, at=in_tokyo)
    db.session.commit()
    assert trail.as_utc(_entries()[0].at) == moment
    assert trail.verify().problem is None


# --- anchors --------------------------------------------------------------------------------


@pytest.fixture
def anchoring(app):
    """No system log and no mail unless a test sets them up (the machine's /dev/log is not
    ours to write to)."""
    app.config.update(AUDIT_SYSLOG_ADDRESS="", AUDIT_ANCHOR_MAIL_TO=[])
    return app


def _anchor(runner) -> str:
    """Run `audit anchor`; the anchor line it prints."""
    result = runner.invoke(args=["audit", "anchor"])
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()[0]


def _cut_from(entry_id: int) -> None:
    """Delete every entry from `entry_id` on, as an administrator who took the triggers away."""
    _drop_trigger("delete")
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_entry WHERE id >= :id"), {"id": entry_id})


def _forget_anchors() -> None:
    """The same administrator also empties the table of anchors sent."""
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_anchor")


def test_anchoring_records_the_newest_entry_in_the_trail_and_the_table(anchoring, runner):
    _record_many(10)
    newest = _entries()[-1]

    line = _anchor(runner)

    assert line.startswith(f"audit-anchor id=10 hash={newest.hash} count=10 at=")
    [stored] = db.session.scalars(sa.select(AuditAnchor)).all()
    assert (stored.entry_id, stored.entry_hash, stored.entry_count) == (10, newest.hash, 10)
    recorded = _entries()[-1]
    assert (recorded.id, recorded.action, recorded.object_id) == (11, "audit.anchor", "10")
    assert recorded.after["hash"] == newest.hash


def test_cutting_entries_off_the_end_is_caught_by_the_anchor_kept_in_the_database(
    anchoring, runner
):
    _record_many(10)
    _anchor(runner)  # anchors id=10; the anchoring itself is entry 11
    _record_many(5, start=10)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "控え 1 件と照合しました" in result.output

    _cut_from(9)  # entries 9 to 16 gone: what is left still chains

    assert trail.verify().problem is None
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "id=10" in result.output and "その記録がありません" in result.output
    assert "id=8 で終わっています" in result.output and "末尾の記録が削除" in result.output


def test_an_anchor_kept_outside_catches_the_cut_when_the_table_of_anchors_is_emptied(
    anchoring, runner, tmp_path
):
    _record_many(10)
    line = _anchor(runner)
    sent = _entries()[9].hash
    _record_many(3, start=10)

    _cut_from(10)
    _forget_anchors()

    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # nothing left to compare
    result = runner.invoke(args=["audit", "verify", "--anchor", f"10:{sent}"])
    assert result.exit_code == 1
    assert "--anchor" in result.output and "id=10" in result.output
    assert "id=9 で終わっています" in result.output

    # The same line as the system log keeps it, prefix and all.
    saved = tmp_path / "anchors.txt"
    saved.write_text(f"Dec  3 09:00:01 tenken-web tenken: {line}\n", encoding="utf-8")
    result = runner.invoke(args=["audit", "verify", "--anchors", str(saved)])
    assert result.exit_code == 1
    assert f"{saved} の 1 行目" in result.output and "その記録がありません" in result.output


def test_a_chain_rewritten_with_fresh_hashes_is_caught_by_its_anchor(anchoring, runner):
    """Someone who knows the scheme changes entry 5 and recomputes every hash after it: the
    chain verifies, but entry 10 no longer carries the hash that was sent out."""
    _record_many(10)
    _anchor(runner)
    sent = _entries()[9].hash
    _drop_trigger("update")
    prev_hash = _entries()[3].hash
    with db.engine.begin() as conn:
        for entry in _entries()[4:]:
            values = {name: getattr(entry, name) for name in trail.HASHED}
            if entry.id == 5:
                values["summary"] = "書き換え"
            digest = trail.entry_hash(prev_hash, values)
            conn.execute(
                sa.text(
                    "UPDATE audit_entry SET summary = :s, prev_hash = :p, hash = :h WHERE id = :i"
                ),
                {"s": values["summary"], "p": prev_hash, "h": digest, "i": entry.id},
            )
            prev_hash = digest

    assert trail.verify().problem is None
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"id=10 ハッシュ {sent}" in result.output
    assert f"その記録のハッシュは {_entries()[9].hash} です" in result.output
    assert "作り直されています" in result.output


def test_an_intact_trail_verifies_against_every_anchor(anchoring, runner, tmp_path):
    _record_many(4)
    first = _anchor(runner)
    _record_many(4, start=4)
    second = _anchor(runner)
    _record_many(2, start=8)
    saved = tmp_path / "anchors.txt"
    saved.write_text(f"# kept by the security office\n{second}\n", encoding="utf-8")
    pair = first.split()[1].removeprefix("id=") + ":" + first.split()[2].removeprefix("hash=")

    result = runner.invoke(args=["audit", "verify", "--anchor", pair, "--anchors", str(saved)])

    assert result.exit_code == 0, result.output
    assert "控え 4 件と照合しました。すべて一致しています。" in result.output


def test_an_unreadable_anchor_is_refused_with_a_clear_message(anchoring, runner, tmp_path):
    _record_many(3)
    result = runner.invoke(args=["audit", "verify", "--anchor", "3:abc"])
    assert result.exit_code == 2 and "読めません" in result.output

    mangled = tmp_path / "mangled.txt"
    mangled.write_text("控え\naudit-anchor id=3 hash=0123\n", encoding="utf-8")
    result = runner.invoke(args=["audit", "verify", "--anchors", str(mangled)])
    assert result.exit_code == 1
    assert "2 行目は控えとして読めません" in result.output
    assert "何も照合していません" in result.output

    empty = tmp_path / "empty.txt"
    empty.write_text("nothing here\n", encoding="utf-8")
    result = runner.invoke(args=["audit", "verify", "--anchors", str(empty)])
    assert result.exit_code == 1 and "控え" in result.output and "ありません" in result.output


def test_a_broken_trail_is_not_anchored(anchoring, runner):
    _record_many(5)
    _drop_trigger("update")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_entry SET summary = 'x' WHERE id = 3")

    result = runner.invoke(args=["audit", "anchor"])

    assert result.exit_code == 1
    assert "id=3" in result.output and "控えは送っていません" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditAnchor)) == 0


def test_the_anchor_is_mailed_to_the_auditors(anchoring, runner, smtp, tmp_path):
    smtp_settings(anchoring, smtp.port)
    add_user("kansa", "auditor", display_name="監査 正", email="kansa@example.jp")
    add_user("kansa2", "auditor", display_name="監査 副")  # no address
    add_user("joho", "admin", display_name="情報 守", email="joho@example.jp")
    gone = add_user("kansa3", "auditor", display_name="監査 元", email="old@example.jp")
    gone.active = False
    db.session.commit()
    anchoring.config["AUDIT_ANCHOR_MAIL_TO"] = ["KANSA@example.jp", "jimukyoku@example.jp"]
    _record_many(10)
    newest = _entries()[-1]

    _anchor(runner)

    assert sorted(r.recipients[0] for r in smtp.received) == [
        "jimukyoku@example.jp",
        "kansa@example.jp",
    ]
    [message] = smtp.handler.to("kansa@example.jp")
    assert "監査ログの控え（id=10）" in message["Subject"]
    body = message.get_content()
    assert "この値を控えてください" in body
    assert "id=10" in body and newest.hash in body
    assert f"--anchor 10:{newest.hash}" in body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingMail)) == 2
    stored = db.session.scalar(sa.select(AuditAnchor))
    assert "mail kansa@example.jp" in stored.sent_to and "joho" not in stored.sent_to

    # An auditor saves the mail as it came and checks the trail with it.
    saved = tmp_path / "mail.txt"
    saved.write_text(body, encoding="utf-8")
    result = runner.invoke(args=["audit", "verify", "--anchors", str(saved)])
    assert result.exit_code == 0, result.output
    _cut_from(10)
    _forget_anchors()
    result = runner.invoke(args=["audit", "verify", "--anchors", str(saved)])
    assert result.exit_code == 1 and "id=10" in result.output


@pytest.fixture
def syslog(tmp_path):
    """A real datagram socket where the system log's would be, read by the test."""
    path = tmp_path / "log"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        server.setblocking(False)  # what was sent is already waiting when the command returns
        yield SimpleNamespace(path=path, server=server)


def test_the_anchor_goes_to_the_system_log(anchoring, runner, syslog, tmp_path):
    anchoring.config["AUDIT_SYSLOG_ADDRESS"] = str(syslog.path)
    _record_many(10)

    line = _anchor(runner)

    message = syslog.server.recv(4096).decode("utf-8")
    # authpriv.info: facility 10, severity 6.
    assert message.rstrip("\x00") == f"<86>tenken: {line}"
    assert f"hash={_entries()[9].hash}" in line
    stored = db.session.scalar(sa.select(AuditAnchor))
    assert stored.sent_to == f"syslog {syslog.path}"

    saved = tmp_path / "syslog.txt"
    saved.write_text(message, encoding="utf-8")
    _cut_from(5)
    _forget_anchors()
    result = runner.invoke(args=["audit", "verify", "--anchors", str(saved)])
    assert result.exit_code == 1 and "id=10" in result.output


def test_a_system_log_that_refuses_fails_the_command_but_the_anchor_is_kept(
    anchoring, runner, tmp_path
):
    not_a_socket = tmp_path / "log"
    not_a_socket.write_text("")
    anchoring.config["AUDIT_SYSLOG_ADDRESS"] = str(not_a_socket)
    _record_many(3)

    result = runner.invoke(args=["audit", "anchor"])

    assert result.exit_code == 1
    assert "システムログに書き込めませんでした" in result.output
    assert result.stdout.startswith("audit-anchor id=3 ")
    stored = db.session.scalar(sa.select(AuditAnchor))
    assert stored.entry_id == 3 and "syslog" not in stored.sent_to
