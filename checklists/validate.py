"""Rules that need the whole checklist: codes, uniqueness, order, scales and conditions.

The readers check each value on its own; these rules look across values. A field the reader
could not read is None, and the rules skip it, since its problem has been reported already.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from checklists.problems import Problem
from checklists.schema import (
    AUDIENCES,
    BUILTIN_SCALES,
    CONTRACTOR_TARGETS,
    IMPORTANCE,
    OPTION_CLASSES,
    REQUIREMENT_RULES,
    TARGET_KINDS,
    TEST_TARGET,
    Category,
    Checklist,
    Item,
)
from checklists.scoring import UNSCORED

# The texts only a contractor's account reads.
CONTRACTOR_TEXTS = (
    "text_contractor",
    "text_contractor_en",
    "help_contractor",
    "help_contractor_en",
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
        items = [item for category in categories for item in category.items or ()]
        self.items(items, scales)
        for item in items:
            if item.importance:
                self.choice(item, "importance", IMPORTANCE, "bad_importance")
        self.contractor_texts(checklist, items)
        self.audiences(checklist)
        self.category_conditions(categories, scales)
        self.test(checklist, items, scales)
        return self.problems

    def test(self, checklist: Checklist, items: list[Item], scales: dict) -> None:
        """A comprehension test (target person) has a pass mark and a right answer on every
        item, one of its scale's options; nothing else has either. Its items are all asked, so
        every person is marked on the same questions."""
        is_test = checklist.target == TEST_TARGET
        mark = checklist.pass_mark
        if mark is not None and not is_test:
            self.report(checklist, "pass_mark", "pass_mark_not_test", target=checklist.target)
        elif mark is not None and mark > 100:
            self.report(checklist, "pass_mark", "pass_mark_range", value=mark)
        if is_test and mark is None:
            self.report(checklist, "target", "test_without_pass_mark")
        for category in checklist.categories or ():
            if is_test and category.condition is not None:
                self.report(category, "condition", "test_condition", item=category.code)
        for item in items:
            if not is_test:
                if item.correct:
                    self.report(item, "correct", "correct_not_test", item=item.number)
                continue
            if item.condition is not None:
                self.report(item, "condition", "test_condition", item=item.number)
            if not item.correct:
                self.report(item, "number", "correct_missing", item=item.number)
                continue
            scale = scales.get(item.scale)
            if scale is None or scale.options is None:
                continue  # said already
            codes = [option.code for option in scale.options if option.code is not None]
            if item.correct not in codes:
                self.report(
                    item,
                    "correct",
                    "correct_unknown",
                    value=item.correct,
                    item=item.number,
                    allowed=", ".join(codes),
                )

    def contractor_texts(self, checklist: Checklist, items: list[Item]) -> None:
        """A contractor's wording where no contractor answers would never be read: a mistake."""
        if checklist.target not in TARGET_KINDS or checklist.target in CONTRACTOR_TARGETS:
            return
        texts = [
            (checklist, name) for name in ("description_contractor", "description_contractor_en")
        ]
        texts += [(item, name) for item in items for name in CONTRACTOR_TEXTS]
        for obj, name in texts:
            if getattr(obj, name):
                self.report(obj, name, "contractor_text_unused", key=name, target=checklist.target)

    def audiences(self, checklist: Checklist) -> None:
        """Options offered to one kind of reader only; every reader keeps something to choose."""
        readers = AUDIENCES if checklist.target in CONTRACTOR_TARGETS else ("staff",)
        for scale in checklist.scales or ():
            options = [option for option in scale.options or () if option.audience is not None]
            for option in options:
                if option.audience:
                    self.choice(option, "audience", AUDIENCES, "bad_audience")
            if any(o.audience not in ("", *AUDIENCES) for o in options):
                continue  # said already
            for reader in readers:
                if options and not any(o.audience in ("", reader) for o in options):
                    self.report(
                        scale, "code", "scale_without_option_for", scale=scale.code, audience=reader
                    )

    def category_conditions(self, categories: tuple[Category, ...], scales: dict) -> None:
        """A category's condition refers to an item before the category; its items' own
        conditions stay within it, so that asking an item needs one condition only."""
        items = [item for category in categories for item in category.items or ()]
        numbers = [item.number for item in items]
        before: dict[int, Item] = {}
        for category in categories:
            own = [item for item in category.items or () if item.number is not None]
            condition = category.condition
            if condition is not None and condition.item is not None:
                if condition.item in before:
                    self.condition_answers(condition, before[condition.item], scales)
                elif condition.item in numbers:
                    self.report(
                        condition, "item", "category_condition_not_before", value=condition.item
                    )
                elif None not in numbers:  # else the item whose number was unread may be it
                    self.report(condition, "item", "condition_missing_item", value=condition.item)
            if condition is not None:
                inside = {item.number for item in own}
                for item in own:
                    if item.condition is not None and item.condition.item not in (None, *inside):
                        self.report(
                            item.condition,
                            "item",
                            "category_item_condition_outside",
                            value=item.condition.item,
                            category=category.code,
                        )
            before.update((item.number, item) for item in own)

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
                if option.klass in UNSCORED and option.score is not None:
                    self.report(
                        option,
                        "score",
                        "score_on_unscored_option",
                        scale=scale.code,
                        option=option.code,
                        klass=option.klass,
                        score=option.score,
                    )
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
            self.condition_answers(condition, referred, scales)

    def condition_answers(self, condition, referred: Item, scales: dict) -> None:
        """The answers a condition names are options of the item it refers to."""
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
