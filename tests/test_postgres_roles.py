"""The production guide's two PostgreSQL roles, set up with the guide's own commands: the owner
migrates; the application's role answers questionnaires and appends to the audit trail, and can
neither change the schema nor rewrite the trail."""

from __future__ import annotations

import shutil
import uuid

import flask_migrate
import pytest
import sqlalchemy as sa

from survey import demo
from survey.extensions import db
from survey.models import AuditEntry
from tests import helpers
from tests.conftest import PG_URL, make_app
from tests.postgres_guide import drop_guide, guide_commands, psql, url_as

pytestmark = pytest.mark.skipif(
    PG_URL is None or shutil.which("psql") is None,
    reason="runs when TEST_DATABASE_URL names PostgreSQL and psql is installed",
)


@pytest.fixture
def guide_database():
    name = f"tenken_roles_{uuid.uuid4().hex[:8]}"
    setup, narrow = guide_commands(name)
    psql(setup)
    try:
        yield name, narrow
    finally:
        drop_guide(name)


def test_the_application_role_of_the_guide_answers_but_cannot_rewrite_or_restructure(
    guide_database, tmp_path
):
    name, narrow = guide_database
    owner = make_app(url_as(f"{name}_owner", name), tmp_path / "owner")
    with owner.app_context():
        flask_migrate.upgrade()
        demo.load()  # as the migrations' role, as a pilot would
        db.session.remove()
        db.engine.dispose()
    psql(narrow, database=name)

    app = make_app(url_as(f"{name}_app", name), tmp_path / "app")
    with app.app_context():
        mine = helpers.assignment_of("戸籍住民課")
        entries = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
        client = helpers.login(app, "respondent")
        saved = client.post(
            f"/assignments/{mine.id}",
            data=helpers.form_data(mine, answers={1: "no"}, comments={1: "未整備"}),
        )
        assert saved.status_code == 302
        db.session.expire_all()
        assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) > entries

        refused = [
            "UPDATE audit_entry SET summary = 'rewritten'",
            "DELETE FROM audit_entry",
            "ALTER TABLE audit_entry DISABLE TRIGGER USER",
            "CREATE TABLE shadow (id integer)",
            "DROP TABLE answer",
        ]
        for statement in refused:
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied|must be owner"):
                with db.engine.begin() as conn:
                    conn.execute(sa.text(statement))
        db.session.remove()
        db.engine.dispose()
