"""Corrective actions (是正措置): opened from a いいえ answer, fixed by the owner, verified by the
security office, and kept to their scope."""

from __future__ import annotations

import io
from datetime import date, timedelta

import sqlalchemy as sa

from survey.extensions import db
from survey.models import (
    ActionEvent,
    ActionEvidence,
    Answer,
    AuditEntry,
    AuditFinding,
    CorrectiveAction,
    Item,
    Option,
    OrgUnit,
    OutgoingMail,
)
from survey.services.actions import overdue_actions
from tests.helpers import assignment_of, login, user

PDF = b"%PDF-1.4 measure taken"


def noncompliant(unit_name: str):
    """The assignment of `unit_name` in this year's round, and an item it answered いいえ."""
    assignment = assignment_of(unit_name)
    item = db.session.scalar(
        sa.select(Item)
        .join(Answer, Answer.item_id == Item.id)
        .join(Option, Option.id == Answer.option_id)
        .where(Answer.assignment_id == assignment.id, Option.klass == "noncompliant")
        .order_by(Item.number)
        .limit(1)
    )
    assert item is not None, f"{unit_name} has no いいえ answer in the demo"
    return assignment, item


def unit(name: str) -> OrgUnit:
    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == name))


def open_from_answer(client, assignment, item, due=None):
    query = f"?assignment={assignment.id}&item={item.id}"
    page = client.get("/followup/actions/new" + query)
    assert page.status_code == 200
    data = {
        "title": f"項目{item.number}の是正",
        "description": "説明",
        "unit": str(assignment.responsible_unit_id),
        "contractor": "",
        "due_on": (due or date.today() + timedelta(days=30)).isoformat(),
        "assignment_id": str(assignment.id),
        "item_id": str(item.id),
    }
    response = client.post("/followup/actions/new" + query, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalar(sa.select(CorrectiveAction).order_by(CorrectiveAction.id.desc()))


def step(client, action, verb, expected, **data):
    return client.post(f"/followup/actions/{action.id}/{verb}", data={"expected": expected, **data})


def kinds(action) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(ActionEvent.kind)
            .where(ActionEvent.action_id == action.id)
            .order_by(ActionEvent.id)
        )
    )


def mails_to(address: str) -> list[OutgoingMail]:
    return list(
        db.session.scalars(sa.select(OutgoingMail).where(OutgoingMail.recipient == address))
    )


def test_manager_opens_an_action_from_a_noncompliant_answer(demo_app):
    assignment, item = noncompliant("国民年金課")
    manager = login(demo_app, "manager")
    page = manager.get(f"/followup/actions/new?assignment={assignment.id}&item={item.id}")
    text = page.get_data(as_text=True)
    assert f"項目{item.number}" in text and item.text in text
    assert f'<option selected value="{assignment.responsible_unit_id}">' in text

    action = open_from_answer(manager, assignment, item)

    assert (action.source, action.status) == ("answer", "open")
    assert action.assignment_id == assignment.id and action.item_id == item.id
    assert action.campaign_id == assignment.campaign_id
    assert action.unit.name == "国民年金課"
    assert kinds(action) == ["open"]
    owner = user(f"r-{action.unit.code.lower()}")
    assert mails_to(owner.email)[0].subject.startswith(
        "【情報セキュリティ自己点検】是正措置のお願い"
    )
    assert db.session.scalar(
        sa.select(AuditEntry.id).where(
            AuditEntry.action == "action.open", AuditEntry.object_id == str(action.id)
        )
    )


def test_owner_reports_with_evidence_and_the_office_verifies(demo_app):
    assignment, item = noncompliant("国民年金課")
    action = open_from_answer(login(demo_app, "manager"), assignment, item)
    owner = login(demo_app, f"r-{action.unit.code.lower()}")

    assert step(owner, action, "start", "open").status_code == 302
    report = step(
        owner,
        action,
        "report",
        "in_progress",
        measure="手順書を改訂し、課内で周知しました。",
        evidence=(io.BytesIO(PDF), "手順書.pdf"),
    )
    assert report.status_code == 302
    db.session.refresh(action)
    assert action.status == "reported" and action.measure == "手順書を改訂し、課内で周知しました。"
    assert [e.filename for e in action.evidence] == ["手順書.pdf"]
    assert [m.recipient for m in mails_to("admin@example.jp")]

    admin = login(demo_app, "admin")
    download = admin.get(f"/followup/actions/{action.id}/evidence/{action.evidence[0].id}")
    assert download.data == PDF
    download.close()
    assert step(admin, action, "verify", "reported", comment="確認しました").status_code == 302
    db.session.refresh(action)
    assert action.status == "verified" and action.verified_by.username == "admin"
    assert kinds(action) == ["open", "start", "report", "verify"]
    codes = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert {"action.start", "action.report", "action.evidence", "action.verify"} <= codes


def test_the_office_sends_a_measure_back_with_a_reason(demo_app):
    assignment, item = noncompliant("国民年金課")
    action = open_from_answer(login(demo_app, "admin"), assignment, item)
    owner = login(demo_app, f"r-{action.unit.code.lower()}")
    step(owner, action, "report", "open", measure="周知しました。")
    admin = login(demo_app, "admin")

    no_reason = step(admin, action, "send_back", "reported", comment=" ")
    assert no_reason.status_code == 409
    assert "差し戻す理由を入力してください" in no_reason.get_data(as_text=True)

    assert step(admin, action, "send_back", "reported", comment="確認方法も").status_code == 302
    db.session.refresh(action)
    assert action.status == "in_progress"
    assert "確認方法も" in mails_to(owner_mail(action))[-1].body
    page = owner.get(f"/followup/actions/{action.id}").get_data(as_text=True)
    assert "確認方法も" in page and "措置を報告する" in page


def owner_mail(action) -> str:
    return user(f"r-{action.unit.code.lower()}").email


def test_posting_the_same_step_twice_does_it_once(demo_app):
    assignment, item = noncompliant("国民年金課")
    action = open_from_answer(login(demo_app, "admin"), assignment, item)
    owner = login(demo_app, f"r-{action.unit.code.lower()}")
    for _ in range(2):
        response = step(
            owner, action, "report", "open", measure="対応済み", evidence=(io.BytesIO(PDF), "a.pdf")
        )
        assert response.status_code == 302
    admin = login(demo_app, "admin")
    for _ in range(2):
        assert step(admin, action, "verify", "reported").status_code == 302
    assert kinds(action) == ["open", "report", "verify"]
    assert (
        db.session.scalar(
            sa.select(sa.func.count(ActionEvidence.id)).where(ActionEvidence.action_id == action.id)
        )
        == 1
    )


def test_a_step_from_a_page_that_is_out_of_date_is_refused(demo_app):
    assignment, item = noncompliant("国民年金課")
    action = open_from_answer(login(demo_app, "admin"), assignment, item)
    owner = login(demo_app, f"r-{action.unit.code.lower()}")
    step(owner, action, "start", "open")
    # The office's page from before the report cannot verify what is not reported.
    assert step(login(demo_app, "admin"), action, "verify", "reported").status_code == 409
    step(owner, action, "report", "in_progress", measure="済")
    step(login(demo_app, "admin"), action, "verify", "reported")
    # A second tab still showing 対応中 reports again: the action is closed meanwhile.
    refused = step(owner, action, "report", "in_progress", measure="追加の報告")
    assert refused.status_code == 409
    assert "状態が「確認済（完了）」に変わっています" in refused.get_data(as_text=True)
    assert kinds(action) == ["open", "start", "report", "verify"]
    db.session.refresh(action)
    assert action.measure == "済"


def test_a_report_needs_a_measure_and_refuses_a_file_that_is_not_evidence(demo_app):
    assignment, item = noncompliant("国民年金課")
    action = open_from_answer(login(demo_app, "admin"), assignment, item)
    owner = login(demo_app, f"r-{action.unit.code.lower()}")
    empty = step(owner, action, "report", "open", measure="")
    assert "講じた措置の内容を入力してください" in empty.get_data(as_text=True)
    script = step(
        owner,
        action,
        "report",
        "open",
        measure="長い報告文",
        evidence=(io.BytesIO(b"#!/bin/sh\n"), "evil.pdf"),
    )
    text = script.get_data(as_text=True)
    assert script.status_code == 409
    assert "PDF、画像（PNG・JPEG）、Office 文書のいずれかを添付してください" in text
    assert "長い報告文" in text  # what was typed is kept
    db.session.refresh(action)
    assert action.status == "open" and action.evidence == []


def test_overdue_actions_are_marked_filtered_and_listed_for_reminders(demo_app):
    assignment, item = noncompliant("国民年金課")
    yesterday = date.today() - timedelta(days=1)
    late = open_from_answer(login(demo_app, "admin"), assignment, item, due=yesterday)
    admin = login(demo_app, "admin")

    listed = admin.get("/followup/actions/?overdue=y").get_data(as_text=True)
    assert late.title in listed and "期限超過" in listed
    overdue = {o.action.id: o for o in overdue_actions(date.today())}
    assert overdue[late.id].days == 1
    assert owner_mail(late) in [u.email for u in overdue[late.id].recipients]
    expected = db.session.scalar(
        sa.select(sa.func.count(CorrectiveAction.id)).where(
            CorrectiveAction.status != "verified", CorrectiveAction.due_on < date.today()
        )
    )
    assert len(overdue) == expected
    not_late = admin.get("/followup/actions/?overdue=y&status=verified").get_data(as_text=True)
    assert late.title not in not_late
    assert late.id not in {o.action.id for o in overdue_actions(yesterday)}


def test_the_list_filters_and_sorts(demo_app):
    admin = login(demo_app, "admin")
    reported = admin.get("/followup/actions/?status=reported").get_data(as_text=True)
    every = list(db.session.scalars(sa.select(CorrectiveAction)))
    assert {a.status for a in every} >= {"open", "in_progress", "reported", "verified"}
    for action in every:
        assert (action.title in reported) == (action.status == "reported"), action.title
    bad = admin.get("/followup/actions/?due_from=2026-12-01&due_to=2026-11-01")
    assert "終わりの日は始まりの日以降にしてください" in bad.get_data(as_text=True)
    page = admin.get("/followup/actions/?sort=due_on&dir=desc").get_data(as_text=True)
    latest_first = sorted(every, key=lambda a: (a.due_on, a.id), reverse=True)
    positions = [page.index(f'/followup/actions/{a.id}"') for a in latest_first]
    assert positions == sorted(positions)


def test_contractor_sees_only_its_own_companys_actions(demo_app):
    contractor = login(demo_app, "contractor")
    company = user("contractor").contractor_id
    page = contractor.get("/followup/actions/").get_data(as_text=True)
    for action in db.session.scalars(sa.select(CorrectiveAction)):
        assert (action.title in page) == (action.contractor_id == company), action.title
        if action.contractor_id != company:
            assert contractor.get(f"/followup/actions/{action.id}").status_code == 404


def test_the_csv_export_holds_what_the_user_may_see(demo_app):
    response = login(demo_app, "contractor").get("/followup/actions.csv?status=unfinished")
    assert response.data.startswith("\ufeff".encode())
    lines = response.data.decode("utf-8-sig").splitlines()
    company = user("contractor").contractor_id
    expected = db.session.scalars(
        sa.select(CorrectiveAction.title)
        .where(
            CorrectiveAction.contractor_id == company,
            CorrectiveAction.status != "verified",
        )
        .order_by(CorrectiveAction.due_on, CorrectiveAction.id)
    ).all()
    assert lines[0].startswith("ID,件名,")
    assert [line.split(",")[1] for line in lines[1:]] == expected
    assert db.session.scalar(sa.select(AuditEntry.id).where(AuditEntry.action == "export.actions"))


def test_manager_sees_only_their_subtree(demo_app):
    manager = login(demo_app, "manager")
    page = manager.get("/followup/actions/").get_data(as_text=True)
    department = unit("区民部")
    for action in db.session.scalars(sa.select(CorrectiveAction)):
        inside = action.unit is not None and action.unit.parent_id == department.id
        assert (action.title in page) == inside, action.title


def test_respondent_and_auditor_cannot_verify_or_open(demo_app):
    assignment, item = noncompliant("国民年金課")
    action = open_from_answer(login(demo_app, "admin"), assignment, item)
    owner = login(demo_app, f"r-{action.unit.code.lower()}")
    step(owner, action, "report", "open", measure="済")
    assert step(owner, action, "verify", "reported").status_code == 403
    assert owner.get("/followup/actions/new").status_code == 403
    auditor = login(demo_app, "auditor")
    assert auditor.get(f"/followup/actions/{action.id}").status_code == 200
    assert step(auditor, action, "verify", "reported").status_code == 403
    stranger = login(demo_app, "respondent")  # 戸籍住民課, not the owner
    assert stranger.get(f"/followup/actions/{action.id}").status_code == 404
    db.session.refresh(action)
    assert action.status == "reported"


def test_manager_cannot_open_an_action_outside_their_subtree(demo_app):
    assignment, item = noncompliant("区民相談課")
    manager = login(demo_app, "manager")
    query = f"?assignment={assignment.id}&item={item.id}"
    assert manager.get("/followup/actions/new" + query).status_code == 404
    typed = manager.post(
        "/followup/actions/new",
        data={"title": "越権", "unit": str(unit("区民相談課").id), "due_on": "2026-12-24"},
    )
    assert typed.status_code == 422
    assert "選んだ所属には是正措置を登録できません" in typed.get_data(as_text=True)
    assert "越権" in typed.get_data(as_text=True)


def test_an_answer_that_is_not_noncompliant_opens_nothing(demo_app):
    assignment = assignment_of("国民年金課")
    compliant = db.session.scalar(
        sa.select(Answer)
        .join(Option)
        .where(Answer.assignment_id == assignment.id, Option.klass == "compliant")
        .limit(1)
    )
    admin = login(demo_app, "admin")
    url = f"/followup/actions/new?assignment={assignment.id}&item={compliant.item_id}"
    assert admin.get(url).status_code == 404


def test_a_form_without_title_or_date_is_shown_again_with_what_was_typed(demo_app):
    admin = login(demo_app, "admin")
    response = admin.post(
        "/followup/actions/new",
        data={"title": "", "description": "書いた説明", "unit": str(unit("秘書課").id)},
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "書いた説明" in text
    assert 'aria-invalid="true"' in text


def test_the_answer_pages_offer_to_open_an_action_to_those_who_may(demo_app):
    assignment, item = noncompliant("国民年金課")
    button = f"/followup/actions/new?assignment={assignment.id}&amp;item={item.id}"
    manager = login(demo_app, "manager")
    assert button in manager.get(f"/assignments/{assignment.id}").get_data(as_text=True)
    respondent = login(demo_app, f"r-{assignment.responsible_unit.code.lower()}")
    assert "是正措置を登録" not in respondent.get(f"/assignments/{assignment.id}").get_data(
        as_text=True
    )


def test_the_results_drill_down_offers_it_on_noncompliant_rows(demo_app):
    admin = login(demo_app, "admin")
    page = admin.get("/results/2026-annual-assets/answers?item=1&klass=noncompliant")
    assert "/followup/actions/new?assignment=" in page.get_data(as_text=True)
    auditor = login(demo_app, "auditor")
    page = auditor.get("/results/2026-annual-assets/answers?item=1&klass=noncompliant")
    assert "/followup/actions/new?assignment=" not in page.get_data(as_text=True)


def test_the_dashboard_counts_actions_and_shows_campaigns(demo_app):
    admin = login(demo_app, "admin")
    page = admin.get("/followup/").get_data(as_text=True)
    overdue = db.session.scalar(
        sa.select(sa.func.count(CorrectiveAction.id)).where(
            CorrectiveAction.status != "verified", CorrectiveAction.due_on < date.today()
        )
    )
    assert overdue >= 1
    assert f'overdue-label">{overdue}<' in page
    assert "/results/2026-annual-assets" in page
    assert "フォローアップ" in admin.get("/").get_data(as_text=True)
    assert login(demo_app, "manager").get("/followup/").status_code == 403


def test_a_double_click_on_register_opens_one_action_and_mails_once(demo_app):
    assignment, item = noncompliant("国民年金課")
    manager = login(demo_app, "manager")
    first = open_from_answer(manager, assignment, item)
    owner = user(f"r-{first.unit.code.lower()}")
    mails = len(mails_to(owner.email))
    again = open_from_answer(manager, assignment, item)
    assert again.id == first.id
    same_answer = sa.select(sa.func.count(CorrectiveAction.id)).where(
        CorrectiveAction.assignment_id == assignment.id, CorrectiveAction.item_id == item.id
    )
    assert db.session.scalar(same_answer) == 1
    assert len(mails_to(owner.email)) == mails
    # Once verified, the same answer may need a new action: that one is a new action.
    first.status = "verified"
    db.session.commit()
    third = open_from_answer(manager, assignment, item)
    assert third.id != first.id and db.session.scalar(same_answer) == 2


def test_registering_the_same_audit_finding_twice_opens_one_action(demo_app):
    finding = db.session.scalar(sa.select(AuditFinding).order_by(AuditFinding.id).limit(1))
    audit = finding.audit
    admin = login(demo_app, "admin")
    form = {
        "title": finding.heading,
        "unit": str(audit.unit_id or ""),
        "contractor": str(audit.contractor_id or ""),
        "due_on": (date.today() + timedelta(days=30)).isoformat(),
        "finding_id": str(finding.id),
    }
    url = f"/followup/actions/new?finding={finding.id}"
    first = admin.post(url, data=form)
    again = admin.post(url, data=form)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    opened = sa.select(sa.func.count(CorrectiveAction.id)).where(
        CorrectiveAction.finding_id == finding.id,
        CorrectiveAction.status != "verified",
    )
    assert db.session.scalar(opened) == 1
