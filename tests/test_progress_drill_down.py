"""Progress down the tree: the office follows a campaign per 部局 and steps into a 部's 課, the
department head lands on his own divisions, and the not-yet-submitted list follows the step."""

from __future__ import annotations

import io
import re

import openpyxl
import sqlalchemy as sa

from survey.extensions import db
from survey.models import OrgUnit
from survey.services import levels
from tests import helpers
from tests.helpers import ANNUAL, job_download, login

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
    assert manager.post(f"{PROGRESS}/pending.xlsx?dept={unit('総務部').id}").status_code == 404


def test_pending_list_follows_the_step(demo_app):
    division = unit("戸籍住民課")
    _page, response = job_download(
        login(demo_app, "admin"), f"{PROGRESS}/pending.xlsx", f"?dept={division.id}"
    )
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    units = {row[1] for row in sheet.iter_rows(values_only=True) if row and row[0] == "区民部"}
    assert units <= {"戸籍住民課"}
    assert all(row[1] != "税務課" for row in sheet.iter_rows(values_only=True) if row)


def test_each_level_takes_a_bounded_number_of_queries_however_deep(demo_app):
    """The path up and the subtree below are each one recursive query: a 係 three levels down
    costs what a 部 costs."""
    division = unit("戸籍住民課")
    section = helpers.add_unit("住民記録係", division, "T-KOSEKI-1")
    top = unit("区民部")
    expected = {
        # (user, dept): (path, units)
        ("manager", None): ([top], None),
        ("manager", top.id): ([top], None),
        ("manager", division.id): ([top, division], [division.id, section.id]),
        ("manager", section.id): ([top, division, section], [section.id]),
        ("admin", None): ([], None),
        ("admin", section.id): ([top, division, section], [section.id]),
    }
    with demo_app.test_request_context():
        for (username, dept), (path, units) in expected.items():
            user = helpers.user(username)
            with helpers.statements() as sent:
                found = levels.level(user, dept)
            assert len(sent) <= 3, (username, dept, sent)
            shown = [(u.id, u.name) for u in path]
            if username == "admin":
                shown = [(None, "全体"), *shown]
            assert list(found.path) == shown, (username, dept)
            if units is not None:
                assert sorted(found.units) == sorted(units)
            assert found.chosen == ((dept, path[-1].name) if dept else None)
        manager = helpers.user("manager")
        assert levels.level(manager, unit("総務部").id) is None  # outside his department
        assert levels.level(manager, 10**6) is None  # no such unit
