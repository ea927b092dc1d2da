from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from survey.auth import invite, routes  # noqa: E402,F401
