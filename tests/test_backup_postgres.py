"""On PostgreSQL, the backup command points to pg_dump instead of pretending."""

import pytest

from tests.conftest import PG_URL


@pytest.mark.skipif(PG_URL is None, reason="runs when TEST_DATABASE_URL names PostgreSQL")
def test_backup_on_postgres_refuses_and_names_pg_dump(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path)])
    assert result.exit_code == 1 and "pg_dump" in result.output
