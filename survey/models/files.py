"""Files kept in the database, so that every app server serves every file and one database
backup holds them all: a StoredFile row says how big the file is and what its SHA-256 is, and
its bytes are StoredFileChunk rows of services/files.CHUNK_SIZE, read and written one at a time.

Plain rows of bytes (bytea on PostgreSQL, BLOB on SQLite) rather than PostgreSQL's large
objects: they work the same on both databases, a plain pg_dump or SQLite backup carries them
like any other row, the application's role needs no large-object rights, and deleting a file is
an ordinary DELETE (a large object outlives the row naming it unless it is unlinked)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from survey.extensions import db
from survey.models.types import utcnow


class StoredFile(db.Model):
    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # The name a file had under instance/uploads/ before the upgrade that moved files into the
    # database; a row with this name and no chunks is a file that folder did not hold, which
    # `flask files load` can still bring in from another server's folder.
    origin: Mapped[str | None] = mapped_column(sa.String(64), unique=True)


class StoredFileChunk(db.Model):
    __tablename__ = "stored_file_chunk"

    file_id: Mapped[int] = mapped_column(
        sa.ForeignKey("stored_file.id", ondelete="CASCADE"), primary_key=True
    )
    part: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
