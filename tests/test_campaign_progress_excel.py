"""The not-yet-submitted list downloads as a workbook whose rows are exactly the database's
unsubmitted assignments on the user's scope."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from urllib.parse import unquote

import openpyxl
import sqlalchemy as sa

from reports.progress import COLUMNS, SHEET
from reports.tables import STATUS_LABELS
from survey import access, clock
from survey.extensions import db
from survey.models import Assignment, AuditEntry, Campaign, OrgUnit
from tests import helpers
from tests.helpers import ANNUAL, job_download, login

HEADER_ROW = 7  # below the title block


def unsubmitted(department: str | None = None) -> set[tuple]:
    """(部局, 担当所属, 対象, 状態) of every unsubmitted assignment, from the database."""
    rows = set()
    stmt = (
        sa.select(Assignment)
        .join(Campaign)
        .where(Campaign.code == ANNUAL, Assignment.status.in_(access.EDITABLE))
    )
    for a in db.session.scalars(stmt):
        unit = a.responsible_unit
        top = unit
        while top.parent is not None:
            top = top.parent
        if department is None or top.name == department:
            rows.add((top.name, unit.name, a.target_name, STATUS_LABELS["ja"][a.status]))
    return rows


def workbook(response) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(response.data))


def data_rows(book) -> list[tuple]:
    sheet = book[SHEET]
    return [
        row
        for row in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True)
        if any(v is not None for v in row)
    ]


def test_the_pending_list_holds_every_unsubmitted_assignment(demo_app):
    late = helpers.assignment_of("税務課")
    late.status = "draft"
    late.due_on = clock.today() - timedelta(days=4)
    db.session.commit()
    _page, response = job_download(
        login(demo_app, "admin"), f"/campaigns/{ANNUAL}/progress/pending.xlsx"
    )
    assert response.status_code == 200
    disposition = unquote(response.headers["Content-Disposition"])
    assert "令和8年度 情報資産の取扱状況 自己点検_未提出一覧_" in disposition
    book = workbook(response)
    sheet = book[SHEET]
    assert [c.value for c in sheet[HEADER_ROW]] == [c.title for c in COLUMNS]
    assert sheet.page_setup.orientation == "landscape"
    rows = data_rows(book)
    assert {tuple(r[:4]) for r in rows} == unsubmitted()
    assert len(rows) == len(unsubmitted())
    row = next(r for r in rows if r[1] == "税務課" and r[2] == "税務課")
    assert row[4] == datetime.combine(late.due_on, datetime.min.time())
    assert row[5] == 4
    assert "r-d04-02@example.jp" in row[7]
    audit = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "export.progress"))
    assert audit is not None and audit.object_id == str(late.campaign_id)


def test_a_manager_downloads_their_own_departments_only(demo_app):
    _page, response = job_download(
        login(demo_app, "manager"), f"/campaigns/{ANNUAL}/progress/pending.xlsx"
    )
    assert response.status_code == 200
    rows = data_rows(workbook(response))
    kumin = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "区民部"))
    assert kumin is not None
    assert {tuple(r[:4]) for r in rows} == unsubmitted("区民部")
    assert rows and all(r[0] == "区民部" for r in rows)
    assert "区民部" in unquote(response.headers["Content-Disposition"])
