"""Forms of the register pages: the upload, and the confirmation before applying."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired


class UploadForm(FlaskForm):
    file = FileField(
        _l("台帳ファイル（.xlsx または CSV）"),
        validators=[FileRequired(_l("ファイルを選んでください。"))],
    )


class ApplyForm(FlaskForm):
    digest = HiddenField()
    confirm = BooleanField(
        _l("上の内容を確認しました。この内容で台帳を更新します。"),
        validators=[DataRequired(_l("確認のチェックを入れてください。"))],
    )
