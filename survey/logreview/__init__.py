"""Access-log review (ログ点検), at /logs/: the security office registers a system's log export,
imports its files, and starts review rounds that sample the entries to be reviewed."""

from flask import Blueprint

bp = Blueprint("logreview", __name__, url_prefix="/logs")

from survey.logreview import routes  # noqa: E402,F401
