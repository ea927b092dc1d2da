"""`flask db upgrade` builds the whole schema, and the migrations agree with the models."""

import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from survey.extensions import db


def test_upgrade_on_an_empty_database_matches_the_models(empty_database_app):
    flask_migrate.upgrade()
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []
    tables = set(sa.inspect(db.engine).get_table_names())
    assert {
        "org_unit",
        "user_account",
        "checklist",
        "item",
        "campaign",
        "assignment",
        "answer",
        "attachment",
        "contract",
        "subcontract",
    } <= tables


def test_downgrade_removes_everything(empty_database_app):
    flask_migrate.upgrade()
    flask_migrate.downgrade(revision="base")
    assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}


def test_demo_loads_into_a_migrated_database(empty_database_app):
    runner = empty_database_app.test_cli_runner()
    flask_migrate.upgrade()
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "admin" in result.output and "tenken-demo-2026" in result.output
    again = runner.invoke(args=["demo", "load", "--if-empty"])
    assert "読み込みません" in again.output
    assert runner.invoke(args=["demo", "load"]).exit_code == 1  # refuses to mix with data
