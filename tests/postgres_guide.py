"""The production guide's PostgreSQL setup (docs/deployment.md), run with the guide's own
commands against the test server: for the role tests and the backup drill on a new server."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import PG_URL

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "deployment.md"


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


def url_as(role: str, database: str) -> str:
    return (
        sa.engine.make_url(PG_URL)
        .set(username=role, password=None, database=database)
        .render_as_string(hide_password=False)
    )


def drop_guide(name: str) -> None:
    """The database and its two roles gone, as on a lost server."""
    psql(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);\n'
        f'DROP ROLE IF EXISTS "{name}_owner";\nDROP ROLE IF EXISTS "{name}_app";\n'
    )
