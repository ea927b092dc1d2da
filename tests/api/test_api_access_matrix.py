"""Least privilege on every API route, as tests/test_access_matrix.py does for the pages: each
role's token (with every scope the role may have) against objects of its own unit or company
and of another. A new API route without a decision here fails. A staff account (職員) holds no
token: one made before it became one is refused everywhere."""

from __future__ import annotations

import pytest

from survey.extensions import db
from survey.models import Delegation, Role
from survey.services import tokens
from tests.api.helpers import bearer, token_for
from tests.helpers import user
from tests.test_access_matrix import VISIBLE, World, world  # noqa: F401  (the fixture)
from tests.test_delegation import staff_of

ROLES = ["admin", "auditor", "manager", "respondent", "contractor"]
SCOPES = {
    "admin": ("answers", "admin"),
    "auditor": (),
    "manager": ("answers",),
    "respondent": ("answers",),
    "contractor": ("answers",),
}
OFFICE = {"admin", "auditor"}
RESULTS = {"admin", "auditor", "manager"}
OWNERS = {"own": {"respondent", "manager"}, "other": set(), "contract": {"contractor"}}
ANSWERS = {"own": {"respondent"}, "other": set(), "contract": {"contractor"}}


def office(role, target):
    return 200 if role in OFFICE else 404


def office_acts(ok, seen=404):
    """The security office acts; the auditors read (403); the rest: `seen`."""
    return lambda role, target: ok if role == "admin" else (403 if role == "auditor" else seen)


def read(role, target):
    return 200 if role in VISIBLE[target] else 404


def save(role, target):
    if role not in VISIBLE[target]:
        return 404
    return 422 if role in ANSWERS[target] else 403  # an item number the checklist lacks


def delegation_seen(role, target):
    """The demo's delegation is of `own`: under another questionnaire it is not there."""
    return read(role, target) if target == "own" else 404


def actions_seen(role, target):
    return 200 if role in OFFICE | OWNERS[target] else 404


def action_step(role, target):
    if role not in OFFICE | OWNERS[target]:
        return 404
    return 200 if role in OWNERS[target] else 403


NO_PREVIEW = "x" * 32  # the form of a preview id, of no upload
BAD_ANSWER = {"revision": 0, "answers": [{"item": 99999, "option": None}]}
# endpoint -> (method, path, json body, decision, targets)
DECISIONS = {
    "api_checklists.checklist_list": [("GET", "/checklists", None, office, ["own"])],
    "api_checklists.checklist_version": [
        ("GET", "/checklists/emergency-assets/1", None, office, ["own"])
    ],
    "api_checklists.checklist_import": [("POST", "/checklists", None, office_acts(422), ["own"])],
    "api_campaigns.campaign_list": [
        ("GET", "/campaigns", None, lambda r, t: 200 if r in OFFICE else 403, ["own"])
    ],
    "api_campaigns.campaign_detail": [
        (
            "GET",
            "/campaigns/2026-annual-assets",
            None,
            lambda r, t: 200 if r in OFFICE else 403,
            ["own"],
        )
    ],
    "api_campaigns.campaign_create": [
        ("POST", "/campaigns", {"code": "x"}, office_acts(422, 403), ["own"])
    ],
    "api_campaigns.campaign_open": [
        ("POST", "/campaigns/2026-annual-assets/open", None, office_acts(409, 403), ["own"])
    ],
    "api_campaigns.campaign_extend": [
        (
            "POST",
            "/campaigns/2026-annual-assets/extend",
            {"closes_on": "2000-01-01"},
            office_acts(422, 403),
            ["own"],
        )
    ],
    "api_campaigns.campaign_close": [
        ("POST", "/campaigns/2017-emergency-assets/close", None, office_acts(409, 403), ["own"])
    ],
    # Who follows progress sees what is late and how far its reminders have climbed.
    "api_campaigns.campaign_overdue": [
        (
            "GET",
            "/campaigns/2026-annual-assets/overdue",
            None,
            lambda r, t: 200 if r in RESULTS else 403,
            ["own"],
        )
    ],
    "api_escalation.escalation_defaults": [
        ("GET", "/escalation", None, lambda r, t: 200 if r in OFFICE else 403, ["own"])
    ],
    "api_assignments.assignment_list": [("GET", "/assignments", None, lambda r, t: 200, ["own"])],
    "api_assignments.assignment_detail": [("GET", "/assignments/{id}", None, read, list(VISIBLE))],
    "api_assignments.answers": [("GET", "/assignments/{id}/answers", None, read, list(VISIBLE))],
    "api_assignments.save_answers": [
        ("PUT", "/assignments/{id}/answers", BAD_ANSWER, save, list(VISIBLE))
    ],
    "api_assignments.delegation_list": [
        ("GET", "/assignments/{id}/delegations", None, read, list(VISIBLE))
    ],
    "api_assignments.delegation_detail": [
        (
            "GET",
            "/assignments/{id}/delegations/{delegation}",
            None,
            delegation_seen,
            list(VISIBLE),
        )
    ],
    "api_results.result_table": [
        (
            "GET",
            "/campaigns/2026-annual-assets/results/items",
            None,
            lambda r, t: 200 if r in RESULTS else 403,
            ["own"],
        )
    ],
    # The registers: the office and the auditors read, the office imports (a preview that
    # is not there is gone: 410); for everyone else they do not exist.
    "api_registers.register_index": [("GET", "/registers", None, office, ["own"])],
    "api_registers.register_rows": [("GET", "/registers/units", None, office, ["own"])],
    "api_registers.register_import": [
        ("POST", "/registers/contractors/imports", None, office_acts(422), ["own"])
    ],
    "api_registers.register_preview": [
        ("GET", f"/registers/users/imports/{NO_PREVIEW}", None, office_acts(410), ["own"])
    ],
    "api_registers.register_apply": [
        (
            "POST",
            f"/registers/users/imports/{NO_PREVIEW}/apply",
            {"digest": "0" * 64},
            office_acts(410),
            ["own"],
        )
    ],
    "api_actions.action_list": [("GET", "/actions", None, lambda r, t: 200, ["own"])],
    "api_actions.action_detail": [("GET", "/actions/{action}", None, actions_seen, list(VISIBLE))],
    "api_actions.action_step": [
        (
            "POST",
            "/actions/{action}/status",
            {"step": "start", "expected": "open"},
            action_step,
            list(VISIBLE),
        )
    ],
}
PUBLIC = {"api-docs.openapi_json": ("GET", "/api/v1/openapi.json", 200)}


def test_every_api_route_has_a_decision(demo_app):
    endpoints = {r.endpoint for r in demo_app.url_map.iter_rules() if r.rule.startswith("/api/")}
    assert endpoints - DECISIONS.keys() - PUBLIC.keys() == set(), "decide who may use it"
    assert DECISIONS.keys() - endpoints == set()


@pytest.mark.parametrize("role", ROLES)
def test_each_roles_token_gets_exactly_what_it_may(demo_app, world, role):  # noqa: F811
    secret = token_for(role, SCOPES[role])
    client = demo_app.test_client()
    wrong = []
    for endpoint, cases in DECISIONS.items():
        for method, template, body, decide, targets in cases:
            for target in targets:
                path = _path(world, template, target)
                response = client.open(path, method=method, json=body, headers=bearer(secret))
                expected = decide(role, target)
                if response.status_code != expected:
                    wrong.append((endpoint, method, target, response.status_code, expected))
                assert response.is_json, (endpoint, response.status_code)
    assert wrong == []


def test_no_api_route_takes_a_session_cookie_or_no_token(demo_app, world):  # noqa: F811
    from tests.helpers import login

    for client in (demo_app.test_client(), login(demo_app, "admin")):
        for cases in DECISIONS.values():
            for method, template, body, _decide, targets in cases:
                path = _path(world, template, targets[0])
                assert client.open(path, method=method, json=body).status_code == 401, path


def test_a_staff_accounts_token_is_refused_on_every_route(demo_app, world):  # noqa: F811
    """`staff` (whose only access is the part of `own` handed to it) with a token made while
    it was a respondent: every route refuses the token itself."""
    staff = user("staff")
    staff.role = Role.RESPONDENT
    secret = token_for("staff")
    staff.role = Role.STAFF
    db.session.commit()
    client = demo_app.test_client()
    for cases in DECISIONS.values():
        for method, template, body, _decide, targets in cases:
            for target in targets:
                path = _path(world, template, target)
                response = client.open(path, method=method, json=body, headers=bearer(secret))
                assert response.status_code == 401, path


def test_were_staff_to_hold_tokens_one_would_read_only_its_own_delegation(
    demo_app,
    world,  # noqa: F811
    monkeypatch,
):
    """Staff hold no token today (survey.services.tokens); the delegations' routes still
    follow survey.access for them, as the pages do: of `own`, handed to `staff` and to a
    colleague, `staff` reads its own only, and the respondent both."""
    own = world.own
    colleague = staff_of("戸籍住民課", "staff2")
    mine = db.session.get(Delegation, world.delegation)
    other_category = next(c for c in own.campaign.checklist.categories if c not in mine.categories)
    theirs = Delegation(
        assignment=own,
        delegator=user("respondent"),
        delegate=colleague,
        due_on=mine.due_on,
        categories=[other_category],
    )
    db.session.add(theirs)
    db.session.commit()
    monkeypatch.setitem(tokens._ROLE_SCOPES, Role.STAFF, {"read"})
    client = demo_app.test_client()
    as_staff = bearer(token_for("staff", ()))
    url = f"/api/v1/assignments/{own.id}/delegations"
    listed = client.get(url, headers=as_staff).get_json()
    assert [d["id"] for d in listed] == [mine.id]
    assert client.get(f"{url}/{mine.id}", headers=as_staff).status_code == 200
    assert client.get(f"{url}/{theirs.id}", headers=as_staff).status_code == 404
    as_respondent = bearer(token_for("respondent", ()))
    both = client.get(url, headers=as_respondent).get_json()
    assert [d["id"] for d in both] == [mine.id, theirs.id]


def _path(made: World, template: str, target: str) -> str:
    return "/api/v1" + template.format(
        id=getattr(made, target).id, delegation=made.delegation, **made.followup[target]
    )
