"""Figures down the tree: the office starts at the 部局 and steps down to a 部's 課 (and a 課's
係) and back up along the path; a department head lands on his own divisions and can go no
higher; every figure of a level adds up to its row one level up."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import sqlalchemy as sa

from reports import aggregate
from survey.extensions import db
from survey.models import Assignment, Campaign, OrgUnit
from tests.results.conftest import unit
from tests.results.test_results_pages import CAMPAIGN, download, text

ROW = re.compile(
    r'<th scope="row" class="sticky">(.*?)</th>\s*<td class="num nowrap">(\d+)/(\d+)</td>', re.S
)


def rows(page: str) -> dict[str, tuple[int, int]]:
    """The breakdown's rows: name -> (handed in, targets)."""
    return {
        re.sub(r"<[^>]+>", "", name).strip(): (int(done), int(total))
        for name, done, total in ROW.findall(page)
    }


def path(page: str) -> list[str]:
    found = re.search(r'<nav class="results-path"[^>]*>(.*?)</nav>', page, re.S)
    assert found, "no path on the page"
    return [
        re.sub(r"<[^>]+>", "", li).strip()
        for li in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)
    ]


def test_office_steps_from_departments_down_to_divisions_and_back(signed_in):
    client = signed_in("admin")
    top = text(client.get(CAMPAIGN))
    assert path(top) == ["全体"]
    departments = rows(top)
    kumin = unit("区民部")

    page = text(client.get(f"{CAMPAIGN}?dept={kumin.id}"))

    divisions = rows(page)
    assert "戸籍住民課" in divisions and "区民部" not in divisions and "総務部" not in divisions
    assert len(divisions) == 9
    # The divisions add up to the department's row one level up.
    assert tuple(map(sum, zip(*divisions.values(), strict=True))) == departments["区民部"]
    assert path(page) == ["全体", "区民部"]
    assert f'href="{CAMPAIGN}"' in page  # 全体: back up, one click
    assert "区民部の所属別・項目別の該当率" in page


def test_a_division_steps_down_to_its_sections(signed_in, demo_app):
    """Three levels: a 係 under 戸籍住民課 answering its own questionnaire."""
    division = unit("戸籍住民課")
    section = OrgUnit(code="D04-01-01", name="住民記録係", parent_id=division.id, position=1)
    db.session.add(section)
    db.session.flush()
    moved = db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .where(Campaign.code == "2017-emergency-assets", Assignment.unit_id == division.id)
    )
    moved.responsible_unit_id = section.id
    db.session.commit()
    client = signed_in("admin")

    kumin = text(client.get(f"{CAMPAIGN}?dept={unit('区民部').id}"))
    page = text(client.get(f"{CAMPAIGN}?dept={division.id}"))

    assert rows(kumin)["戸籍住民課"] == (1, 1)  # the 係's questionnaire counts in its 課
    assert rows(page) == {"住民記録係": (1, 1)}
    assert path(page) == ["全体", "区民部", "戸籍住民課"]


def test_manager_lands_on_his_divisions_and_cannot_climb_above_his_department(signed_in):
    client = signed_in("manager")  # 区民部長
    page = text(client.get(CAMPAIGN))
    assert len(rows(page)) == 9 and "戸籍住民課" in rows(page)
    assert path(page) == ["区民部"]
    assert "全体" not in path(page)

    division = unit("戸籍住民課")
    page = text(client.get(f"{CAMPAIGN}?dept={division.id}"))
    assert path(page) == ["区民部", "戸籍住民課"]
    assert rows(page) == {"戸籍住民課（この所属自身）": (1, 1)}


def test_manager_cannot_step_into_another_departments_division(signed_in):
    client = signed_in("manager")
    other = db.session.scalar(
        sa.select(OrgUnit).where(OrgUnit.parent_id == unit("総務部").id).limit(1)
    )
    assert client.get(f"{CAMPAIGN}?dept={other.id}").status_code == 404
    response = client.get(f"{CAMPAIGN}/export/departments.csv?dept={other.id}")
    response.close()
    assert response.status_code == 404


def test_downloads_follow_the_level(signed_in):
    client = signed_in("admin")
    kumin = unit("区民部")
    lines = text(client.get(f"{CAMPAIGN}/export/departments.csv?dept={kumin.id}"))[1:]
    table = list(csv.reader(io.StringIO(lines)))
    header = next(i for i, row in enumerate(table) if row and row[0] == "所属")
    names = [row[0] for row in table[header + 1 :] if row and row[0]]
    assert "戸籍住民課" in names and "総務部" not in names

    book = openpyxl.load_workbook(
        io.BytesIO(download(client, f"{CAMPAIGN}/export.xlsx?dept={kumin.id}"))
    )
    assert "所属別" in book.sheetnames
    sheet = [r[0].value for r in book["所属別"].iter_rows() if r[0].value]
    assert "戸籍住民課" in sheet and "総務部" not in sheet


def test_each_level_adds_up_to_the_level_above(demo_app):
    conn = db.session.connection()
    top = aggregate.per_department(conn, "2017-emergency-systems")
    for department_id in top.summary["department_id"]:
        below = aggregate.per_department(conn, "2017-emergency-systems", parent=int(department_id))
        for column in ("assignments", "handed_in", "compliant", "noncompliant", "excluded"):
            expected = top.summary.set_index("department_id").loc[department_id, column]
            assert below.summary[column].sum() == expected, (department_id, column)
