"""Audits (実地監査・書面監査): findings followed by their measures and results, the 措置状況
table in Excel, and who may see which audit."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import sqlalchemy as sa

from reports import followup as status_sheet
from survey.extensions import db
from survey.models import Audit, AuditFinding, CorrectiveAction, OrgUnit
from tests.helpers import login, user


def unit(name: str) -> OrgUnit:
    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == name))


def record_audit(admin, subject: OrgUnit, title="書面監査（テスト）") -> Audit:
    response = admin.post(
        "/followup/audits/new",
        data={
            "kind": "document",
            "title": title,
            "held_on": "2026-10-01",
            "unit": str(subject.id),
            "contractor": "",
            "auditors": "情報政策課",
            "scope": "紙媒体の管理",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalar(sa.select(Audit).where(Audit.title == title))


def add_finding(admin, audit, kind, heading, text):
    response = admin.post(
        f"/followup/audits/{audit.id}/findings",
        data={"kind": kind, "heading": heading, "text": text},
    )
    assert response.status_code == 302
    return db.session.scalar(
        sa.select(AuditFinding)
        .where(AuditFinding.audit_id == audit.id)
        .order_by(AuditFinding.id.desc())
    )


def add_measure(admin, audit, finding, **fields):
    prefix = f"m{finding.id}-"
    data = {prefix + name: value for name, value in fields.items()}
    data.setdefault(prefix + "result", "")
    response = admin.post(f"/followup/audits/{audit.id}/findings/{finding.id}/measures", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)


def test_finding_measure_result_and_the_status_table_in_excel(demo_app):
    admin = login(demo_app, "admin")
    audit = record_audit(admin, unit("戸籍住民課"))
    opinion = add_finding(admin, audit, "opinion", "メモの管理", "メモに番号がない。")
    proposal = add_finding(admin, audit, "proposal", "ログの確認", "=定期的に確認されたい。")
    add_measure(
        admin,
        audit,
        opinion,
        text="連番付き様式に統一",
        unit=str(unit("戸籍住民課").id),
        taken_on="2026-10-20",
    )
    add_measure(admin, audit, opinion, text="廃棄時に照合", unit="", taken_on="2026-11-02")
    measure = opinion.measures[0]
    result = admin.post(
        f"/followup/audits/{audit.id}/measures/{measure.id}/result",
        data={"result": "done", "result_note": "確認済み", "result_on": "2026-11-10"},
    )
    assert result.status_code == 302
    db.session.refresh(measure)
    assert (measure.result, measure.result_on) == ("done", date(2026, 11, 10))

    download = admin.get(f"/followup/audits/{audit.id}/status.xlsx")
    assert download.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(download.data))
    download.close()
    sheet = book["措置状況"]
    header = status_sheet.HEADER_ROW + 1
    assert [c.value for c in sheet[header]] == [title for title, _w in status_sheet.COLUMNS]
    rows = [
        [c.value for c in row] for row in sheet.iter_rows(min_row=header + 1, max_row=sheet.max_row)
    ]
    db.session.refresh(audit)
    expected = []
    for finding in (opinion, proposal):
        db.session.refresh(finding)
        kind = {"opinion": "意見", "proposal": "提案事項"}[finding.kind]
        text = f"{finding.heading}\n{finding.text}"
        for n, m in enumerate(finding.measures or [None]):
            first = n == 0  # the finding's cells are merged over its measures
            expected.append(
                [
                    finding.number if first else None,
                    kind if first else None,
                    text if first else None,
                    m.text if m else None,
                    (m.unit.name if m.unit else None) if m else None,
                    m.taken_on if m else None,
                    ("措置済\n確認済み" if m.result == "done" else "未確認") if m else None,
                    m.result_on if m else None,
                ]
            )
    for row in rows:
        for c in (5, 7):
            row[c] = row[c].date() if row[c] else None
        for c in (3, 4, 6):
            row[c] = row[c] or None
    assert rows == expected
    assert f"A{header + 1}:A{header + 2}" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.print_title_rows == f"${header}:${header}"
    assert sheet["C2"].value == audit.title
    # A finding typed like a formula stays text.
    assert sheet.cell(header + 3, 3).data_type == "s"


def test_the_writer_keeps_an_empty_audit_printable(tmp_path):
    header = status_sheet.Header(
        title="t",
        kind="実地監査",
        held_on=date(2026, 1, 5),
        subject="s",
        auditors="a",
        scope="",
        generated_by="admin",
        generated_on=date(2026, 1, 6),
    )
    path = tmp_path / "empty.xlsx"
    status_sheet.write_status(str(path), header, [])
    sheet = openpyxl.load_workbook(path)["措置状況"]
    assert sheet.cell(status_sheet.HEADER_ROW + 2, 1).value == "指摘事項はありません。"


def test_a_finding_opens_a_corrective_action(demo_app):
    admin = login(demo_app, "admin")
    finding = db.session.scalar(sa.select(AuditFinding).order_by(AuditFinding.id).limit(1))
    page = admin.get(f"/followup/actions/new?finding={finding.id}").get_data(as_text=True)
    assert finding.heading in page
    audit = finding.audit
    response = admin.post(
        f"/followup/actions/new?finding={finding.id}",
        data={
            "title": finding.heading,
            "unit": str(audit.unit_id),
            "contractor": str(audit.contractor_id),
            "due_on": "2027-01-15",
            "finding_id": str(finding.id),
        },
    )
    assert response.status_code == 302
    action = db.session.scalar(sa.select(CorrectiveAction).order_by(CorrectiveAction.id.desc()))
    assert (action.source, action.finding_id) == ("finding", finding.id)
    assert action.title in admin.get(f"/followup/audits/{audit.id}").get_data(as_text=True)


def test_an_audit_needs_a_subject_and_a_finding_needs_text(demo_app):
    admin = login(demo_app, "admin")
    response = admin.post(
        "/followup/audits/new",
        data={"kind": "onsite", "title": "対象なし", "held_on": "2026-10-01"},
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "監査の対象（所属または委託事業者）を選んでください" in text and "対象なし" in text
    audit = db.session.scalar(sa.select(Audit).limit(1))
    empty = admin.post(
        f"/followup/audits/{audit.id}/findings",
        data={"kind": "opinion", "heading": "見出しだけ", "text": ""},
    )
    assert empty.status_code == 422 and "見出しだけ" in empty.get_data(as_text=True)


def test_each_role_sees_only_the_audits_in_its_scope(demo_app):
    admin = login(demo_app, "admin")
    own = record_audit(admin, unit("戸籍住民課"), "戸籍住民課の監査")
    other = record_audit(admin, unit("秘書課"), "秘書課の監査")
    company = db.session.scalar(sa.select(Audit).where(Audit.contractor_id.is_not(None)))
    sees = {
        "auditor": {own, other, company},
        "manager": {own},
        "respondent": {own},
        "contractor": {company},
    }
    for role, visible in sees.items():
        client = login(demo_app, role)
        listing = client.get("/followup/audits/").get_data(as_text=True)
        for audit in (own, other, company):
            assert (audit.title in listing) == (audit in visible), (role, audit.title)
            status = client.get(f"/followup/audits/{audit.id}").status_code
            assert status == (200 if audit in visible else 404), (role, audit.title)
        assert client.get("/followup/audits/new").status_code == 403
    assert user("contractor").contractor_id == company.contractor_id


def test_the_auditor_reads_but_records_nothing(demo_app):
    auditor = login(demo_app, "auditor")
    audit = db.session.scalar(sa.select(Audit).limit(1))
    before = len(audit.findings)
    response = auditor.post(
        f"/followup/audits/{audit.id}/findings", data={"kind": "opinion", "text": "x"}
    )
    assert response.status_code == 403
    db.session.refresh(audit)
    assert len(audit.findings) == before
    page = auditor.get(f"/followup/audits/{audit.id}").get_data(as_text=True)
    assert "指摘事項を追加" not in page and "措置状況表を Excel で出力" in page
