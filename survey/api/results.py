"""Results of a campaign as JSON: per item, per department, per respondent — the shapes of the
results pages' JSON downloads (reports/tables.py), computed on the user's scope."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask_login import current_user
from flask_smorest import abort

from reports import tables
from survey import access, clock
from survey.api import blueprint
from survey.api.schemas import ResultArgs, ResultTableSchema
from survey.extensions import db
from survey.models import Campaign
from survey.services import levels, trail

bp = blueprint("results", "/campaigns", "点検結果（集計）")
TABLES = ("items", "departments", "respondents")


@bp.route("/<code>/results/<any(items, departments, respondents):table>", methods=["GET"])
@access.guard(does=access.can_view_results)
@bp.arguments(ResultArgs, location="query")
@bp.response(200, ResultTableSchema)
def result_table(args, code: str, table: str):
    """集計 (items), 部局別 (departments) or 回答一覧 (respondents); `dept` narrows the figures
    to one unit of the user's scope, as on the results page."""
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == code))
    if campaign is None or not access.can_view_results(current_user, campaign):
        # A manager outside the campaign learns nothing about it.
        abort(404)
    at = levels.level_or_404(current_user, args["dept"])
    conn = db.session.connection()
    built = tables.build(
        conn,
        code,
        units=at.units,
        generated_by=f"{current_user.display_name}（{current_user.username}）",
        scope=at.chosen[1] if at.chosen else "",
        parent=at.parent,
        tz=clock.zone(),
    )
    document = "".join(tables.json_chunks(built, tables.table(built, table)))
    trail.record_export(code, f"api {table}")
    db.session.commit()
    return json.loads(document)
