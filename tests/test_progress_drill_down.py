"""Progress down the tree: the office follows a campaign per 部局 and steps into a 部's 課, the
department head lands on his own divisions, and the not-yet-submitted list follows the step."""

from __future__ import annotations

import io
import re

import openpyxl
import sqlalchemy as sa

from survey.extensions import db
from survey.models import OrgUnit
from tests.helpers import ANNUAL, login

PROGRESS = f"/campaigns/{ANNUAL}/progress"


def unit(name: str) -> OrgUnit:
    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == name))


def rows(page: str) -> list[str]:
    table = re.search(r'<table class="data progress-departments">(.*?)</table>', page, re.S)
    assert table, "no breakdown on the page"
    body = re.search(r"<tbody>(.*?)</tbody>", table.group(1), re.S).group(1)
    return [
        re.sub(r"<[^>]+>", "", th).strip()
        for th in re.findall(r'<th scope="row">(.*?)</th>', body, re.S)
    ]


def totals(page: str) -> str:
    return re.search(r"<tfoot>(.*?)</tfoot>", page, re.S).group(1)


def test_office_steps_from_departments_to_a_departments_divisions(demo_app):
    admin = login(demo_app, "admin")
    top = admin.get(PROGRESS).get_data(as_text=True)
    assert "区民部" in rows(top) and "戸籍住民課" not in rows(top)

    page = admin.get(f"{PROGRESS}?dept={unit('区民部').id}").get_data(as_text=True)

    assert "戸籍住民課" in rows(page) and "総務部" not in rows(page)
    assert "区民部の所属別の状況" in page
    assert f'href="{PROGRESS}"' in page  # 全体, one step up


def test_manager_lands_on_his_divisions(demo_app):
    page = login(demo_app, "manager").get(PROGRESS).get_data(as_text=True)
    assert "戸籍住民課" in rows(page) and "税務課" in rows(page)
    assert len(rows(page)) == 9


def test_manager_cannot_step_into_another_department(demo_app):
    manager = login(demo_app, "manager")
    assert manager.get(f"{PROGRESS}?dept={unit('総務部').id}").status_code == 404
    assert manager.get(f"{PROGRESS}/pending.xlsx?dept={unit('総務部').id}").status_code == 404


def test_pending_list_follows_the_step(demo_app):
    division = unit("戸籍住民課")
    response = login(demo_app, "admin").get(f"{PROGRESS}/pending.xlsx?dept={division.id}")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    units = {row[1] for row in sheet.iter_rows(values_only=True) if row and row[0] == "区民部"}
    assert units <= {"戸籍住民課"}
    assert all(row[1] != "税務課" for row in sheet.iter_rows(values_only=True) if row)
