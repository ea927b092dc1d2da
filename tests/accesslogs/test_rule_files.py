"""Sampling rule files: the shipped rules read, and every problem named by its key and line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reports.accesslogs import messages, rules
from reports.accesslogs.messages import ProblemsFound


def _problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ProblemsFound) as refused:
        rules.parse(text.encode("utf-8"))
    return [(p.line, p.where, p.message_id) for p in refused.value.problems]


def test_the_shipped_rules_use_every_kind():
    (path,) = rules.SHIPPED.glob("*.yaml")
    ruleset = rules.parse(path.read_bytes())
    assert (ruleset.code, ruleset.version, ruleset.per_unit) == ("standard", 1, 5)
    assert sorted(r.kind for r in ruleset.rules) == sorted(rules.KINDS)
    assert all(r.title and r.title_en for r in ruleset.rules)


def test_content_not_layout_makes_a_rule_set():
    text = "code: a\nversion: 1\ntitle: t\nrandom: {per_unit: 3}\n"
    spaced = "# comment\ncode:   a\ntitle: t\nversion: 1\nrandom:\n  per_unit: 3\n"
    first, second = rules.parse(text.encode()), rules.parse(spaced.encode())
    assert first.content_hash() == second.content_hash()
    assert rules.from_canonical(first.canonical()) == first
    assert rules.parse(b"\xef\xbb\xbf" + text.encode()).content_hash() == first.content_hash()


def test_every_problem_is_named_by_key_and_line():
    text = """code: Standard
version: 0
title: t
colour: blue
random: {per_unit: -1}
rules:
  - key: a
    kind: burst
    title: 大量照会
    count: 1
  - key: a
    kind: nope
    title: x
  - key: random
    kind: own_household
    title: 世帯
  - key: night
    kind: off_hours
    title: 夜
    night_starts: 6
    night_ends: 22
    closed_days: ["12-32"]
"""
    assert _problems(text) == [
        (1, "code", "rules_code"),
        (2, "version", "rules_integer"),
        (4, "colour", "rules_unknown_key"),
        (5, "random.per_unit", "rules_integer"),
        (7, "rules[1].minutes", "rules_missing_key"),
        (10, "rules[1].count", "rules_integer"),
        (11, "rules[2].key", "rules_same_key"),
        (12, "rules[2].kind", "rules_kind"),
        (14, "rules[3].key", "rules_reserved_key"),
        (20, "rules[4].night_starts", "rules_hours"),
        (22, "rules[4].closed_days", "rules_day"),
    ]


def test_problems_read_in_both_languages():
    with pytest.raises(ProblemsFound) as refused:
        rules.parse(b"code: a\nversion: 1\ntitle: t\nrules:\n  - key: b\n    kind: burst\n")
    problem = refused.value.problems[0]
    assert problem.render() == "5 行目「rules[1].title」: 必須のキー「title」がありません。"
    assert problem.render("en") == "line 5, 'rules[1].title': The required key 'title' is missing."


@pytest.mark.parametrize(
    ("data", "message_id"),
    [
        (b"code: [a\n", "rules_yaml"),
        (b"\x82\xa0: 1\n", "rules_not_utf8"),
        (b"- a\n- b\n", "rules_not_mapping"),
        (b"code: a\nversion: 1\ntitle: t\n", "rules_nothing"),
        (b"code: a\nversion: 1\ntitle: t\nrules: {a: 1}\n", "rules_not_list"),
        (b"code: a\nversion: 1\ntitle: t\nrandom: {per_unit: 1}\ncode: b\n", "rules_duplicate_key"),
        (b"[" * 5000, "rules_yaml"),
        (b"#" * (rules.MAX_BYTES + 1), "rules_too_large"),
    ],
)
def test_files_that_are_not_rule_sets(data, message_id):
    with pytest.raises(ProblemsFound) as refused:
        rules.parse(data)
    assert message_id in [p.message_id for p in refused.value.problems]


def test_every_message_has_both_languages():
    for message_id, texts in messages.MESSAGES.items():
        assert set(texts) == {"ja", "en"}, message_id


def test_the_package_never_imports_flask():
    code = (
        "import sys, reports.accesslogs.importer, reports.accesslogs.sampler, "
        "reports.accesslogs.rules; "
        "print('flask' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
