"""Whatever file is imported, the import either stores every row or reports its problems and
stores nothing; it never fails with anything else (nor stores what PostgreSQL cannot hold)."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.extensions import db
from survey.services import logs
from tests.log_helpers import HEADER, build_ward, counts, csv_bytes

FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def ward(app):
    with app.test_request_context():
        yield build_ward()


def _import(ward, data: bytes) -> None:
    try:
        checked = logs.import_file(ward.source, io.BytesIO(data), "fuzz.csv")
        if checked.ok:
            assert counts()[1] == checked.result.rows > 0
        else:
            assert checked.problems and all(p.render() for p in checked.problems)
            db.session.rollback()
            assert counts() == (0, 0)
    finally:
        db.session.rollback()


@FUZZ
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_are_refused_cleanly(ward, data):
    _import(ward, data)


cells = st.one_of(
    st.sampled_from(
        ["", "2026/10/01 09:00", "2026-10-01T23:59:59", "D04-01-0001", "C003-001", "x", "中央"]
    ),
    st.text(max_size=70),
)


@FUZZ
@given(
    rows=st.lists(st.lists(cells, max_size=10), max_size=8),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp932"]),
)
def test_arbitrary_rows_import_whole_or_not_at_all(ward, rows, encoding):
    try:
        data = csv_bytes([HEADER, *rows], encoding)
    except UnicodeEncodeError:
        data = csv_bytes([HEADER, *rows], "utf-8")
    _import(ward, data)
