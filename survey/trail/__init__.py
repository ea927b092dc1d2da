"""The audit trail (監査ログ) for the security office and the auditors: search, review, export.

Named apart from the field audits (実地監査) of survey/followup/audits.py and
survey/services/audits.py; the pages keep their address, /audit/."""

from flask import Blueprint

bp = Blueprint("trail", __name__, url_prefix="/audit")

from survey.trail import routes  # noqa: E402,F401
