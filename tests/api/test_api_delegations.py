"""Delegations (委任) through the API: who handed which categories of a questionnaire to whom, by
when, and when the part was marked done or taken back — for whoever sees the questionnaire."""

from __future__ import annotations

from datetime import timedelta

from survey import clock
from survey.extensions import db
from survey.services import delegations
from tests.api.helpers import bearer, token_for
from tests.helpers import assignment_of, user
from tests.test_delegation import demo_delegation, handing_over, staff_of


def _listed(client, secret: str, assignment_id: int) -> list[dict]:
    response = client.get(
        f"/api/v1/assignments/{assignment_id}/delegations", headers=bearer(secret)
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_demos_delegation_as_the_respondent_reads_it(demo_app):
    handed = demo_delegation()
    (category,) = handed.categories
    client = demo_app.test_client()
    (shown,) = _listed(client, token_for("respondent", ()), handed.assignment_id)
    assert shown == {
        "id": handed.id,
        "assignment": handed.assignment_id,
        "delegator": {"username": "respondent", "name": user("respondent").display_name},
        "delegate": {"username": "staff", "name": "戸籍 係員"},
        "categories": [category.code],
        "due_on": "2026-12-08",
        "note": "この分類の確認と回答をお願いします。",
        "created_at": shown["created_at"],
        "done_at": None,
        "withdrawn_at": None,
    }
    assert shown["created_at"].startswith("2026-11-24T") and shown["created_at"].endswith("+00:00")
    url = f"/api/v1/assignments/{handed.assignment_id}/delegations/{handed.id}"
    assert client.get(url, headers=bearer(token_for("manager", ()))).get_json() == shown


def test_a_part_marked_done_and_one_taken_back_stay_on_the_record(demo_app):
    handed = demo_delegation()
    assignment = handed.assignment
    handing_over(assignment)
    colleague = staff_of("戸籍住民課", "staff2")
    respondent = user("respondent")
    other = next(c for c in assignment.campaign.checklist.categories if c not in handed.categories)
    second = delegations.delegate(
        assignment, respondent, colleague.id, [other.id], clock.today() + timedelta(days=7)
    )
    db.session.commit()
    delegations.mark_done(handed, user("staff"))
    delegations.withdraw(second, respondent)
    db.session.commit()

    first, taken_back = _listed(demo_app.test_client(), token_for("auditor", ()), assignment.id)
    assert first["id"] == handed.id and first["done_at"] and first["withdrawn_at"] is None
    assert taken_back["id"] == second.id and taken_back["categories"] == [other.code]
    assert taken_back["delegate"]["username"] == "staff2"
    assert taken_back["done_at"] is None and taken_back["withdrawn_at"]


def test_a_delegation_is_found_under_its_own_questionnaire_only(demo_app):
    handed = demo_delegation()
    client = demo_app.test_client()
    secret = token_for("admin", ())
    elsewhere = assignment_of("秘書課").id
    response = client.get(
        f"/api/v1/assignments/{elsewhere}/delegations/{handed.id}", headers=bearer(secret)
    )
    assert response.status_code == 404
    assert _listed(client, secret, elsewhere) == []
