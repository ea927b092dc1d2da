"""Real actions leave entries that verify, and an edit or a removal behind the application's back
is named by `flask audit verify`."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from survey.demo import DEFINITIONS, DEMO_PASSWORD
from survey.extensions import db
from survey.models import Assignment, AuditEntry, Campaign, OrgUnit
from survey.services import trail

ANNUAL = "2026-annual-assets"


def login(app, username: str):
    client = app.test_client()
    response = client.post("/auth/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, username
    return client


def assignment_of(unit_name: str) -> Assignment:
    return db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .join(OrgUnit, OrgUnit.id == Assignment.unit_id)
        .where(Campaign.code == ANNUAL, OrgUnit.name == unit_name)
    )


def every_answer_yes(assignment: Assignment, action: str) -> dict:
    data = {"revision": str(assignment.revision), "action": action}
    for item in assignment.campaign.checklist.items:
        data[f"item_{item.id}"] = "yes"
        data[f"comment_{item.id}"] = ""
    return data


def entries(**where) -> list[AuditEntry]:
    db.session.expire_all()
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, name) == value)
    return list(db.session.scalars(stmt))


@pytest.fixture
def worked(demo_app):
    """A respondent saves, submits and downloads the sheet; the manager approves."""
    mine = assignment_of("戸籍住民課")
    clerk = login(demo_app, "respondent")
    manager = login(demo_app, "manager")
    first = clerk.post(f"/assignments/{mine.id}", data=every_answer_yes(mine, "save"))
    assert first.status_code == 302
    mine = db.session.get(Assignment, mine.id)
    db.session.refresh(mine)
    data = every_answer_yes(mine, "submit")
    data[f"comment_{mine.campaign.checklist.items[0].id}"] = "施錠管理簿で確認済み"
    assert clerk.post(f"/assignments/{mine.id}", data=data).status_code == 302
    assert clerk.get(f"/assignments/{mine.id}/sheet.xlsx").status_code == 200
    approved = manager.post(f"/assignments/{mine.id}/review", data={"approve": "1", "comment": ""})
    assert approved.status_code == 302
    return mine


def test_real_actions_are_recorded_with_who_where_and_what(demo_app, demo_runner, worked):
    recorded = entries(object_type="assignment", object_id=str(worked.id))
    actions = [e.action for e in recorded]
    assert actions == [
        "answer.save",
        "answer.save",
        "assignment.submit",
        "download.sheet",
        "assignment.approve",
    ]
    save, second, submit, download, approve = recorded
    assert (save.username, save.remote_addr) == ("respondent", "127.0.0.1")
    assert save.user_id is not None
    first_item = str(worked.campaign.checklist.items[0].number)
    changed = save.after["answers"]
    assert changed and all(value["option"] == "yes" for value in changed.values())
    assert all(save.before["answers"][key] != value for key, value in changed.items())
    assert save.summary.endswith(f": {len(changed)}")
    assert list(second.after["answers"]) == [first_item]
    assert second.before["answers"][first_item] == {"option": "yes", "comment": ""}
    assert second.after["answers"][first_item]["comment"] == "施錠管理簿で確認済み"
    assert (submit.before, submit.after) == ({"status": "draft"}, {"status": "submitted"})
    assert approve.username == "manager" and approve.after == {"status": "approved"}
    assert ANNUAL in download.summary and "戸籍住民課" in download.summary

    result = demo_runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"{len(entries())} 件" in result.output


def test_a_save_that_changes_nothing_records_nothing(demo_app):
    mine = assignment_of("戸籍住民課")
    clerk = login(demo_app, "respondent")
    assert clerk.post(f"/assignments/{mine.id}", data=every_answer_yes(mine, "save")).status_code
    assert len(entries(action="answer.save")) == 1
    mine = db.session.get(Assignment, mine.id)
    db.session.refresh(mine)
    clerk.post(f"/assignments/{mine.id}", data=every_answer_yes(mine, "save"))  # a double click
    assert len(entries(action="answer.save")) == 1


def test_opening_another_units_assignment_is_refused_and_recorded(demo_app):
    other = assignment_of("税務課")
    clerk = login(demo_app, "respondent")
    assert clerk.get(f"/assignments/{other.id}/sheet.xlsx").status_code == 404
    assert clerk.get("/assignments/99999999").status_code == 404
    denied = entries(action="access.denied")
    assert [(e.object_id, e.after["reason"]) for e in denied] == [
        (str(other.id), "scope"),
        ("99999999", "missing"),
    ]
    assert all(e.username == "respondent" and e.remote_addr == "127.0.0.1" for e in denied)
    assert denied[0].after["path"] == f"/assignments/{other.id}/sheet.xlsx"
    assert not entries(action="download.sheet")  # the refused download is not a download
    assert trail.verify().problem is None


def test_verify_fails_naming_the_entry_after_real_actions_are_tampered_with(
    demo_app, demo_runner, worked
):
    submit = entries(action="assignment.submit")[0]
    dialect = db.engine.dialect.name
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE audit_entry SET username = 'manager' WHERE id = {submit.id}")
    with db.engine.begin() as conn:
        if dialect == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_no_change")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_entry_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_entry_no_delete")
        conn.exec_driver_sql(f"UPDATE audit_entry SET username = 'manager' WHERE id = {submit.id}")
    result = demo_runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert re.search(rf"id={submit.id}（[0-9-]+ [0-9:]+ JST）", result.output), result.output

    download = entries(action="download.sheet")[0]
    with db.engine.begin() as conn:  # put it back, then remove another entry
        conn.exec_driver_sql(
            f"UPDATE audit_entry SET username = 'respondent' WHERE id = {submit.id}"
        )
        conn.exec_driver_sql(f"DELETE FROM audit_entry WHERE id = {download.id}")
    result = demo_runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "削除" in result.output and f"id={download.id} " in result.output


def test_commands_that_change_or_export_data_are_recorded(demo_app, demo_runner, tmp_path):
    out = tmp_path / "items.csv"
    result = demo_runner.invoke(args=["report", "table", ANNUAL, "--out", str(out)])
    assert result.exit_code == 0, result.output
    added = demo_runner.invoke(
        args=["user", "add", "kansa2", "--role", "auditor", "--password-stdin"],
        input="correct horse battery staple\n",
    )
    assert added.exit_code == 0, added.output
    export, created = entries(action="export.results")[0], entries(action="user.create")[0]
    assert (export.object_type, export.object_id) == ("campaign", ANNUAL)
    assert export.username.startswith("cli") and export.remote_addr is None
    assert created.summary == "kansa2 (auditor)" and created.object_type == "user_account"
    imports = entries(action="checklist.import")
    assert [e.after["code"] for e in imports] == [
        "contractor-evaluation",
        "emergency-assets",
        "emergency-contracts",
        "emergency-systems",
        "pia-self-assessment",
        "security-training-test",
    ]


def test_demo_reset_keeps_the_trail(demo_app, demo_runner):
    before = len(entries())
    result = demo_runner.invoke(args=["demo", "load", "--reset"])
    assert result.exit_code == 0, result.output
    after = entries()
    # The checklists imported again, the demo's contractor evaluations and access logs, and
    # the load.
    added = [e.action for e in after[before:]]
    shipped = len(list(DEFINITIONS.glob("*.yaml")))
    assert added.count("checklist.import") == shipped and added.count("demo.load") == 1
    evaluations = {"evaluation.start", "evaluation.complete", "recommendation.issue", "action.open"}
    # demo_logs: the month imported, its round sampled, routed and partly reviewed
    logs = {a for a in added if a.startswith("log.")}
    assert logs >= {"log.source", "log.rules", "log.import", "log.round", "log.sample"}
    assert set(added) <= {"checklist.import", "demo.load"} | evaluations | logs
    assert after[-1].action == "demo.load" and after[-1].after == {"reset": True}
    assert trail.verify().problem is None
