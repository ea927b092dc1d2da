"""Forms of the log pages. They parse; survey.services.logs and accesslogs judge (a mapping's
problems come back by field and are shown beside it)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from reports.accesslogs.mapping import DEFAULT_PATTERN, PATTERN_MAX
from survey.campaigns.forms import DayField
from survey.followup.forms import choices
from survey.malformed import db_int

CODE = Regexp(r"^[A-Za-z0-9_.-]+$", message=_l("半角英数字と記号（. _ -）で入力してください。"))


def _text(value: str | None) -> str:
    """Text as stored: never None (a field left out), no spaces around it."""
    return (value or "").strip()


HEADING = {
    "render_kw": {"maxlength": 100, "autocomplete": "off"},
    "validators": [Length(max=100)],
    "filters": [_text],
}


def _int_or_none(value):
    try:
        return db_int(value)
    except (TypeError, ValueError):
        return None


class SourceForm(FlaskForm):
    code = StringField(
        _l("コード"),
        validators=[DataRequired(_l("コードを入力してください。")), Length(max=32), CODE],
        filters=[_text],
        render_kw={"maxlength": 32, "autocomplete": "off", "spellcheck": "false"},
        description=_l("例: JUKI-SHOKAI。コマンド（flask logs import）でも使います。"),
    )
    name = StringField(
        _l("名称"),
        validators=[DataRequired(_l("名称を入力してください。")), Length(max=200)],
        filters=[_text],
        render_kw={"maxlength": 200},
    )
    system_id = SelectField(_l("情報システム"), coerce=_int_or_none, validate_choice=False)
    encoding = SelectField(
        _l("文字コード"),
        choices=choices(
            [
                ("auto", _l("自動判別（UTF-8 か Shift_JIS）")),
                ("utf-8", "UTF-8"),
                ("cp932", "Shift_JIS (cp932)"),
            ]
        ),
    )
    delimiter = SelectField(
        _l("区切り文字"), choices=choices([(",", _l("コンマ")), ("\t", _l("タブ"))])
    )
    time_format = StringField(
        _l("日時の書式"),
        validators=[Optional(), Length(max=64)],
        filters=[_text],
        render_kw={"maxlength": 64, "spellcheck": "false"},
        description=_l(
            "空欄なら 2026/10/01 9:30:00 などの一般的な書き方を読み取ります。例: %Y%m%d%H%M%S"
        ),
    )
    user_pattern = StringField(
        _l("利用者IDの読み方"),
        default=DEFAULT_PATTERN,
        validators=[
            DataRequired(_l("利用者IDの読み方を入力してください。")),
            Length(max=PATTERN_MAX),
        ],
        render_kw={"maxlength": PATTERN_MAX, "spellcheck": "false", "class": "code"},
        description=_l(
            "正規表現。(?P<user>…) はユーザー名、(?P<unit>…) は組織コード、(?P<contractor>…) は"
            "事業者コードとして台帳と照合します。例: (?P<unit>D\\d{2}-\\d{2})-\\d{4}"
        ),
    )
    time_column = StringField(_l("日時の列"), **HEADING)
    date_column = StringField(_l("日付の列（時刻と別の列のとき）"), **HEADING)
    user_column = StringField(_l("利用者IDの列"), **HEADING)
    terminal_column = StringField(_l("端末の列"), **HEADING)
    operation_column = StringField(_l("操作の列"), **HEADING)
    record_column = StringField(_l("照会した記録（宛名番号・住民コードなど）の列"), **HEADING)
    district_column = StringField(_l("地区の列"), **HEADING)
    reason_column = StringField(_l("事由コードの列"), **HEADING)
    request_column = StringField(_l("申請書番号の列"), **HEADING)
    active = BooleanField(_l("有効（取り込みとログ点検に使う）"), default=True)
    submit = SubmitField(_l("保存する"))


class UploadForm(FlaskForm):
    file = FileField(
        _l("ログファイル（CSV または .xlsx）"),
        validators=[FileRequired(_l("ファイルを選んでください。"))],
    )


class ImportForm(FlaskForm):
    submit = SubmitField(_l("取り込む"))


class RoundForm(FlaskForm):
    source_id = SelectField(_l("ログの種類"), coerce=_int_or_none, validate_choice=False)
    period_from = DayField(
        _l("期間（開始日）"), validators=[InputRequired(_l("開始日を入力してください。"))]
    )
    period_to = DayField(
        _l("期間（終了日）"), validators=[InputRequired(_l("終了日を入力してください。"))]
    )
    rule_set_id = SelectField(_l("抽出ルール"), coerce=_int_or_none, validate_choice=False)
    code = StringField(
        _l("コード"),
        validators=[Optional(), Length(max=64), CODE],
        render_kw={"maxlength": 64, "autocomplete": "off", "spellcheck": "false"},
        description=_l("空欄なら、ログの種類と期間から付けます。"),
    )
    title = StringField(
        _l("名称"), validators=[Optional(), Length(max=200)], render_kw={"maxlength": 200}
    )
    seed = StringField(
        _l("抽出の種（seed）"),
        validators=[Optional(), Length(max=64), CODE],
        render_kw={"maxlength": 64, "autocomplete": "off", "spellcheck": "false"},
        description=_l(
            "空欄なら無作為に決めて記録します。同じ種・ルール・ログからは同じ記録が抽出されます。"
        ),
    )
    submit = SubmitField(_l("抽出して開始する"))


class RouteForm(FlaskForm):
    due_on = DayField(
        _l("回答期限"), validators=[InputRequired(_l("回答期限を入力してください。"))]
    )
    submit = SubmitField(_l("所属長に確認を依頼する"))


class SheetForm(FlaskForm):
    """The sheet's answers come as verdict-<id>, request-<id>, comment-<id> (one set per entry,
    read by the view); the form carries the CSRF token."""

    submit = SubmitField(_l("保存する"))


class StepForm(FlaskForm):
    """Hand in, ask to explain: a button and the CSRF token."""


class DecideForm(FlaskForm):
    comment = TextAreaField(_l("コメント（差し戻す場合は理由）"), render_kw={"rows": 3})


class ExplainForm(FlaskForm):
    explanation = TextAreaField(
        _l("説明（何のための照会か、申請書番号など）"), render_kw={"rows": 5, "maxlength": 2000}
    )
    submit = SubmitField(_l("説明を送る"))


class IncidentForm(FlaskForm):
    """A confirmed flag recorded as an incident: what is known so far."""

    description = TextAreaField(
        _l("インシデントの内容（分かっていること）"), render_kw={"rows": 3, "maxlength": 2000}
    )
    submit = SubmitField(_l("インシデントとして記録する"))
