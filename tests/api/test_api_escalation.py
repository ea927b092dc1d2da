"""Escalation through the API: a campaign's steps in its representation, the office's defaults,
and the late questionnaires with the step each has reached, as the progress page lists them."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from reports.escalation import Steps
from survey.extensions import db
from survey.models import Assignment, Campaign, EscalationDefault, OrgUnit
from survey.services import escalation
from tests.api.helpers import bearer, token_for
from tests.helpers import ANNUAL
from tests.test_escalation import DUE, KUMIN, freeze, late  # noqa: F401  (the fixture)


def _campaign() -> Campaign:
    return db.session.scalar(sa.select(Campaign).where(Campaign.code == ANNUAL))


def _overdue(client, secret: str, **query) -> dict:
    response = client.get(
        f"/api/v1/campaigns/{ANNUAL}/overdue", query_string=query, headers=bearer(secret)
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _row(page: dict, assignment: Assignment) -> dict:
    (row,) = [row for row in page["assignments"] if row["assignment"] == assignment.id]
    return row


def test_a_campaign_shows_the_steps_its_reminders_climb(demo_app):
    client = demo_app.test_client()
    secret = token_for("auditor", ())
    shown = client.get(f"/api/v1/campaigns/{ANNUAL}", headers=bearer(secret)).get_json()
    assert shown["escalation"] == {"respondent": -3, "unit_head": 3, "department_head": 7}

    escalation.apply(_campaign(), Steps(None, 5, 10))
    db.session.commit()
    listed = client.get("/api/v1/campaigns", headers=bearer(secret)).get_json()
    (campaign,) = [c for c in listed if c["code"] == ANNUAL]
    assert campaign["escalation"] == {"respondent": None, "unit_head": 5, "department_head": 10}


def test_the_office_and_the_auditors_read_the_offices_defaults(demo_app):
    client = demo_app.test_client()
    admin = bearer(token_for("admin", ()))
    built_in = {"respondent": -3, "unit_head": 3, "department_head": 7}
    assert client.get("/api/v1/escalation", headers=admin).get_json() == built_in

    db.session.add(
        EscalationDefault(id=1, respondent_days=-5, unit_head_days=2, department_head_days=None)
    )
    db.session.commit()
    changed = {"respondent": -5, "unit_head": 2, "department_head": None}
    assert client.get("/api/v1/escalation", headers=admin).get_json() == changed
    auditor = bearer(token_for("auditor", ()))
    assert client.get("/api/v1/escalation", headers=auditor).get_json() == changed
    refused = client.get("/api/v1/escalation", headers=bearer(token_for("manager", ())))
    assert refused.status_code == 403


def test_a_late_questionnaire_climbs_the_steps_day_by_day(demo_app, late, monkeypatch):  # noqa: F811
    client = demo_app.test_client()
    secret = token_for("admin", ())

    freeze(monkeypatch, DUE + timedelta(days=2))
    page = _overdue(client, secret)
    assert page["today"] == (DUE + timedelta(days=2)).isoformat()
    assert _row(page, late) == {
        "assignment": late.id,
        "target": late.target_name,
        "target_kind": late.target_kind,
        "status": late.status,
        "department": KUMIN,
        "unit": late.unit.name,
        "due_on": DUE.isoformat(),
        "days_over": 2,
        "escalation_step": "respondent",
    }
    freeze(monkeypatch, DUE + timedelta(days=3))
    assert _row(_overdue(client, secret), late)["escalation_step"] == "unit_head"
    freeze(monkeypatch, DUE + timedelta(days=7))
    page = _overdue(client, secret)
    assert _row(page, late)["escalation_step"] == "department_head"
    assert (page["total"], page["page"], page["pages"]) == (1, 1, 1)

    # The campaign's own steps, as the progress page follows them: no step before the head's.
    escalation.apply(_campaign(), Steps(None, 10, None))
    db.session.commit()
    assert _row(_overdue(client, secret), late)["escalation_step"] is None


def test_a_manager_sees_the_late_ones_of_their_subtree_only(demo_app, late, monkeypatch):  # noqa: F811
    freeze(monkeypatch, DUE + timedelta(days=7))
    client = demo_app.test_client()
    secret = token_for("manager", ())  # 区民部's
    page = _overdue(client, secret, dept=late.unit_id)
    assert [row["assignment"] for row in page["assignments"]] == [late.id]

    elsewhere = db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.name == "秘書課"))
    response = client.get(
        f"/api/v1/campaigns/{ANNUAL}/overdue?dept={elsewhere}", headers=bearer(secret)
    )
    assert response.status_code == 404
    assert _overdue(client, token_for("admin", ()), dept=elsewhere)["assignments"] == []
