"""Forms of the checklist pages: upload a file, publish, copy, choose two versions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, SubmitField

from survey.services.checklist_versions import FORMATS


class UploadForm(FlaskForm):
    # Any file is accepted here: the checklist reader names what is wrong with it, in the same
    # words as `flask checklist validate`.
    file = FileField(
        _l("チェックリストのファイル（YAML または Excel）"),
        validators=[FileRequired(_l("ファイルを選んでください。"))],
        render_kw={"accept": ".yaml,.yml,.xlsx," + FORMATS["xlsx"]},
    )
    submit = SubmitField(_l("アップロードして検証"))


class PublishForm(FlaskForm):
    submit = SubmitField(_l("公開する"))


class DiscardForm(FlaskForm):
    submit = SubmitField(_l("下書きを削除する"))


class CopyForm(FlaskForm):
    submit = SubmitField(_l("この版から新しい版の下書きを作成"))


class CompareForm(FlaskForm):
    """Read from the query string: a comparison is a page one can link to."""

    class Meta:
        csrf = False

    old = SelectField(_l("比較元の版"), coerce=int)
    new = SelectField(_l("比較先の版"), coerce=int)
