"""Forms of the 委託先管理 pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from survey.services.subcontracting import STAFF_MAX


class ConfirmForm(FlaskForm):
    """A button that changes state: only the CSRF token travels."""


class SubcontractRequestForm(FlaskForm):
    company_name = StringField(
        _l("再委託先の名称"),
        validators=[InputRequired(_l("再委託先の名称を入力してください。")), Length(max=200)],
    )
    work = StringField(
        _l("再委託する業務"),
        validators=[InputRequired(_l("再委託する業務の内容を入力してください。")), Length(max=300)],
    )
    data_handled = TextAreaField(
        _l("再委託先が取り扱う個人情報"),
        validators=[
            InputRequired(_l("再委託先が取り扱う個人情報を入力してください。")),
            Length(max=2000),
        ],
    )
    staff_count = IntegerField(
        _l("再委託先の取扱者数（人）"),
        validators=[
            InputRequired(_l("取扱者数は 1 以上の整数で入力してください。")),
            NumberRange(1, STAFF_MAX, _l("取扱者数は 1 以上の整数で入力してください。")),
        ],
    )


class DecisionForm(FlaskForm):
    decision = RadioField(
        _l("判断"),
        choices=[SelectChoice("approve", _l("承認する")), SelectChoice("reject", _l("承認しない"))],
        validators=[InputRequired(_l("承認するか承認しないかを選んでください。"))],
    )
    conditions = TextAreaField(
        _l("承認の条件・承認しない理由"), validators=[Optional(), Length(max=2000)]
    )
