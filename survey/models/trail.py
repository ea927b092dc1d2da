"""The audit trail: one row per sign-in, change, approval, download or export, never changed.

Each entry carries the hash of the one before it (a hash chain), so an entry edited or removed
behind the application's back is found by `flask audit verify`. Ids are given by the writer
(the previous id + 1, under a lock), not by a sequence: a sequence leaves gaps on rollback,
and here a gap means that an entry was removed.

The database refuses UPDATE and DELETE (and on PostgreSQL TRUNCATE) on the table through
triggers, created with the table both by the migration and by `create_all` (tests).

`AuditAnchor` lists the chain heads that `flask audit anchor` handed to the system log and to
the auditors' mail. Whoever owns the database can rewrite that table as well: it spares the
operator typing the anchors in, and `flask audit verify` also takes anchors kept elsewhere.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from survey.extensions import db

GENESIS_HASH = "0" * 64


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (
        sa.Index("ix_audit_entry_user_at", "username", "at"),
        sa.Index("ix_audit_entry_action_at", "action", "at"),
        sa.Index("ix_audit_entry_object", "object_type", "object_id"),
    )
    # The trail outlives what it talks about: no foreign keys (a user or an assignment may be
    # deleted; its entries, with the username kept as it was, stay).

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
    user_id: Mapped[int | None] = mapped_column(index=True)
    username: Mapped[str] = mapped_column(sa.String(64), default="")
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    action: Mapped[str] = mapped_column(sa.String(40))
    object_type: Mapped[str] = mapped_column(sa.String(32), default="")
    object_id: Mapped[str] = mapped_column(sa.String(64), default="")
    summary: Mapped[str] = mapped_column(sa.String(500), default="")
    # Canonical JSON text (sorted keys, no spaces), exactly as hashed; None: nothing to show.
    before_json: Mapped[str | None] = mapped_column(sa.Text)
    after_json: Mapped[str | None] = mapped_column(sa.Text)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))

    @property
    def before(self) -> Any:
        return None if self.before_json is None else json.loads(self.before_json)

    @property
    def after(self) -> Any:
        return None if self.after_json is None else json.loads(self.after_json)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} {self.username}>"


class AuditAnchor(db.Model):
    __tablename__ = "audit_anchor"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))  # when it was sent
    entry_id: Mapped[int]  # the newest entry then, no foreign key: that is what is checked
    entry_hash: Mapped[str] = mapped_column(sa.String(64))
    entry_count: Mapped[int]
    sent_to: Mapped[str] = mapped_column(sa.Text)  # the system log's address, mail addresses

    def __repr__(self) -> str:
        return f"<AuditAnchor {self.entry_id} {self.entry_hash[:12]}>"


# --- append-only in the database ------------------------------------------------------------

APPEND_ONLY_MESSAGE = "audit_entry is append-only"

SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
    "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
)
SQLITE_DROP_TRIGGERS = (
    "DROP TRIGGER IF EXISTS audit_entry_no_update",
    "DROP TRIGGER IF EXISTS audit_entry_no_delete",
)

POSTGRESQL_TRIGGERS = (
    "CREATE OR REPLACE FUNCTION audit_entry_refuse() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}: % refused', TG_OP; END $$",
    "CREATE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_entry "
    "FOR EACH ROW EXECUTE FUNCTION audit_entry_refuse()",
    "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_refuse()",
)
POSTGRESQL_DROP_TRIGGERS = (
    "DROP TRIGGER IF EXISTS audit_entry_no_change ON audit_entry",
    "DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_entry",
    "DROP FUNCTION IF EXISTS audit_entry_refuse()",
)


def _ddl(statement: str, dialect: str) -> sa.DDL:
    # DDL() formats its text with %: a literal percent sign is written twice.
    return sa.DDL(statement.replace("%", "%%")).execute_if(dialect=dialect)


for _statement in SQLITE_TRIGGERS:
    sa.event.listen(AuditEntry.__table__, "after_create", _ddl(_statement, "sqlite"))
for _statement in POSTGRESQL_TRIGGERS:
    sa.event.listen(AuditEntry.__table__, "after_create", _ddl(_statement, "postgresql"))
# Dropping the table drops its triggers; the function stays unless dropped too.
sa.event.listen(AuditEntry.__table__, "after_drop", _ddl(POSTGRESQL_DROP_TRIGGERS[2], "postgresql"))
