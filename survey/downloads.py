"""How a download is named for the browser: the one Content-Disposition of every file tenken
sends (workbooks, CSV, answer sheets, checklists, registers, evidence); and how a file kept in
the database is sent."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import quote

from flask import Response

from survey.models import StoredFile
from survey.services import files


def content_disposition(filename: str, fallback: str) -> str:
    """RFC 6266: an ASCII `filename` for old clients and the real (Japanese) name as RFC 5987
    `filename*`, which every current browser prefers."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", fallback)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def send_stored(
    file: StoredFile, filename: str, mimetype: str, fallback: str | None = None
) -> Response:
    """A stored file as an attachment, streamed a chunk at a time: memory stays at one chunk
    whatever the file's size. Old clients get `fallback`, else a name in Japanese as
    `file-<id>` and its suffix."""
    if fallback is None:
        fallback = (
            filename if filename.isascii() else f"file-{file.id}{PurePosixPath(filename).suffix}"
        )
    response = Response(files.chunks(file), mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename, fallback)
    response.content_length = file.size
    return response
