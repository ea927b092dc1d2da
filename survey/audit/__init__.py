"""The audit trail for the security office and the auditors: search, review, export."""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")

from survey.audit import routes  # noqa: E402,F401
