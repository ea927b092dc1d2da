"""Comparing two versions of a checklist: items added, removed and changed, matched by key."""

from __future__ import annotations

from dataclasses import replace

from checklists.diff import compare
from checklists.schema import BUILTIN_SCALES, Category, Checklist, Condition, Item, Option, Scale

OLD = Checklist(
    code="sample",
    version=1,
    title="試行チェックリスト",
    target="unit",
    categories=(
        Category(
            "A",
            "管理体制",
            items=(
                Item(1, "ledger", "情報資産の台帳を整備している", help="年度当初の状況で判断"),
                Item(
                    2,
                    "review",
                    "台帳を年1回以上見直している",
                    condition=Condition(1, ("yes",)),
                ),
                Item(3, "training", "研修を受けている"),
            ),
        ),
        Category("B", "物理的対策", items=(Item(4, "locks", "施錠保管している"),)),
    ),
)


def with_items(checklist: Checklist, *categories: Category, **changes) -> Checklist:
    return replace(checklist, version=2, categories=categories, **changes)


def test_the_same_content_has_no_differences():
    diff = compare(OLD, replace(OLD, version=2))
    assert diff.is_empty
    assert [d.key for d in diff.unchanged] == ["ledger", "review", "training", "locks"]


def test_an_added_item_is_listed_with_its_new_wording():
    a, b = OLD.categories
    added = Item(5, "disposal", "復元できない方法で廃棄している")
    diff = compare(OLD, with_items(OLD, a, replace(b, items=(*b.items, added))))
    assert [(d.key, d.kind, d.new.text) for d in diff.added] == [("disposal", "added", added.text)]
    assert not diff.removed and not diff.changed


def test_a_removed_item_stays_where_it_was_in_the_list():
    a, b = OLD.categories
    diff = compare(OLD, with_items(OLD, replace(a, items=(a.items[0], a.items[1])), b))
    assert [d.key for d in diff.removed] == ["training"]
    assert diff.removed[0].new is None and diff.removed[0].old.text == "研修を受けている"
    assert [d.key for d in diff.items] == ["ledger", "review", "training", "locks"]


def test_a_reworded_item_shows_old_and_new_text():
    a, b = OLD.categories
    reworded = replace(a.items[0], text="情報資産の台帳を整備し、所属長が確認している")
    diff = compare(OLD, with_items(OLD, replace(a, items=(reworded, *a.items[1:])), b))
    (changed,) = diff.changed
    assert changed.key == "ledger"
    assert [(c.field, c.old, c.new) for c in changed.changes] == [
        ("text", "情報資産の台帳を整備している", "情報資産の台帳を整備し、所属長が確認している")
    ]


def test_help_comment_and_evidence_rules_are_compared():
    a, b = OLD.categories
    first = replace(a.items[0], help="", comment="always", evidence="noncompliant")
    diff = compare(OLD, with_items(OLD, replace(a, items=(first, *a.items[1:])), b))
    change = diff.changed[0]
    assert [c.field for c in change.changes] == ["help", "comment", "evidence"]
    assert (change.change("comment").old, change.change("comment").new) == (
        "noncompliant",
        "always",
    )
    assert change.change("evidence").new == "noncompliant"


def test_a_new_scale_is_shown_with_its_options():
    a, b = OLD.categories
    first = replace(a.items[0], scale="yes_no")
    diff = compare(OLD, with_items(OLD, replace(a, items=(first, *a.items[1:])), b))
    change = diff.changed[0].change("scale")
    assert change.old == BUILTIN_SCALES["yes_no_na"]
    assert [o.code for o in change.new.options] == ["yes", "no"]


def test_changed_options_of_a_scale_with_the_same_code_are_a_change():
    own = Scale("freq", "頻度", (Option("often", "頻繁", "", "compliant"),))
    more = Scale("freq", "頻度", (*own.options, Option("rare", "まれ", "", "noncompliant")))
    a, b = OLD.categories
    uses = replace(a.items[0], scale="freq")
    old = replace(OLD, scales=(own,), categories=(replace(a, items=(uses, *a.items[1:])), b))
    new = replace(old, version=2, scales=(more,))
    change = compare(old, new).changed[0].change("scale")
    assert (change.old, change.new) == (own, more)


def test_renumbered_items_change_number_but_a_condition_on_the_same_item_does_not():
    a, b = OLD.categories
    inserted = Item(1, "policy", "方針を周知している")
    shifted = tuple(replace(i, number=i.number + 1) for i in a.items)
    shifted = (
        shifted[0],
        replace(shifted[1], condition=Condition(2, ("yes",))),  # still "ledger"
        shifted[2],
    )
    new = with_items(
        OLD,
        replace(a, items=(inserted, *shifted)),
        replace(b, items=(replace(b.items[0], number=5),)),
    )
    diff = compare(OLD, new)
    assert [d.key for d in diff.added] == ["policy"]
    assert {d.key: [c.field for c in d.changes] for d in diff.changed} == {
        "ledger": ["number"],
        "review": ["number"],
        "training": ["number"],
        "locks": ["number"],
    }


def test_a_condition_on_another_item_or_answer_is_a_change():
    a, b = OLD.categories
    review = replace(a.items[1], condition=Condition(1, ("yes", "no")))
    diff = compare(OLD, with_items(OLD, replace(a, items=(a.items[0], review, a.items[2])), b))
    change = diff.changed[0].change("condition")
    assert change.old == Condition(1, ("yes",)) and change.new == Condition(1, ("yes", "no"))

    unconditional = replace(a.items[1], condition=None)
    diff = compare(
        OLD, with_items(OLD, replace(a, items=(a.items[0], unconditional, a.items[2])), b)
    )
    assert diff.changed[0].change("condition").new is None


def test_an_item_moved_to_another_category_is_a_change_of_category():
    a, b = OLD.categories
    moved = replace(a.items[2], number=4)
    locks = replace(b.items[0], number=3)
    new = with_items(OLD, replace(a, items=a.items[:2]), replace(b, items=(locks, moved)))
    diff = compare(OLD, new)
    by_key = {d.key: d for d in diff.changed}
    category = by_key["training"].change("category")
    assert (category.old.code, category.new.code) == ("A", "B")
    assert category.new.title == "物理的対策"
    assert "category" not in [c.field for c in by_key["locks"].changes]


def test_a_renamed_category_changes_each_of_its_items():
    a, b = OLD.categories
    diff = compare(OLD, with_items(OLD, a, replace(b, title="物理的・環境的対策")))
    assert [(d.key, d.changes[0].new.title) for d in diff.changed] == [
        ("locks", "物理的・環境的対策")
    ]


def test_title_target_and_description_changes_are_listed_once():
    new = replace(OLD, version=2, title="試行チェックリスト（改訂）", description="新しい説明")
    diff = compare(OLD, new)
    assert [(c.field, c.old, c.new) for c in diff.header] == [
        ("title", "試行チェックリスト", "試行チェックリスト（改訂）"),
        ("description", "", "新しい説明"),
    ]
    assert not diff.is_empty and not diff.changed


def test_comparing_backwards_swaps_added_and_removed():
    a, b = OLD.categories
    new = with_items(OLD, replace(a, items=a.items[:2]), b)
    diff = compare(new, OLD)
    assert [d.key for d in diff.added] == ["training"]
    assert not diff.removed


def test_new_texts_and_marks_are_compared_and_a_category_condition_counts_for_its_items():
    a, b = OLD.categories
    ledger = replace(
        a.items[0], text_contractor="貴社は台帳を整備していますか", importance="required"
    )
    conditional_b = replace(b, condition=Condition(1, ("yes",)), description="施錠の状況")
    new = with_items(
        OLD,
        replace(a, items=(ledger, *a.items[1:])),
        conditional_b,
        description_contractor="貴社について回答してください。",
    )
    diff = compare(OLD, new)
    assert [c.field for c in diff.header] == ["description_contractor"]
    changed = {d.key: [c.field for c in d.changes] for d in diff.changed}
    assert changed == {
        "ledger": ["text_contractor", "importance"],
        "locks": ["category", "condition"],
    }
    locks = next(d for d in diff.changed if d.key == "locks")
    assert locks.change("condition").new == Condition(1, ("yes",))
    assert locks.change("category").new.description == "施錠の状況"
    # The same condition written on the item instead of its category: no difference.
    own = replace(
        conditional_b,
        condition=None,
        items=(replace(b.items[0], condition=Condition(1, ("yes",))),),
    )
    assert "locks" in [
        d.key for d in compare(new, with_items(new, new.categories[0], own)).unchanged
    ]
