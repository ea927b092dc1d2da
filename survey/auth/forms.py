from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField(_l("ユーザー名"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("パスワード"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(_l("ログイン"))
