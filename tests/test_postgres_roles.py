"""The production guide's two PostgreSQL roles, set up with the guide's own commands: the owner
migrates; the application's role answers questionnaires and appends to the audit trail, and can
neither change the schema nor rewrite the trail."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa

from survey import demo
from survey.extensions import db
from survey.models import AuditEntry
from tests import helpers
from tests.conftest import PG_URL, make_app

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "deployment.md"

pytestmark = pytest.mark.skipif(
    PG_URL is None or shutil.which("psql") is None,
    reason="runs when TEST_DATABASE_URL names PostgreSQL and psql is installed",
)


def guide_commands(name: str) -> tuple[str, str]:
    """The guide's setup script and its narrowing of the audit trail, for a database `name`
    with roles `name`_owner and `name`_app (roles belong to the whole server)."""
    text = GUIDE.read_text(encoding="utf-8")
    setup = re.search(r"psql <<'SQL'\n(.*?)\nSQL\n", text, re.S).group(1)
    narrow = re.search(r'psql tenken -c "(REVOKE [^"]+)"', text).group(1)

    def renamed(sql: str) -> str:
        sql = re.sub(r"\btenken_owner\b", f"{name}_owner", sql)
        sql = re.sub(r"\btenken_app\b", f"{name}_app", sql)
        return re.sub(r"\btenken\b", name, sql)

    return renamed(setup), renamed(narrow)


def psql(script: str, database: str = "postgres") -> None:
    server = sa.engine.make_url(PG_URL)
    subprocess.run(
        ["psql", "-v", "ON_ERROR_STOP=1", "-q", "-h", server.host or "127.0.0.1"]
        + ["-p", str(server.port or 5432), "-U", server.username or "postgres", "-d", database],
        input=script,
        text=True,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def guide_database():
    name = f"tenken_roles_{uuid.uuid4().hex[:8]}"
    setup, narrow = guide_commands(name)
    psql(setup)
    try:
        yield name, narrow
    finally:
        psql(
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);\n'
            f'DROP ROLE IF EXISTS "{name}_owner";\nDROP ROLE IF EXISTS "{name}_app";\n'
        )


def url_as(role: str, database: str) -> str:
    return (
        sa.engine.make_url(PG_URL)
        .set(username=role, password=None, database=database)
        .render_as_string(hide_password=False)
    )


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
