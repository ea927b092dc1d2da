"""After a few rounds of the access-log review: the office compares the rounds side by side
(on the round's page, in the workbook's 推移 sheet, in CSV), a head sees only their own units'
figures round by round, the unit answering 「ログの内容を定期的に確認している」 gets its own
figures beside the item and may attach them as evidence, and a confirmed flag becomes an
incident the office follows to 報告済."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import sqlalchemy as sa

from reports.accesslogs import review as report
from reports.accesslogs.rules import parse
from survey import demo_logs
from survey.extensions import db
from survey.models import (
    Assignment,
    Attachment,
    AuditEntry,
    Campaign,
    EntryReview,
    Incident,
    InformationSystem,
    OrgUnit,
    ReviewRound,
    ReviewSheet,
    User,
)
from survey.models.campaigns import AssignmentStatus, CampaignStatus
from survey.services import files, log_reviews
from tests.helpers import form_data, login

RULES = parse(
    b"code: t\nversion: 1\ntitle: t\nrandom: {per_unit: 2}\n"
    b"rules:\n  - {key: night, kind: off_hours, title: night, night_starts: 20, night_ends: 7}\n"
)


def _round(code: str) -> ReviewRound:
    return db.session.scalar(sa.select(ReviewRound).where(ReviewRound.code == code))


def _user(name: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == name))


def _sheet(unit_name: str, code: str) -> ReviewSheet:
    return db.session.scalar(
        sa.select(ReviewSheet)
        .join(OrgUnit, OrgUnit.id == ReviewSheet.unit_id)
        .where(ReviewSheet.round_id == _round(code).id, OrgUnit.name == unit_name)
    )


def _audits(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


# --- the trend --------------------------------------------------------------------------------


def test_rounds_stand_side_by_side_and_what_a_round_lacked_is_blank():
    def round_(code, *entries):
        return report.RoundFigures(code, code, "", report.tally(entries, RULES))

    rounds = [
        round_("R1", report.Reviewed("A課", ("night",), "justified", False)),
        round_(
            "R2",
            report.Reviewed("A課", ("random",), "suspect", False),
            report.Reviewed("B課", ("night",), "", True),
        ),
    ]
    rows = {
        (kind, name, count): values
        for kind, name, _key, count, *values in report.trend_rows(rounds, RULES)
    }
    assert rows[("計", "計", "抽出")] == [1, 2]
    assert rows[("所属", "A課", "不適切な可能性")] == [0, 1]
    assert rows[("所属", "B課", "期限超過")] == [None, 1]  # B課 had nothing in R1
    assert rows[("理由", "無作為抽出", "抽出")] == [0, 1]
    text = report.trend_csv_bytes(rounds, RULES).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][:5] == ["点検", "期間", "区分", "所属・抽出の理由", "ルール"]
    assert not [line for line in lines if line[0] == "R1" and line[3] == "B課"]


def test_the_office_compares_the_rounds_on_screen_in_excel_and_csv(demo_app):
    october, september = _round(demo_logs.ROUND), _round(demo_logs.PREVIOUS)
    assert [r.code for r in log_reviews.trend_rounds(october)] == [september.code, october.code]
    assert [r.code for r in log_reviews.trend_rounds(september)] == [september.code]
    office = login(demo_app, "admin")

    page = office.get(f"/logs/rounds/{october.code}")
    assert 'id="trend"' in page.text and september.code in page.text
    # September's own page has no earlier round to compare with.
    assert 'id="trend"' not in office.get(f"/logs/rounds/{september.code}").text

    book = openpyxl.load_workbook(
        io.BytesIO(office.get(f"/logs/rounds/{october.code}/figures.xlsx").data)
    )
    sheet = book["推移"]
    header = [c.value for c in sheet[7]]
    assert header == ["区分", "所属・抽出の理由", "ルール", "件数", september.code, october.code]
    rows = {(r[0], r[1], r[3]): r[4:] for r in sheet.iter_rows(min_row=8, values_only=True)}
    before = log_reviews.review_figures(september)
    now = log_reviews.review_figures(october)
    assert rows[("計", "計", "抽出")] == (before.total.sampled, now.total.sampled)
    assert rows[("計", "計", "不適切な可能性")] == (1, now.total.flagged)
    assert rows[("所属", "戸籍住民課", "業務上必要")] == (
        before.by_unit["戸籍住民課"].justified,
        now.by_unit["戸籍住民課"].justified,
    )

    download = office.get(f"/logs/rounds/{october.code}/trend.csv")
    assert "ログ点検_JUKI-2026-10_推移.csv" in download.headers["Content-Disposition"] or (
        "filename*" in download.headers["Content-Disposition"]
    )
    lines = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig"))))
    total = [line for line in lines if line[2] == "計"]
    assert [line[0] for line in total] == [september.code, october.code]
    assert int(total[0][5]) == before.total.sampled
    assert [e.summary for e in _audits("log.export")][-1] == f"{october.code} trend csv"


def test_a_head_sees_only_their_own_units_round_by_round(demo_app):
    head = _user("manager")  # 区民部長
    page = login(demo_app, "manager").get("/logs/reviews/")
    assert 'id="unit-rounds"' in page.text
    mine = log_reviews.unit_rounds(log_reviews.head_units(head))
    assert {r.round.code for r in mine} == {demo_logs.PREVIOUS, demo_logs.ROUND}
    below = set(
        db.session.scalars(
            sa.select(OrgUnit.name).where(
                OrgUnit.id.in_(sa.select(OrgUnit.id).where(OrgUnit.parent_id == head.unit_id))
            )
        )
    )
    assert {r.sheet.unit.name for r in mine} <= below
    # One unit's figures are that unit's alone.
    resident = _sheet("戸籍住民課", demo_logs.PREVIOUS)
    [previous] = [r for r in log_reviews.unit_rounds([resident.unit_id]) if r.sheet == resident]
    assert previous.counts.sampled == len(resident.reviews)
    assert previous.counts.flagged == 1 and previous.counts.overdue == 0
    # Another department's manager has no sheet of 区民部's, and so no figures of it.
    other = _user("m-d01")
    assert log_reviews.head_units(other) == []
    assert 'id="unit-rounds"' not in login(demo_app, "m-d01").get("/logs/reviews/").text


# --- evidence for 「ログの内容を定期的に確認している」 ------------------------------------------


def _systems_questionnaire() -> Assignment:
    """The resident system's emergency-systems questionnaire, opened again for answers (the
    demo's is from 2017), answered by 戸籍住民課."""
    assignment = db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .join(InformationSystem, InformationSystem.id == Assignment.system_id)
        .where(
            Campaign.code == "2017-emergency-systems",
            InformationSystem.name == "住民記録システム",
        )
    )
    assignment.campaign.status = CampaignStatus.OPEN
    assignment.campaign.closes_on = date(2027, 1, 29)
    assignment.status = AssignmentStatus.DRAFT
    db.session.commit()
    return assignment


def _log_item(assignment: Assignment):
    return next(i for i in assignment.campaign.checklist.items if i.key == "log-review")


def test_the_unit_answering_sees_its_own_figures_beside_the_item(demo_app):
    assignment = _systems_questionnaire()
    item = _log_item(assignment)
    assert db.session.get(OrgUnit, assignment.responsible_unit_id).name == "戸籍住民課"
    page = login(demo_app, "respondent").get(f"/assignments/{assignment.id}")
    block = page.text.split(f'id="log-evidence-{item.id}"')[1].split("</div>\n      </div>")[0]
    assert "令和8年9月分 住民記録システム 照会ログ点検" in block
    assert "令和8年10月分 住民記録システム 照会ログ点検" in block
    assert f'name="log_evidence_{item.id}"' in block
    # Only 戸籍住民課's own sheets: no other unit's name, no look-up, no record number.
    assert "国民年金課" not in block and demo_logs.NIGHT_RECORD not in block
    assert "D04-01-0019" not in block
    # Someone who only reads the questionnaire (the auditor) is offered nothing.
    assert (
        "log-evidence" not in login(demo_app, "auditor").get(f"/assignments/{assignment.id}").text
    )


def test_the_figures_are_attached_as_evidence_once(demo_app):
    assignment = _systems_questionnaire()
    item = _log_item(assignment)
    client = login(demo_app, "respondent")
    data = form_data(assignment, answers={item.number: "yes"}) | {f"log_evidence_{item.id}": "1"}
    assert client.post(f"/assignments/{assignment.id}", data=data).status_code == 302
    data = form_data(assignment) | {f"log_evidence_{item.id}": "1"}
    assert client.post(f"/assignments/{assignment.id}", data=data).status_code == 302

    [attachment] = db.session.scalars(
        sa.select(Attachment).where(
            Attachment.assignment_id == assignment.id, Attachment.item_id == item.id
        )
    )
    assert attachment.filename.startswith("ログ点検の実施状況_戸籍住民課_")
    book = openpyxl.load_workbook(io.BytesIO(files.read(attachment.file)))
    rows = list(book.active.iter_rows(min_row=7, values_only=True))
    assert rows[0][:4] == ("点検", "名称", "期間", "点検票の状態")
    by_round = {row[0]: row for row in rows[1:]}
    assert set(by_round) == {demo_logs.ROUND, demo_logs.PREVIOUS}
    september = _sheet("戸籍住民課", demo_logs.PREVIOUS)
    assert by_round[demo_logs.PREVIOUS][3:7] == (
        "承認済",
        len(september.reviews),
        len(september.reviews) - 1,
        1,
    )
    [entry] = _audits("evidence.log_summary")
    assert entry.object_id == str(attachment.id)
    # The file is evidence like any other: on the page, to download.
    page = client.get(f"/assignments/{assignment.id}")
    assert f"/evidence/{attachment.id}" in page.text


# --- incidents --------------------------------------------------------------------------------


def test_the_demo_incident_is_followed_to_reported_once(demo_app):
    [incident] = db.session.scalars(sa.select(Incident))
    assert incident.status == "handled" and incident.unit.name == "戸籍住民課"
    assert incident.sampled.record_id == demo_logs.NIGHT_RECORD
    office = login(demo_app, "admin")
    page = office.get("/logs/incidents")
    assert f'id="incident-record-{incident.id}"' in page.text and "対応済" in page.text
    assert demo_logs.NIGHT_RECORD not in page.text  # the list names no resident's record
    for _ in range(2):  # a double click
        done = office.post(f"/logs/incidents/{incident.id}/status", data={"status": "reported"})
        assert done.status_code == 302
    db.session.refresh(incident)
    assert incident.status == "reported" and incident.changed_by.username == "admin"
    moves = [e for e in _audits("log.incident_status") if e.object_id == str(incident.id)]
    assert [m.after for m in moves][-1] == {"status": "reported"}
    assert len([m for m in moves if m.after == {"status": "reported"}]) == 1
    # Never back.
    back = office.post(
        f"/logs/incidents/{incident.id}/status", data={"status": "handled"}, follow_redirects=True
    )
    assert "調査中・対応済・報告済の順" in back.text


def _approved_with_a_flag() -> tuple[ReviewSheet, EntryReview]:
    sheet = _sheet("戸籍住民課", demo_logs.ROUND)
    head = _user("manager")
    posted = {
        row.entry.id: log_reviews.Posted("suspect", "", "近隣住民の記録")
        if row.entry.record_id == demo_logs.NEIGHBOUR
        else log_reviews.Posted("justified", "R8-1", "窓口の交付")
        for row in log_reviews.rows(sheet, head)
    }
    log_reviews.save_answers(sheet, posted, head)
    log_reviews.submit(sheet, head)
    db.session.commit()
    flagged = next(r for r in sheet.reviews if r.verdict == "suspect")
    return sheet, flagged


def test_a_confirmed_flag_is_recorded_as_an_incident_by_the_office(demo_app):
    sheet, flagged = _approved_with_a_flag()
    office = login(demo_app, "admin")
    url = f"/logs/reviews/{sheet.id}/entries/{flagged.sampled_id}/incident"
    # Not yet approved: only a confirmed flag may become an incident.
    refused = office.post(url, data={"description": "近隣住民の記録の照会"})
    assert refused.status_code == 422 and "承認された点検票" in refused.text
    assert (
        office.post(f"/logs/reviews/{sheet.id}/decide", data={"decision": "approve"}).status_code
        == 302
    )
    page = office.get(f"/logs/reviews/{sheet.id}")
    assert f'id="incident-{flagged.sampled_id}"' in page.text
    # An empty description is refused, and nothing is stored.
    empty = office.post(url, data={"description": "  "})
    assert empty.status_code == 422 and "インシデントの内容を入力してください" in empty.text
    for _ in range(2):  # a double click stores one
        assert (
            office.post(
                url, data={"description": "近隣住民の記録の照会。本人に聴取中。"}
            ).status_code
            == 302
        )
    [incident] = db.session.scalars(
        sa.select(Incident).where(Incident.sampled_id == flagged.sampled_id)
    )
    assert incident.status == "investigating" and incident.unit_id == sheet.unit_id
    assert incident.sheet_id == sheet.id and incident.opened_by.username == "admin"
    assert incident.title.startswith(f"ログ点検 {demo_logs.ROUND}:")
    assert len([e for e in _audits("log.incident") if e.object_id == str(incident.id)]) == 1
    # The corrective action the approval opened stays: an incident is besides it.
    db.session.refresh(flagged)
    assert flagged.action_id is not None
    # The head sees the sheet, but recording an incident is the office's (the page is not there).
    head = login(demo_app, "manager")
    assert head.post(url, data={"description": "x"}).status_code == 404
    assert head.get("/logs/incidents").status_code == 404
