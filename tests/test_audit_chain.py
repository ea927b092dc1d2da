"""The audit trail is a hash chain that `flask audit verify` checks, and the database keeps it
append-only: an edited or removed entry is named, and two writers never fork the chain."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEntry
from survey.models.audit import GENESIS_HASH
from survey.services import audit

CLERK = SimpleNamespace(id=7, username="clerk")


def _record_many(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        audit.record(
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

    report = audit.verify(batch=7)  # several fetches: the rows stream
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
        audit.record("download.sheet", object_type="assignment", object_id=1, user=CLERK)
        db.session.commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    touching = [s for s in statements if "AUDIT_ENTRY" in s]
    assert len([s for s in touching if s.startswith("INSERT")]) == 1
    reads = [s for s in touching if s.startswith("SELECT")]
    assert len(reads) == 1 and "ORDER BY AUDIT_ENTRY.ID DESC" in reads[0] and "LIMIT" in reads[0]


def test_a_rolled_back_entry_leaves_no_gap(app, runner):
    _record_many(3)
    audit.record("download.sheet", user=CLERK)
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
                    audit.record(
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
    report = audit.verify()
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
    moment = audit.local(_entries()[3].at).strftime("%Y-%m-%d %H:%M:%S")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "改ざん" in result.output and "id=4" in result.output and moment in result.output
    assert audit.verify().problem.entry_id == 4


def test_verify_names_a_deleted_entry(app, runner):
    _record_many(10)
    _drop_trigger("delete")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_entry WHERE id = 6")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "削除" in result.output and "id=6" in result.output
    assert "id=5" in result.output and "id=7" in result.output  # the entries around the gap
    problem = audit.verify().problem
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
    values = {name: getattr(entry, name) for name in audit.HASHED}
    values["summary"] = "書き換え"
    forged = audit.entry_hash(entry.prev_hash, values)
    _drop_trigger("update")
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE audit_entry SET summary = :s, hash = :h WHERE id = 5"),
            {"s": "書き換え", "h": forged},
        )
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "id=5" in result.output and "書き換え" in result.output
    assert audit.verify().problem.entry_id == 5


def test_times_are_kept_in_utc_to_the_microsecond(app):
    moment = datetime(2026, 6, 2, 23, 30, 15, 123456, tzinfo=UTC)
    in_tokyo = datetime(2026, 6, 3, 8, 30, 15, 123456, tzinfo=ZoneInfo("Asia/Tokyo"))
    audit.record("auth.login", user=CLERK, at=in_tokyo)
    db.session.commit()
    assert audit.as_utc(_entries()[0].at) == moment
    assert audit.verify().problem is None
