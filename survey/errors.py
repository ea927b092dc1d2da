"""Error pages in the user's language, for every blueprint."""

from flask import Blueprint, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from survey.extensions import db

bp = Blueprint("errors", __name__)


@bp.app_errorhandler(HTTPException)
def other_error(error):
    """Errors without a page of their own (405, 429 …): the API's in JSON, the rest as is."""
    return _api_error(error) or error


def _api_error(error):
    """An error on an /api path that no API route handled (an unknown URL, a wrong method):
    JSON like the API's own errors, not a page."""
    from survey.api import is_api_request, json_error

    return json_error(error) if is_api_request(request) else None


@bp.app_errorhandler(400)
def bad_request(_error):
    return render_template("errors/error.html", code=400), 400


@bp.app_errorhandler(403)
def forbidden(_error):
    return render_template("errors/error.html", code=403), 403


@bp.app_errorhandler(404)
def not_found(error):
    return _api_error(error) or (render_template("errors/error.html", code=404), 404)


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
