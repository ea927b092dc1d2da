"""Administration: registers, checklists, the outbox, invitation requests."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from survey.admin import (  # noqa: E402,F401
    checklists,
    escalation,
    invitation_requests,
    outbox,
    registers,
)
