"""研修・理解度テスト: the security office's courses and their completion, and each person's
own course and test (survey/services/training.py)."""

from flask import Blueprint

bp = Blueprint("training", __name__, url_prefix="/training")

from survey.training import routes  # noqa: E402,F401
