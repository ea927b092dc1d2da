"""委託先管理: a company's self-inspections across its contracts and rounds, on the company's
page and as a download. The office sees every contract; a manager only his subtree's; a
company only itself; a respondent nothing."""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import unquote

import sqlalchemy as sa

from reports import rounds
from survey.access import subtree_ids
from survey.extensions import db
from survey.models import AuditEntry, Contract, Contractor, OrgUnit
from tests.helpers import login

ROUNDS = ["2017-emergency-contracts", "2025-annual-contracts", "2026-annual-contracts"]


def company(code: str) -> Contractor:
    return db.session.scalar(sa.select(Contractor).where(Contractor.code == code))


def contracts(code: str, under: str | None = None) -> list[int]:
    stmt = sa.select(Contract.id).where(Contract.contractor_id == company(code).id)
    if under:
        unit = db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.name == under))
        stmt = stmt.where(Contract.unit_id.in_(subtree_ids(unit)))
    return list(db.session.scalars(stmt))


def section(page: str) -> str:
    """The 自己点検の推移 card of a company's page."""
    return page.split('id="inspections-heading"', 1)[1].split("</section>", 1)[0]


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_office_sees_every_contract_of_a_company_round_by_round(demo_app):
    page = section(text(login(demo_app, "admin").get(f"/contractors/{company('C001').id}")))
    found = rounds.company_rounds(db.session.connection(), contracts("C001"))
    assert len(found.contracts) == 4
    for code in found.contracts["contract_code"]:
        assert code in page
    for total in found.totals.itertuples():
        assert f"{total.percent:.1f}%" in page
        assert f"{total.ratio}・提出 {total.handed_in}/{total.contracts}" in page
    # A contract asked this year and not handed in yet says so, rather than 0%.
    waiting = found.cells[(found.cells["code"] == ROUNDS[2]) & (found.cells["handed_in"] == 0)]
    assert len(waiting) == page.count("未提出") > 0
    assert f"/contractors/{company('C001').id}/rounds.csv" in page


def test_a_manager_sees_only_his_subtrees_contracts_of_a_company(demo_app):
    mine = contracts("C010", under="区民部")
    every = contracts("C010")
    assert 0 < len(mine) < len(every)
    client = login(demo_app, "manager")  # 区民部長
    page = section(text(client.get(f"/contractors/{company('C010').id}")))
    shown = rounds.company_rounds(db.session.connection(), mine)
    whole = rounds.company_rounds(db.session.connection(), every)
    assert set(re.findall(r"K28-\d+", page)) == set(shown.contracts["contract_code"])
    for total in shown.totals.itertuples():
        assert f"{total.ratio}・提出" in page
    assert not set(whole.totals["ratio"]) <= set(shown.totals["ratio"])

    response = client.get(f"/contractors/{company('C010').id}/rounds.csv")
    body = response.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert [r["契約番号"] for r in rows[:-1]] == list(shown.contracts["contract_code"])
    assert rows[-1]["契約"] == "全契約"


def test_a_company_sees_itself_and_no_other(demo_app):
    client = login(demo_app, "contractor")  # さくら情報サービス (C001)
    own = section(text(client.get(f"/contractors/{company('C001').id}")))
    assert "全契約" in own
    other = company("C002").id
    for url in (f"/contractors/{other}", f"/contractors/{other}/rounds.csv"):
        response = client.get(url)
        response.close()
        assert response.status_code == 404, url
    response = client.get(f"/contractors/{company('C001').id}/rounds.json")
    assert json.loads(response.get_data(as_text=True))["contractor"] == "C001"


def test_a_respondent_and_a_stranger_are_refused_the_rollup(demo_app):
    # Every other role against each kind of company: tests/test_access_matrix.py.
    client = login(demo_app, "respondent")
    for url in (
        f"/contractors/{company('C001').id}",
        f"/contractors/{company('C001').id}/rounds.csv",
    ):
        response = client.get(url)
        response.close()
        assert response.status_code == 404, url
    anonymous = demo_app.test_client().get(f"/contractors/{company('C001').id}/rounds.csv")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]


def test_the_download_is_named_recorded_and_safe_for_excel(demo_app):
    client = login(demo_app, "auditor")
    response = client.get(f"/contractors/{company('C001').id}/rounds.csv?encoding=cp932")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=Shift_JIS"
    disposition = unquote(response.headers["Content-Disposition"])
    assert "株式会社さくら情報サービス_自己点検の推移.csv" in disposition
    rows = list(csv.reader(io.StringIO(response.data.decode("cp932"))))
    assert rows[0][:3] == ["契約番号", "契約", "所管"]
    assert rows[0][3] == "平成29年1月\n該当"
    assert (
        db.session.scalar(
            sa.select(AuditEntry.summary).where(AuditEntry.action == "export.contractor_rounds")
        )
        == "C001 rounds.csv"
    )
    response = client.get(f"/contractors/{company('C001').id}/rounds.xlsx")
    assert response.status_code == 404


def test_a_company_never_inspected_says_so(demo_app):
    bare = Contractor(code="C900", name="株式会社テスト")
    db.session.add(bare)
    db.session.commit()
    page = section(text(login(demo_app, "admin").get(f"/contractors/{bare.id}")))
    assert "この委託先の契約を対象にした点検はまだありません。" in page
    rows = list(
        csv.reader(
            io.StringIO(
                login(demo_app, "admin")
                .get(f"/contractors/{bare.id}/rounds.csv")
                .get_data(as_text=True)
                .lstrip("\ufeff")
            )
        )
    )
    assert rows == [["契約番号", "契約", "所管"], ["", "全契約", ""]]
