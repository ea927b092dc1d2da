"""The questionnaire form, composed at run time from the checklist version's items.

A published version never changes, so the class that parses a post, and the view the page is
drawn from, are built once per version and language.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, RadioField, SelectChoice, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from checklists import scoring
from checklists.texts import pick
from survey.models import Category, Checklist, Item
from survey.services.answering import COMMENT_MAX, ItemInput

_classes: dict[tuple[int, str, str], type[FlaskForm]] = {}
_views: dict[tuple, tuple[CategoryView, ...]] = {}
# WTForms' own wording says "フィールドは…"; this names the comment, as the server's check does.
TOO_LONG = _l("コメントは%(max)d文字以内で入力してください。")


@dataclass(frozen=True)
class OptionView:
    code: str
    label: str
    klass: str  # checklists.schema.OPTION_CLASSES: one short of compliance offers an action
    audience: str = ""  # "" (anyone), or the only kind of reader who may choose it


@dataclass(frozen=True)
class ItemView:
    """What the page shows of an item: plain values, so drawing 54 items reads no database.
    Its texts are those of the reader's language and kind (`checklists.texts.pick`)."""

    id: int
    number: int
    key: str
    text: str
    help: str
    condition_number: int | None
    condition_options: tuple[str, ...]  # codes, for the page's script
    condition_labels: tuple[str, ...]  # the same answers as respondents read them
    comment_rule: str
    evidence_rule: str
    scale_code: str
    scale_title: str
    options: tuple[OptionView, ...]  # every option of the scale: stored answers are any of them
    heading: str = ""  # 小見出し, opening a run of items
    examples: str = ""
    importance: str = ""
    audience: str = "staff"  # the reader; "" for the office's preview, which shows everything
    contractor_text: str = ""  # the contractor's wording, where it differs (for the preview)
    inherits_condition: bool = False  # asked under its category's condition, which says so
    correct: str = ""  # a comprehension test's right option (shown in the office's preview only)

    @property
    def evidence(self) -> bool:
        return self.evidence_rule != "never"

    def label_of(self, code: str | None) -> str | None:
        return next((option.label for option in self.options if option.code == code), None)

    def falls_short(self, code: str | None) -> bool:
        """いいえ, 一部実施 or わからない: marked, and a corrective action may be opened."""
        return any(o.code == code and o.klass in scoring.SHORTFALL for o in self.options)

    def offers(self, code: str) -> bool:
        return any(o.code == code and self._offered(o) for o in self.options)

    def choices(self, chosen: str | None) -> list[OptionView]:
        """The options the form shows: those offered to the reader, and the one chosen (an
        answer another kind of reader gave stays shown, so posting the page keeps it)."""
        return [o for o in self.options if self._offered(o) or o.code == chosen]

    def _offered(self, option: OptionView) -> bool:
        return not self.audience or option.audience in ("", self.audience)


@dataclass(frozen=True)
class CategoryView:
    code: str
    title: str
    items: tuple[ItemView, ...]
    description: str = ""
    condition_number: int | None = None
    condition_labels: tuple[str, ...] = ()


def answer_field(item: Item) -> str:
    return f"item_{item.id}"


def comment_field(item: Item) -> str:
    return f"comment_{item.id}"


def evidence_field(item: Item) -> str:
    return f"evidence_{item.id}"


def version_key(checklist: Checklist) -> tuple[int, str, str]:
    # The content hash, not only the id: an unpublished draft can be replaced under a reused id.
    return (checklist.id, checklist.content_hash, str(get_locale()))


def view_key(checklist: Checklist, audience: str) -> tuple[int, str, str, str]:
    """What the page's view and each item's markup are kept under: the version, the language
    and the kind of reader (the staff's and the contractor's wordings differ)."""
    return (*version_key(checklist), audience)


def questionnaire_view(checklist: Checklist, audience: str = "staff") -> tuple[CategoryView, ...]:
    """The checklist as the questionnaire page draws it for a reader of `audience` ("staff",
    "contractor", or "" for the office's preview). The page used to render WTForms fields,
    54 radio groups and text areas per request: most of its time (docs/performance.md)."""
    key = view_key(checklist, audience)
    if key not in _views:
        lang = key[2]
        labels = {
            item.number: {o.code: o.label_for(lang) for o in item.scale.options}
            for item in checklist.items
        }

        def answers(number: int | None, codes: list[str] | None) -> tuple[str, ...]:
            return tuple(labels.get(number, {}).get(code, code) for code in codes or ())

        _views[key] = tuple(
            CategoryView(
                category.code,
                category.title_for(lang),
                tuple(
                    _item_view(item, lang, audience, answers, category) for item in category.items
                ),
                description=pick(category, "description", lang),
                condition_number=category.condition_number,
                condition_labels=answers(category.condition_number, category.condition_options),
            )
            for category in checklist.categories
        )
    return _views[key]


def _item_view(item: Item, lang: str, audience: str, answers, category: Category) -> ItemView:
    text = item.text_for(lang, audience)
    contractor = item.text_for(lang, "contractor")
    return ItemView(
        id=item.id,
        number=item.number,
        key=item.key,
        text=text,
        help=pick(item, "help", lang, audience),
        condition_number=item.condition_number,
        condition_options=tuple(item.condition_options or ()),
        condition_labels=answers(item.condition_number, item.condition_options),
        comment_rule=item.comment_rule,
        evidence_rule=item.evidence_rule,
        scale_code=item.scale.code,
        scale_title=item.scale.title,
        options=tuple(
            OptionView(o.code, o.label_for(lang), o.klass, o.audience) for o in item.scale.options
        ),
        heading=pick(item, "heading", lang),
        examples=pick(item, "examples", lang),
        importance=item.importance,
        audience=audience,
        contractor_text=contractor if contractor != text else "",
        inherits_condition=category.condition_number is not None
        and (item.condition_number, item.condition_options)
        == (category.condition_number, category.condition_options),
        correct=item.correct,
    )


def questionnaire_form_class(checklist: Checklist) -> type[FlaskForm]:
    key = version_key(checklist)
    lang = key[2]
    if key not in _classes:
        attrs = {"revision": HiddenField()}
        for item in checklist.items:
            choices = [SelectChoice(o.code, o.label_for(lang)) for o in item.scale.options]
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


def posted_inputs(data, sheet: tuple[CategoryView, ...]) -> dict[int, ItemInput]:
    """The answers in a posted questionnaire, read as `inputs_from` reads them from the form."""
    return {
        item.id: ItemInput(
            data.get(f"item_{item.id}") or None, (data.get(f"comment_{item.id}") or "").strip()
        )
        for category in sheet
        for item in category.items
    }


def inputs_from(form: FlaskForm, checklist: Checklist) -> dict[int, ItemInput]:
    return {
        item.id: ItemInput(
            form[answer_field(item)].data or None,
            (form[comment_field(item)].data or "").strip(),
        )
        for item in checklist.items
    }


class ReviewForm(FlaskForm):
    comment = TextAreaField(
        _l("コメント（差し戻す場合は理由）"), validators=[Length(max=COMMENT_MAX, message=TOO_LONG)]
    )
    approve = SubmitField(_l("承認する"))
    send_back = SubmitField(_l("差し戻す"))
