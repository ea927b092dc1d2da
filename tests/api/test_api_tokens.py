"""The API's tokens: scoped to their user and narrower, shown once and stored hashed, expiring,
revocable, limited per token; a stale save is a 409."""

from __future__ import annotations

import hashlib
import re

import pytest
import sqlalchemy as sa

from survey import access
from survey.extensions import db
from survey.models import ApiToken, Assignment, AuditEntry, Campaign, OrgUnit, Role
from survey.services import tokens
from tests.api.helpers import bearer, token_for
from tests.helpers import login, user


def _assignment(campaign: str, unit: str) -> Assignment:
    return db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .join(OrgUnit, OrgUnit.id == Assignment.unit_id)
        .where(Campaign.code == campaign, OrgUnit.name == unit)
    )


def _first_item(assignment: Assignment):
    return assignment.campaign.checklist.items[0]


def _save(client, secret, assignment, revision, option=None, comment="API"):
    item = _first_item(assignment)
    option = option or item.scale.options[0].code
    return client.put(
        f"/api/v1/assignments/{assignment.id}/answers",
        json={
            "revision": revision,
            "answers": [{"item": item.number, "option": option, "comment": comment}],
        },
        headers=bearer(secret),
    )


def test_a_token_reads_its_users_questionnaires_and_saves_with_the_revision_rule(demo_app):
    own = _assignment("2026-annual-assets", "戸籍住民課")
    own_id = own.id
    secret = token_for("respondent")
    client = demo_app.test_client()
    listed = client.get("/api/v1/assignments", headers=bearer(secret))
    assert listed.status_code == 200
    assert own_id in {a["id"] for a in listed.get_json()}
    answers = client.get(f"/api/v1/assignments/{own_id}/answers", headers=bearer(secret))
    revision = answers.get_json()["revision"]
    saved = _save(client, secret, own, revision)
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["revision"] == revision + 1
    # The same revision again, with another answer: someone saved meanwhile.
    stale = _save(client, secret, own, revision, comment="later")
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["errors"]["revision"] == revision + 1
    assert body["message"].startswith("ほかの人が")
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "answer.api")
        )
        == 1
    )


def test_a_read_only_token_cannot_save(demo_app):
    own = _assignment("2026-annual-assets", "戸籍住民課")
    secret = token_for("respondent", scopes=())
    client = demo_app.test_client()
    response = _save(client, secret, own, own.revision)
    assert response.status_code == 403
    assert "answers" in response.get_json()["message"]
    english = client.put(
        f"/api/v1/assignments/{own.id}/answers",
        json={"revision": 0, "answers": []},
        headers=bearer(secret, "en"),
    )
    assert english.status_code == 403 and "token" in english.get_json()["message"]


def test_a_contractors_token_never_reaches_another_company_or_unit(demo_app):
    other = _assignment("2026-annual-assets", "秘書課")
    secret = token_for("contractor")
    client = demo_app.test_client()
    assert client.get(f"/api/v1/assignments/{other.id}", headers=bearer(secret)).status_code == 404
    assert _save(client, secret, other, other.revision).status_code == 404
    seen = client.get("/api/v1/assignments", headers=bearer(secret)).get_json()
    contractor = user("contractor")
    for row in seen:
        found = db.session.get(Assignment, row["id"])
        company = found.contract.contractor_id if found.contract else found.contractor_id
        assert company == contractor.contractor_id
    assert client.get("/api/v1/campaigns", headers=bearer(secret)).status_code == 403
    results = client.get(
        "/api/v1/campaigns/2026-annual-assets/results/items", headers=bearer(secret)
    )
    assert results.status_code == 403


def test_a_managers_token_sees_only_their_subtree(demo_app):
    manager = user("manager")
    secret = token_for("manager")
    client = demo_app.test_client()
    seen = client.get("/api/v1/assignments", headers=bearer(secret)).get_json()
    assert seen
    subtree = set(db.session.scalars(access.subtree_ids(manager.unit_id)))
    for row in seen:
        assert db.session.get(Assignment, row["id"]).responsible_unit_id in subtree
    other = _assignment("2026-annual-assets", "秘書課")
    assert client.get(f"/api/v1/assignments/{other.id}", headers=bearer(secret)).status_code == 404
    # Figures: on the subtree only.
    results = client.get(
        "/api/v1/campaigns/2026-annual-assets/results/departments", headers=bearer(secret)
    )
    assert results.status_code == 200
    assert results.get_json()["table"]


def test_no_scope_beyond_the_users_role(demo_app):
    with demo_app.test_request_context():  # the refusals are messages in the user's language
        with pytest.raises(tokens.TokenError):
            tokens.create(user("respondent"), "x", ["admin"])
        with pytest.raises(tokens.TokenError):
            tokens.create(user("auditor"), "x", ["answers"])
        with pytest.raises(tokens.TokenError):
            tokens.create(user("admin"), "x", [], days=10_000)
        with pytest.raises(tokens.TokenError):
            tokens.create(user("admin"), " ", [])


def test_an_admins_read_token_cannot_run_campaigns(demo_app):
    secret = token_for("admin", scopes=())
    client = demo_app.test_client()
    response = client.post("/api/v1/campaigns/2026-annual-assets/close", headers=bearer(secret))
    assert response.status_code == 403
    assert (
        db.session.scalar(sa.select(Campaign.status).where(Campaign.code == "2026-annual-assets"))
        == "open"
    )


def test_revoked_expired_and_unknown_tokens_are_refused(demo_app, clock):
    client = demo_app.test_client()
    secret = token_for("respondent", days=1)
    assert client.get("/api/v1/assignments", headers=bearer(secret)).status_code == 200
    clock.advance(days=1, seconds=1)
    expired = client.get("/api/v1/assignments", headers=bearer(secret))
    assert expired.status_code == 401
    assert "有効期限" in expired.get_json()["message"]
    assert expired.headers["WWW-Authenticate"].startswith("Bearer")

    other = token_for("respondent")
    token = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == tokens.hash_token(other))
    )
    tokens.revoke(user("respondent"), token.id)
    db.session.commit()
    revoked = client.get("/api/v1/assignments", headers=bearer(other))
    assert revoked.status_code == 401 and "無効" in revoked.get_json()["message"]
    assert client.get("/api/v1/assignments", headers=bearer("tenken_nope")).status_code == 401
    assert client.get("/api/v1/assignments").status_code == 401
    refused = db.session.scalars(
        sa.select(AuditEntry.after_json).where(AuditEntry.action == "api.call")
    ).all()
    assert any('"refused":"revoked"' in text for text in refused)


def test_a_token_stops_when_its_user_becomes_a_staff_account(demo_app):
    """A 職員 sees only what was delegated to them and has no token; one made while they were a
    respondent must not read the whole questionnaire through the API afterwards."""
    client = demo_app.test_client()
    secret = token_for("respondent")
    assert client.get("/api/v1/assignments", headers=bearer(secret)).status_code == 200
    user("respondent").role = Role.STAFF
    db.session.commit()
    refused = client.get("/api/v1/assignments", headers=bearer(secret))
    assert refused.status_code == 401 and "現在の権限" in refused.get_json()["message"]


def test_a_session_cookie_does_not_open_the_api(demo_app):
    client = login(demo_app, "admin")
    assert client.get("/").status_code == 200
    response = client.get("/api/v1/campaigns")
    assert response.status_code == 401


def test_the_account_page_shows_a_token_once_and_stores_its_hash(demo_app):
    client = login(demo_app, "respondent")
    assert 'action="/auth/account/tokens"' in client.get("/auth/account").get_data(as_text=True)
    made = client.post(
        "/auth/account/tokens",
        data={"token-name": "集計", "token-scopes": ["answers"], "token-days": "30"},
    )
    assert made.status_code == 200
    secret = re.search(r'id="new-token">(tenken_[^<]+)<', made.get_data(as_text=True)).group(1)
    stored = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "集計"))
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {stored.token_hash, stored.prefix, stored.scopes}
    assert stored.scopes == "read answers"
    assert secret not in client.get("/auth/account").get_data(as_text=True)
    assert (
        demo_app.test_client().get("/api/v1/assignments", headers=bearer(secret)).status_code == 200
    )
    # Asking for admin as a respondent: refused, nothing made.
    refused = client.post(
        "/auth/account/tokens",
        data={"token-name": "x", "token-scopes": ["admin"], "token-days": "30"},
    )
    assert refused.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 1


def test_rate_limit_per_token(demo_app):
    demo_app.config["API_RATE_LIMIT"] = "3 per minute"
    first, second = token_for("respondent"), token_for("manager")
    client = demo_app.test_client()
    codes = [client.get("/api/v1/assignments", headers=bearer(first)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.get("/api/v1/assignments", headers=bearer(second)).status_code == 200


def test_every_call_is_in_the_audit_trail_with_its_token(demo_app):
    secret = token_for("auditor", scopes=())
    client = demo_app.test_client()
    client.get("/api/v1/campaigns", headers=bearer(secret))
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "api.call").order_by(AuditEntry.id.desc())
    )
    assert entry.username == "auditor"
    assert entry.summary == "GET /api/v1/campaigns"
    assert '"status":200' in entry.after_json


def test_calls_no_route_serves_are_recorded_and_limited_too(demo_app):
    """An unknown URL or a wrong method is still a call with the token: in the trail, and
    within a budget (it would otherwise write audit entries without limit)."""
    demo_app.config["API_RATE_LIMIT"] = "2 per minute"
    secret = token_for("auditor", scopes=())
    client = demo_app.test_client()
    codes = [
        client.get("/api/v1/nothing-here", headers=bearer(secret)).status_code,
        client.put("/api/v1/registers", headers=bearer(secret)).status_code,
        client.get("/api/v1/nothing-here", headers=bearer(secret)).status_code,
    ]
    assert codes == [404, 405, 429]
    recorded = db.session.execute(
        sa.select(AuditEntry.summary, AuditEntry.username)
        .where(AuditEntry.action == "api.call")
        .order_by(AuditEntry.id)
    ).all()
    assert recorded == [
        ("GET /api/v1/nothing-here", "auditor"),
        ("PUT /api/v1/registers", "auditor"),
        ("GET /api/v1/nothing-here", "auditor"),
    ]
    # The public document is not a call with a token, and not counted.
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_unknown_api_urls_answer_in_json(demo_app):
    client = demo_app.test_client()
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.get_json()["code"] == 404


def test_json_nested_too_deep_is_a_bad_request(demo_app):
    headers = bearer(token_for("admin", ("answers", "admin")))
    client = demo_app.test_client()
    for method, path in (("POST", "/api/v1/campaigns"), ("PUT", "/api/v1/assignments/1/answers")):
        response = client.open(
            path,
            method=method,
            data="[" * 100_000,
            content_type="application/json",
            headers=headers,
        )
        assert response.status_code == 400 and response.get_json()["code"] == 400
