"""The manager of 区民部 downloads this year's Excel summary; the workbook holds their own
subtree's figures, the same the reports package computes from the database, and no others."""

from __future__ import annotations

import openpyxl
import sqlalchemy as sa
from playwright.sync_api import expect

from reports import aggregate, tables
from survey.access import results_units
from survey.extensions import db
from survey.models import Assignment, Campaign, OrgUnit
from tests.browser.steps import menu
from tests.helpers import user

CAMPAIGN = "2026-annual-assets"
TITLE = "令和8年度 情報資産の取扱状況 自己点検"
# A manager's summary breaks his subtree down by the units below his own (所属別), and sets this
# year's round beside the earlier ones (前回比較, 推移).
SHEETS = ["集計", "所属別", "選択肢別", "前回比較", "推移", "未提出一覧"]
# The respondents' answers are a download of their own.
ANSWER_SHEETS = ["回答一覧", "いいえ・コメント一覧", "この表について"]
HANDED_IN = ("submitted", "approved")


def rows_under_header(sheet, first_title: str) -> tuple[list[str], list[tuple]]:
    """The header (found below the title block) and the rows beneath it, up to a blank row
    (notes may follow)."""
    rows = iter(sheet.iter_rows(values_only=True))
    header = next(row for row in rows if row[0] == first_title)
    body = []
    for row in rows:
        if all(v is None for v in row):
            break
        body.append(row)
    return list(header), body


def subtree(unit: OrgUnit) -> set[int]:
    """The unit and every unit below it, walked here rather than asked of the app."""
    units = db.session.scalars(sa.select(OrgUnit)).all()
    found, frontier = {unit.id}, [unit.id]
    while frontier:
        parent = frontier.pop()
        for child in (u.id for u in units if u.parent_id == parent):
            found.add(child)
            frontier.append(child)
    return found


def assignments(*, units: set[int] | None, handed_in: bool) -> int:
    status = Assignment.status.in_(HANDED_IN)
    stmt = (
        sa.select(sa.func.count())
        .select_from(Assignment)
        .join(Campaign)
        .where(Campaign.code == CAMPAIGN, status if handed_in else ~status)
    )
    if units is not None:
        stmt = stmt.where(Assignment.responsible_unit_id.in_(units))
    return db.session.scalar(stmt)


def test_manager_downloads_the_excel_summary_of_their_subtree(signed_in, shot, tmp_path):
    manager = signed_in("manager")
    menu(manager, "集計結果")
    expect(manager.get_by_role("heading", name="集計結果", level=1)).to_be_visible()
    shot(manager, "results")
    manager.get_by_role("link", name=TITLE).click()
    expect(manager.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    shot(manager, "campaign-results")

    # The summary is made by an export job: its page follows the progress (job-progress.js
    # fetches it again until the job is done) and then offers the file.
    manager.get_by_role("button", name="集計をExcelで出力").click()
    expect(manager.get_by_role("heading", name="集計結果（Excel）", level=1)).to_be_visible()
    ready = manager.get_by_role("link", name="ダウンロード")
    expect(ready).to_be_visible(timeout=60_000)
    expect(manager.get_by_text("このページは自動で更新されます。")).to_have_count(0)
    shot(manager, "export-job-done")
    with manager.expect_download() as started:
        ready.click()
    download = started.value
    assert download.failure() is None
    assert download.suggested_filename.endswith("_集計_区民部.xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames == SHEETS

    # What the reports package computes from the database for the manager's subtree.
    boss = user("manager")
    conn = db.session.connection()
    campaign = aggregate.load(conn, CAMPAIGN)
    expected = aggregate.item_table(conn, campaign, results_units(boss))
    everyone = aggregate.item_table(conn, campaign)
    assert expected["applicable"].sum() < everyone["applicable"].sum()  # the scope tells

    title = [row[0] for row in book["集計"].iter_rows(max_row=5, values_only=True)]
    assert f"集計範囲：{boss.unit.name}（配下の所属を含む）" in title[3]
    header, rows = rows_under_header(book["集計"], "番号")
    keys = {c.title: c.key for c in tables.ITEM_COLUMNS}
    found = [{keys[t]: v for t, v in zip(header, row, strict=True)} for row in rows]
    totals = found.pop()
    assert totals["text"] == "全項目"
    assert len(found) == len(expected)
    for cells, figures in zip(found, expected.to_dict("records"), strict=True):
        assert cells["number"] == figures["number"] and cells["ratio"] == figures["ratio"]
        for key in ("compliant", "noncompliant", "excluded", "unanswered"):
            assert cells[key] == figures[key], (figures["number"], key)
        percent = None if cells["percent"] is None else round(cells["percent"] * 100, 1)
        assert percent == (None if figures["applicable"] == 0 else figures["percent"])
    assert totals["ratio"] == f"{expected['compliant'].sum()}/{expected['applicable'].sum()}"

    # No one outside 区民部: each long sheet lists exactly the subtree's assignments.
    mine = subtree(boss.unit)
    _, divisions = rows_under_header(book["所属別"], "所属")
    below = {u.name for u in boss.unit.children}
    assert divisions and {row[0] for row in divisions} <= below
    _, pending = rows_under_header(book["未提出一覧"], "部局")
    assert len(pending) == assignments(units=mine, handed_in=False)
    assert {row[0] for row in pending} == {boss.unit.name}
    book.close()

    # The respondents' answers: a job and a file of their own, from the same page.
    manager.go_back()
    manager.get_by_role("button", name="回答データをExcelで出力").click()
    expect(manager.get_by_role("heading", name="回答データ（Excel）", level=1)).to_be_visible()
    ready = manager.get_by_role("link", name="ダウンロード")
    expect(ready).to_be_visible(timeout=60_000)
    with manager.expect_download() as started:
        ready.click()
    download = started.value
    assert download.failure() is None
    assert download.suggested_filename.endswith("_回答データ_区民部.xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames == ANSWER_SHEETS
    _, handed_in = rows_under_header(book["回答一覧"], "部局")
    assert len(handed_in) == assignments(units=mine, handed_in=True)
    assert len(handed_in) < assignments(units=None, handed_in=True)
    assert {row[0] for row in handed_in} == {boss.unit.name}
    book.close()
    db.session.rollback()
