"""Search and review forms. They are read from the query string (GET), so no CSRF token: they
change nothing, and a link to a search is meant to be shared."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from survey.services import trail


class _GetForm(FlaskForm):
    class Meta:
        csrf = False


def _moment(_form, field) -> None:
    if field.data and trail.parse_moment(field.data) is None:
        raise ValidationError(_l("日時の形式が正しくありません。"))


def _order(form, field) -> None:
    if form.date_from.data and field.data and field.data < form.date_from.data:
        raise ValidationError(_l("終わりの日は始まりの日以降にしてください。"))


class SearchForm(_GetForm):
    user = StringField(_l("ユーザー名"), validators=[Optional(), Length(max=64)])
    addr = StringField(_l("接続元アドレス"), validators=[Optional(), Length(max=64)])
    action = SelectField(_l("操作"), validators=[Optional()])
    object_type = SelectField(_l("対象の種類"), validators=[Optional()])
    object_id = StringField(_l("対象ID"), validators=[Optional(), Length(max=64)])
    date_from = DateField(_l("期間（から）"), validators=[Optional()])
    date_to = DateField(_l("期間（まで）"), validators=[Optional(), _order])
    text = StringField(_l("キーワード"), validators=[Optional(), Length(max=200)])
    off_hours = BooleanField(_l("夜間・休日のみ"))
    since = HiddenField(validators=[Optional(), _moment])
    until = HiddenField(validators=[Optional(), _moment])
    sort = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.action.choices = [("", _l("すべて"))]
        self.action.choices += list(trail.ACTION_GROUPS.items()) + list(trail.ACTIONS.items())
        self.object_type.choices = [("", _l("すべて"))] + list(trail.OBJECT_TYPES.items())

    def filters(self) -> trail.Filters:
        """The filters that are valid; a field with an error is left out (and shown)."""

        def ok(field):
            value = field.data if not field.errors else None
            # PostgreSQL cannot compare with text holding NUL; nothing stored holds one either.
            return value.replace("\x00", "") if isinstance(value, str) else value

        return trail.Filters(
            user=(ok(self.user) or "").strip(),
            addr=(ok(self.addr) or "").strip(),
            action=ok(self.action) or "",
            object_type=ok(self.object_type) or "",
            object_id=(ok(self.object_id) or "").strip(),
            date_from=ok(self.date_from),
            date_to=ok(self.date_to),
            since=trail.parse_moment(ok(self.since)),
            until=trail.parse_moment(ok(self.until)),
            text=(ok(self.text) or "").strip(),
            off_hours=bool(self.off_hours.data),
            descending=self.sort.data != "asc",
        )


class ReviewForm(_GetForm):
    date_from = DateField(_l("期間（から）"), validators=[Optional()])
    date_to = DateField(_l("期間（まで）"), validators=[Optional(), _order])
