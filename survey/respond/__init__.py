"""Answering: the inbox, the questionnaire, review, history, print, answer sheets, invitations."""

from flask import Blueprint

bp = Blueprint("respond", __name__, url_prefix="/assignments")

from survey.respond import delegation, invite, routes, sheet  # noqa: E402,F401
