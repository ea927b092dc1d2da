"""Follow-up: corrective actions (是正措置), audits and their findings, the office's dashboard."""

from flask import Blueprint

bp = Blueprint("followup", __name__, url_prefix="/followup")

from survey.followup import audits, routes  # noqa: E402,F401
