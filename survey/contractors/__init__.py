"""委託先管理: contractor evaluations and their recommendations, contracts and subcontracting."""

from flask import Blueprint

bp = Blueprint("contractors", __name__, url_prefix="/contractors")

from survey.contractors import routes, subcontracts  # noqa: E402,F401
