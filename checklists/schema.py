"""The checklist format as data classes.

A checklist file describes one version of one checklist: its items grouped in categories, the
answer scale of each item, and when a comment or evidence is required. The same objects come out
of the YAML reader and the Excel reader, and go into the database importer and the writers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields, is_dataclass

# "person": a comprehension test (理解度テスト), taken by each person on a course
# (survey/services/training.py) rather than answered by a unit; it has `pass_mark` and each
# item its `correct` answer.
TARGET_KINDS = ("unit", "system", "contract", "contractor", "person")
TEST_TARGET = "person"
# The class of an answer option says how it counts (checklists/scoring.py has the rules):
# compliant, partial (一部実施), noncompliant and unknown (わからない) are applicable, the
# denominator of 該当率; excluded (対象外) and informational (a branch or a fact, never rated)
# leave both counts.
OPTION_CLASSES = ("compliant", "partial", "noncompliant", "unknown", "excluded", "informational")
# When a comment or evidence is asked for, by the class of the chosen option.
REQUIREMENT_RULES = ("never", "noncompliant", "compliant", "always")
# Who reads a questionnaire: the ward's own staff, or a contractor's account answering for
# its company. An option may be offered to one of them only; an item may word itself for each.
AUDIENCES = ("staff", "contractor")
# Targets whose questionnaires a contractor's account may answer (survey.access).
CONTRACTOR_TARGETS = ("contract", "contractor")
# Whether a published checklist marks an item as a measure that must be in place, or one
# that is only recommended (left unmarked when the file says neither).
IMPORTANCE = ("required", "recommended")
# What a checklist's grades are set on: the percentage of the best possible points, or the
# points themselves (checklists.scoring.grade).
GRADE_BASES = ("percent", "points")
# The item keys a checklist's `defaults` may give, for every item that does not give its own.
DEFAULTABLE = ("scale", "comment", "evidence")


def added(default: object = "") -> object:
    """A field added after checklists were first stored. Left out of the content hash while it
    holds its default, so that a version stored before keeps the hash its file had: importing
    the same file again stays a no-op and a published version is not taken for changed."""
    return field(default=default, metadata={"hashed_when_set": True})


@dataclass(frozen=True)
class Option:
    code: str
    label: str
    label_en: str
    klass: str  # one of OPTION_CLASSES
    score: int | None = None
    audience: str = added()  # "" (everyone) or one of AUDIENCES: who may choose it


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
    help_en: str = added()
    heading: str = added()  # 小見出し: shown above the item, opening a run of items
    heading_en: str = added()
    # The wording a contractor's account reads (「貴社は…していますか」), where the item
    # speaks to the division that confirms the contractor's work.
    text_contractor: str = added()
    text_contractor_en: str = added()
    help_contractor: str = added()
    help_contractor_en: str = added()
    examples: str = added()  # ways to check or meet the item, shown folded beside it
    examples_en: str = added()
    importance: str = added()  # "" or one of IMPORTANCE
    correct: str = added()  # a test's item: the code of the right option (checklists/scoring.py)


@dataclass(frozen=True)
class Category:
    code: str
    title: str
    title_en: str = ""
    items: tuple[Item, ...] = ()
    description: str = added()
    description_en: str = added()
    # The whole category is asked only when an earlier item had one of these answers: each of
    # its items without a condition of its own takes this one (see `effective_condition`).
    condition: Condition | None = added(None)


@dataclass(frozen=True)
class Band:
    """One grade: every result from `min` up to the next band's (the lowest band takes every
    result below it too)."""

    min: int
    label: str
    label_en: str = ""
    advice: str = ""
    advice_en: str = ""
    below_standard: bool = False  # a result the office follows up (e.g. no contract renewal)


@dataclass(frozen=True)
class Grades:
    basis: str  # one of GRADE_BASES
    bands: tuple[Band, ...]  # highest first


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
    description_en: str = added()
    # What a contractor's account reads above the questionnaire, in place of `description`.
    description_contractor: str = added()
    description_contractor_en: str = added()
    grades: Grades | None = added(None)
    # A comprehension test's pass mark: the percentage of items answered correctly to pass.
    pass_mark: int | None = added(None)

    @property
    def items(self) -> list[Item]:
        return [item for category in self.categories for item in category.items]

    def content_hash(self) -> str:
        """A fingerprint of the content, so re-importing the same file is recognised as a no-op."""
        payload = json.dumps(_hashed(self), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _hashed(value: object) -> object:
    """The value as dataclasses.asdict gives it, less the added fields at their defaults."""
    if is_dataclass(value):
        return {
            f.name: _hashed(getattr(value, f.name))
            for f in fields(value)
            if not (f.metadata.get("hashed_when_set") and getattr(value, f.name) == f.default)
        }
    if isinstance(value, (list, tuple)):
        return [_hashed(entry) for entry in value]
    return value


def effective_condition(category: Category, item: Item) -> Condition | None:
    """The condition under which the item is asked: its own, or else its category's. An item of
    a conditional category may only have a condition on an item of the same category
    (validate.py), which is asked under the category's condition: so both hold."""
    return item.condition or category.condition


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
