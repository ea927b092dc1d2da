"""Error pages in the user's language, for every blueprint."""

from flask import Blueprint, render_template
from flask_wtf.csrf import CSRFError

from survey.extensions import db

bp = Blueprint("errors", __name__)


@bp.app_errorhandler(400)
def bad_request(_error):
    return render_template("errors/error.html", code=400), 400


@bp.app_errorhandler(403)
def forbidden(_error):
    return render_template("errors/error.html", code=403), 403


@bp.app_errorhandler(404)
def not_found(_error):
    return render_template("errors/error.html", code=404), 404


@bp.app_errorhandler(CSRFError)
def csrf_failed(_error):
    return render_template("errors/error.html", code=400, csrf=True), 400


@bp.app_errorhandler(413)
def too_large(_error):
    return render_template("errors/error.html", code=413), 413


@bp.app_errorhandler(500)
def server_error(_error):
    db.session.rollback()  # the failed request must not leave a broken transaction behind
    return render_template("errors/error.html", code=500), 500
