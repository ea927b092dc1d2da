"""How a download is named for the browser: the one Content-Disposition of every file tenken
sends (workbooks, CSV, answer sheets, checklists, registers)."""

from __future__ import annotations

import re
from urllib.parse import quote


def content_disposition(filename: str, fallback: str) -> str:
    """RFC 6266: an ASCII `filename` for old clients and the real (Japanese) name as RFC 5987
    `filename*`, which every current browser prefers."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", fallback)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
