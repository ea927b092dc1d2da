"""How pages lay out what they show: label | value blocks come from one macro, so no value can
sit under another label; dates are <time> elements that never break inside a date.
tests/browser/test_layout.py measures the same on the pages themselves, at 1366 and 360 px."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import render_template_string

TEMPLATES = Path(__file__).resolve().parent.parent / "survey" / "templates"


def test_every_label_value_block_comes_from_the_facts_macro():
    """A <dt>/<dd> written by hand is what let values drift under the wrong label."""
    by_hand = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in TEMPLATES.rglob("*.html")
        if path.name != "_macros.html" or path.parent != TEMPLATES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"<(dl|dt|dd)\b", line)
    ]
    assert by_hand == []


FACTS = """{% from "_macros.html" import fact, facts %}
{% call facts() %}
  {{ fact("宛先", "<b>x</b>", class="code") }}
  {% call fact("状況") %}<em>ok</em>{% endcall %}
{% endcall %}"""


def test_each_value_is_written_inside_its_labels_pair(app):
    with app.test_request_context():
        html = render_template_string(FACTS)
    assert re.sub(r"\s+", "", html) == (
        '<dlclass="facts"><div><dt>宛先</dt><ddclass="code">&lt;b&gt;x&lt;/b&gt;</dd></div>'
        "<div><dt>状況</dt><dd><em>ok</em></dd></div></dl>"
    )


MOMENT = datetime(2026, 11, 23, 0, 5, 9, tzinfo=UTC)  # 09:05:09 in Tokyo


@pytest.mark.parametrize(
    ("lang", "template", "value", "expected"),
    [
        (
            "ja",
            "{{ value|date }}",
            date(2026, 11, 23),
            '<time datetime="2026-11-23"><span class="nowrap">令和8年11月23日 (2026-11-23)'
            "</span></time>",
        ),
        (
            "en",
            "{{ value|date }}",
            MOMENT,
            '<time datetime="2026-11-23"><span class="nowrap">2026-11-23</span></time>',
        ),
        (
            "ja",
            "{{ value|datetime }}",
            MOMENT,
            '<time datetime="2026-11-23T09:05+09:00"><span class="nowrap">令和8年11月23日 '
            '(2026-11-23)</span> <span class="nowrap">09:05</span></time>',
        ),
        (
            "ja",
            "{{ value|audit_time }}",
            MOMENT,
            '<time datetime="2026-11-23T09:05:09+09:00"><span class="nowrap">2026-11-23</span> '
            '<span class="nowrap">09:05:09</span></time>',
        ),
        ("ja", "[{{ value|date }}{{ value|datetime }}{{ value|audit_time }}]", None, "[]"),
        (
            "ja",
            '{{ _("期限 %(day)s", day=value|date) }}',
            date(2026, 11, 23),
            '期限 <time datetime="2026-11-23"><span class="nowrap">令和8年11月23日 (2026-11-23)'
            "</span></time>",
        ),
    ],
)
def test_dates_on_pages_are_time_elements_that_do_not_break_inside(
    app, lang, template, value, expected
):
    with app.test_request_context(f"/?lang={lang}"):
        assert render_template_string(template, value=value) == expected


def test_sorting_headers_come_from_one_macro_that_marks_the_header():
    """aria-sort belongs on the column header; on the link inside it, a screen reader never
    announces the order. One macro writes every sorting header, so none can drift back."""
    by_hand = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in TEMPLATES.rglob("*.html")
        if path.name != "_macros.html" or path.parent != TEMPLATES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"<a\b[^>]*aria-sort|macro sort_link\(", line)
    ]
    assert by_hand == []


def test_the_sorted_column_header_says_its_order(app):
    template = """{% from "_macros.html" import sort_th %}
{{ sort_th("期限", "due_on", "followup.action_list", {"status": "open"}, "due_on", True) }}
{{ sort_th("件名", "title", "followup.action_list", {}, "due_on", True, num=True) }}"""
    with app.test_request_context():
        html = render_template_string(template)
    sorted_th, other_th = re.findall(r"<th\b[^>]*>.*?</th>", html, re.S)
    assert 'aria-sort="descending"' in sorted_th.split(">")[0]
    assert "dir=asc" in sorted_th and "status=open" in sorted_th and "sort=due_on" in sorted_th
    assert "aria-sort" not in other_th and 'class="num"' in other_th and "dir=asc" in other_th
