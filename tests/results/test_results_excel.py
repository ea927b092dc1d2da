"""The Excel summary a manager attaches to a report to the mayor without touching it."""

from __future__ import annotations

import csv
import io

import openpyxl
import sqlalchemy as sa

from reports import answers as answer_export
from reports import excel, tables
from survey.extensions import db
from survey.models import Answer, Assignment, Campaign, InformationSystem
from tests.results.conftest import unit

SHEETS = ["集計", "部局別", "選択肢別", "未提出一覧"]  # the answers have their own download
HEADER = 7  # the header row, under the five-line title block and a blank row


def test_summary_workbook_holds_the_published_figures_ready_to_print(demo_runner, tmp_path):
    out = tmp_path / "summary.xlsx"
    result = demo_runner.invoke(
        args=["report", "xlsx", "2017-emergency-assets", "--out", str(out), "--by", "情報 守"]
    )
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == SHEETS
    sheet = book["集計"]
    assert [c.value for c in sheet[HEADER]] == (
        ["番号", "分類", "点検項目", "該当（はい／対象）", "該当率"]
        + ["はい", "いいえ", "対象外", "未回答"]
    )
    firsts = [[c.value for c in row] for row in sheet.iter_rows(min_row=HEADER + 1, max_row=11)]
    assert [r[3] for r in firsts] == ["133/139", "134/139", "135/139", "138/139"]
    assert [r[6] for r in firsts] == [6, 5, 4, 1]  # いいえ
    assert abs(firsts[0][4] - 133 / 139) < 0.0005 and sheet["E8"].number_format == "0.0%"
    totals = [c.value for c in sheet[HEADER + 22]]
    assert totals[2] == "全項目" and totals[3] == "2678/2864"

    title = [sheet.cell(row=r, column=1).value for r in range(1, 6)]
    assert title[0] == "情報セキュリティに係る緊急一斉点検（情報資産）　集計結果"
    assert "emergency-assets 第1版" in title[1]
    assert "平成29年1月13日〜平成29年1月31日" in title[2]
    assert "集計時点：令和" in title[3] and "作成者：情報 守" in title[3]

    # A native bar chart of the per-item ratios.
    (chart,) = sheet._charts
    assert chart.tagname == "barChart"
    assert chart.series[0].val.numRef.f == "集計!$E$8:$E$28"
    # Print set-up: A4 landscape, one page wide, header row on every page, page numbers.
    for name in SHEETS:
        ws = book[name]
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.print_title_rows == f"${HEADER}:${HEADER}"
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
        assert ws.freeze_panes is not None and ws.freeze_panes.endswith(str(HEADER + 1))
        assert ws.auto_filter.ref.startswith(f"A{HEADER}:")
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToHeight == 0
    assert book._fonts[0].name == "游ゴシック"  # a Japanese font, set explicitly
    assert sheet.column_dimensions["C"].width > 40  # the item text has room

    # 部局別: every department's row, with a colour scale over the ratios.
    departments = book["部局別"]
    names = [r[0].value for r in departments.iter_rows(min_row=HEADER + 1) if r[1].value]
    assert len(names) == 15 and names[0] == "区長室"
    assert any(
        rule.type == "colorScale"
        for rules in departments.conditional_formatting
        for rule in rules.rules
    )
    assert book["未提出一覧"].max_row == HEADER  # everyone handed in


def test_pending_respondents_are_listed_while_a_campaign_is_open(demo_app, tmp_path):
    out = tmp_path / "open.xlsx"
    with tables.snapshot(db.engine) as conn:
        excel.write_summary(conn, "2026-annual-assets", out)
    book = openpyxl.load_workbook(out)
    pending = list(book["未提出一覧"].iter_rows(min_row=HEADER + 1, values_only=True))
    assert len(pending) == 78
    assert {row[2] for row in pending} == {"未着手", "回答中", "差戻し"}  # 状態, after 部局, 対象


def test_a_sheet_past_the_row_limit_continues_on_another_sheet(demo_app, tmp_path):
    out = tmp_path / "split.xlsx"
    with tables.snapshot(db.engine) as conn:
        excel.write_summary(conn, "2026-annual-assets", out, max_rows=HEADER + 30)
    book = openpyxl.load_workbook(out)
    parts = [n for n in book.sheetnames if n.startswith("未提出一覧")]
    assert parts == ["未提出一覧", "未提出一覧 (2)", "未提出一覧 (3)"]
    rows = []
    for name in parts:
        sheet = book[name]
        assert sheet[HEADER][0].value == "部局"  # the header again on each
        assert sheet.max_row <= HEADER + 30
        rows += list(sheet.iter_rows(min_row=HEADER + 1, values_only=True))
    assert len(rows) == 78 and len({r[1] for r in rows}) == 78  # every 対象 once


DANGEROUS = [
    '=HYPERLINK("http://x","click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1)",
    "-2+3",
    "\t=1+1",
]


def test_text_that_looks_like_a_formula_is_written_as_text(demo_app, signed_in, tmp_path):
    systems = db.session.scalar(
        sa.select(Campaign).where(Campaign.code == "2017-emergency-systems")
    )
    first = db.session.scalar(
        sa.select(Assignment).where(Assignment.campaign_id == systems.id).order_by(Assignment.id)
    )
    system = db.session.get(InformationSystem, first.system_id)
    system.name = DANGEROUS[0]
    unit("秘書課").name = DANGEROUS[2]
    answers = db.session.scalars(
        sa.select(Answer).where(Answer.assignment_id == first.id).order_by(Answer.item_id).limit(3)
    ).all()
    for answer, comment in zip(answers, DANGEROUS[1:2] + DANGEROUS[3:], strict=True):
        answer.comment = comment
    db.session.commit()

    out = tmp_path / "guarded.xlsx"
    with tables.snapshot(db.engine) as conn:
        answer_export.write_answers(conn, systems.code, out)  # the names and comments are there
    book = openpyxl.load_workbook(out)
    found = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if cell.value in DANGEROUS:
                    found.setdefault(cell.value, []).append(cell)
    assert set(found) == set(DANGEROUS)
    for cells in found.values():
        for cell in cells:  # kept exactly, as text, and marked so that editing keeps it text
            assert cell.data_type == "s" and cell.quotePrefix

    client = signed_in("admin")
    response = client.get(f"/results/{systems.code}/export/respondents.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    cells = {value for row in rows for value in row}
    for value in DANGEROUS:
        assert "'" + value in cells and value not in cells
    assert "'@SUM(1)" in {row[1] for row in rows}  # the unit's name, guarded too


def _rows(sheet) -> list[tuple]:
    """The table under the header, up to the blank row before the notes."""
    rows = []
    for row in sheet.iter_rows(min_row=HEADER + 1, values_only=True):
        if all(v is None for v in row):
            break
        rows.append(row)
    return rows


def test_the_summary_sets_this_round_beside_the_earlier_ones(demo_app, tmp_path):
    from reports import rounds

    out = tmp_path / "rounds.xlsx"
    with tables.snapshot(db.engine) as conn:
        excel.write_summary(conn, "2026-annual-assets", out)
        trend = rounds.trend(conn, "2026-annual-assets")
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["集計", "部局別", "選択肢別", "前回比較", "推移", *SHEETS[3:]]
    ratios, percents = trend.wide("ratio"), trend.wide()

    compared = book["前回比較"]
    assert [c.value for c in compared[HEADER]] == [
        "番号",
        "前回の番号",
        "分類",
        "点検項目",
        "前回 該当",
        "前回 該当率",
        "今回 該当",
        "今回 該当率",
        "増減（ポイント）",
        "備考",
    ]
    *items, totals = _rows(compared)
    assert len(items) == 21
    for at, row in enumerate(items):
        assert row[4] == ratios.iloc[at, 1] and row[6] == ratios.iloc[at, 2]
        assert abs(row[7] - percents.iloc[at, 2] / 100) < 1e-9
        assert row[8] == trend.items["change"].iloc[at]  # points, to one decimal
    assert compared.cell(row=HEADER + 1, column=9).number_format == excel.POINTS
    last, before = trend.totals.iloc[-1], trend.totals.iloc[-2]
    assert totals[3:8] == ("全項目", before["ratio"], totals[5], last["ratio"], totals[7])
    assert totals[8] == round(last["percent"] - before["percent"], 1)
    notes = [r[0] for r in compared.iter_rows(min_row=HEADER + 24, values_only=True) if r[0]]
    assert any("令和7年度 情報資産の取扱状況 自己点検" in n and "第1版" in n for n in notes)

    sheet = book["推移"]
    header = [c.value for c in sheet[HEADER]]
    assert header[:3] == ["番号", "分類", "点検項目"]
    assert header[3:9] == [
        "平成29年1月\n該当",
        "平成29年1月\n該当率",
        "令和7年11月\n該当",
        "令和7年11月\n該当率",
        "令和8年11月\n該当",
        "令和8年11月\n該当率",
    ]
    assert header[9:] == ["増減（前回比）", "キー"]
    *items, totals = _rows(sheet)
    assert items[0][3] == "133/139" and items[0][10] == "training-all-staff"
    for at, row in enumerate(items):
        assert list(row[3:9:2]) == list(ratios.iloc[at])
    assert totals[2] == "全項目" and list(totals[3:9:2]) == list(trend.totals["ratio"])
    notes = [r[0] for r in sheet.iter_rows(min_row=HEADER + 24, values_only=True) if r[0]]
    assert sum("点検コード" in n for n in notes) == 3  # each round named under the table
    for ws in (compared, sheet):
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.print_title_rows == f"${HEADER}:${HEADER}"
        # One page across (the default of fitToWidth, left out of the file), as long as needed.
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
        assert ws.page_setup.fitToWidth in (None, 1)


def test_an_item_a_round_did_not_ask_is_a_blank_cell_not_a_dash(second_version, tmp_path):
    from tests.results.conftest import REMOVED_KEY

    out = tmp_path / "v2.xlsx"
    with tables.snapshot(db.engine) as conn:
        excel.write_summary(conn, second_version.code, out)
    book = openpyxl.load_workbook(out)
    rows = {row[-1]: row for row in _rows(book["推移"])}
    added, dropped = rows["cloud-services"], rows[REMOVED_KEY]
    assert added[3:9] == (None,) * 6 and added[9:11] == ("1/2", 0.5)
    assert dropped[9:11] == (None, None) and dropped[3] is not None
    compared = {row[3]: row for row in _rows(book["前回比較"])}
    new = compared["クラウドサービスの利用を台帳で管理している"]
    assert new[4:6] == (None, None) and new[9] == "新規"
    assert any(row[9] == "削除" for row in compared.values())
    assert any(row[9] == "文言変更" for row in compared.values())
    # Where a round asked an item and nobody answered it applicably, －, as elsewhere.
    assert "－" not in added
