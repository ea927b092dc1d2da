"""Importing access logs: the encodings and formats the systems write, every problem by row and
column with nothing stored, the same file once, user ids resolved through the registers."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time

import openpyxl
import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEntry, LogEntry, LogImport
from survey.services import logs
from tests.log_helpers import HEADER, build_ward, counts, csv_bytes, entries, local, row, xlsx_bytes

ROWS = [
    row("2026/10/01 09:05:00", "D04-01-0001", "0000012345"),
    row("2026/10/1 9:06", "C003-017", "0000012346", district="北部"),
    row("2026-10-01T17:30:15", "respondent", "0000012347"),
    row("2026年10月2日 8時30分", "X99-0001", "0000012348"),
]


def _import(ward, data: bytes, name: str = "log.csv") -> logs.Checked:
    checked = logs.import_file(ward.source, io.BytesIO(data), name)
    if checked.ok:
        db.session.commit()
    else:
        db.session.rollback()
    return checked


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_csv_in_every_encoding_the_systems_write(app, encoding):
    ward = build_ward()
    checked = _import(ward, csv_bytes([HEADER, *ROWS], encoding))
    assert checked.ok, [p.render() for p in checked.problems]
    assert checked.facts.encoding == encoding
    stored = entries()
    assert [e.record_id for e in stored] == ["0000012345", "0000012346", "0000012347", "0000012348"]
    assert stored[1].district == "北部" and stored[0].operation == "住民票照会"
    assert stored[0].row_number == 2  # the headings are row 1, as Excel shows it


def test_times_are_read_in_the_office_zone_and_stored_in_utc(app):
    ward = build_ward()
    _import(ward, csv_bytes([HEADER, *ROWS]))
    moments = [e.at.replace(tzinfo=UTC) if e.at.tzinfo is None else e.at for e in entries()]
    assert moments == [
        local("2026-10-01 09:05:00"),
        local("2026-10-01 09:06:00"),
        local("2026-10-01 17:30:15"),
        local("2026-10-02 08:30:00"),
    ]
    record = db.session.get(LogImport, 1)
    assert record.row_count == 4 and record.first_at is not None
    # Stored as SQLAlchemy stores a moment, so that queries compare with it.
    moment = local("2026-10-01 17:30:15").astimezone(UTC)  # moments are bound in UTC
    assert db.session.scalar(sa.select(LogEntry.record_id).where(LogEntry.at == moment)) == (
        "0000012347"
    )
    assert db.session.scalar(sa.select(sa.func.count()).where(LogEntry.at > moment)) == 1


def test_user_ids_resolve_to_a_user_a_unit_or_a_company(app):
    ward = build_ward()
    checked = _import(ward, csv_bytes([HEADER, *ROWS]))
    staff, contractor, user, stranger = entries()
    assert (staff.unit_id, staff.contractor_id, staff.user_id) == (ward.resident.id, None, None)
    assert (contractor.unit_id, contractor.contractor_id) == (None, ward.company.id)
    assert (user.user_id, user.unit_id) == (ward.staff.id, ward.resident.id)
    assert (stranger.unit_id, stranger.contractor_id, stranger.user_id) == (None, None, None)
    assert checked.unresolved == [("X99-0001", 1)]
    assert db.session.get(LogImport, 1).unresolved_count == 1


def test_xlsx_with_date_cells_and_separate_date_and_time_columns(app):
    ward = build_ward()
    ward.source.time_column, ward.source.date_column = "時刻", "日付"
    db.session.commit()
    header = ["日付", "時刻", *HEADER[1:]]
    data = xlsx_bytes(
        [
            header,
            [date(2026, 10, 5), time(22, 15), *row("", "D04-01-0001")[1:]],
            [datetime(2026, 10, 5), "23:40:05", *row("", "D04-01-0002", "0000000042")[1:]],
            ["2026/10/06", "7:00", *row("", "C003-001")[1:]],
        ]
    )
    checked = _import(ward, data, "log.xlsx")
    assert checked.ok, [p.render() for p in checked.problems]
    assert checked.facts.format == "xlsx"
    stored = entries()
    assert [e.at.replace(tzinfo=UTC) if e.at.tzinfo is None else e.at for e in stored] == [
        local("2026-10-05 22:15:00"),
        local("2026-10-05 23:40:05"),
        local("2026-10-06 07:00:00"),
    ]
    assert stored[1].record_id == "0000000042"


def test_every_problem_by_row_and_column_and_nothing_is_stored(app):
    ward = build_ward()
    data = csv_bytes(
        [
            HEADER,
            row("2026/10/01 09:00:00", "D04-01-0001"),
            row("2026/13/01 09:00:00", "D04-01-0001"),  # row 3: no 13th month
            row("2026/10/01 09:00:00", ""),  # row 4: nobody
            row("2026/10/01 09:00:00", "D04-01-0001", "9" * 65),  # row 5: too long
            row("", "D04-01-0001"),  # row 6: no time
            row("2099/10/01 09:00:00", "D04-01-0001"),  # row 7: in the future
            row("2026/10/01", "D04-01-0001"),  # row 8: a day, no time
        ]
    )
    checked = _import(ward, data)
    assert not checked.ok
    found = [(p.row, p.where, p.message_id) for p in checked.problems]
    assert found == [
        (3, "操作日時", "time_unreadable"),
        (4, "職員ID", "value_required"),
        (5, "宛名番号", "value_too_long"),
        (6, "操作日時", "value_required"),
        (7, "操作日時", "time_future"),
        (8, "操作日時", "time_unreadable"),
    ]
    assert checked.problems[0].render() == (
        "3 行目「操作日時」: 日時「2026/13/01 09:00:00」を読めません。2026/10/01 9:30:00 や "
        "2026-10-01T09:30 の形か、登録した書式（-）で書いてください。"
    )
    assert "row 3, '操作日時'" in checked.problems[0].render("en")
    assert counts() == (0, 0)


def test_a_problem_after_many_rows_leaves_nothing_behind(app):
    ward = build_ward()
    rows = [row(f"2026/10/01 09:{m % 60:02d}:00", "D04-01-0001") for m in range(12_000)]
    rows.append(row("いつか", "D04-01-0001"))
    checked = _import(ward, csv_bytes([HEADER, *rows]))
    assert [(p.row, p.message_id) for p in checked.problems] == [(12_002, "time_unreadable")]
    assert counts() == (0, 0)


def test_a_missing_column_is_named_with_the_headings_found(app):
    ward = build_ward()
    checked = _import(ward, csv_bytes([HEADER[:4] + HEADER[5:], row("2026/10/01 9:00", "x")[:7]]))
    assert [(p.row, p.where, p.message_id) for p in checked.problems] == [
        (None, "宛名番号", "missing_column")
    ]
    assert "操作日時、職員ID" in checked.problems[0].render()
    assert counts() == (0, 0)


def test_headings_match_whatever_the_width_and_spacing(app):
    ward = build_ward()
    header = ["操作日時 ", "職員ＩＤ", "端末", "処理", "宛名 番号", "地区", "事由", "申請書番号"]
    assert _import(ward, csv_bytes([header, ROWS[0]])).ok


def test_the_same_file_twice_is_imported_once(app):
    ward = build_ward()
    data = csv_bytes([HEADER, *ROWS])
    first = _import(ward, data, "2026-10.csv")
    again = _import(ward, data, "copy.csv")
    assert first.log_import is not None and first.already is None
    assert again.already is not None and again.already.id == first.log_import.id
    assert again.log_import is None
    assert counts() == (1, 4)
    trail = db.session.query(AuditEntry).filter(AuditEntry.action == "log.import").all()
    assert len(trail) == 1 and trail[0].after["rows"] == 4


def test_a_byte_cp932_cannot_read_is_reported_with_its_row(app):
    ward = build_ward()
    good = csv_bytes([HEADER, *ROWS[:2]], "cp932")
    checked = _import(ward, good + b"\x82\xa0,\x81\x20\r\n")  # a lead byte, no trail byte
    assert [(p.message_id, p.params["row"]) for p in checked.problems] == [("file_encoding", 4)]
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    ("data", "message_id"),
    [
        (b"", "file_empty"),
        (b"\xd0\xcf\x11\xe0" + b"\0" * 100, "file_xls"),
        (b"PK\x03\x04 not really a zip", "file_damaged"),
        (b"\xef\xbb\xbf\r\n\r\n", "no_header"),
        ("操作日時,職員ID\0,x\r\n".encode(), "file_binary"),
    ],
)
def test_files_that_are_not_logs_are_refused(app, data, message_id):
    ward = build_ward()
    checked = _import(ward, data)
    assert [p.message_id for p in checked.problems][:1] == [message_id]
    assert counts() == (0, 0)


def test_headings_alone_are_no_log(app):
    ward = build_ward()
    checked = _import(ward, csv_bytes([HEADER, ["", "", ""]]))
    assert [p.message_id for p in checked.problems] == ["no_rows"]


def test_checking_writes_nothing_and_says_what_an_import_would_hold(app):
    ward = build_ward()
    checked = logs.check_file(ward.source, io.BytesIO(csv_bytes([HEADER, *ROWS])))
    assert checked.ok and checked.result.rows == 4 and checked.result.users == 4
    assert checked.result.first_at == local("2026-10-01 09:05:00")
    db.session.commit()
    assert counts() == (0, 0)


def test_an_explicit_time_format_and_tab_separated_columns(app):
    ward = build_ward()
    ward.source.time_format, ward.source.delimiter = "%d.%m.%Y %H%M", "\t"
    db.session.commit()
    text = "\t".join(HEADER) + "\r\n" + "\t".join(row("05.10.2026 2215", "D04-01-0001")) + "\r\n"
    checked = _import(ward, text.encode("utf-8"))
    assert checked.ok, [p.render() for p in checked.problems]
    assert entries()[0].at.replace(tzinfo=UTC) == local("2026-10-05 22:15:00")


def test_workbook_rows_keep_their_numbers_past_blank_rows(app):
    ward = build_ward()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(row("2026/10/01 09:00", "D04-01-0001"))
    sheet.cell(row=5, column=1, value="だめな日時")
    sheet.cell(row=5, column=2, value="D04-01-0001")
    out = io.BytesIO()
    book.save(out)
    checked = _import(ward, out.getvalue(), "log.xlsx")
    assert [(p.row, p.message_id) for p in checked.problems] == [(5, "time_unreadable")]


def test_the_framework_free_tables_name_the_models_columns(app):
    from reports.accesslogs import tables

    for table in (tables.log_entry, tables.staff_household, tables.served_district):
        real = db.metadata.tables[table.name]
        assert {c.name for c in table.columns} <= set(real.columns.keys()), table.name
