"""Results of campaigns on screen and as downloads (Excel, CSV, JSON), for admin, auditor and
managers (on their subtree only)."""

from flask import Blueprint

bp = Blueprint("results", __name__, url_prefix="/results")

from survey.results import routes  # noqa: E402,F401
