"""The checklist format as data classes.

A checklist file describes one version of one checklist: its items grouped in categories, the
answer scale of each item, and when a comment or evidence is required. The same objects come out
of the YAML reader and the Excel reader, and go into the database importer and the writers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

TARGET_KINDS = ("unit", "system", "contract", "contractor")
OPTION_CLASSES = ("compliant", "noncompliant", "excluded")
# When a comment or evidence is asked for, by the class of the chosen option.
REQUIREMENT_RULES = ("never", "noncompliant", "compliant", "always")


@dataclass(frozen=True)
class Option:
    code: str
    label: str
    label_en: str
    klass: str  # one of OPTION_CLASSES; "excluded" (対象外) leaves both counts
    score: int | None = None


@dataclass(frozen=True)
class Scale:
    code: str
    title: str
    options: tuple[Option, ...]

    def option(self, code: str) -> Option | None:
        return next((o for o in self.options if o.code == code), None)


@dataclass(frozen=True)
class Condition:
    """The item is asked only when an earlier item was answered with one of `options`."""

    item: int
    options: tuple[str, ...]


@dataclass(frozen=True)
class Item:
    number: int
    key: str  # stable across versions, so rounds of a checklist can be compared
    text: str
    text_en: str = ""
    help: str = ""
    scale: str = "yes_no_na"
    comment: str = "noncompliant"  # one of REQUIREMENT_RULES
    evidence: str = "never"
    condition: Condition | None = None


@dataclass(frozen=True)
class Category:
    code: str
    title: str
    title_en: str = ""
    items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class Checklist:
    code: str
    version: int
    title: str
    target: str  # one of TARGET_KINDS
    title_en: str = ""
    description: str = ""
    categories: tuple[Category, ...] = ()
    # Scales defined in the file itself; the built-in ones are always available.
    scales: tuple[Scale, ...] = field(default=())

    @property
    def items(self) -> list[Item]:
        return [item for category in self.categories for item in category.items]

    def content_hash(self) -> str:
        """A fingerprint of the content, so re-importing the same file is recognised as a no-op."""
        payload = json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


BUILTIN_SCALES: dict[str, Scale] = {
    scale.code: scale
    for scale in (
        Scale(
            "yes_no_na",
            "はい／いいえ／対象外",
            (
                Option("yes", "はい", "Yes", "compliant", 1),
                Option("no", "いいえ", "No", "noncompliant", 0),
                Option("na", "対象外", "Not applicable", "excluded", None),
            ),
        ),
        Scale(
            "yes_no",
            "はい／いいえ",
            (
                Option("yes", "はい", "Yes", "compliant", 1),
                Option("no", "いいえ", "No", "noncompliant", 0),
            ),
        ),
        Scale(
            "rating3",
            "3段階評価",
            (
                Option("strong", "特に力を入れている", "Particular effort", "compliant", 3),
                Option("sufficient", "十分である", "Sufficient", "compliant", 2),
                Option("issues", "課題が残されている", "Issues remain", "noncompliant", 1),
            ),
        ),
    )
}
