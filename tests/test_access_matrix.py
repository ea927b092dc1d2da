"""Least privilege on every route: each URL rule of the app, for every role, against objects of
the role's own unit or company and of another. A new route without a decision here fails."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import (
    ActionEvidence,
    Assignment,
    Attachment,
    Audit,
    AuditEntry,
    AuditFinding,
    Campaign,
    Contract,
    CorrectiveAction,
    FindingMeasure,
    OrgUnit,
)
from survey.services import audit as audit_service
from tests.helpers import login

ROLES = ["anonymous", "admin", "auditor", "manager", "respondent", "contractor"]
SIGN_IN = "sign-in"  # a redirect to the login page


@dataclass
class World:
    own: Assignment  # 戸籍住民課's draft: answered by `respondent`, under `manager` (区民部)
    other: Assignment  # 秘書課's (区長室): nobody's but admin's and auditor's
    contract: Assignment  # a C001 contract owned by 秘書課: answered by `contractor`
    attachments: dict[int, int]  # assignment id -> an attachment on it
    first_entry: int  # an audit log entry
    followup: dict[str, dict[str, int]]  # target -> ids of its action, evidence, audit …


def _assignment(campaign: str, **where) -> Assignment:
    stmt = sa.select(Assignment).join(Campaign).where(Campaign.code == campaign)
    for column, value in where.items():
        stmt = stmt.where(getattr(Assignment, column) == value)
    return db.session.scalar(stmt)


def _unit(name: str) -> OrgUnit:
    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == name))


@pytest.fixture
def world(demo_app) -> World:
    own = _assignment("2026-annual-assets", unit_id=_unit("戸籍住民課").id)
    other = _assignment("2026-annual-assets", unit_id=_unit("秘書課").id)
    contract_id = db.session.scalar(
        sa.select(Contract.id).where(Contract.title == "区長日程管理システム運用保守業務委託")
    )
    contract = _assignment("2026-annual-contracts", contract_id=contract_id)
    contract.status = "draft"
    attachments = {}
    uploads = Path(demo_app.instance_path) / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    for a in (own, other, contract):
        name = hashlib.sha256(str(a.id).encode()).hexdigest()[:32]
        (uploads / name).write_bytes(b"%PDF-1.4")
        attachment = Attachment(
            assignment_id=a.id,
            item_id=a.campaign.checklist.items[0].id,
            filename="e.pdf",
            stored_name=name,
            content_type="application/pdf",
            size=8,
            sha256="0" * 64,
        )
        db.session.add(attachment)
        db.session.flush()
        attachments[a.id] = attachment.id
    followup = {
        "own": _followup(uploads, unit=_unit("戸籍住民課")),
        "other": _followup(uploads, unit=_unit("秘書課")),
        "contract": _followup(
            uploads, unit=_unit("秘書課"), contractor=contract.contract.contractor
        ),
    }
    audit_service.record("test.setup", summary="access matrix")
    db.session.commit()
    first = db.session.scalar(sa.select(sa.func.min(AuditEntry.id)))
    return World(own, other, contract, attachments, first, followup)


def _followup(uploads: Path, unit, contractor=None) -> dict[str, int]:
    """An open corrective action with an evidence file, and an audit with a finding and a
    measure, owned by `unit` (and `contractor`, who then fixes it)."""
    action = CorrectiveAction(
        title="test", due_on=date(2026, 12, 1), unit=unit, contractor=contractor
    )
    name = hashlib.sha256(f"action-{unit.id}-{contractor}".encode()).hexdigest()[:32]
    (uploads / name).write_bytes(b"%PDF-1.4")
    evidence = ActionEvidence(
        action=action,
        filename="m.pdf",
        stored_name=name,
        content_type="application/pdf",
        size=8,
        sha256="0" * 64,
    )
    record = Audit(title="test", held_on=date(2026, 7, 1), unit=unit, contractor=contractor)
    finding = AuditFinding(audit=record, number=1, text="test")
    measure = FindingMeasure(finding=finding, text="test")
    db.session.add_all([action, evidence, record, finding, measure])
    db.session.flush()
    return {
        "action": action.id,
        "ev": evidence.id,
        "audit": record.id,
        "finding": finding.id,
        "measure": measure.id,
    }


# Who may see (read) and who answers each target, by role.
VISIBLE = {
    "own": {"admin", "auditor", "manager", "respondent"},
    "other": {"admin", "auditor"},
    "contract": {"admin", "auditor", "contractor"},
}
ANSWERS = {"own": {"respondent"}, "other": set(), "contract": {"contractor"}}
RESULTS = {"admin", "auditor", "manager"}


def read(role, target):
    return 200 if role in VISIBLE[target] else 404


def write(ok):
    def decide(role, target):
        if role not in VISIBLE[target]:
            return 404
        return ok if role in ANSWERS[target] else 403

    return decide


def results(role, target):
    return 200 if role in RESULTS else 403


def signed_in(role, target):
    return 200


def invite(role, target):
    if role not in VISIBLE[target]:
        return 404
    # Only a contract's questionnaire takes an invitation, sent by its division or the office.
    return 302 if target == "contract" and role == "admin" else 403


# endpoint -> (method, path template, decision, targets). `{id}` is the assignment, `{att}` an
# attachment on it. Anonymous visitors are sent to sign in everywhere but the public pages.
DECISIONS = {
    "main.home": [("GET", "/", signed_in, ["own"])],
    # One's own account: every signed-in user, nobody else's.
    "auth.account": [("GET", "/auth/account", signed_in, ["own"])],
    "auth.change_own_password": [("POST", "/auth/account/password", signed_in, ["own"])],
    "auth.disable_two_factor": [("POST", "/auth/2fa/disable", signed_in, ["own"])],
    "auth.new_recovery_codes": [("POST", "/auth/2fa/recovery-codes", lambda r, t: 302, ["own"])],
    "auth.enroll": [("GET", "/auth/2fa/setup", signed_in, ["own"])],
    "auth.sign_out_everywhere": [
        ("POST", "/auth/account/sign-out-everywhere", lambda r, t: 302, ["own"])
    ],
    "respond.index": [("GET", "/assignments/", signed_in, ["own"])],
    "respond.assignment": [("GET", "/assignments/{id}", read, list(VISIBLE))],
    "respond.history": [("GET", "/assignments/{id}/history", read, list(VISIBLE))],
    "respond.print_view": [("GET", "/assignments/{id}/print", read, list(VISIBLE))],
    "respond.sheet_download": [("GET", "/assignments/{id}/sheet.xlsx", read, list(VISIBLE))],
    "respond.evidence_file": [("GET", "/assignments/{id}/evidence/{att}", read, list(VISIBLE))],
    "respond.save": [("POST", "/assignments/{id}", write(302), list(VISIBLE))],
    "respond.autosave": [("POST", "/assignments/{id}/autosave", write(200), list(VISIBLE))],
    "respond.sheet_upload": [
        ("GET", "/assignments/{id}/sheet", write(200), list(VISIBLE)),
        ("POST", "/assignments/{id}/sheet", write(422), list(VISIBLE)),
    ],
    # Nothing is handed in here yet, so nobody may review; other units still answer 404.
    "respond.review": [
        (
            "POST",
            "/assignments/{id}/review",
            lambda role, target: 403 if role in VISIBLE[target] else 404,
            list(VISIBLE),
        )
    ],
    "respond.invite": [("POST", "/assignments/{id}/invite", invite, list(VISIBLE))],
    "results.index": [("GET", "/results/", results, ["own"])],
    "results.campaign": [("GET", "/results/2026-annual-assets", results, ["own"])],
    "results.answers": [("GET", "/results/2026-annual-assets/answers?item=1", results, ["own"])],
    "results.respondents": [("GET", "/results/2026-annual-assets/respondents", results, ["own"])],
    "results.export_xlsx": [("GET", "/results/2026-annual-assets/export.xlsx", results, ["own"])],
    "results.export_table": [
        ("GET", "/results/2026-annual-assets/export/items.csv", results, ["own"])
    ],
}
AUDITORS = {"admin", "auditor"}


def audit(role, target):
    # Everyone else is told nothing: the log's existence is not their business.
    return 200 if role in AUDITORS else 404


DECISIONS.update(
    {
        "audit.index": [("GET", "/audit/", audit, ["own"])],
        "audit.entry": [("GET", "/audit/entries/{first_entry}", audit, ["own"])],
        "audit.review": [("GET", "/audit/review", audit, ["own"])],
        "audit.export": [("GET", "/audit/export.xlsx", audit, ["own"])],
    }
)

# Follow-up: actions and audits are seen like the questionnaires of their unit or company.
# `own` is 戸籍住民課's (fixed by `respondent`, under `manager`), `other` 秘書課's, `contract` is
# C001's for 秘書課 (fixed by `contractor`). The steps post no status, so whoever may take one
# is told the status has moved on (409).
OFFICE = {"admin", "auditor"}
OPENERS = {"admin", "manager"}
OWNERS = {"own": {"respondent", "manager"}, "other": set(), "contract": {"contractor"}}


def office(role, target):
    return 200 if role in OFFICE else 403


def openers(ok):
    return lambda role, target: ok if role in OPENERS else 403


def admin_only(ok):
    def decide(role, target):
        if role not in VISIBLE[target]:
            return 404
        return ok if role == "admin" else 403

    return decide


def owner_step(role, target):
    if role not in VISIBLE[target]:
        return 404
    return 409 if role in OWNERS[target] else 403


ACTION = "/followup/actions/{action}"
AUDIT = "/followup/audits/{audit}"
DECISIONS.update(
    {
        "followup.dashboard": [("GET", "/followup/", office, ["own"])],
        "followup.action_list": [("GET", "/followup/actions/", signed_in, ["own"])],
        "followup.action_csv": [("GET", "/followup/actions.csv", signed_in, ["own"])],
        "followup.action_new": [
            ("GET", "/followup/actions/new", openers(200), ["own"]),
            ("POST", "/followup/actions/new", openers(422), ["own"]),
        ],
        "followup.action_detail": [("GET", ACTION, read, list(VISIBLE))],
        "followup.action_evidence": [("GET", ACTION + "/evidence/{ev}", read, list(VISIBLE))],
        "followup.action_step": [
            ("POST", ACTION + "/start", owner_step, list(VISIBLE)),
            ("POST", ACTION + "/report", owner_step, list(VISIBLE)),
            ("POST", ACTION + "/verify", admin_only(409), list(VISIBLE)),
            ("POST", ACTION + "/send_back", admin_only(409), list(VISIBLE)),
        ],
        "followup.audit_list": [("GET", "/followup/audits/", signed_in, ["own"])],
        "followup.audit_new": [
            ("GET", "/followup/audits/new", lambda r, t: 200 if r == "admin" else 403, ["own"]),
            ("POST", "/followup/audits/new", lambda r, t: 422 if r == "admin" else 403, ["own"]),
        ],
        "followup.audit_detail": [("GET", AUDIT, read, list(VISIBLE))],
        "followup.audit_export": [("GET", AUDIT + "/status.xlsx", read, list(VISIBLE))],
        "followup.finding_add": [("POST", AUDIT + "/findings", admin_only(422), list(VISIBLE))],
        "followup.measure_add": [
            ("POST", AUDIT + "/findings/{finding}/measures", admin_only(422), list(VISIBLE))
        ],
        "followup.measure_result": [
            ("POST", AUDIT + "/measures/{measure}/result", admin_only(422), list(VISIBLE))
        ],
    }
)

PUBLIC = {
    "static": ("GET", "/static/css/tenken.css", 200),
    "auth.login": ("GET", "/auth/login", 200),
    "auth.logout": ("POST", "/auth/logout", None),  # signs out whoever asks; tested elsewhere
    "auth.accept_invitation": ("GET", "/auth/invite/not-a-token", 404),
    "auth.two_factor": ("GET", "/auth/2fa", 302),  # with no sign-in under way: back to login
}


def test_every_route_has_a_decision(demo_app):
    endpoints = {rule.endpoint for rule in demo_app.url_map.iter_rules()}
    assert endpoints - DECISIONS.keys() - PUBLIC.keys() == set(), "decide who may use it"
    assert DECISIONS.keys() - endpoints == set()


def _body(world: World, assignment: Assignment) -> dict:
    return {"revision": str(assignment.revision), "invite-email": "x@example.jp"}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_it_may(demo_app, world, role):
    client = demo_app.test_client() if role == "anonymous" else login(demo_app, role)
    wrong = []
    for endpoint, cases in DECISIONS.items():
        for method, template, decide, targets in cases:
            for target in targets:
                assignment = getattr(world, target)
                path = template.format(
                    id=assignment.id,
                    att=world.attachments[assignment.id],
                    first_entry=world.first_entry,
                    **world.followup[target],
                )
                response = client.open(path, method=method, data=_body(world, assignment))
                response.close()  # downloads stream files
                if role == "anonymous":
                    got_sign_in = response.status_code == 302 and "/auth/login" in (
                        response.headers.get("Location", "")
                    )
                    if not got_sign_in:
                        wrong.append((endpoint, method, target, response.status_code, SIGN_IN))
                    continue
                expected = decide(role, target)
                if response.status_code != expected:
                    wrong.append((endpoint, method, target, response.status_code, expected))
    assert wrong == []


@pytest.mark.parametrize("endpoint", sorted(PUBLIC))
def test_public_pages_need_no_sign_in(demo_client, endpoint):
    method, path, expected = PUBLIC[endpoint]
    if expected is not None:
        with demo_client.open(path, method=method) as response:
            assert response.status_code == expected
