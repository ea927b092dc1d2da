"""tenken: the Flask application factory."""

from __future__ import annotations

from flask import Flask, request, session
from flask_babel import lazy_gettext as _l

import config as settings
from survey import headers, malformed, transactions
from survey.extensions import babel, csrf, db, limiter, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(settings.instance_dir()))
    app.config.update(settings.load(config))
    app.url_map.converters["int"] = malformed.IdConverter  # before any route is made with it
    register_extensions(app)
    register_blueprints(app)
    malformed.init_app(app)
    register_template_helpers(app)
    register_commands(app)
    headers.init_app(app)
    return app


def select_locale() -> str:
    from survey.api import is_api_request

    if is_api_request(request):
        # A program says which language it reads in Accept-Language; Japanese otherwise.
        return request.accept_languages.best_match(("ja", "en")) or "ja"
    # Japanese first; English only when the user chose it (kept in the session).
    choice = request.args.get("lang")
    if choice in ("ja", "en"):
        session["lang"] = choice
    return session.get("lang", "ja")


def register_extensions(app: Flask) -> None:
    from survey import models  # noqa: F401  (registers the tables before migrate looks)

    db.init_app(app)
    transactions.init_app(app)
    # Batch mode lets later migrations alter tables on SQLite, which cannot ALTER most things.
    migrate.init_app(app, db, directory=str(settings.BASE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("このページを表示するにはログインしてください。")
    login_manager.login_message_category = "info"

    # The user comes from the session's row in the database (survey.auth.sessions), which also
    # makes Flask-Login's own binding of the cookie to the address and browser needless.
    login_manager.session_protection = None
    from survey.api import is_api_request, token_user
    from survey.auth.sessions import signed_in_user

    # The API takes a bearer token and nothing else (never the session cookie: survey.api).
    login_manager.request_loader(
        lambda req: token_user(req) if is_api_request(req) else signed_in_user(req)
    )
    limiter.init_app(app)
    if app.config.get("PROXY_COUNT"):
        # Behind nginx/Apache: take the client's address (for the limits) and scheme from the
        # headers set by that many trusted proxies.
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from survey.sqlite import enable_sqlite_pragmas

        with app.app_context():
            enable_sqlite_pragmas(db.engine)


def register_blueprints(app: Flask) -> None:
    from survey.admin import bp as admin_bp
    from survey.auth import bp as auth_bp
    from survey.campaigns import bp as campaigns_bp
    from survey.contractors import bp as contractors_bp
    from survey.errors import bp as errors_bp
    from survey.followup import bp as followup_bp
    from survey.health import bp as health_bp
    from survey.jobs import bp as jobs_bp
    from survey.logreview import bp as logreview_bp
    from survey.main import bp as main_bp
    from survey.pledges import bp as pledges_bp
    from survey.respond import bp as respond_bp
    from survey.results import bp as results_bp
    from survey.trail import bp as trail_bp
    from survey.training import bp as training_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(results_bp)
    app.register_blueprint(campaigns_bp)
    app.register_blueprint(respond_bp)
    app.register_blueprint(trail_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(contractors_bp)

    app.register_blueprint(followup_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(logreview_bp)
    app.register_blueprint(pledges_bp)
    app.register_blueprint(training_bp)
    app.register_blueprint(errors_bp)

    from survey import api

    api.init_app(app)


def register_template_helpers(app: Flask) -> None:
    from survey import formatting, urls

    formatting.init_app(app)
    urls.init_app(app)


def register_commands(app: Flask) -> None:
    from survey.cli import commands
    from survey.cli_jobs import jobs_cli
    from survey.cli_logs import logs_cli

    for command in [*commands, jobs_cli, logs_cli]:
        app.cli.add_command(command)
