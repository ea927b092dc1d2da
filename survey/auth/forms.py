from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, ValidationError
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from survey.passwords import password_problem
from survey.services.invitations import email_problem


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


class NewTokenForm(FlaskForm):
    """A personal access token for the API: its name, what it may do beyond reading, and for
    how many days (survey.services.tokens checks the scopes against the user's role)."""

    name = StringField(
        _l("名前（用途）"),
        validators=[
            DataRequired(message=_l("トークンの名前を入力してください。")),
            Length(max=100),
        ],
    )
    scopes = SelectMultipleField(
        _l("読み取りに加えて許可する操作"),
        choices=[
            SelectChoice("answers", _l("回答の保存・是正措置の報告")),
            SelectChoice("admin", _l("管理操作")),
        ],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,  # the service refuses what the user's role cannot use
    )
    days = IntegerField(
        _l("有効日数"),
        validators=[
            DataRequired(message=_l("有効日数を入力してください。")),
            NumberRange(min=1, max=3650, message=_l("有効日数は1以上の数で入力してください。")),
        ],
    )
    submit = SubmitField(_l("トークンを作成"))


class RevokeTokenForm(FlaskForm):
    token = IntegerField(widget=HiddenInput(), validators=[DataRequired()])
    submit = SubmitField(_l("無効にする"))


class ForgotPasswordForm(FlaskForm):
    """The address of the account whose password was forgotten (survey.auth.reset)."""

    email = StringField(
        _l("メールアドレス"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        render_kw={"autocomplete": "email", "inputmode": "email", "spellcheck": "false"},
    )
    submit = SubmitField(_l("再設定用のリンクを送る"))

    def validate_email(self, field):
        # The form of the address only: whether an account has it is never told.
        problem = email_problem(field.data)
        if problem:
            raise ValidationError(problem)


class ResetPasswordForm(FlaskForm):
    username = ""  # set by the view: the policy refuses passwords containing it

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
    submit = SubmitField(_l("パスワードを再設定する"))

    def validate_password(self, field):
        problem = password_problem(field.data, self.username)
        if problem:
            raise ValidationError(problem)


class PledgeForm(FlaskForm):
    """Acknowledging the pledges shown: which versions the page showed, and the tick."""

    versions = HiddenField()
    agree = BooleanField(
        _l("上記の誓約書の内容を確認し、遵守することを誓約します。"),
        validators=[DataRequired(_l("誓約する場合はチェックを入れてください。"))],
    )
    submit = SubmitField(_l("誓約する"))
