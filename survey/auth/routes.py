from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from survey.auth import bp
from survey.auth.forms import LoginForm
from survey.extensions import db
from survey.models import User
from survey.services.accounts import authenticate


def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def _safe_next(target: str | None) -> str:
    # Only local paths: an attacker's link must not bounce a user off-site after login.
    if target and target.startswith("/") and not urlsplit(target).netloc:
        return target
    return url_for("main.home")


def start_session(user: User) -> None:
    """Sign in with a fresh session: nothing from before sign-in carries over but the language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data, form.password.data)
        if user is None:
            flash(_("ユーザー名またはパスワードが正しくありません。"), "error")
        else:
            start_session(user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash(_("ログアウトしました。"), "info")
    return redirect(url_for("auth.login"))
