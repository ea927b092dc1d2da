"""Rules that need the whole checklist: codes, uniqueness, order, scales and conditions.

The readers check each value on its own; these rules look across values. A field the reader
could not read is None, and the rules skip it, since its problem has been reported already.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from checklists.problems import Problem
from checklists.schema import (
    BUILTIN_SCALES,
    OPTION_CLASSES,
    REQUIREMENT_RULES,
    TARGET_KINDS,
    Checklist,
    Item,
)

CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")

# Where an object, or one of its fields (by data-class field name), was written; "" if unknown.
Locate = Callable[[object, str], str]


def nowhere(obj: object, field: str = "") -> str:
    return ""


def validate(checklist: Checklist, file: str, locate: Locate = nowhere) -> list[Problem]:
    return _Validator(file, locate).run(checklist)


class _Validator:
    def __init__(self, file: str, locate: Locate):
        self.file = file
        self.locate = locate
        self.problems: list[Problem] = []

    def report(self, obj: object, field: str, message_id: str, **params: object) -> None:
        self.problems.append(Problem(self.file, self.locate(obj, field), message_id, params))

    def run(self, checklist: Checklist) -> list[Problem]:
        self.code(checklist, "code")
        self.choice(checklist, "target", TARGET_KINDS, "bad_target")
        scales = self.scales(checklist)
        categories = checklist.categories or ()
        if checklist.categories == ():
            self.report(checklist, "categories", "no_items")
        for category in categories:
            self.code(category, "code")
            if category.items == ():
                self.report(category, "code", "empty_category", value=category.code)
        self.unique(categories, "code", "duplicate_category_code")
        self.items([item for category in categories for item in category.items or ()], scales)
        return self.problems

    def code(self, obj: object, field: str) -> None:
        value = getattr(obj, field)
        if value is not None and not CODE_PATTERN.fullmatch(value):
            self.report(obj, field, "bad_code", value=value)

    def choice(self, obj: object, field: str, allowed: tuple[str, ...], message_id: str) -> None:
        value = getattr(obj, field)
        if value is not None and value not in allowed:
            self.report(obj, field, message_id, value=value, allowed=", ".join(allowed))

    def unique(self, objects: Iterable[object], field: str, message_id: str, **params) -> None:
        first: dict[object, object] = {}
        for obj in objects:
            value = getattr(obj, field)
            if value in first:
                at = self.locate(first[value], field)
                self.report(obj, field, message_id, value=value, at=at, **params)
            elif value is not None:
                first[value] = obj

    def scales(self, checklist: Checklist) -> dict:
        """The scales items may use: the built-in ones and those of the file."""
        known = dict(BUILTIN_SCALES)
        own = checklist.scales or ()
        for scale in own:
            self.code(scale, "code")
            builtin = BUILTIN_SCALES.get(scale.code)
            if builtin and scale.options is not None and scale.options != builtin.options:
                self.report(scale, "code", "builtin_scale_changed", value=scale.code)
            for option in scale.options or ():
                self.code(option, "code")
                self.choice(option, "klass", OPTION_CLASSES, "bad_option_class")
            self.unique(scale.options or (), "code", "duplicate_option_code", scale=scale.code)
            if scale.code is not None:
                known.setdefault(scale.code, scale)
        self.unique(own, "code", "duplicate_scale_code")
        return known

    def items(self, items: list[Item], scales: dict) -> None:
        self.unique(items, "number", "duplicate_number")
        numbers = [item.number for item in items]
        # Items with the same number also get the same default key: one problem is enough.
        self.unique(
            [item for i, item in enumerate(items) if item.number not in numbers[:i]],
            "key",
            "duplicate_item_key",
        )
        earlier: dict[int, Item] = {}
        previous = None
        for item in items:
            if item.number is not None:
                if previous is not None and item.number < previous:
                    self.report(
                        item,
                        "number",
                        "number_not_increasing",
                        value=item.number,
                        previous=previous,
                    )
                previous = item.number
            self.code(item, "key")
            if item.scale is not None and item.scale not in scales:
                self.report(
                    item, "scale", "unknown_scale", value=item.scale, allowed=", ".join(scales)
                )
            self.choice(item, "comment", REQUIREMENT_RULES, "bad_comment_rule")
            self.choice(item, "evidence", REQUIREMENT_RULES, "bad_evidence_rule")
            self.condition(item, earlier, numbers, scales)
            if item.number is not None:
                earlier.setdefault(item.number, item)

    def condition(self, item: Item, earlier: dict, numbers: list, scales: dict) -> None:
        condition = item.condition
        if condition is None or condition.item is None:
            return
        referred = earlier.get(condition.item)
        if condition.item == item.number:
            self.report(condition, "item", "condition_self", value=condition.item)
        elif referred is None and condition.item in numbers:
            self.report(condition, "item", "condition_later_item", value=condition.item)
        elif referred is None:
            # An item whose number could not be read may be the one referred to.
            if None not in numbers:
                self.report(condition, "item", "condition_missing_item", value=condition.item)
        else:
            scale = scales.get(referred.scale)
            if scale is None or scale.options is None or condition.options is None:
                return
            codes = [option.code for option in scale.options if option.code is not None]
            for answer in condition.options:
                if answer not in codes:
                    self.report(
                        condition,
                        "options",
                        "condition_unknown_answer",
                        value=answer,
                        item=condition.item,
                        allowed=", ".join(codes),
                    )
