"""What an audit entry changed, field by field: its before and after JSON side by side.

Nested objects are opened into one row per leaf (`targets › note`), so a change deep inside
shows as that one field; a list stays one value (JSON on one line, or indented when it holds
objects or lists). Whether a field changed is decided on its canonical JSON, where 1 and true
differ although Python holds them equal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Path = tuple[str, ...]


@dataclass(frozen=True)
class Value:
    text: str
    literal: bool  # JSON other than a string (number, true, false, null, list, object)

    @property
    def block(self) -> bool:
        """Indented JSON: shown as preformatted lines."""
        return self.literal and "\n" in self.text


@dataclass(frozen=True)
class FieldChange:
    path: Path  # () when before or after is not an object: the whole value
    before: Value | None  # None: the field is not there on that side
    after: Value | None

    @property
    def kind(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "same" if self.before == self.after else "changed"


def _leaves(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    if not isinstance(value, dict):
        yield path, value
    elif value:
        for key, inner in value.items():
            yield from _leaves(inner, (*path, str(key)))
    elif path:  # an empty object inside is a value; an empty entry has no fields
        yield path, value


def _value(value: Any) -> Value:
    if isinstance(value, str):
        return Value(value, literal=False)
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    nested = any(isinstance(item, dict | list) for item in items)
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2 if nested else None)
    return Value(text, literal=True)


def changes(before: Any, after: Any) -> list[FieldChange]:
    """Every field of either side, in the order of their paths; None: that side was not
    recorded (an entry that created or removed something has only one)."""
    old = {} if before is None else {path: _value(v) for path, v in _leaves(before)}
    new = {} if after is None else {path: _value(v) for path, v in _leaves(after)}
    paths = sorted(old.keys() | new.keys())
    return [FieldChange(path, old.get(path), new.get(path)) for path in paths]
