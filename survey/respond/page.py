"""The questionnaire's items, rendered once per checklist version and language.

Most items, most of the time, are editable with no problem and no attachment to show: their
markup differs between respondents only in which option is checked and in the comment. That
markup is rendered once per version, language and kind of reader (the key of the view it is
drawn from) by the same macro (respond/_item.html) and reused; the rest goes through the macro
each time, as does an item whose stored answer is an option this reader is not offered (another
kind of reader gave it). 54 items drawn per request were most of the page's time
(docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask import current_app
from markupsafe import Markup, escape

from survey.respond.forms import ItemView
from survey.services.answering import ItemInput

_blank: dict[tuple, str] = {}


def _macro():
    return current_app.jinja_env.get_template("respond/_item.html").module.item_fieldset


def _unanswered(key: tuple, item: ItemView) -> str:
    if key not in _blank:
        _blank[key] = str(_macro()(item, None, {}, {}, True, None))
    return _blank[key]


def item_html(view_key: tuple, item: ItemView, value: ItemInput | None) -> Markup:
    """The editable item with `value` filled in, as the macro would render it."""
    html = _unanswered((view_key, item.id), item)
    if value is None:
        return Markup(html)
    if value.option:
        radio = f'name="item_{item.id}" type="radio" value="{escape(value.option)}"'
        html = html.replace(radio, radio + " checked", 1)
    if value.comment:
        empty = f'name="comment_{item.id}" rows="2">\n</textarea>'
        filled = f'name="comment_{item.id}" rows="2">\n{escape(value.comment)}</textarea>'
        html = html.replace(empty, filled, 1)
    return Markup(html)


def items_html(
    view_key: tuple,
    items: Sequence[ItemView],
    *,
    values: Mapping[int, ItemInput],
    problems: Mapping[int, list[str]],
    attachments: Mapping[int, list],
    editable: bool,
    writable: frozenset[int] | None = None,
    assignment,
    may_open_action: bool,
    log_rounds: Mapping[int, list] | None = None,
) -> Markup:
    """A category's items: the reused markup where it applies, the macro elsewhere. One call
    from the template per category rather than a few per item (docs/performance.md).
    `writable`: the items a delegate may still change (None: every item, if `editable`)."""
    macro = None
    parts = []
    for item in items:
        editable_item = editable and (writable is None or item.id in writable)
        value = values.get(item.id)
        offered = value is None or value.option is None or item.offers(value.option)
        log_rounds = log_rounds or {}
        plain = item.id not in problems and item.id not in attachments and item.id not in log_rounds
        if editable_item and offered and plain:
            parts.append(item_html(view_key, item, value))
            continue
        macro = macro or _macro()
        parts.append(
            macro(
                item,
                value,
                problems,
                attachments,
                editable_item,
                assignment,
                may_open_action=may_open_action,
                log_rounds=log_rounds,
            )
        )
    return Markup("\n".join(parts))
