"""An export job's page (its progress, then its file) and the file itself, for its owner only
(survey.services.jobs)."""

from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

from survey.jobs import routes  # noqa: E402,F401
