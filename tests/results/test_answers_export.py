"""The respondents' answers travel apart from the summary: their own workbook (or CSV past
Excel's row limit), on the reader's scope, for those who may read the summary."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import time

import openpyxl
import pytest
import sqlalchemy as sa

from reports import answers, excel, streambook, tables
from survey.access import results_units
from survey.extensions import db
from survey.models import Assignment, Campaign, OrgUnit
from tests.helpers import job_download, user

CLOSED = "2017-emergency-assets"
OPEN = "2026-annual-assets"
SHEETS = ["回答一覧", "いいえ・コメント一覧", "この表について"]
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def _values(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


def _csv_cells(table: tables.Table) -> list[list[str]]:
    text = "".join(tables.csv_lines(table))
    return list(csv.reader(io.StringIO(text, newline="")))


def _as_csv(column: tables.Column, value) -> str:
    """An xlsx cell as the CSV of the same table writes it."""
    if value is None:
        return ""
    if column.kind == "percent":
        return "－" if value == "－" else str(round(value * 100, 1))
    return tables._csv_value(column, value, "ja")


def test_the_summary_no_longer_holds_the_answers_and_says_where_they_are(demo_runner, tmp_path):
    out = tmp_path / "summary.xlsx"
    result = demo_runner.invoke(args=["report", "xlsx", CLOSED, "--out", str(out)])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["集計", "部局別", "選択肢別", "未提出一覧"]
    note = book["集計"].cell(row=excel.TITLE_ROWS, column=1).value
    assert "回答データ" in note and "flask report answers" in note and "いいえ・コメント" in note
    cells = {c.value for ws in book.worksheets for row in ws.iter_rows() for c in row}
    assert "1 コメント" not in cells  # no answers' column anywhere


def test_the_answers_workbook_holds_the_cells_the_summary_held(demo_runner, tmp_path):
    out = tmp_path / "answers.xlsx"
    result = demo_runner.invoke(
        args=["report", "answers", CLOSED, "--out", str(out), "--by", "情報 守"]
    )
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == SHEETS
    with tables.snapshot(db.engine) as conn:
        report = answers.lists(conn, CLOSED)
        for name, sheet in (("respondents", "回答一覧"), ("remarks", "いいえ・コメント一覧")):
            table = excel.without_repeats(report, tables.table(report, name))
            rows = _values(book[sheet])
            expected = _csv_cells(excel.without_repeats(report, tables.table(report, name)))
            assert list(rows[0]) == expected[0]  # the header, in row 1
            found = [
                [_as_csv(c, v) for c, v in zip(table.columns, row, strict=True)] for row in rows[1:]
            ]
            assert found == expected[1:], sheet
    respondents = book["回答一覧"]
    # The figures of the sheet the summary used to carry (tests of the earlier summary).
    assert respondents.max_row == 1 + 139
    assert [c.value for c in respondents[1]][:3] == ["部局", "対象", "状態"]
    assert respondents["D2"].number_format == "yyyy/mm/dd hh:mm"
    assert respondents.freeze_panes == "C2" and respondents.auto_filter.ref == "A1:AX140"
    assert respondents["A1"].font.b and respondents.column_dimensions["A"].width > 8
    noes = [r for r in _values(book["いいえ・コメント一覧"])[1:] if r[4] == "いいえ"]
    assert len(noes) == 186
    about = dict(_values(book["この表について"])[1:])
    assert "情報 守" in about["出力"] and "_集計.xlsx" in about["集計"]
    assert "増える" in about["いいえ・コメント一覧"]


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_answers_workbook(demo_app, tmp_path):
    out = tmp_path / "answers.xlsx"
    with tables.snapshot(db.engine) as conn:
        answers.write_answers(conn, CLOSED, out)
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir",
            str(tmp_path),
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    rows = list(csv.reader((tmp_path / "answers.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[0][:3] == ["部局", "対象", "状態"]
    assert len(rows) == 140 and rows[1][0] == "区長室"
    assert rows[1][3].startswith("2017") and rows[1][7] == "95.0%"  # a date and a percentage


def test_answers_as_csv_have_no_row_limit_and_the_same_rows(demo_runner, tmp_path):
    out = tmp_path / "answers.csv"
    result = demo_runner.invoke(
        args=["report", "answers", CLOSED, "--format", "csv", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith("\ufeff".encode())  # UTF-8 with the BOM Excel needs, as the others
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == 1 + 139 and rows[0][:2] == ["部局", "担当所属"]


def test_a_managers_answers_hold_only_their_subtree(signed_in):
    client = signed_in("manager")
    _page, response = job_download(client, f"/results/{OPEN}/export/answers.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    rows = _values(book["回答一覧"])[1:]
    boss = user("manager")
    mine = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Assignment)
        .join(Campaign)
        .where(
            Campaign.code == OPEN,
            Assignment.status.in_(("submitted", "approved")),
            Assignment.responsible_unit_id.in_(
                sa.select(OrgUnit.id).where(OrgUnit.id.in_(results_units(boss)))
            ),
        )
    )
    everyone = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Assignment)
        .join(Campaign)
        .where(Campaign.code == OPEN, Assignment.status.in_(("submitted", "approved")))
    )
    assert 0 < len(rows) == mine < everyone
    assert {row[0] for row in rows} == {boss.unit.name}
    remarks = _values(book["いいえ・コメント一覧"])[1:]
    assert remarks and {row[2] for row in remarks} == {boss.unit.name}


@pytest.mark.parametrize("who", ["respondent", "contractor"])
def test_people_who_may_not_read_results_get_no_answers(signed_in, who):
    response = signed_in(who).post(f"/results/{CLOSED}/export/answers.xlsx")
    assert response.status_code == 403


def test_the_results_page_offers_the_answers_in_both_formats(signed_in):
    page = signed_in("admin").get(f"/results/{CLOSED}").get_data(as_text=True)
    assert f"/results/{CLOSED}/export/answers.xlsx" in page
    assert f"/results/{CLOSED}/export/respondents.csv" in page
    assert "回答データをExcelで出力" in page and "集計をExcelで出力" in page


# --- Excel's row limit --------------------------------------------------------------------------


def test_the_row_limit_decides_between_xlsx_and_csv():
    assert answers.fits(1_048_575) and not answers.fits(1_048_576)  # the header takes a row
    assert answers.fits(9, max_rows=10) and not answers.fits(10, max_rows=10)


def test_past_the_row_limit_the_workbook_is_refused_before_anything_is_written(demo_app, tmp_path):
    out = tmp_path / "answers.xlsx"
    with tables.snapshot(db.engine) as conn:
        with pytest.raises(answers.TooManyRespondents) as refused:
            answers.write_answers(conn, CLOSED, out, max_rows=139)
    assert refused.value.respondents == 139 and not out.exists()
    with tables.snapshot(db.engine) as conn:
        answers.write_answers(conn, CLOSED, out, max_rows=140)  # 139 and the header: it fits
    assert openpyxl.load_workbook(out)["回答一覧"].max_row == 140


def test_a_long_remarks_list_continues_on_another_sheet(demo_app, tmp_path):
    out = tmp_path / "answers.xlsx"
    with tables.snapshot(db.engine) as conn:
        answers.write_answers(conn, CLOSED, out, max_rows=150)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [
        "回答一覧",
        "いいえ・コメント一覧",
        "いいえ・コメント一覧 (2)",
        "この表について",
    ]
    first, second = (_values(book[n]) for n in book.sheetnames[1:3])
    assert first[0] == second[0] and len(first) == 150
    assert len(first) + len(second) - 2 == 186  # every いいえ once


def test_too_many_respondents_are_sent_to_csv(signed_in, demo_runner, monkeypatch, tmp_path):
    monkeypatch.setattr(answers, "respondent_count", lambda report: 2_000_000)
    client = signed_in("admin")
    response = client.post(f"/results/{CLOSED}/export/answers.xlsx")
    assert response.status_code == 303
    deadline = time.monotonic() + 120  # a bound for a hung job, not a speed goal
    while "data-job-pending" in (page := client.get(response.location).get_data(as_text=True)):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert "2,000,000人" in page and "CSVで出力してください" in page and "/file" not in page
    out = tmp_path / "answers.xlsx"
    result = demo_runner.invoke(args=["report", "answers", CLOSED, "--out", str(out)])
    assert result.exit_code != 0 and "--format csv" in result.output and not out.exists()


# --- text as xlsxwriter writes it ---------------------------------------------------------------


def test_streamed_text_is_escaped_exactly_as_xlsxwriter_escapes_it():
    """The rows are written by tenken, not xlsxwriter (for speed): their text must come out as
    xlsxwriter itself writes it, control characters and all."""
    import re
    import zipfile

    import xlsxwriter

    samples = [
        "はい",
        "a\x01b",
        "x_x0041_y",
        "<&>",
        " lead",
        "trail ",
        "\t=1+1",
        "改行\nあり",
        "\r",
    ]
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"constant_memory": True})
    sheet = book.add_worksheet()
    for row, sample in enumerate(samples):
        sheet.write_string(row, 0, sample)
    book.close()
    xml = zipfile.ZipFile(buffer).read("xl/worksheets/sheet1.xml").decode("utf-8")
    theirs = re.findall(r"<is>(.*?)</is>", xml, re.S)
    assert theirs == [streambook.xml_text(sample) for sample in samples]


def test_a_plain_sheet_keeps_each_value_as_its_type(tmp_path):
    from datetime import date, datetime

    out = tmp_path / "plain.xlsx"
    fields = [streambook.Field("コード", "any"), streambook.Field("日時", "timestamp")]
    rows = [("001", datetime(2026, 6, 20, 11, 4, 5)), (date(2026, 4, 1), None), (7, None)]
    with streambook.Book(out, title="台帳") as book:
        assert book.sheet("台帳:一覧?", fields, rows) == 3
        with pytest.raises(streambook.TooManyRows):
            book.sheet("短い", fields, rows, max_rows=3)
    sheet = openpyxl.load_workbook(out)["台帳_一覧_"]  # characters Excel refuses replaced
    cells = list(sheet.iter_rows(min_row=2))
    assert cells[0][0].value == "001" and cells[0][0].number_format == "@"
    assert cells[0][1].value == datetime(2026, 6, 20, 11, 4, 5)
    assert cells[0][1].number_format == "yyyy-mm-dd hh:mm:ss"
    assert cells[1][0].value == datetime(2026, 4, 1) and cells[2][0].value == 7
