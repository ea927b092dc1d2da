"""Forms of the follow-up pages. Filters are read from the query string (no CSRF: they change
nothing); every form that changes something posts with its token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from survey.labels import ACTION_STATUSES, AUDIT_KINDS, FINDING_KINDS, MEASURE_RESULTS
from survey.malformed import db_int
from survey.services.actions import TEXT_MAX, TITLE_MAX


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _int_or_none(value):
    try:
        return db_int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _after(start_field: str):
    def check(form, field) -> None:
        start = form[start_field].data
        if start and field.data and field.data < start:
            raise ValidationError(_l("終わりの日は始まりの日以降にしてください。"))

    return check


class ActionForm(FlaskForm):
    title = StringField(_l("件名"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    description = TextAreaField(
        _l("是正が必要な内容"), validators=[Optional(), Length(max=TEXT_MAX)]
    )
    unit = SelectField(_l("所管の所属"), coerce=_int_or_none, validate_choice=False)
    contractor = SelectField(
        _l("対応する委託事業者（委託先が措置する場合）"), coerce=_int_or_none, validate_choice=False
    )
    due_on = DateField(_l("措置の期限"), validators=[InputRequired()])
    assignment_id = HiddenField()
    item_id = HiddenField()
    finding_id = HiddenField()


class StepForm(FlaskForm):
    expected = HiddenField()
    comment = TextAreaField(_l("コメント"), validators=[Optional(), Length(max=TEXT_MAX)])
    measure = TextAreaField(_l("講じた措置の内容"), validators=[Optional(), Length(max=TEXT_MAX)])
    evidence = MultipleFileField(_l("証跡ファイル（複数可）"))


class ReopenForm(FlaskForm):
    """Let the target answer the item again once the fix is in place."""

    reason = TextAreaField(
        _l("再回答を依頼する理由"), validators=[DataRequired(), Length(max=TEXT_MAX)]
    )
    due_on = DateField(_l("新しい回答期限"), validators=[InputRequired()])


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    campaign = SelectField(_l("点検"), coerce=_int_or_none, validate_choice=False)
    unit = SelectField(_l("所属（配下を含む）"), coerce=_int_or_none, validate_choice=False)
    contractor = SelectField(_l("委託事業者"), coerce=_int_or_none, validate_choice=False)
    status = SelectField(_l("状態"), validators=[Optional()])
    due_from = DateField(_l("期限（から）"), validators=[Optional()])
    due_to = DateField(_l("期限（まで）"), validators=[Optional(), _after("due_from")])
    overdue = BooleanField(_l("期限超過のみ"))
    sort = HiddenField()
    dir = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = choices(
            [("", _l("すべて")), ("unfinished", _l("未完了（すべて）")), *ACTION_STATUSES.items()]
        )


class AuditForm(FlaskForm):
    kind = SelectField(_l("種別"), choices=choices(AUDIT_KINDS.items()))
    title = StringField(_l("監査の名称"), validators=[DataRequired(), Length(max=300)])
    held_on = DateField(_l("実施日"), validators=[InputRequired()])
    unit = SelectField(_l("対象の所属"), coerce=_int_or_none, validate_choice=False)
    contractor = SelectField(_l("対象の委託事業者"), coerce=_int_or_none, validate_choice=False)
    auditors = StringField(_l("監査担当者"), validators=[Optional(), Length(max=500)])
    scope = TextAreaField(_l("監査の範囲"), validators=[Optional(), Length(max=TEXT_MAX)])


class FindingForm(FlaskForm):
    kind = SelectField(_l("区分"), choices=choices(FINDING_KINDS.items()))
    heading = StringField(_l("見出し"), validators=[Optional(), Length(max=300)])
    text = TextAreaField(_l("指摘事項"), validators=[DataRequired(), Length(max=TEXT_MAX)])


class ResultFields:
    result = SelectField(_l("措置結果"), choices=choices(MEASURE_RESULTS.items()))
    result_note = TextAreaField(_l("措置結果の説明"), validators=[Optional(), Length(max=TEXT_MAX)])
    result_on = DateField(_l("確認日"), validators=[Optional()])


class MeasureForm(ResultFields, FlaskForm):
    text = TextAreaField(_l("措置内容"), validators=[DataRequired(), Length(max=TEXT_MAX)])
    unit = SelectField(_l("担当所属"), coerce=_int_or_none, validate_choice=False)
    taken_on = DateField(_l("措置日"), validators=[Optional()])


class ResultForm(ResultFields, FlaskForm):
    pass
