"""Files in the database (models/files.py): every uploaded file is written and read back a
chunk at a time, so a file of any size costs one chunk of memory either way, and any app server
serves a file another one stored."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa

from survey.extensions import db
from survey.models import StoredFile, StoredFileChunk

# Big enough that a 10 MB file is 40 rows, small enough that a chunk is nothing to hold in
# memory or to send through PostgreSQL's protocol in one piece.
CHUNK_SIZE = 256 * 1024


class TooLarge(ValueError):
    """More bytes than the caller allows: nothing of the file is kept."""


class FileGone(RuntimeError):
    """A chunk vanished while its file was being sent (nothing deletes evidence: a database
    changed by hand). The download breaks off rather than end as a shorter file."""


def store(
    stream: BinaryIO, *, head: bytes = b"", limit: int | None = None, origin: str | None = None
) -> StoredFile:
    """Store `head` (what the caller already read to look at the file) and the rest of `stream`,
    in the caller's transaction; TooLarge past `limit` bytes, with nothing written left behind."""
    row = StoredFile(size=0, sha256="", origin=origin)
    db.session.add(row)
    db.session.flush()
    try:
        row.size, row.sha256 = _write(row.id, head, stream, limit)
    except TooLarge:
        db.session.delete(row)
        db.session.flush()
        raise
    db.session.flush()
    return row


def _write(file_id: int, head: bytes, stream: BinaryIO, limit: int | None) -> tuple[int, str]:
    """The chunks of one file, numbered from 0; (size, SHA-256) of what was written."""
    digest, size = hashlib.sha256(), 0
    for part, data in enumerate(_chunks(head, stream)):
        size += len(data)
        if limit is not None and size > limit:
            _clear(file_id)
            raise TooLarge(limit)
        digest.update(data)
        db.session.execute(sa.insert(StoredFileChunk).values(file_id=file_id, part=part, data=data))
    return size, digest.hexdigest()


def _clear(file_id: int) -> None:
    db.session.execute(sa.delete(StoredFileChunk).where(StoredFileChunk.file_id == file_id))


def _chunks(head: bytes, stream: BinaryIO) -> Iterator[bytes]:
    """CHUNK_SIZE pieces (the last one shorter) of `head` followed by the stream."""
    buffer = bytearray(head)
    while True:
        while len(buffer) >= CHUNK_SIZE:
            yield bytes(buffer[:CHUNK_SIZE])
            del buffer[:CHUNK_SIZE]
        more = stream.read(CHUNK_SIZE)
        if not more:
            break
        buffer += more
    if buffer:
        yield bytes(buffer)


def is_whole(file: StoredFile) -> bool:
    """Whether every byte of the file is in the database: its chunks are numbered without a gap
    and add up to its size. Asked before a download starts, so that a file a restore or a move
    left out is a 404 and not a download that breaks off. Lengths only: no chunk is read."""
    count, total, last = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.func.length(StoredFileChunk.data)), 0),
            sa.func.max(StoredFileChunk.part),
        ).where(StoredFileChunk.file_id == file.id)
    ).one()
    return total == file.size and (count == 0 or last == count - 1)


def chunks(file: StoredFile) -> Iterator[bytes]:
    """The file's bytes a chunk at a time, each fetched only when the previous one has been
    taken, in a short transaction of its own: a download is sent after its request (and its
    app context and session) has ended, and a slow client holds no transaction open."""
    engine = db.engine

    def fetch(query: sa.Select) -> bytes | None:
        with engine.begin() as conn:
            return conn.scalar(query)

    return _parts(fetch, file.id, file.size)


def read(file: StoredFile) -> bytes:
    """The whole file, in the caller's transaction, for what must be parsed whole anyway (a
    register of a few MB)."""
    return b"".join(_parts(db.session.scalar, file.id, file.size))


def _parts(fetch, file_id: int, size: int) -> Iterator[bytes]:
    query = sa.select(StoredFileChunk.data).where(StoredFileChunk.file_id == file_id)
    sent, part = 0, 0
    while sent < size:
        data = fetch(query.where(StoredFileChunk.part == part))
        if data is None:
            raise FileGone(f"stored_file {file_id}: chunk {part} is missing")
        sent, part = sent + len(data), part + 1
        yield data


def delete(file_ids: Iterable[int]) -> None:
    """Delete files in the caller's transaction (their chunks go with them: ON DELETE CASCADE)."""
    ids = list(file_ids)
    if ids:
        db.session.execute(sa.delete(StoredFile).where(StoredFile.id.in_(ids)))


# --- checks, and files moved in from the instance folders of before ---------------------------


@dataclass(frozen=True)
class Damage:
    file_id: int
    origin: str | None
    reason: str  # "missing": not every byte is there; "sha256": the bytes are not the file's


def check() -> tuple[int, list[Damage]]:
    """Every stored file read back (a chunk at a time) and compared with its size and SHA-256:
    (how many were read, those that do not match)."""
    checked, damaged = 0, []
    for file in db.session.scalars(sa.select(StoredFile).order_by(StoredFile.id)):
        checked += 1
        if not is_whole(file):
            damaged.append(Damage(file.id, file.origin, "missing"))
            continue
        digest = hashlib.sha256()
        for data in _parts(db.session.scalar, file.id, file.size):
            digest.update(data)
        if digest.hexdigest() != file.sha256:
            damaged.append(Damage(file.id, file.origin, "sha256"))
    return checked, damaged


def load_folder(folder: Path) -> tuple[list[StoredFile], list[StoredFile]]:
    """Fill in the files the upgrade did not find in the instance folder it read (when each app
    server kept the files uploaded to it, one server's folder holds only some) from another such
    folder, in the caller's transaction. A file is taken under its old name only, and only with
    the size and SHA-256 recorded for it: returns (the files filled in, those whose namesake in
    the folder holds other bytes and was left out)."""
    loaded, differing = [], []
    for file in db.session.scalars(
        sa.select(StoredFile).where(StoredFile.origin.is_not(None)).order_by(StoredFile.id)
    ):
        path = Path(folder) / file.origin
        if not path.is_file() or is_whole(file):
            continue
        _clear(file.id)
        with path.open("rb") as stream:
            found = _write(file.id, b"", stream, None)
        if found == (file.size, file.sha256):
            loaded.append(file)
        else:
            _clear(file.id)
            differing.append(file)
    return loaded, differing
