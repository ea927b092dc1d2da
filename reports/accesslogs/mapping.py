"""How one system writes its access-log export: the column mapping the office registers once.

A mapping names, by their headings in the file's first row, the columns holding each field of
an entry; only the time, the user id and the record looked up are required. `user_pattern`
says how a user id in the log resolves through the registers: a regular expression matched
against the whole id, whose named groups `user` (a tenken username), `unit` (an org unit code)
or `contractor` (a company code) are looked up in that order. The default, `(?P<user>.+)`,
takes the id for a username; `(?P<unit>D\\d{2}-\\d{2})-\\d{4}` reads staff ids that begin with
their unit's code.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from reports.accesslogs.messages import Problem

# (field, required, longest value stored): the order of the columns on screen and in files.
FIELDS = (
    ("time", True, 0),
    ("date", False, 0),
    ("user", True, 64),
    ("terminal", False, 64),
    ("operation", False, 64),
    ("record", True, 64),
    ("district", False, 32),
    ("reason", False, 64),
    ("request", False, 64),
)
REQUIRED = tuple(name for name, required, _ in FIELDS if required)
MAX_LENGTH = {name: longest for name, _, longest in FIELDS if longest}
ENCODINGS = ("auto", "utf-8", "cp932")
DELIMITERS = {",": "comma", "\t": "tab"}
DEFAULT_PATTERN = "(?P<user>.+)"
PATTERN_GROUPS = ("user", "unit", "contractor")
PATTERN_MAX = 300


def heading_key(text: str) -> str:
    """A heading as compared: full-width and half-width alike, spaces and case ignored."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


@dataclass(frozen=True)
class Mapping:
    columns: dict[str, str]  # field -> heading in the file (fields left out are not in the log)
    user_pattern: str = DEFAULT_PATTERN
    encoding: str = "auto"
    delimiter: str = ","
    time_format: str = ""  # strptime format; empty: the usual forms are recognised
    pattern: re.Pattern | None = field(default=None, compare=False, repr=False)

    def compiled(self) -> re.Pattern:
        return self.pattern or re.compile(self.user_pattern)


def check(mapping: Mapping) -> list[Problem]:
    """Every problem with a mapping, each naming the field it concerns."""
    problems = []
    for name in REQUIRED:
        if not mapping.columns.get(name, "").strip():
            problems.append(Problem(name, "mapping_required"))
    keys: dict[str, str] = {}
    for name, heading in mapping.columns.items():
        if not heading.strip():
            continue
        if heading_key(heading) in keys:
            problems.append(
                Problem(
                    name,
                    "mapping_same_heading",
                    {"heading": heading, "other": keys[heading_key(heading)]},
                )
            )
        keys.setdefault(heading_key(heading), name)
    if mapping.encoding not in ENCODINGS:
        problems.append(Problem("encoding", "mapping_encoding", {"allowed": ", ".join(ENCODINGS)}))
    if mapping.delimiter not in DELIMITERS:
        problems.append(Problem("delimiter", "mapping_delimiter"))
    problems += _check_pattern(mapping.user_pattern)
    if mapping.time_format and "%" not in mapping.time_format:
        problems.append(Problem("time_format", "mapping_time_format"))
    return problems


def _check_pattern(text: str) -> list[Problem]:
    if len(text) > PATTERN_MAX:
        return [Problem("user_pattern", "pattern_too_long", {"max": PATTERN_MAX})]
    try:
        compiled = re.compile(text)
    except re.error as error:
        return [Problem("user_pattern", "pattern_invalid", {"detail": str(error)})]
    groups = set(compiled.groupindex)
    if not groups & set(PATTERN_GROUPS):
        return [Problem("user_pattern", "pattern_no_group")]
    unknown = groups - set(PATTERN_GROUPS)
    if unknown:
        return [
            Problem("user_pattern", "pattern_unknown_group", {"groups": ", ".join(sorted(unknown))})
        ]
    return []
