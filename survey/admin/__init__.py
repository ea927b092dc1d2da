"""Administration: registers, checklists, the outbox."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from survey.admin import checklists, outbox, registers  # noqa: E402,F401
