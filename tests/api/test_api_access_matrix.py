"""Least privilege on every API route, as tests/test_access_matrix.py does for the pages: each
role's token (with every scope the role may have) against objects of its own unit or company
and of another. A new API route without a decision here fails."""

from __future__ import annotations

import pytest

from tests.api.helpers import bearer, token_for
from tests.test_access_matrix import VISIBLE, World, world  # noqa: F401  (the fixture)

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
    "api_assignments.assignment_list": [("GET", "/assignments", None, lambda r, t: 200, ["own"])],
    "api_assignments.assignment_detail": [("GET", "/assignments/{id}", None, read, list(VISIBLE))],
    "api_assignments.answers": [("GET", "/assignments/{id}/answers", None, read, list(VISIBLE))],
    "api_assignments.save_answers": [
        ("PUT", "/assignments/{id}/answers", BAD_ANSWER, save, list(VISIBLE))
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
                path = "/api/v1" + template.format(
                    id=getattr(world, target).id, **world.followup[target]
                )
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
                path = "/api/v1" + template.format(
                    id=getattr(world, targets[0]).id, **world.followup[targets[0]]
                )
                assert client.open(path, method=method, json=body).status_code == 401, path
