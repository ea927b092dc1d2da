"""The questionnaire form, composed at run time from the checklist version's items.

A published version never changes, so the class is built once per version and language.
"""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, RadioField, SelectChoice, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from survey.models import Checklist, Item
from survey.services.answering import COMMENT_MAX, ItemInput

_classes: dict[tuple[int, str, str], type[FlaskForm]] = {}
# WTForms' own wording says "フィールドは…"; this names the comment, as the server's check does.
TOO_LONG = _l("コメントは%(max)d文字以内で入力してください。")


def answer_field(item: Item) -> str:
    return f"item_{item.id}"


def comment_field(item: Item) -> str:
    return f"comment_{item.id}"


def evidence_field(item: Item) -> str:
    return f"evidence_{item.id}"


def questionnaire_form_class(checklist: Checklist) -> type[FlaskForm]:
    lang = str(get_locale())
    # The content hash, not only the id: an unpublished draft can be replaced under a reused id.
    key = (checklist.id, checklist.content_hash, lang)
    if key not in _classes:
        attrs = {"revision": HiddenField()}
        for item in checklist.items:
            choices = [
                SelectChoice(o.code, o.label_en if lang == "en" and o.label_en else o.label)
                for o in item.scale.options
            ]
            attrs[answer_field(item)] = RadioField(
                item.text, choices=choices, validators=[Optional()]
            )
            attrs[comment_field(item)] = TextAreaField(
                _l("コメント"), validators=[Optional(), Length(max=COMMENT_MAX, message=TOO_LONG)]
            )
            if item.evidence_rule != "never":
                attrs[evidence_field(item)] = FileField(_l("証跡ファイル"))
        _classes[key] = type("QuestionnaireForm", (FlaskForm,), attrs)
    return _classes[key]


def inputs_from(form: FlaskForm, checklist: Checklist) -> dict[int, ItemInput]:
    return {
        item.id: ItemInput(
            form[answer_field(item)].data or None,
            (form[comment_field(item)].data or "").strip(),
        )
        for item in checklist.items
    }


def fill(form: FlaskForm, checklist: Checklist, inputs: dict[int, ItemInput]) -> None:
    for item in checklist.items:
        value = inputs.get(item.id)
        if value is not None:
            form[answer_field(item)].data = value.option
            form[comment_field(item)].data = value.comment


class ReviewForm(FlaskForm):
    comment = TextAreaField(
        _l("コメント（差し戻す場合は理由）"), validators=[Length(max=COMMENT_MAX, message=TOO_LONG)]
    )
    approve = SubmitField(_l("承認する"))
    send_back = SubmitField(_l("差し戻す"))
