from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from survey.passwords import password_problem


class LoginForm(FlaskForm):
    username = StringField(_l("ユーザー名"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("パスワード"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(_l("ログイン"))


class CodeForm(FlaskForm):
    """The second step of signing in: a code of the authenticator app, or a recovery code."""

    code = StringField(
        _l("確認コード"),
        validators=[
            DataRequired(message=_l("確認コードを入力してください。")),
            Length(max=64),
        ],
        render_kw={
            "autocomplete": "one-time-code",
            "spellcheck": "false",
            "autocapitalize": "off",
        },
    )
    submit = SubmitField(_l("確認"))


class EnrollForm(FlaskForm):
    code = StringField(
        _l("アプリに表示された6桁のコード"),
        validators=[
            DataRequired(message=_l("確認コードを入力してください。")),
            Length(max=16),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("2段階認証を有効にする"))


class DisableTwoFactorForm(FlaskForm):
    password = PasswordField(
        _l("現在のパスワード"),
        validators=[DataRequired(message=_l("現在のパスワードを入力してください。"))],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("2段階認証を無効にする"))


class RecoveryCodesForm(FlaskForm):
    password = PasswordField(
        _l("現在のパスワード"),
        validators=[DataRequired(message=_l("現在のパスワードを入力してください。"))],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("新しい回復コードを発行する"))


class SignOutEverywhereForm(FlaskForm):
    submit = SubmitField(_l("他のすべての端末からログアウト"))


class EndSessionForm(FlaskForm):
    """One of the user's other sessions, named by its row's key: the token's hash, which signs
    nobody in."""

    session = HiddenField(validators=[DataRequired(), Length(max=64)])
    submit = SubmitField(_l("このセッションを終了"))


class ChangePasswordForm(FlaskForm):
    username = ""  # set by the view: the policy refuses passwords containing it

    current = PasswordField(
        _l("現在のパスワード"),
        validators=[DataRequired(message=_l("現在のパスワードを入力してください。"))],
        render_kw={"autocomplete": "current-password"},
    )
    password = PasswordField(
        _l("新しいパスワード"),
        validators=[DataRequired(message=_l("パスワードを入力してください。"))],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("新しいパスワード（確認）"),
        validators=[
            DataRequired(message=_l("確認のため、同じパスワードをもう一度入力してください。")),
            EqualTo("password", message=_l("確認用のパスワードが一致しません。")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("パスワードを変更する"))

    def validate_password(self, field):
        problem = password_problem(field.data, self.username)
        if problem:
            raise ValidationError(problem)
