"""A workbook is measured from its zip directory and its streamed XML before openpyxl reads a
cell: the cells and rows it holds, what it unpacks to, how far it is compressed, how many
parts it has. Whatever the measure, a refusal names the limit."""

from __future__ import annotations

import io
import zipfile

import pytest

from checklists import ChecklistFileError, load_file
from checklists.loader import DEFAULT_WORKBOOK_LIMITS
from checklists.messages import text
from checklists.workbook_limits import (
    MAX_PARTS,
    WorkbookLimits,
    WorkbookRefused,
    check_workbook,
)
from checklists.writer import write_xlsx
from tests.workbook_bombs import bomb

LIMITS = WorkbookLimits(cells=20_000, rows=5_000, unpacked_bytes=10 * 1024 * 1024)
DEFINITION = "checklists/definitions/emergency-systems.yaml"


def refusal(data: bytes, limits: WorkbookLimits = LIMITS) -> tuple[str, int]:
    with pytest.raises(WorkbookRefused) as refused:
        check_workbook(data, limits)
    return refused.value.reason, refused.value.limit


def test_a_million_and_a_half_cells_in_a_few_kb_are_refused_by_the_package_ratio():
    data = bomb()
    assert len(data) < 20_000
    assert refusal(data) == ("ratio", 100)


def test_the_cells_are_counted_when_incompressible_filler_hides_the_ratio():
    assert refusal(bomb(padding=100_000)) == ("cells", 20_000)


def test_a_namespace_prefix_does_not_hide_the_cells():
    assert refusal(bomb(prefix="x", padding=200_000)) == ("cells", 20_000)


def test_a_dimension_that_lies_does_not_hide_the_cells():
    # The bomb's <dimension ref="A1"/> claims one cell; openpyxl's readers ignore it, so do we.
    assert refusal(bomb(rows=30, columns=1_000)) == ("cells", 20_000)


def test_rows_without_cells_are_counted_too():
    assert refusal(bomb(rows=6_000, columns=0)) == ("rows", 5_000)


def test_elements_cut_by_the_streamed_chunks_are_counted_once():
    # 1 MB chunks cut the XML anywhere: exactly the limit passes, one more is refused.
    exact = WorkbookLimits(cells=300_000, rows=10_000, unpacked_bytes=50 * 1024 * 1024)
    check_workbook(bomb(rows=300, columns=1_000, padding=60_000), exact)
    over = WorkbookLimits(cells=299_999, rows=10_000, unpacked_bytes=50 * 1024 * 1024)
    assert refusal(bomb(rows=300, columns=1_000, padding=60_000), over) == ("cells", 299_999)


def test_what_the_parts_unpack_to_is_read_from_the_directory():
    small = WorkbookLimits(cells=10**9, rows=10**9, unpacked_bytes=1024 * 1024)
    assert refusal(bomb(rows=300, columns=1_000), small) == ("unpacked", 1024 * 1024)


def test_too_many_parts_are_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for number in range(MAX_PARTS + 1):
            archive.writestr(f"xl/media/{number}.bin", b"")
    assert refusal(out.getvalue()) == ("parts", MAX_PARTS)


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04 not really a zip", b"%PDF-1.4"])
def test_what_is_not_a_zip_package_is_damaged(data):
    assert refusal(data) == ("damaged", 0)


def test_a_real_workbook_passes():
    out = io.BytesIO()
    write_xlsx(load_file(DEFINITION), out)
    check_workbook(out.getvalue(), DEFAULT_WORKBOOK_LIMITS)


def test_a_checklist_workbook_bomb_is_a_problem_of_the_file_not_a_read(tmp_path):
    path = tmp_path / "big.xlsx"
    path.write_bytes(bomb("項目", padding=100_000))
    with pytest.raises(ChecklistFileError) as error:
        load_file(path)
    (problem,) = error.value.problems
    # Refused by its count: openpyxl, which would report not_a_workbook or cell problems,
    # never saw it.
    assert (problem.message_id, problem.where) == ("workbook_cells", "")
    assert "セルが多すぎます（上限 100,000 個）" in problem.render()
    assert "too many cells (the limit is 100,000)" in problem.render("en")


@pytest.mark.parametrize("reason", ["parts", "unpacked", "ratio", "cells", "rows"])
def test_every_refusal_names_its_limit_in_both_languages(reason):
    refused = WorkbookRefused(reason, 50 * 1024 * 1024 if reason == "unpacked" else 12_345)
    limit = "50 MB" if reason == "unpacked" else "12,345"
    for lang in ("ja", "en"):
        assert limit in text(refused.message_id, lang, **refused.params)
