"""Access-log review (ログ点検), at /logs/: the security office registers a system's log export,
imports its files, and starts review rounds that sample the entries to be reviewed and routes
them to the heads (routes.py); the heads, their superiors and the employees asked to explain
answer them (reviews.py)."""

from flask import Blueprint

bp = Blueprint("logreview", __name__, url_prefix="/logs")

from survey.logreview import reviews, routes  # noqa: E402,F401
