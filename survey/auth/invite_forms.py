"""Forms of contractor invitations: sending one, and setting the account up from its link.

The rules live in survey.services.invitations; the forms call them so that every problem is
shown at once, next to its field, and the service checks them again when it saves.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from survey.passwords import password_problem
from survey.services import invitations


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class InviteForm(FlaskForm):
    email = StringField(
        _l("担当者のメールアドレス"),
        filters=[_strip],
        render_kw={"autocomplete": "email", "inputmode": "email", "spellcheck": "false"},
    )
    submit = SubmitField(_l("招待メールを送る"))

    def validate_email(self, field):
        problem = invitations.email_problem(field.data)
        if problem:
            raise ValidationError(problem)


class SetPasswordForm(FlaskForm):
    """For an address that already has an account of the same company: only a new password."""

    account_username = ""

    password = PasswordField(
        _l("パスワード"),
        validators=[
            DataRequired(message=_l("パスワードを入力してください。")),
            Length(max=256, message=_l("パスワードは256文字以内にしてください。")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("パスワード（確認）"),
        validators=[
            DataRequired(message=_l("確認のため、同じパスワードをもう一度入力してください。")),
            EqualTo("password", message=_l("確認用のパスワードが一致しません。")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("パスワードを設定して始める"))

    def chosen_username(self) -> str:
        return self.account_username

    def validate_password(self, field):
        problem = password_problem(field.data, self.chosen_username())
        if problem:
            raise ValidationError(problem)


class AcceptInvitationForm(SetPasswordForm):
    """For a new account: username and display name as well."""

    username = StringField(
        _l("ユーザー名"),
        filters=[_strip],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    display_name = StringField(
        _l("表示名（氏名）"),
        validators=[
            DataRequired(message=_l("表示名を入力してください。")),
            Length(max=100, message=_l("表示名は100文字以内で入力してください。")),
        ],
        filters=[_strip],
        render_kw={"autocomplete": "name"},
    )

    def chosen_username(self) -> str:
        return self.username.data or ""

    def validate_username(self, field):
        problem = invitations.username_problem(field.data)
        if problem:
            raise ValidationError(problem)
