"""What changed between two versions of a checklist, item by item.

Items are matched by their `key`, which stays the same across versions while numbers may move,
so a renumbered item is one item whose number changed, not one removed and one added. A
condition is compared by the key of the item it refers to for the same reason; the scale by its
options as well as its code, since answers are counted by option class.
"""

from __future__ import annotations

from dataclasses import dataclass

from checklists.schema import (
    BUILTIN_SCALES,
    Category,
    Checklist,
    Condition,
    Item,
    Scale,
    effective_condition,
)

# The fields of an item compared, in the order a reader is shown them.
ITEM_FIELDS = (
    "number",
    "category",
    "heading",
    "heading_en",
    "text",
    "text_en",
    "text_contractor",
    "text_contractor_en",
    "help",
    "help_en",
    "help_contractor",
    "help_contractor_en",
    "examples",
    "examples_en",
    "importance",
    "scale",
    "condition",
    "comment",
    "evidence",
)
CHECKLIST_FIELDS = (
    "title",
    "title_en",
    "target",
    "description",
    "description_en",
    "description_contractor",
    "description_contractor_en",
)


@dataclass(frozen=True)
class Change:
    """One field that differs: its name and both values.

    Values are the schema objects' own, except `category` (a Category without its items or
    condition), `scale` (the Scale itself, built-in or the file's own, rather than its code)
    and `condition` (the one the item is asked under: its own or its category's).
    """

    field: str
    old: object
    new: object


@dataclass(frozen=True)
class ItemDiff:
    key: str
    old: Item | None  # None: added
    new: Item | None  # None: removed
    changes: tuple[Change, ...] = ()

    @property
    def kind(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed" if self.changes else "unchanged"

    def change(self, field: str) -> Change | None:
        return next((c for c in self.changes if c.field == field), None)


@dataclass(frozen=True)
class ChecklistDiff:
    old: Checklist
    new: Checklist
    header: tuple[Change, ...]  # title, target, description
    items: tuple[ItemDiff, ...]  # every item of either version, in the new version's order

    def _of(self, kind: str) -> list[ItemDiff]:
        return [item for item in self.items if item.kind == kind]

    @property
    def added(self) -> list[ItemDiff]:
        return self._of("added")

    @property
    def removed(self) -> list[ItemDiff]:
        return self._of("removed")

    @property
    def changed(self) -> list[ItemDiff]:
        return self._of("changed")

    @property
    def unchanged(self) -> list[ItemDiff]:
        return self._of("unchanged")

    @property
    def is_empty(self) -> bool:
        return not self.header and not (self.added or self.removed or self.changed)


class _Version:
    """One side of the comparison: each item's category, scale and condition, resolved."""

    def __init__(self, checklist: Checklist):
        self.checklist = checklist
        self.scales = BUILTIN_SCALES | {scale.code: scale for scale in checklist.scales}
        self.category_of: dict[str, Category] = {}
        self.condition_of: dict[str, Condition | None] = {}
        self.key_of_number: dict[int, str] = {}
        for category in checklist.categories:
            for item in category.items:
                self.category_of[item.key] = Category(
                    category.code,
                    category.title,
                    category.title_en,
                    description=category.description,
                    description_en=category.description_en,
                )
                self.condition_of[item.key] = effective_condition(category, item)
                self.key_of_number[item.number] = item.key
        self.items = {item.key: item for item in checklist.items}

    def scale(self, item: Item) -> Scale:
        return self.scales.get(item.scale) or Scale(item.scale, item.scale, ())

    def value(self, item: Item, field: str) -> object:
        if field == "category":
            return self.category_of[item.key]
        if field == "scale":
            return self.scale(item)
        if field == "condition":
            return self.condition_of[item.key]
        return getattr(item, field)

    def compared(self, item: Item, field: str) -> object:
        """What counts as equal: a condition by the key it refers to, not its number."""
        condition = self.condition_of[item.key]
        if field == "condition" and condition is not None:
            return self.key_of_number.get(condition.item, condition.item), condition.options
        return self.value(item, field)


def _header(old: Checklist, new: Checklist) -> tuple[Change, ...]:
    return tuple(
        Change(name, getattr(old, name), getattr(new, name))
        for name in CHECKLIST_FIELDS
        if getattr(old, name) != getattr(new, name)
    )


def _item(old: _Version, new: _Version, key: str) -> ItemDiff:
    before, after = old.items.get(key), new.items.get(key)
    if before is None or after is None:
        return ItemDiff(key, before, after)
    changes = tuple(
        Change(name, old.value(before, name), new.value(after, name))
        for name in ITEM_FIELDS
        if old.compared(before, name) != new.compared(after, name)
    )
    return ItemDiff(key, before, after, changes)


def compare(old: Checklist, new: Checklist) -> ChecklistDiff:
    """Every difference from `old` to `new` (usually two versions of one code, in either order).

    Items come in the new version's order; a removed item follows the item that preceded it in
    the old version, so the list reads like the new checklist with the removals marked in place.
    """
    before, after = _Version(old), _Version(new)
    order = list(after.items)
    previous = None
    for key in before.items:
        if key not in after.items:
            order.insert(order.index(previous) + 1 if previous in order else 0, key)
        previous = key
    return ChecklistDiff(old, new, _header(old, new), tuple(_item(before, after, k) for k in order))
