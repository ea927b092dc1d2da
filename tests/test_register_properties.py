"""Whatever file is uploaded, a register import either reports its problems and changes nothing,
or applies completely; it never fails with anything else."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.extensions import db
from survey.services import registers
from tests.register_helpers import csv_bytes, snapshot

FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def ward(demo_app):
    with demo_app.test_request_context():
        yield demo_app


def _check(kind: str, data: bytes, before: dict) -> None:
    result = registers.preview(kind, data, "fuzz.csv")
    if not result.ok:
        assert all(p.message for p in result.problems)
        with pytest.raises(registers.NotApplicable):
            registers.apply(result)
        assert snapshot() == before
        return
    try:
        registers.apply(result)
        db.session.flush()
        again = registers.preview(kind, data, "fuzz.csv")
        assert again.ok and not again.has_changes
    finally:
        db.session.rollback()


@FUZZ
@given(data=st.binary(max_size=400), kind=st.sampled_from(list(registers.KINDS)))
def test_arbitrary_bytes_are_refused_cleanly(ward, data, kind):
    _check(kind, data, snapshot())


# Cells that are sometimes right: codes that exist, labels, dates in every style, and junk.
cells = st.one_of(
    st.sampled_from(
        [
            "",
            "D01",
            "D04-01",
            "C001",
            "C002",
            "Z9",
            "部",
            "課",
            "係",
            "事業所",
            "管理者",
            "回答者",
            "委託事業者",
            "あり",
            "なし",
            "1",
            "0",
            "2026-04-01",
            "R8.4.1",
            "令和9年3月31日",
            "2025/13/1",
            "12",
            "-3",
            "なし",
            "事前承認済",
            "x" * 400,
        ]
    ),
    st.text(max_size=12),
)


@FUZZ
@given(
    kind=st.sampled_from(["units", "systems", "contractors", "contracts"]),
    rows=st.lists(st.lists(cells, min_size=0, max_size=10), max_size=6),
    cp932=st.booleans(),
)
def test_arbitrary_cells_give_reported_problems_or_a_whole_import(ward, kind, rows, cp932):
    before = snapshot()
    table = [registers.headers(kind)] + rows
    try:
        data = csv_bytes(table, "cp932" if cp932 else "utf-8-sig")
    except UnicodeEncodeError:
        data = csv_bytes(table)
    _check(kind, data, before)
