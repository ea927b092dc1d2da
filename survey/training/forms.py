"""Forms of the training pages; every one that changes something posts with its token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from survey.malformed import db_int


def _int_or_none(value):
    try:
        return db_int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class CourseForm(FlaskForm):
    """Read here; checked by survey.services.training, which names every problem at once."""

    code = StringField(_l("研修コード"))
    version = IntegerField(_l("版"), default=1, validators=[Optional()])
    title = StringField(_l("研修名"))
    test_id = SelectField(_l("理解度テスト"), coerce=_int_or_none, validate_choice=False)
    opens_on = DateField(_l("開始日"), validators=[Optional()])
    due_on = DateField(_l("受講期限"), validators=[Optional()])
    material_text = TextAreaField(_l("研修資料（本文）"), validators=[Optional()])
    material_file = FileField(_l("研修資料（PDF）"))


class TargetsForm(FlaskForm):
    units = SelectMultipleField(
        _l("対象の所属（下の係・所属を含む）"), coerce=int, validate_choice=False
    )
    contractors = SelectMultipleField(_l("対象の委託事業者"), coerce=int, validate_choice=False)


class StepForm(FlaskForm):
    """A button that takes a step (open, close, read, start): the token only."""
