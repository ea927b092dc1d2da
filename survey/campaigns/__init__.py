"""Running campaigns (点検の実施): the security office prepares, opens, extends, closes, copies
them and reopens single assignments; admin, auditors and managers follow the progress."""

from flask import Blueprint

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")

from survey.campaigns import routes  # noqa: E402,F401
