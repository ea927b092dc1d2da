"""What every upload goes through before it is read or stored: the bounds of a workbook, and
a file name fit to keep."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

from flask import current_app
from flask_babel import get_locale

from checklists import messages
from checklists.workbook_limits import WorkbookLimits, WorkbookRefused, check_workbook

# Control characters (a NUL cannot be stored by PostgreSQL nor sent in a header) and the
# characters that separate folders on any system a file may come from.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|]')
FILENAME_MAX = 200


def workbook_limits(kind: str) -> WorkbookLimits:
    """The limits of one kind of upload ("answer_sheet", "checklist", "register"), config.py."""
    return WorkbookLimits(**current_app.config["WORKBOOK_LIMITS"][kind])


def workbook_refusal(data: bytes, kind: str, damaged: str) -> str | None:
    """Why an uploaded workbook is not read, in the user's language, or None if it may be.
    `damaged` is the caller's own words for a package that is not a zip at all."""
    try:
        check_workbook(data, workbook_limits(kind))
    except WorkbookRefused as refused:
        if refused.reason == "damaged":
            return damaged
        return messages.text(refused.message_id, str(get_locale() or "ja"), **refused.params)
    return None


def clean_filename(name: str | None, default: str) -> str:
    """The last part of an uploaded file's name, without control characters or separators,
    at most FILENAME_MAX characters with its suffix kept; `default` when nothing is left."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/")
    name = _UNSAFE.sub("_", PurePosixPath(name).name).strip(" .")
    if not name:
        return default
    suffix = PurePosixPath(name).suffix[:16]
    return name if len(name) <= FILENAME_MAX else name[: FILENAME_MAX - len(suffix)] + suffix
