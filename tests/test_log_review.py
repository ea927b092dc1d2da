"""The review of a round by the people accountable, on the demo ward: routing to the heads,
the head's sheet (answers, masking, the audit of each view), asking the employee to explain,
handing in and approval by the next level up, the corrective action a flagged look-up opens,
and the figures on screen, in Excel and CSV."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from reports.accesslogs import review as report
from reports.accesslogs.rules import parse
from survey import demo_logs
from survey.extensions import db
from survey.models import (
    AuditEntry,
    Contract,
    CorrectiveAction,
    EntryReview,
    LogSource,
    OrgUnit,
    ReviewRound,
    ReviewSheet,
    SampledEntry,
    User,
)
from survey.services import log_reviews, logs
from tests.helpers import login


def _user(name: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == name))


def _unit(name: str) -> OrgUnit:
    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == name))


def _round(code: str = demo_logs.ROUND) -> ReviewRound:
    return db.session.scalar(sa.select(ReviewRound).where(ReviewRound.code == code))


def _sheet(unit_name: str, code: str = demo_logs.ROUND) -> ReviewSheet:
    return db.session.scalar(
        sa.select(ReviewSheet)
        .join(OrgUnit, OrgUnit.id == ReviewSheet.unit_id)
        .where(ReviewSheet.round_id == _round(code).id, OrgUnit.name == unit_name)
    )


def _new_round() -> ReviewRound:
    source = db.session.scalar(sa.select(LogSource).where(LogSource.code == demo_logs.SOURCE))
    started = logs.start_round(
        source.id,
        _round().rule_set_id,
        date(2026, 10, 1),
        date(2026, 10, 15),
        code="JUKI-HALF",
        title="令和8年10月前半",
        seed="half",
    )
    db.session.commit()
    return started.round


def _views(username: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(
                AuditEntry.action == "log.view", AuditEntry.username == username
            )
        )
    )


def _form(rows, override: dict | None = None) -> dict:
    """The sheet form as the page posts it: each entry's stored answer, `override` by id."""
    override = override or {}
    data = {}
    for row in rows:
        answer = override.get(row.entry.id) or (
            row.review.verdict,
            row.review.request_no,
            row.review.comment,
        )
        data[f"verdict-{row.entry.id}"], data[f"request-{row.entry.id}"] = answer[0], answer[1]
        data[f"comment-{row.entry.id}"] = answer[2]
    return data


# --- framework-free ---------------------------------------------------------------------------


def test_a_record_number_keeps_only_its_last_three_digits():
    assert report.mask("0000031416") == "＊＊＊＊＊＊＊416"
    assert report.mask("12") == "＊＊" and report.mask("") == ""


RULES = """
code: t
version: 1
title: t
random: {per_unit: 2}
rules:
  - {key: night, kind: off_hours, title: night, night_starts: 20, night_ends: 7}
  - {key: no-request, kind: missing_request, title: nr, operations: [証明書交付]}
""".encode()


def test_the_request_number_is_asked_where_a_rule_requires_one():
    ruleset = parse(RULES)
    assert report.requires_request(ruleset, "証明書交付")
    assert not report.requires_request(ruleset, "異動届入力")


def test_the_figures_count_each_entry_once_per_unit_and_under_each_reason():
    ruleset = parse(RULES)
    figures = report.tally(
        [
            report.Reviewed("A課", ("night", "no-request"), "justified", False),
            report.Reviewed("A課", ("random",), "suspect", False),
            report.Reviewed("B課", ("night",), "", True),
        ],
        ruleset,
    )
    assert (figures.total.sampled, figures.total.justified, figures.total.flagged) == (3, 1, 1)
    assert figures.total.overdue == 1 and figures.total.unanswered == 1
    assert figures.by_unit["A課"].sampled == 2 and figures.by_reason["night"].sampled == 2
    assert figures.cells[("B課", "night")].overdue == 1
    assert report.cell_rows(figures, ruleset)[0][:3] == ("A課", "night", "night")


# --- routing ----------------------------------------------------------------------------------


def test_routing_makes_one_sheet_per_reviewing_unit_for_its_head(demo_app):
    round_ = _new_round()
    sampled = db.session.scalar(
        sa.select(sa.func.count()).where(SampledEntry.round_id == round_.id)
    )
    client = login(demo_app, "admin")
    refused = client.post(f"/logs/rounds/{round_.code}/route", data={"due_on": "2020-01-01"})
    assert refused.status_code == 422 and "今日以降" in refused.text
    assert 'value="2020-01-01"' in refused.text  # what was typed stays
    assert (
        db.session.scalar(
            sa.select(sa.func.count(ReviewSheet.id)).where(ReviewSheet.round_id == round_.id)
        )
        == 0
    )
    routed = client.post(f"/logs/rounds/{round_.code}/route", data={"due_on": "2030-01-31"})
    assert routed.status_code == 302
    sheets = db.session.scalars(
        sa.select(ReviewSheet).where(ReviewSheet.round_id == round_.id)
    ).all()
    units = db.session.scalars(
        sa.select(SampledEntry.review_unit_id).where(SampledEntry.round_id == round_.id).distinct()
    ).all()
    assert sorted(s.unit_id for s in sheets) == sorted(units)
    reviews = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(EntryReview)
        .join(ReviewSheet)
        .where(ReviewSheet.round_id == round_.id)
    )
    assert reviews == sampled
    # The divisions and offices have no manager of their own: 区民部長 answers for them.
    assert {s.head_unit.name for s in sheets} == {"区民部"}
    assert all(s.due_on == date(2030, 1, 31) for s in sheets)
    again = client.post(f"/logs/rounds/{round_.code}/route", data={"due_on": "2030-01-31"})
    assert again.status_code == 422 and "既に" in again.text
    assert len(
        db.session.scalars(sa.select(ReviewSheet).where(ReviewSheet.round_id == round_.id)).all()
    ) == len(sheets)
    assert db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.action == "log.route", AuditEntry.object_id == str(round_.id)
        )
    )


def test_contractor_staff_go_to_the_unit_supervising_the_contract(demo_app):
    window = db.session.scalar(
        sa.select(Contract).where(Contract.title == demo_logs.WINDOW_CONTRACT)
    )
    units = set(
        db.session.scalars(
            sa.select(SampledEntry.review_unit_id).where(
                SampledEntry.contractor_id == window.contractor_id
            )
        )
    )
    assert units == {window.unit_id}


# --- the head's sheet -------------------------------------------------------------------------


def test_the_head_sees_the_record_numbers_whole_and_each_view_is_recorded(demo_app):
    sheet = _sheet("戸籍住民課")
    head = login(demo_app, "manager")
    page = head.get(f"/logs/reviews/{sheet.id}")
    assert page.status_code == 200 and demo_logs.NEIGHBOUR in page.text
    [view] = _views("manager")
    assert view.after["records"] == "whole" and len(view.after["entries"]) == len(sheet.reviews)
    office = login(demo_app, "admin")
    page = office.get(f"/logs/reviews/{sheet.id}")
    assert page.status_code == 200 and demo_logs.NEIGHBOUR not in page.text
    assert report.mask(demo_logs.NEIGHBOUR) in page.text
    assert _views("admin")[0].after["records"] == "masked"


@pytest.mark.parametrize("role", ["auditor", "respondent", "contractor", "m-d01"])
def test_nobody_else_sees_a_units_sheet(demo_app, role):
    sheet = _sheet("戸籍住民課")
    client = login(demo_app, role)
    assert client.get(f"/logs/reviews/{sheet.id}").status_code == 404
    assert client.post(f"/logs/reviews/{sheet.id}", data={}).status_code == 404
    assert _views(role) == []


def test_a_wrong_answer_keeps_what_was_typed_and_stores_nothing(demo_app):
    sheet = _sheet("戸籍住民課")
    head = _user("manager")
    rows = log_reviews.rows(sheet, head)
    needing = next(r for r in rows if r.needs_request and not r.review.verdict)
    other = next(r for r in rows if not r.review.verdict and r is not needing)
    stored = db.session.scalar(
        sa.select(sa.func.count()).where(EntryReview.answered_at.is_not(None))
    )
    client = login(demo_app, "manager")
    data = _form(
        rows,
        {
            needing.entry.id: ("justified", "", "窓口での交付"),
            other.entry.id: ("justified", "R8-999999", "転入届の受付"),
        },
    )
    page = client.post(f"/logs/reviews/{sheet.id}", data=data)
    assert page.status_code == 422 and "申請書番号を入力してください" in page.text
    assert "転入届の受付" in page.text and "窓口での交付" in page.text
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(EntryReview.answered_at.is_not(None)))
        == stored
    )
    suspect = _form(rows, {other.entry.id: ("suspect", "", "")})
    page = client.post(f"/logs/reviews/{sheet.id}", data=suspect)
    assert page.status_code == 422 and "理由を入力してください" in page.text


def test_the_same_answers_posted_twice_are_stored_once(demo_app):
    sheet = _sheet("戸籍住民課")
    rows = log_reviews.rows(sheet, _user("manager"))
    target = next(r for r in rows if not r.review.verdict)
    client = login(demo_app, "manager")
    before = db.session.scalar(sa.select(sa.func.max(AuditEntry.id)))
    data = _form(rows, {target.entry.id: ("checking", "", "本人に確認中")})
    assert client.post(f"/logs/reviews/{sheet.id}", data=data).status_code == 302
    second = client.post(f"/logs/reviews/{sheet.id}", data=data, follow_redirects=True)
    assert "変更はありません" in second.text
    answers = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "log.answer", AuditEntry.id > before)
    ).all()
    assert len(answers) == 1 and answers[0].after["answers"] == [
        {"entry": target.entry.id, "verdict": "checking"}
    ]
    review = db.session.get(EntryReview, target.entry.id)
    db.session.refresh(review)
    assert (review.verdict, review.comment) == ("checking", "本人に確認中")


def test_entries_of_another_sheet_are_refused(demo_app):
    sheet = _sheet("戸籍住民課")
    elsewhere = _sheet("税務課").reviews[0]
    client = login(demo_app, "manager")
    rows = log_reviews.rows(sheet, _user("manager"))
    data = {**_form(rows), f"verdict-{elsewhere.sampled_id}": "suspect"}
    # Only the sheet's own entries are read from the form: the other one is left alone.
    client.post(f"/logs/reviews/{sheet.id}", data=data)
    db.session.refresh(elsewhere)
    assert elsewhere.verdict == ""


# --- explaining, handing in, approval ---------------------------------------------------------


def test_the_employee_sees_only_the_entry_asked_of_them_and_explains_it(demo_app):
    sheet = _sheet("戸籍住民課")
    employee_account = _user("respondent")
    # One of the sheet's look-ups was the demo respondent's (their tenken username in the log).
    asked = next(
        r for r in sheet.reviews if r.sampled.contractor_id is None and r.sampled.record_id
    )
    asked.sampled.user_id = employee_account.id
    db.session.commit()
    employee = login(demo_app, "respondent")
    assert employee.get(f"/logs/explain/{asked.sampled_id}").status_code == 404  # not asked yet
    head = login(demo_app, "manager")
    assert head.post(f"/logs/reviews/{sheet.id}/entries/{asked.sampled_id}/ask").status_code == 302
    desk = employee.get("/logs/reviews/")
    assert desk.status_code == 200 and f"/logs/explain/{asked.sampled_id}" in desk.text
    page = employee.get(f"/logs/explain/{asked.sampled_id}")
    assert page.status_code == 200 and asked.sampled.record_id not in page.text
    assert report.mask(asked.sampled.record_id) in page.text
    assert _views("respondent")[0].after == {"entries": [asked.sampled_id], "records": "masked"}
    empty = employee.post(f"/logs/explain/{asked.sampled_id}", data={"explanation": "  "})
    assert empty.status_code == 422 and "説明を入力してください" in empty.text
    done = employee.post(
        f"/logs/explain/{asked.sampled_id}", data={"explanation": "転入届の審査で照会しました。"}
    )
    assert done.status_code == 302
    db.session.refresh(asked)
    assert asked.explanation == "転入届の審査で照会しました。"
    assert "転入届の審査で照会しました。" in head.get(f"/logs/reviews/{sheet.id}").text
    # Their other entries, and the sheet, stay out of sight.
    other = next(r for r in sheet.reviews if r.sampled_id != asked.sampled_id)
    assert employee.get(f"/logs/explain/{other.sampled_id}").status_code == 404
    assert employee.get(f"/logs/reviews/{sheet.id}").status_code == 404
    assert login(demo_app, "r-d04-02").get(f"/logs/explain/{asked.sampled_id}").status_code == 404


def test_a_head_asks_a_contractors_company_to_explain_its_staffs_look_up(demo_app):
    window = db.session.scalar(
        sa.select(Contract).where(Contract.title == demo_logs.WINDOW_CONTRACT)
    )
    review = db.session.scalar(
        sa.select(EntryReview)
        .join(EntryReview.sampled)
        .where(
            SampledEntry.round_id == _round().id,  # the open round (September's is approved)
            SampledEntry.contractor_id == window.contractor_id,
            EntryReview.explain_asked_at.is_(None),
        )
    )
    head = login(demo_app, "manager")
    sheet_id = review.sheet_id
    assert head.post(f"/logs/reviews/{sheet_id}/entries/{review.sampled_id}/ask").status_code == 302
    assert head.post(f"/logs/reviews/{sheet_id}/entries/{review.sampled_id}/ask").status_code == 302
    assert (
        len(
            db.session.scalars(
                sa.select(AuditEntry).where(
                    AuditEntry.action == "log.ask", AuditEntry.object_id == str(review.sampled_id)
                )
            ).all()
        )
        == 1
    )
    company = db.session.scalar(sa.select(User).where(User.contractor_id == window.contractor_id))
    client = login(demo_app, company.username)
    assert client.get(f"/logs/explain/{review.sampled_id}").status_code == 200
    others = db.session.scalar(
        sa.select(User).where(
            User.contractor_id.is_not(None), User.contractor_id != window.contractor_id
        )
    )
    assert (
        login(demo_app, others.username).get(f"/logs/explain/{review.sampled_id}").status_code
        == 404
    )


def _answer_all(sheet: ReviewSheet, flag: str | None = None) -> None:
    head = _user("manager")
    posted = {}
    for row in log_reviews.rows(sheet, head):
        if row.entry.record_id == flag:
            posted[row.entry.id] = log_reviews.Posted("suspect", "", "近隣住民の記録")
        else:
            posted[row.entry.id] = log_reviews.Posted("justified", "R8-1", "窓口の交付")
    log_reviews.save_answers(sheet, posted, head)
    db.session.commit()


def test_a_sheet_is_handed_in_only_when_every_entry_has_a_final_answer(demo_app):
    sheet = _sheet("戸籍住民課")
    client = login(demo_app, "manager")
    refused = client.post(f"/logs/reviews/{sheet.id}/submit", follow_redirects=True)
    assert "未回答または確認中の記録が" in refused.text
    db.session.refresh(sheet)
    assert sheet.status == "open"
    _answer_all(sheet, flag=demo_logs.NEIGHBOUR)
    assert client.post(f"/logs/reviews/{sheet.id}/submit").status_code == 302
    assert client.post(f"/logs/reviews/{sheet.id}/submit").status_code == 302  # a double click
    assert (
        len(
            db.session.scalars(
                sa.select(AuditEntry).where(
                    AuditEntry.action == "log.submit", AuditEntry.object_id == str(sheet.id)
                )
            ).all()
        )
        == 1
    )
    # Who answered does not approve it.
    assert (
        client.post(f"/logs/reviews/{sheet.id}/decide", data={"decision": "approve"}).status_code
        == 403
    )
    db.session.refresh(sheet)
    assert sheet.status == "submitted"


def _previous_actions() -> list[int]:
    """The action September's confirmed flag opened (the demo's round before)."""
    return db.session.scalars(
        sa.select(EntryReview.action_id)
        .join(ReviewSheet)
        .where(ReviewSheet.round_id == _round(demo_logs.PREVIOUS).id)
        .where(EntryReview.action_id.is_not(None))
    ).all()


def test_approval_opens_a_corrective_action_for_each_flagged_entry(demo_app):
    sheet = _sheet("戸籍住民課")
    _answer_all(sheet, flag=demo_logs.NEIGHBOUR)
    log_reviews.submit(sheet, _user("manager"))
    db.session.commit()
    office = login(demo_app, "admin")
    no_reason = office.post(f"/logs/reviews/{sheet.id}/decide", data={"decision": "return"})
    assert no_reason.status_code == 422 and "差し戻す理由" in no_reason.text
    assert (
        office.post(f"/logs/reviews/{sheet.id}/decide", data={"decision": "approve"}).status_code
        == 302
    )
    assert (
        office.post(f"/logs/reviews/{sheet.id}/decide", data={"decision": "approve"}).status_code
        == 302
    )
    flagged = db.session.scalars(
        sa.select(EntryReview).where(
            EntryReview.sheet_id == sheet.id, EntryReview.verdict == "suspect"
        )
    ).all()
    assert flagged  # the neighbour's record
    actions = db.session.scalars(
        sa.select(CorrectiveAction).where(
            CorrectiveAction.source == "log_review",
            CorrectiveAction.id.not_in(_previous_actions()),
        )
    ).all()
    assert sorted(a.id for a in actions) == sorted(r.action_id for r in flagged)
    assert all(
        a.unit.name == "戸籍住民課" and demo_logs.NEIGHBOUR not in a.description for a in actions
    )
    db.session.refresh(sheet)
    assert sheet.status == "approved" and sheet.decided_by.username == "admin"
    page = login(demo_app, "manager").get(f"/logs/reviews/{sheet.id}")
    assert f"/followup/actions/{actions[0].id}" in page.text


def test_a_sheet_sent_back_is_answered_again(demo_app):
    sheet = _sheet("戸籍住民課")
    _answer_all(sheet)
    log_reviews.submit(sheet, _user("manager"))
    db.session.commit()
    office = login(demo_app, "admin")
    back = office.post(
        f"/logs/reviews/{sheet.id}/decide", data={"decision": "return", "comment": "用務を具体的に"}
    )
    assert back.status_code == 302
    db.session.refresh(sheet)
    assert sheet.status == "returned" and sheet.decision_comment == "用務を具体的に"
    page = login(demo_app, "manager").get(f"/logs/reviews/{sheet.id}")
    assert 'name="verdict-' in page.text and "用務を具体的に" in page.text


# --- figures ----------------------------------------------------------------------------------


def test_the_office_sees_the_figures_and_downloads_them(demo_app):
    round_ = _round()
    figures = log_reviews.review_figures(round_, today=date(2026, 11, 21))
    assert figures.total.sampled == len(round_.sampled)
    assert figures.by_unit["国民年金課"].justified == figures.by_unit["国民年金課"].sampled
    assert figures.by_unit["戸籍住民課"].flagged == len(
        [e for e in round_.sampled if e.record_id == demo_logs.NEIGHBOUR]
    )
    # After the deadline every sheet not handed in is overdue, 国民年金課's (approved) is not.
    assert figures.total.overdue == figures.total.sampled - figures.by_unit["国民年金課"].sampled
    client = login(demo_app, "admin")
    page = client.get(f"/logs/rounds/{round_.code}")
    assert 'id="review-units"' in page.text and 'id="review-rules"' in page.text
    download = client.get(f"/logs/rounds/{round_.code}/figures.xlsx")
    assert download.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(download.data))
    assert book.sheetnames == ["所属別", "理由別", "所属・理由別", "推移"]
    units = book["所属別"]
    header = [c.value for c in units[7]]
    assert header[:3] == ["点検する所属", "抽出", "業務上必要"]
    by_unit = {row[0]: row for row in units.iter_rows(min_row=8, values_only=True)}
    now = log_reviews.review_figures(round_)
    assert by_unit["戸籍住民課"][1:] == report._values(now.by_unit["戸籍住民課"])
    assert by_unit["計"][1] == now.total.sampled
    text = client.get(f"/logs/rounds/{round_.code}/figures.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["点検する所属", "ルール", "抽出の理由"]
    assert len(rows) - 1 == len(report.cell_rows(now, logs.rules_of(round_.rule_set)))


def test_two_reviewing_units_of_one_name_are_counted_apart(demo_app):
    round_ = _round()
    office = _unit("北部地域事務所")
    twin = OrgUnit(code="D99-01", name="戸籍住民課", parent_id=office.parent_id)
    db.session.add(twin)
    db.session.flush()
    moved = next(e for e in round_.sampled if e.review_unit_id == office.id)
    moved.review_unit_id = twin.id
    db.session.commit()
    labels = log_reviews.unit_labels(round_)
    assert labels[twin.id] == "戸籍住民課（D99-01）"
    assert labels[_unit("戸籍住民課").id] == f"戸籍住民課（{_unit('戸籍住民課').code}）"
    figures = log_reviews.review_figures(round_)
    assert figures.by_unit["戸籍住民課（D99-01）"].sampled == 1
