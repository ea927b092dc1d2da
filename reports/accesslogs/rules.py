"""Sampling rules as data: a YAML file, versioned like a checklist, checked with every problem
named by its key and line.

```yaml
code: standard            # the rule set; each stored version never changes
version: 1
title: 標準の抽出ルール
random:
  per_unit: 5             # entries drawn at random per unit (and per company, for contractors)
rules:
  - key: off-hours        # how figures and samples name the rule
    kind: off_hours       # what it looks for (KINDS below)
    title: 時間外・休日の照会
    night_starts: 20      # from 20:00 …
    night_ends: 7         # … to 07:00, weekends and holidays all day
    closed_days: ["12-29", "12-30", "12-31", "01-02", "01-03"]
```

The kinds and their settings are in `KINDS`; docs/access-logs.md describes each one. The
shipped default is reports/accesslogs/definitions/standard.yaml.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

# The checklist reader's YAML loader: lines kept for every key, YAML 1.2 scalars (yes stays
# text), and brackets counted before PyYAML sees them.
from checklists.loader import _Map, _nests_too_deep, _Seq, _YamlLoader
from reports.accesslogs.messages import Problem, ProblemsFound

SHIPPED = Path(__file__).resolve().parent / "definitions"  # the default rules, standard.yaml
MAX_BYTES = 64 * 1024
RANDOM = "random"  # the reason of an entry drawn at random; no rule may take the key
CODE = re.compile(r"[a-z0-9][a-z0-9_-]*")
DAY = re.compile(r"(\d{1,2})-(\d{1,2})")


@dataclass(frozen=True)
class Setting:
    name: str
    read: Callable[[Any, Callable[..., None]], Any]  # (value, report) -> value or None
    default: Any = None  # None: required


def _integer(low: int, high: int):
    def read(value, report):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            report("rules_integer", min=low, max=high)
            return None
        return value

    return read


def _texts(value, report):
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        report("rules_not_list")
        return None
    return [str(v).strip() for v in value if str(v).strip()]


def _days(value, report):
    texts = _texts(value, report)
    if texts is None:
        return None
    for text in texts:
        match = DAY.fullmatch(text)
        try:
            date(2000, int(match.group(1)), int(match.group(2))) if match else None
        except ValueError:
            match = None
        if match is None:
            report("rules_day", value=text)
            return None
    return [f"{int(t.split('-')[0]):02d}-{int(t.split('-')[1]):02d}" for t in texts]


KINDS: dict[str, tuple[Setting, ...]] = {
    # At night, on weekends, Japanese public holidays and the office's closed days.
    "off_hours": (
        Setting("night_starts", _integer(1, 23)),
        Setting("night_ends", _integer(0, 23)),
        Setting("closed_days", _days, default=[]),
    ),
    # `count` look-ups or more by one user id within `minutes`.
    "burst": (Setting("count", _integer(2, 100_000)), Setting("minutes", _integer(1, 1440))),
    # A record of the user's own household (the source's staff household list).
    "own_household": (),
    # A record of a district the user's unit (or company) does not serve (served districts).
    "other_district": (),
    # A record looked up by `units` units (or companies) or more within the period.
    "many_units": (Setting("units", _integer(2, 10_000)),),
    # A look-up without a request number (申請書番号), for the listed operations (none: all).
    "missing_request": (Setting("operations", _texts, default=[]),),
}
RULE_KEYS = ("key", "kind", "title", "title_en", "description")
TOP_KEYS = ("code", "version", "title", "title_en", "description", "random", "rules")
RANDOM_KEYS = ("per_unit",)


@dataclass(frozen=True)
class Rule:
    key: str
    kind: str
    title: str
    title_en: str = ""
    description: str = ""
    settings: dict[str, Any] = field(default_factory=dict)

    def label(self, lang: str = "ja") -> str:
        return self.title_en if lang[:2] == "en" and self.title_en else self.title

    def closed_days(self, first: date, last: date) -> list[date]:
        """The closed days (off_hours) falling between two days."""
        days = []
        for year in range(first.year, last.year + 1):
            for text in self.settings.get("closed_days", []):
                month, day = (int(part) for part in text.split("-"))
                try:
                    moment = date(year, month, day)
                except ValueError:  # 02-29 in a common year
                    continue
                if first <= moment <= last:
                    days.append(moment)
        return days


@dataclass(frozen=True)
class RuleSet:
    code: str
    version: int
    title: str
    per_unit: int
    rules: tuple[Rule, ...]
    title_en: str = ""
    description: str = ""

    def canonical(self) -> dict[str, Any]:
        """The content as plain data, in a fixed order: stored, hashed and read back."""
        return {
            "code": self.code,
            "version": self.version,
            "title": self.title,
            "title_en": self.title_en,
            "description": self.description,
            "per_unit": self.per_unit,
            "rules": [
                {
                    "key": r.key,
                    "kind": r.kind,
                    "title": r.title,
                    "title_en": r.title_en,
                    "description": r.description,
                    "settings": r.settings,
                }
                for r in self.rules
            ],
        }

    def content_hash(self) -> str:
        """The SHA-256 of the content (not of the file: comments and layout do not count)."""
        text = json.dumps(
            self.canonical(), ensure_ascii=False, sort_keys=True, separators=(",", ":")
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def rule(self, key: str) -> Rule | None:
        return next((r for r in self.rules if r.key == key), None)


def from_canonical(data: dict[str, Any]) -> RuleSet:
    """A rule set stored as `canonical()` data."""
    rules = tuple(
        Rule(r["key"], r["kind"], r["title"], r["title_en"], r["description"], r["settings"])
        for r in data["rules"]
    )
    return RuleSet(
        data["code"],
        data["version"],
        data["title"],
        data["per_unit"],
        rules,
        data["title_en"],
        data["description"],
    )


# --- reading a file ---------------------------------------------------------------------------


class _Reader:
    def __init__(self):
        self.problems: list[Problem] = []

    def report(self, where: str, line: str | int | None, message_id: str, **params: Any) -> None:
        self.problems.append(Problem(where, message_id, params, line=int(line) if line else None))

    def mapping(
        self, value: Any, where: str, line: Any, keys: tuple[str, ...], required: tuple[str, ...]
    ) -> _Map | None:
        if not isinstance(value, _Map):
            self.report(where, line, "rules_not_mapping")
            return None
        for key, at, _first in value.duplicates:
            self.report(_join(where, key), at, "rules_duplicate_key", key=key)
        for key in value:
            if key not in keys:
                self.report(
                    _join(where, key),
                    value.key_where[key],
                    "rules_unknown_key",
                    key=key,
                    allowed=", ".join(keys),
                )
        for key in required:
            if key not in value or value[key] is None or value[key] == "":
                self.report(_join(where, key), value.where, "rules_missing_key", key=key)
        return value

    def text(
        self, values: _Map, key: str, where: str, limit: int, pattern: re.Pattern | None = None
    ) -> str:
        value = values.get(key)
        if value is None or value == "":
            return ""
        text = (
            str(value).strip()
            if isinstance(value, str | int) and not isinstance(value, bool)
            else None
        )
        if (
            text is None
            or len(text) > limit
            or (pattern is not None and not pattern.fullmatch(text))
        ):
            self.report(
                _join(where, key),
                values.key_where[key],
                "rules_code" if pattern else "rules_text",
                max=limit,
            )
            return ""
        return text

    def number(self, values: _Map, key: str, where: str, low: int, high: int) -> int:
        if key not in values or values[key] is None:
            return low
        reports = []
        value = _integer(low, high)(values[key], lambda m, **p: reports.append((m, p)))
        for message_id, params in reports:
            self.report(_join(where, key), values.key_where[key], message_id, **params)
        return low if value is None else value

    def rule(self, value: Any, where: str, line: Any) -> Rule | None:
        kind = value.get("kind") if isinstance(value, _Map) else None
        settings = KINDS.get(kind, ()) if isinstance(kind, str) else ()
        names = tuple(s.name for s in settings)
        required = ("key", "kind", "title") + tuple(s.name for s in settings if s.default is None)
        values = self.mapping(value, where, line, RULE_KEYS + names, required)
        if values is None:
            return None
        if kind is not None and kind not in KINDS:
            self.report(
                _join(where, "kind"),
                values.key_where["kind"],
                "rules_kind",
                kind=kind,
                allowed=", ".join(KINDS),
            )
        key = self.text(values, "key", where, 40, CODE)
        if key == RANDOM:
            self.report(_join(where, "key"), values.key_where["key"], "rules_reserved_key", key=key)
        read: dict[str, Any] = {}
        for setting in settings:
            if setting.name not in values:
                read[setting.name] = setting.default
                continue
            at = values.key_where[setting.name]
            read[setting.name] = setting.read(
                values[setting.name],
                lambda message_id, at=at, name=setting.name, **params: self.report(
                    _join(where, name), at, message_id, **params
                ),
            )
        if kind == "off_hours" and None not in (read.get("night_starts"), read.get("night_ends")):
            if read["night_starts"] <= read["night_ends"]:
                self.report(
                    _join(where, "night_starts"),
                    values.key_where["night_starts"],
                    "rules_hours",
                    starts=read["night_starts"],
                    ends=read["night_ends"],
                )
        return Rule(
            key,
            str(kind),
            self.text(values, "title", where, 100),
            self.text(values, "title_en", where, 100),
            self.text(values, "description", where, 1000),
            read,
        )


def _join(where: str, key: Any) -> str:
    return f"{where}.{key}" if where else str(key)


def _document(data: bytes, reader: _Reader) -> Any:
    if len(data) > MAX_BYTES:
        reader.report("", None, "rules_too_large", max_kb=MAX_BYTES // 1024)
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        reader.report("", data.count(b"\n", 0, error.start) + 1, "rules_not_utf8")
        return None
    if _nests_too_deep(text):
        reader.report("", None, "rules_yaml", detail="too deep")
        return None
    try:
        return yaml.load(text, Loader=_YamlLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        reader.report(
            "", mark.line + 1 if mark else None, "rules_yaml", detail=error.problem or error.context
        )
    except yaml.reader.ReaderError as error:
        reader.report(
            "", text.count("\n", 0, error.position) + 1, "rules_yaml", detail=error.reason
        )
    except RecursionError:
        reader.report("", None, "rules_yaml", detail="too deep")
    return None


def parse(data: bytes) -> RuleSet:
    """The rule set in a YAML file; ProblemsFound lists every problem, each by key and line."""
    reader = _Reader()
    document = _document(data, reader)
    if reader.problems:
        raise ProblemsFound(reader.problems)
    top = reader.mapping(document, "", 1, TOP_KEYS, ("code", "version", "title"))
    if top is None:
        raise ProblemsFound(reader.problems)
    per_unit = 0
    if top.get("random") is not None:
        random = reader.mapping(
            top["random"], "random", top.key_where["random"], RANDOM_KEYS, ("per_unit",)
        )
        if random is not None:
            per_unit = reader.number(random, "per_unit", "random", 0, 1000)
    rules: list[Rule] = []
    listed = top.get("rules")
    if listed is not None and not isinstance(listed, _Seq):
        reader.report("rules", top.key_where["rules"], "rules_not_list")
    for index, value in enumerate(listed if isinstance(listed, _Seq) else []):
        rule = reader.rule(value, f"rules[{index + 1}]", listed.wheres[index])
        if rule is None:
            continue
        if rule.key and any(r.key == rule.key for r in rules):
            reader.report(
                f"rules[{index + 1}].key", listed.wheres[index], "rules_same_key", key=rule.key
            )
        rules.append(rule)
    if not per_unit and not rules and not reader.problems:
        reader.report("", None, "rules_nothing")
    ruleset = RuleSet(
        reader.text(top, "code", "", 40, CODE),
        reader.number(top, "version", "", 1, 1_000_000),
        reader.text(top, "title", "", 200),
        per_unit,
        tuple(rules),
        reader.text(top, "title_en", "", 200),
        reader.text(top, "description", "", 2000),
    )
    if reader.problems:
        raise ProblemsFound(sorted(reader.problems, key=lambda p: p.line or 0))
    return ruleset
