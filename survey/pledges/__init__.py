"""Pledges (誓約書, at /pledges/): the office writes and publishes them; the office, auditors and
managers follow who has acknowledged (survey.services.pledges); everyone keeps their own
acknowledgements and prints them. The page that asks for a pledge at sign-in is
survey.auth.pledge."""

from flask import Blueprint

bp = Blueprint("pledges", __name__, url_prefix="/pledges")

from survey.pledges import routes  # noqa: E402,F401
