"""The Excel summary printed as a manager hands it up: each demo campaign's workbook is turned
into a PDF by LibreOffice (as a printer would lay it out) and its pages read back as text.

LibreOffice draws only what a cell shows: a text cut off by its row height or by the next cell
is missing from the page, so "the whole text is on the page" means "nothing is cut"."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

import openpyxl
import pytest

from reports import excel, tables
from survey.extensions import db
from tests.conftest import make_app

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(
    SOFFICE is None or shutil.which("pdftotext") is None,
    reason="LibreOffice or poppler-utils is missing: `make pdf-deps` installs them",
)

CAMPAIGNS = {  # code -> items in its checklist
    "2017-emergency-assets": 21,
    "2017-emergency-systems": 54,
    "2017-emergency-contracts": 33,
}
SHEETS = [
    "集計",
    "部局別",
    "選択肢別",
    "未提出一覧",
]  # the answers: their own download, not printed
# This year's round, with two earlier ones: its summary has two sheets more.
ROUNDS = "2026-annual-assets"
ROUND_SHEETS = ["前回比較", "推移"]
HEADER = 7  # the header row of every sheet
NOTE = "各項目の値は該当率（はい÷（はい＋いいえ））。－は回答のない項目。"


@dataclass
class Printed:
    book: openpyxl.Workbook
    pages: list[tuple[str, str]]  # (sheet, the page's text with every space and line break out)

    def of(self, sheet: str) -> list[str]:
        return [text for name, text in self.pages if name == sheet]


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _sheet_of(page: str) -> str:
    """Each page's header names its sheet, at the end of the first line."""
    first = page.strip().split("\n", 1)[0].rstrip()
    names = sorted(SHEETS + ROUND_SHEETS, key=len, reverse=True)
    return next(name for name in names if first.endswith(name))


@pytest.fixture(scope="module")
def printed(databases, demo_template, tmp_path_factory) -> dict[str, Printed]:
    """The three demo campaigns' workbooks and this year's round, each converted to PDF once
    (one LibreOffice run, with a profile of its own so that it never meets another run's)."""
    folder = tmp_path_factory.mktemp("print")
    app = make_app(databases.new(template=demo_template), folder / "instance")
    with app.app_context():
        for code in [*CAMPAIGNS, ROUNDS]:
            with tables.snapshot(db.engine) as conn:
                excel.write_summary(conn, code, folder / f"{code}.xlsx", generated_by="情報 守")
        db.session.remove()
        db.engine.dispose()
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{folder}/libreoffice-profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            *(str(folder / f"{code}.xlsx") for code in [*CAMPAIGNS, ROUNDS]),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    result = {}
    for code in [*CAMPAIGNS, ROUNDS]:
        # -raw: in the order LibreOffice drew it, so a wrapped cell's lines follow each other.
        text = subprocess.run(
            ["pdftotext", "-raw", str(folder / f"{code}.pdf"), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        pages = [(_sheet_of(page), _flat(page)) for page in text.split("\f")[:-1]]
        result[code] = Printed(openpyxl.load_workbook(folder / f"{code}.xlsx"), pages)
    return result


def _items(book) -> list[tuple[int, str, float]]:
    """(number, text, ratio) of each item, from 集計."""
    rows = book["集計"].iter_rows(min_row=HEADER + 1, values_only=True)
    return [(r[0], r[2], r[4]) for r in rows if isinstance(r[0], int)]


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.1f}%"


@pytest.mark.parametrize(
    ("code", "summary_pages", "department_pages"),
    [
        ("2017-emergency-assets", 3, 2),
        ("2017-emergency-systems", 5, 5),
        ("2017-emergency-contracts", 4, 3),
    ],
)
def test_each_sheet_prints_on_its_own_pages_numbered_through(
    printed, code, summary_pages, department_pages
):
    pages = printed[code].pages
    names = [name for name, _ in pages]
    assert [n for i, n in enumerate(names) if i == 0 or names[i - 1] != n] == SHEETS
    assert names.count("集計") == summary_pages  # the table, then the chart on a page of its own
    assert names.count("部局別") == department_pages
    for number, (_, text) in enumerate(pages, start=1):
        assert f"-{number}/{len(pages)}-" in text  # the footer: - 3 / 44 -
        assert "情報セキュリティに係る緊急一斉点検" in text  # the campaign, in the page header
        assert "###" not in text  # no number too wide for its column


@pytest.mark.parametrize("code", CAMPAIGNS)
def test_the_summary_prints_every_item_in_full_then_the_chart_alone(printed, code):
    items = _items(printed[code].book)
    assert len(items) == CAMPAIGNS[code]
    *table, chart = printed[code].of("集計")
    for text in table:
        assert text.count("番号分類点検項目") == 1  # the header row on every page of the table
    printed_table = "".join(table)
    for number, text, ratio in items:
        assert _flat(text) in printed_table, (number, text)
        assert _percent(ratio) in printed_table, (number, ratio)

    assert "項目別の該当率" in chart
    assert "点検項目" not in chart  # no header row left over the chart
    for number, _, ratio in items:
        assert _percent(ratio) in chart, (number, ratio)  # each bar's label, to one decimal


def test_a_ratio_of_89_6_percent_is_not_rounded_to_90(printed):
    """Item 5 of the information assets checklist: 120 of 134."""
    book = printed["2017-emergency-assets"].book
    assert book["集計"].cell(row=HEADER + 5, column=4).value == "120/134"
    first, *_, chart = printed["2017-emergency-assets"].of("集計")
    assert "退庁時や離席時に" in first and "89.6%" in first and "90%" not in first
    assert "89.6%" in chart  # the bar's label (the axis's ticks are round: 80%, 90%, 100%)


@pytest.mark.parametrize("code", CAMPAIGNS)
def test_departments_continue_on_pages_to_the_right_with_their_names(printed, code):
    sheet = printed[code].book["部局別"]
    departments = [r[0] for r in sheet.iter_rows(min_row=HEADER + 1, values_only=True) if r[1]]
    pages = printed[code].of("部局別")
    for text in pages:
        assert "チェックリスト：" not in text  # no title block to be cut off at the page's edge
        assert _flat(NOTE) in text  # in the footer
        for name in departments:
            assert name in text
    headings = [c.value for c in sheet[HEADER]][5:]
    assert headings == [str(n) for n in range(1, CAMPAIGNS[code] + 1)]
    everything = "".join(pages)
    for column in range(6, 6 + CAMPAIGNS[code]):
        for row in range(HEADER + 1, HEADER + 1 + len(departments)):
            ratio = sheet.cell(row=row, column=column).value
            if isinstance(ratio, float):
                assert _percent(ratio) in everything


def test_this_round_and_the_earlier_ones_print_without_a_column_cut(printed):
    """前回比較 and 推移: every page carries the whole header row (the last column too), and
    every item's text, figure and change is on the pages, with each round named below."""
    round_pages = printed[ROUNDS]
    names = [name for name, _ in round_pages.pages]
    order = [n for i, n in enumerate(names) if i == 0 or names[i - 1] != n]
    assert order == [*SHEETS[:3], *ROUND_SHEETS, *SHEETS[3:]]
    for name in ROUND_SHEETS:
        sheet = round_pages.book[name]
        header = [_flat(c.value) for c in sheet[HEADER] if c.value]
        pages = round_pages.of(name)
        assert pages
        for text in pages:
            for title in header:  # no column left to another page
                assert title in text, (name, title)
        everything = "".join(pages)
        for row in sheet.iter_rows(min_row=HEADER + 1, values_only=True):
            for value in row:
                if isinstance(value, str):
                    assert _flat(value) in everything, (name, value)
        figures = [
            (c.value, c.number_format)
            for row in sheet.iter_rows(min_row=HEADER + 1)
            for c in row
            if isinstance(c.value, float)
        ]
        assert figures
        for value, number_format in figures:
            shown = _percent(value) if number_format == "0.0%" else f"{value:+.1f}"
            assert shown.replace("+0.0", "0.0") in everything, (name, value)
