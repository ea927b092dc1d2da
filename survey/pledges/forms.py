from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Regexp

from survey.labels import PLEDGE_AUDIENCES, PLEDGE_RENEWALS

BODY_MAX = 20_000


class PledgeForm(FlaskForm):
    code = StringField(
        _l("コード"),
        validators=[
            DataRequired(_l("コードを入力してください。")),
            Length(max=32),
            Regexp(
                r"^[a-z0-9][a-z0-9-]*$",
                message=_l("コードは半角英小文字・数字・ハイフンで入力してください。"),
            ),
        ],
        description=_l("URL に使います（例: staff）。後から変えられません。"),
    )
    title = StringField(
        _l("名称"), validators=[DataRequired(_l("名称を入力してください。")), Length(max=200)]
    )
    audience = SelectField(
        _l("対象者"),
        choices=[SelectChoice(code, label) for code, label in PLEDGE_AUDIENCES.items()],
    )
    renewal = SelectField(
        _l("同意を求める時期"),
        choices=[SelectChoice(code, label) for code, label in PLEDGE_RENEWALS.items()],
    )
    body = TextAreaField(
        _l("本文"),
        validators=[DataRequired(_l("本文を入力してください。")), Length(max=BODY_MAX)],
        render_kw={"rows": 16},
    )
    submit = SubmitField(_l("下書きとして保存"))


class DraftForm(FlaskForm):
    body = TextAreaField(
        _l("本文"),
        validators=[DataRequired(_l("本文を入力してください。")), Length(max=BODY_MAX)],
        render_kw={"rows": 16},
    )
    submit = SubmitField(_l("下書きを保存"))


class PublishForm(FlaskForm):
    # Publishing asks everyone concerned to sign again: the office ticks that it knows. The
    # box's text names the version, so the page writes it.
    confirm = BooleanField(
        validators=[DataRequired(_l("公開する場合は、確認の欄にチェックを入れてください。"))]
    )
    submit = SubmitField(_l("この版を公開する"))
