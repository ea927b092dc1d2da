"""Forms of the campaigns area. Business rules (unique code, date order, published checklist)
live in survey.services.campaigns; these only parse."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Optional
from wtforms.widgets import TextInput

from reports.escalation import Steps
from survey.malformed import db_int
from survey.services.campaigns import REASON_MAX, TITLE_MAX, Settings


class DayField(DateField):
    """An <input type=date>; a value that is no date gets a Japanese message."""

    def __init__(self, label, **kwargs):
        kwargs.setdefault("validators", [Optional()])
        kwargs.setdefault("render_kw", {"type": "date"})
        super().__init__(label, **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as problem:
            raise ValueError(_l("日付は「2026-12-11」の形で入力してください。")) from problem


class StepField(IntegerField):
    """Days from the due date for an escalation step; blank leaves the step out. What was
    typed stays in the field when it is no number (IntegerField keeps the raw value)."""

    def __init__(self, label, **kwargs):
        kwargs.setdefault("validators", [Optional()])
        # A text box, not type=number: a browser would send nothing for what it cannot read.
        kwargs.setdefault("widget", TextInput())
        kwargs.setdefault("render_kw", {"inputmode": "numeric", "size": 5, "maxlength": 4})
        super().__init__(label, **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as problem:
            raise ValueError(
                _l(
                    "日数は「-3」「7」のような整数で入力してください（空欄ならこの段階は送りません）。"
                )
            ) from problem


class StepsMixin:
    """The three escalation steps, as on the campaign form and the office's defaults page."""

    remind_respondent_days = StepField(_l("回答者への督促"))
    remind_unit_head_days = StepField(_l("所属長への督促"))
    remind_department_head_days = StepField(_l("部局長への督促"))

    def steps(self) -> Steps:
        return Steps(
            self.remind_respondent_days.data,
            self.remind_unit_head_days.data,
            self.remind_department_head_days.data,
        )

    def fill_steps(self, steps: Steps) -> None:
        self.remind_respondent_days.data = steps.respondent
        self.remind_unit_head_days.data = steps.unit_head
        self.remind_department_head_days.data = steps.department_head


def _int_or_none(value):
    try:
        return db_int(value)
    except (TypeError, ValueError):
        return None


class CampaignForm(StepsMixin, FlaskForm):
    code = StringField(
        _l("点検コード"),
        render_kw={"maxlength": 64, "autocomplete": "off", "spellcheck": "false"},
        description=_l(
            "半角英数字と記号（. _ -）。URLやファイル名に使います。例: 2027-annual-assets"
        ),
    )
    title = StringField(_l("点検名"), render_kw={"maxlength": TITLE_MAX})
    # The service judges the choice (published or not) and says so in Japanese.
    checklist_id = SelectField(
        _l("チェックリスト（公開済みの版）"), coerce=_int_or_none, validate_choice=False
    )
    opens_on = DayField(_l("開始日"))
    closes_on = DayField(_l("締切日"))
    submit = SubmitField(_l("保存する"))

    def settings(self) -> Settings:
        return Settings(
            code=self.code.data or "",
            title=self.title.data or "",
            checklist_id=self.checklist_id.data,
            opens_on=self.opens_on.data,
            closes_on=self.closes_on.data,
            steps=self.steps(),
        )

    def fill(self, settings: Settings) -> None:
        self.code.data = settings.code
        self.title.data = settings.title
        self.checklist_id.data = settings.checklist_id
        self.opens_on.data = settings.opens_on
        self.closes_on.data = settings.closes_on
        if settings.steps is not None:
            self.fill_steps(settings.steps)


class StepsForm(StepsMixin, FlaskForm):
    """The steps alone: the office's defaults, or a running campaign's."""

    submit = SubmitField(_l("保存する"))


class ExtendForm(FlaskForm):
    closes_on = DayField(_l("新しい締切日"))
    reason = TextAreaField(_l("延長の理由"), render_kw={"maxlength": REASON_MAX, "rows": 3})
    submit = SubmitField(_l("期限を延長する"))


class AssignmentExtendForm(FlaskForm):
    due_on = DayField(_l("新しい回答期限"))
    reason = TextAreaField(_l("延長の理由"), render_kw={"maxlength": REASON_MAX, "rows": 3})
    submit = SubmitField(_l("この対象の期限を延長する"))


class ReopenForm(FlaskForm):
    due_on = DayField(_l("新しい回答期限"))
    reason = TextAreaField(_l("再開の理由"), render_kw={"maxlength": REASON_MAX, "rows": 3})
    submit = SubmitField(_l("回答を再開する"))


class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("実行する"))
