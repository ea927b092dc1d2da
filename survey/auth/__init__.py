from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from survey.auth import account, invite, pledge, reset, routes, sessions  # noqa: E402,F401
