"""The tables this package reads and writes, named rather than imported from the Flask models
(survey/models/logs.py declares them; the names and types here follow it), so the importer
and the sampler run on any SQLAlchemy connection. Only the columns used here are listed."""

from __future__ import annotations

import sqlalchemy as sa

log_entry = sa.table(
    "log_entry",
    sa.column("id", sa.Integer),
    sa.column("import_id", sa.Integer),
    sa.column("source_id", sa.Integer),
    sa.column("row_number", sa.Integer),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("user_code", sa.String),
    sa.column("user_id", sa.Integer),
    sa.column("unit_id", sa.Integer),
    sa.column("contractor_id", sa.Integer),
    sa.column("terminal", sa.String),
    sa.column("operation", sa.String),
    sa.column("record_id", sa.String),
    sa.column("district", sa.String),
    sa.column("reason", sa.String),
    sa.column("request_no", sa.String),
)
staff_household = sa.table(
    "staff_household",
    sa.column("source_id", sa.Integer),
    sa.column("user_code", sa.String),
    sa.column("record_id", sa.String),
)
served_district = sa.table(
    "served_district",
    sa.column("unit_id", sa.Integer),
    sa.column("contractor_id", sa.Integer),
    sa.column("district", sa.String),
)
user_account = sa.table(
    "user_account",
    sa.column("id", sa.Integer),
    sa.column("username", sa.String),
    sa.column("unit_id", sa.Integer),
    sa.column("contractor_id", sa.Integer),
)
org_unit = sa.table("org_unit", sa.column("id", sa.Integer), sa.column("code", sa.String))
contractor = sa.table("contractor", sa.column("id", sa.Integer), sa.column("code", sa.String))
