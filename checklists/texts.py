"""The texts of a checklist as a reader gets them: in their language, for their kind of reader,
and longer texts with paragraphs and lists.

A file may give each text in Japanese and English (`text`, `text_en`) and, where an item speaks
to the division that confirms a contractor's work, a wording for the contractor's own account
(`text_contractor`, `text_contractor_en`). `pick` chooses among them. Longer texts (the
checklist's and a category's description, an item's help and examples) may hold paragraphs
and lists in a small plain-text form that `blocks` reads: never markup, so nothing in a file
can become HTML (survey/formatting.py escapes every line it draws).
"""

from __future__ import annotations

import re
from typing import NamedTuple

# A list entry: a line starting with "- " (or "-" and a full-width space) or with "・".
_BULLET = re.compile(r"^(?:-[ \u3000]+|・\s*)")


def pick(obj: object, name: str, lang: str, audience: str = "staff") -> str:
    """The text `name` of `obj` for a reader in `lang` ("ja" or "en") of `audience` ("staff" or
    "contractor"). English where the file gives it; for a contractor, the contractor's wording
    first in each language (the staff wording in English reads better than none at all, but
    the contractor's in Japanese better than the staff's in Japanese)."""
    order = [f"{name}_en", name] if lang == "en" else [name]
    if audience == "contractor":
        contractor = [f"{name}_contractor_en", f"{name}_en", f"{name}_contractor", name]
        order = contractor if lang == "en" else [f"{name}_contractor", name]
    return next((text for attr in order if (text := getattr(obj, attr, "") or "")), "")


class Block(NamedTuple):
    kind: str  # "p": a paragraph (its lines kept as line breaks) | "ul": a list (its entries)
    lines: tuple[str, ...]


def blocks(text: str) -> list[Block]:
    """Paragraphs and lists: a blank line ends a paragraph; lines starting with "- " or "・"
    are the entries of a list. Everything else is text as written."""
    found: list[Block] = []
    kind, lines = "", []
    for raw in (text or "").replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        bullet = _BULLET.match(line)
        this = "" if not line else "ul" if bullet else "p"
        if this != kind and lines:
            found.append(Block(kind, tuple(lines)))
            lines = []
        kind = this
        if bullet:
            entry = line[bullet.end() :].strip()
            if entry:
                lines.append(entry)
        elif line:
            lines.append(line)
    if lines:
        found.append(Block(kind, tuple(lines)))
    return found


def plain(text: str) -> str:
    """The text for a spreadsheet cell: one line per line of a paragraph, "・" before each
    list entry, a blank line between paragraphs."""
    parts = []
    for block in blocks(text):
        if block.kind == "ul":
            parts.append("\n".join(f"・{entry}" for entry in block.lines))
        else:
            parts.append("\n".join(block.lines))
    return "\n\n".join(parts)
