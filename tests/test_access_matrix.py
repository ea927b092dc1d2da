"""Least privilege on every route: each URL rule of the app, for every role, against objects of
the role's own unit or company and of another. A new route without a decision here fails."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

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
    Contractor,
    ContractorEvaluation,
    CorrectiveAction,
    Delegation,
    ExportJob,
    FindingMeasure,
    InvitationRequest,
    JobStatus,
    OrgUnit,
    OutgoingMail,
    PledgeAcknowledgement,
    Recommendation,
    SubcontractRequest,
    User,
)
from survey.models.types import utcnow
from survey.services import trail as audit_service
from tests.helpers import login, stored_file

ROLES = [
    "anonymous",
    "admin",
    "auditor",
    "manager",
    "respondent",
    "contractor",
    "staff",
    "contractor-staff",
]
# Staff accounts, whose only access is what was handed to them: `staff` (戸籍住民課's) a category
# of `own`, `contractor-staff` (a staff account of C001, the demo contractor's company) a category
# of `contract`.
DELEGATES = {"staff", "contractor-staff"}
SIGN_IN = "sign-in"  # a redirect to the login page


@dataclass
class World:
    own: Assignment  # 戸籍住民課's draft: answered by `respondent`, under `manager` (区民部)
    other: Assignment  # 秘書課's (区長室): nobody's but admin's and auditor's
    contract: Assignment  # a C001 contract owned by 秘書課: answered by `contractor`
    attachments: dict[int, int]  # assignment id -> an attachment on it
    first_entry: int  # an audit log entry
    # 委託先管理, per target: a contract, a pending subcontract request on it, a company and its
    # recommendation (see CONTRACTS and COMPANIES for who may see which).
    places: dict[str, dict[str, int]] = field(default_factory=dict)
    mail: int = 0  # a failed mail in the outbox
    invitation_request: int = 0  # a division's pending request to invite for `contract`
    followup: dict[str, dict[str, int]] = field(
        default_factory=dict
    )  # target -> ids of its action, evidence, audit …
    job: int = 0  # a finished export job of `manager`'s, with its file
    ack: int = 0  # `respondent`'s acknowledgement of the staff pledge (the demo's)
    delegation: int = 0  # the demo's: a category of `own` handed by `respondent` to `staff`
    # the demo's: a category of `contract` handed by `contractor` to `contractor-staff`
    company_delegation: int = 0
    # target -> the demo course, a person's place on it and an attempt of theirs under way
    training: dict[str, dict[str, int]] = field(default_factory=dict)


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
    for a in (own, other, contract):
        attachment = Attachment(
            assignment_id=a.id,
            item_id=a.campaign.checklist.items[0].id,
            filename="e.pdf",
            file=stored_file(),
            content_type="application/pdf",
            size=8,
            sha256="0" * 64,
        )
        db.session.add(attachment)
        db.session.flush()
        attachments[a.id] = attachment.id
    followup = {
        "own": _followup(unit=_unit("戸籍住民課")),
        "other": _followup(unit=_unit("秘書課")),
        "contract": _followup(unit=_unit("秘書課"), contractor=contract.contract.contractor),
    }
    audit_service.record("test.setup", summary="access matrix")
    for target, found in _log_review(contract.contract.contractor_id).items():
        followup[target].update(found)
    places = _places()
    mail = OutgoingMail(recipient="x@example.jp", subject="s", body="b", attempts=1)
    mail.next_attempt_at = mail.last_attempt_at = utcnow()
    db.session.add(mail)
    asked = InvitationRequest(
        email="x@example.net",
        contractor_id=contract.contract.contractor_id,
        assignment=contract,
        requested_by=db.session.scalar(sa.select(User).where(User.username == "respondent")),
    )
    db.session.add(asked)
    job = ExportJob(
        owner_id=db.session.scalar(sa.select(User.id).where(User.username == "manager")),
        kind="results_summary",
        params={"code": "2026-annual-assets", "scope": "区民部"},
        identity="0" * 64,
        status=JobStatus.DONE,
        file_id=stored_file(b"PK").id,
        filename="集計.xlsx",
        fallback="summary.xlsx",
        mimetype="application/octet-stream",
        finished_at=utcnow(),
    )
    db.session.add(job)
    training = _training()
    db.session.commit()
    first = db.session.scalar(sa.select(sa.func.min(AuditEntry.id)))
    return World(
        own,
        other,
        contract,
        attachments,
        first,
        places=places,
        mail=mail.id,
        invitation_request=asked.id,
        followup=followup,
        job=job.id,
        ack=db.session.scalar(
            sa.select(PledgeAcknowledgement.id)
            .join(User, User.id == PledgeAcknowledgement.user_id)
            .where(User.username == "respondent")
        ),
        delegation=db.session.scalar(
            sa.select(Delegation.id).where(Delegation.assignment_id == own.id)
        ),
        company_delegation=db.session.scalar(
            sa.select(Delegation.id).where(Delegation.assignment_id == contract.id)
        ),
        training=training,
    )


def _training() -> dict[str, dict[str, int]]:
    """The demo course (given a PDF), and per target a person's enrolment with an attempt not
    yet handed in: own, `respondent`'s; other, 秘書課's r-d01-01 (retaking); contract,
    `contractor`'s."""
    from survey.demo_training import CODE
    from survey.models import Attempt, Course, Enrolment

    course = db.session.scalar(sa.select(Course).where(Course.code == CODE))
    course.material_file = stored_file(b"%PDF-1.4 demo")
    course.material_filename = "研修資料.pdf"

    def place(username: str) -> dict[str, int]:
        enrolment = db.session.scalar(
            sa.select(Enrolment)
            .join(User, User.id == Enrolment.user_id)
            .where(Enrolment.course_id == course.id, User.username == username)
        )
        attempt = next((a for a in enrolment.attempts if a.submitted_at is None), None)
        if attempt is None:
            attempt = Attempt(enrolment=enrolment, number=len(enrolment.attempts) + 1, total=10)
            db.session.add(attempt)
            db.session.flush()
        return {"course": course.id, "enrolment": enrolment.id, "attempt": attempt.id}

    return {"own": place("respondent"), "other": place("r-d01-01"), "contract": place("contractor")}


def _places() -> dict[str, dict[str, int]]:
    """own: 戸籍住民課's contract with C010 (区民部); contract: 秘書課's with C001 (the demo
    contractor); other: 情報政策課's with C010, a company of no contract under 区民部 (C002)."""

    def contract(code: str) -> Contract:
        return db.session.scalar(sa.select(Contract).where(Contract.code == code))

    def company(code: str) -> Contractor:
        return db.session.scalar(sa.select(Contractor).where(Contractor.code == code))

    def recommendation(code: str) -> int | None:
        return db.session.scalar(
            sa.select(Recommendation.id)
            .join(ContractorEvaluation)
            .where(ContractorEvaluation.contractor_id == company(code).id)
        )

    places = {}
    for target, contract_code, company_code in (
        ("own", "K28-049", "C010"),
        ("contract", "K28-001", "C001"),
        ("other", "K28-009", "C002"),
    ):
        filed = SubcontractRequest(
            contract=contract(contract_code),
            company_name="株式会社テスト",
            work="入力",
            data_handled="氏名",
            staff_count=1,
        )
        db.session.add(filed)
        db.session.flush()
        places[target] = {
            "contract": contract(contract_code).id,
            "request": filed.id,
            "company": company(company_code).id,
            "recommendation": recommendation(company_code),
        }
    return places


def _followup(unit, contractor=None) -> dict[str, int]:
    """An open corrective action with an evidence file, and an audit with a finding and a
    measure, owned by `unit` (and `contractor`, who then fixes it)."""
    action = CorrectiveAction(
        title="test", due_on=date(2026, 12, 1), unit=unit, contractor=contractor
    )
    evidence = ActionEvidence(
        action=action,
        filename="m.pdf",
        file=stored_file(),
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


def _log_review(company_id: int) -> dict[str, dict[str, int]]:
    """Per target, a review sheet of the demo's routed round and an entry whose explanation was
    asked: own, 戸籍住民課's sheet (headed by 区民部) and a look-up of `respondent`; other, a
    sheet of 秘書課 (区長室, no one's here) with a look-up of its own respondent; contract, a
    look-up by the staff of `contractor`'s company on 戸籍住民課's sheet."""
    from survey.models import EntryReview, ReviewRound, ReviewSheet, SampledEntry

    round_ = db.session.scalar(sa.select(ReviewRound).where(ReviewRound.code == "JUKI-2026-10"))
    own = db.session.scalar(
        sa.select(ReviewSheet).where(
            ReviewSheet.round_id == round_.id, ReviewSheet.unit_id == _unit("戸籍住民課").id
        )
    )
    secretary = _unit("秘書課")
    other = ReviewSheet(
        round=round_, unit=secretary, head_unit_id=secretary.parent_id, due_on=round_.due_on
    )
    db.session.add(other)
    reviews = iter(own.reviews)

    def asked(sheet, **who) -> int:
        review = next(reviews)
        for column, value in who.items():
            setattr(review.sampled, column, value)
        review.sheet = sheet
        review.sampled.review_unit_id = sheet.unit_id or sheet.unit.id
        review.explain_asked_at = utcnow()
        db.session.flush()
        return review.sampled_id

    def user_id(name: str) -> int:
        return db.session.scalar(sa.select(User.id).where(User.username == name))

    mine = asked(own, user_id=user_id("respondent"), contractor_id=None)
    theirs = asked(other, user_id=user_id(f"r-{secretary.code.lower()}"), contractor_id=None)
    company = asked(own, user_id=None, contractor_id=company_id)
    assert db.session.get(EntryReview, company).sampled.contractor_id == company_id
    assert db.session.get(SampledEntry, theirs).review_unit_id == secretary.id
    from survey.models import Incident

    incident = db.session.scalar(sa.select(Incident.id))  # the demo's, from September's round
    return {
        "own": {"sheet": own.id, "asked": mine, "incident": incident},
        "other": {"sheet": other.id, "asked": theirs},
        "contract": {"sheet": own.id, "asked": company},
    }


# Who may see (read) and who answers each target, by role.
# `staff` sees `own` through the demo's delegation: one category of it (not item 1, which holds
# the attachment), and nothing else of the ward; `contractor-staff` likewise `contract`, and
# nothing else of its company.
VISIBLE = {
    "own": {"admin", "auditor", "manager", "respondent", "staff"},
    "other": {"admin", "auditor"},
    "contract": {"admin", "auditor", "contractor", "contractor-staff"},
}
ANSWERS = {
    "own": {"respondent", "staff"},
    "other": set(),
    "contract": {"contractor", "contractor-staff"},
}
RESULTS = {"admin", "auditor", "manager"}


def read(role, target):
    return 200 if role in VISIBLE[target] else 404


def write(ok):
    def decide(role, target):
        if role not in VISIBLE[target]:
            return 404
        return ok if role in ANSWERS[target] else 403

    return decide


def whole(ok):
    """What holds every item (the print view, the answer sheet): a delegate sees their part
    only, so for them these are refused."""

    def decide(role, target):
        if role in DELEGATES and role in VISIBLE[target]:
            return 403
        return ok(role, target)

    return decide


def evidence(role, target):
    # The attachment is on item 1, which is not in the parts handed over: not a delegate's.
    return 404 if role in DELEGATES else read(role, target)


def delegate(role, target):
    if role not in VISIBLE[target]:
        return 404
    # Who answers the questionnaire by role hands parts of it (an empty post: the form again).
    return 422 if role in ANSWERS[target] and role not in DELEGATES else 403


def delegation_step(who):
    """Marking the part done (its delegate) and withdrawing it (the side that handed it over:
    `respondent` for `own`, `contractor` for `contract`); `who` maps the target to that role."""

    def decide(role, target):
        if role not in VISIBLE[target]:
            return 404
        return 302 if role == who[target] else 403

    return decide


def results(role, target):
    return 200 if role in RESULTS else 403


def results_job(role, target):
    return 303 if role in RESULTS else 403


def own_result(role, target):
    # Whoever may see the questionnaire, once handed in: these are all still being answered.
    return 403 if role in VISIBLE[target] else 404


def signed_in(role, target):
    return 200


def owner(role, target):
    # An export job and its file: its owner's (`manager`), nobody else's, the office's neither.
    return 200 if role == "manager" else 404


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
    "auth.end_other_session": [("POST", "/auth/account/sessions/end", lambda r, t: 302, ["own"])],
    # Tokens: one's own only (a revoke names the token; another user's is not found).
    "auth.new_token": [("POST", "/auth/account/tokens", lambda r, t: 422, ["own"])],
    "auth.revoke_token": [("POST", "/auth/account/tokens/revoke", lambda r, t: 302, ["own"])],
    "respond.index": [("GET", "/assignments/", signed_in, ["own"])],
    "respond.assignment": [("GET", "/assignments/{id}", read, list(VISIBLE))],
    "respond.history": [("GET", "/assignments/{id}/history", read, list(VISIBLE))],
    "respond.print_view": [("GET", "/assignments/{id}/print", whole(read), list(VISIBLE))],
    "respond.result": [("GET", "/assignments/{id}/result", own_result, list(VISIBLE))],
    "respond.sheet_download": [("GET", "/assignments/{id}/sheet.xlsx", whole(read), list(VISIBLE))],
    "respond.evidence_file": [("GET", "/assignments/{id}/evidence/{att}", evidence, list(VISIBLE))],
    "respond.save": [("POST", "/assignments/{id}", write(302), list(VISIBLE))],
    "respond.autosave": [("POST", "/assignments/{id}/autosave", write(200), list(VISIBLE))],
    "respond.sheet_upload": [
        ("GET", "/assignments/{id}/sheet", whole(write(200)), list(VISIBLE)),
        ("POST", "/assignments/{id}/sheet", whole(write(422)), list(VISIBLE)),
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
    "respond.delegate": [
        (
            "GET",
            "/assignments/{id}/delegate",
            lambda r, t: 200 if delegate(r, t) == 422 else delegate(r, t),
            list(VISIBLE),
        ),
        ("POST", "/assignments/{id}/delegate", delegate, list(VISIBLE)),
    ],
    "results.index": [("GET", "/results/", results, ["own"])],
    "results.campaign": [("GET", "/results/2026-annual-assets", results, ["own"])],
    "results.answers": [("GET", "/results/2026-annual-assets/answers?item=1", results, ["own"])],
    "results.respondents": [("GET", "/results/2026-annual-assets/respondents", results, ["own"])],
    "results.trend": [("GET", "/results/2026-annual-assets/trend", results, ["own"])],
    # A click makes an export job (survey.services.jobs) and goes to its page.
    "results.export_xlsx": [
        ("POST", "/results/2026-annual-assets/export.xlsx", results_job, ["own"])
    ],
    "results.export_answers": [
        ("POST", "/results/2026-annual-assets/export/answers.xlsx", results_job, ["own"])
    ],
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
        "trail.index": [("GET", "/audit/", audit, ["own"])],
        "trail.entry": [("GET", "/audit/entries/{first_entry}", audit, ["own"])],
        "trail.review": [("GET", "/audit/review", audit, ["own"])],
        "trail.export": [
            ("POST", "/audit/export.xlsx", lambda r, t: 303 if r in AUDITORS else 404, ["own"])
        ],
        "jobs.show": [("GET", "/jobs/{job}", owner, ["own"])],
        "jobs.file": [("GET", "/jobs/{job}/file", owner, ["own"])],
        # Done, not failed: its owner is sent back to its page.
        "jobs.retry": [
            ("POST", "/jobs/{job}/retry", lambda r, t: 303 if r == "manager" else 404, ["own"])
        ],
    }
)


def checklist_read(role, target):
    # Checklist management is the office's; auditors read it, for everyone else it is not there.
    return 200 if role in AUDITORS else 404


def checklist_change(ok):
    def decide(role, target):
        if role not in AUDITORS:
            return 404
        return ok if role == "admin" else 403

    return decide


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


def admin_acts(ok):
    def decide(role, target):
        if role not in VISIBLE[target]:
            return 404
        return ok if role == "admin" else 403

    return decide


# 委託先管理: who sees each target's contract (and its requests) and company (evaluations).
CONTRACTS = {
    "own": {"admin", "auditor", "manager", "respondent"},
    "contract": {"admin", "auditor", "contractor"},
    "other": {"admin", "auditor"},
}
COMPANIES = {
    "own": {"admin", "auditor", "manager"},
    "contract": {"admin", "auditor", "manager", "contractor"},
    "other": {"admin", "auditor"},
}
# Who decides on a subcontract request: the owning unit, the managers above it, the office.
DECIDES = {"own": {"admin", "manager", "respondent"}, "contract": {"admin"}, "other": {"admin"}}


def scoped(visible, acting=None, ok=200):
    """200 (or `ok`) for those who may act, 403 for others who see the object, 404 otherwise."""

    def decide(role, target):
        if role not in visible[target]:
            return 404
        allowed = acting[target] if isinstance(acting, dict) else acting
        return ok if allowed is None or role in allowed else 403

    return decide


ASSETS = "/admin/checklists/emergency-assets"
DECISIONS.update(
    {
        "admin.checklists": [("GET", "/admin/checklists/", checklist_read, ["own"])],
        "admin.checklist_version": [("GET", f"{ASSETS}/1", checklist_read, ["own"])],
        "admin.checklist_compare": [("GET", f"{ASSETS}/compare", checklist_read, ["own"])],
        "admin.checklist_download": [("GET", f"{ASSETS}/1/download.yaml", checklist_read, ["own"])],
        # Without a file the upload is refused (422); a published version is not published
        # again (302 back to it); a copy makes the next draft (302 to it).
        "admin.checklist_upload": [
            ("GET", "/admin/checklists/upload", checklist_change(200), ["own"]),
            ("POST", "/admin/checklists/upload", checklist_change(422), ["own"]),
        ],
        "admin.checklist_publish": [
            ("GET", f"{ASSETS}/1/publish", checklist_change(302), ["own"]),
            ("POST", f"{ASSETS}/1/publish", checklist_change(302), ["own"]),
        ],
        "admin.checklist_copy": [("POST", f"{ASSETS}/1/copy", checklist_change(302), ["own"])],
        "admin.checklist_discard": [
            ("GET", f"{ASSETS}/1/delete", checklist_change(302), ["own"]),  # published: kept
            ("POST", f"{ASSETS}/1/delete", checklist_change(302), ["own"]),
        ],
    }
)

# Running campaigns: the security office acts; auditors read the management pages; managers
# follow progress on their subtree; respondents and contractors are refused. The demo's open
# round is `2026-annual-assets`, its 2017 round is closed: posts that would change either are
# aimed where the state refuses them (a redirect with a message) or carry no valid input (422).
OPEN_ROUND = "/campaigns/2026-annual-assets"
CLOSED_ROUND = "/campaigns/2017-emergency-assets"


def admin_only(ok):
    return lambda role, target: ok if role == "admin" else 403


def management(role, target):
    return 200 if role in AUDITORS else 403


def follows_progress(role, target):
    return 200 if role in RESULTS else 403


def managers_of_contractors(role, target):
    return 200 if role in {"admin", "auditor", "manager"} else 403


def mail_admin(role, target):
    # The outbox holds invitation links: the security office only; for others it does not exist.
    return 200 if role == "admin" else 404


def office_decides(ok):
    # Respondents, managers, contractors and auditors are refused: the pages do not exist.
    return lambda role, target: ok if role == "admin" else 404


DECISIONS.update(
    {
        "campaigns.index": [("GET", "/campaigns/", follows_progress, ["own"])],
        "campaigns.new": [
            ("GET", "/campaigns/new", admin_only(200), ["own"]),
            ("POST", "/campaigns/new", admin_only(422), ["own"]),
        ],
        "campaigns.detail": [("GET", OPEN_ROUND, management, ["own"])],
        "campaigns.edit": [
            ("GET", OPEN_ROUND + "/edit", admin_only(302), ["own"]),
            ("POST", OPEN_ROUND + "/edit", admin_only(302), ["own"]),
        ],
        # A running campaign's steps; an empty form leaves every step out (302).
        "campaigns.escalation_steps": [
            ("GET", OPEN_ROUND + "/escalation", admin_only(200), ["own"]),
            ("POST", OPEN_ROUND + "/escalation", admin_only(302), ["own"]),
        ],
        "campaigns.delete": [
            ("GET", OPEN_ROUND + "/delete", admin_only(302), ["own"]),
            ("POST", OPEN_ROUND + "/delete", admin_only(302), ["own"]),
        ],
        "campaigns.targets": [("GET", OPEN_ROUND + "/targets", admin_only(302), ["own"])],
        "campaigns.targets_filter": [
            ("POST", OPEN_ROUND + "/targets/filter", admin_only(302), ["own"])
        ],
        "campaigns.targets_pick": [
            ("POST", OPEN_ROUND + "/targets/pick", admin_only(302), ["own"])
        ],
        "campaigns.targets_clear": [
            ("POST", OPEN_ROUND + "/targets/clear", admin_only(302), ["own"])
        ],
        "campaigns.open_campaign": [
            ("GET", OPEN_ROUND + "/open", admin_only(302), ["own"]),
            ("POST", OPEN_ROUND + "/open", admin_only(302), ["own"]),
        ],
        "campaigns.extend": [
            ("GET", OPEN_ROUND + "/extend", admin_only(200), ["own"]),
            ("POST", OPEN_ROUND + "/extend", admin_only(422), ["own"]),
        ],
        "campaigns.close": [
            ("GET", OPEN_ROUND + "/close", admin_only(200), ["own"]),
            ("POST", CLOSED_ROUND + "/close", admin_only(302), ["own"]),
        ],
        "campaigns.copy": [
            ("GET", OPEN_ROUND + "/copy", admin_only(200), ["own"]),
            ("POST", OPEN_ROUND + "/copy", admin_only(422), ["own"]),
        ],
        "campaigns.progress": [("GET", OPEN_ROUND + "/progress", follows_progress, ["own"])],
        "campaigns.pending_xlsx": [
            ("POST", OPEN_ROUND + "/progress/pending.xlsx", results_job, ["own"])
        ],
        "campaigns.assignment": [("GET", "/campaigns/assignments/{id}", management, list(VISIBLE))],
        "campaigns.assignment_extend": [
            ("POST", "/campaigns/assignments/{id}/extend", admin_only(422), list(VISIBLE))
        ],
        "campaigns.assignment_reopen": [
            ("POST", "/campaigns/assignments/{id}/reopen", admin_only(422), list(VISIBLE))
        ],
        "contractors.index": [("GET", "/contractors/", managers_of_contractors, ["own"])],
        "contractors.contractor": [
            ("GET", "/contractors/{company}", scoped(COMPANIES), list(COMPANIES))
        ],
        "contractors.rounds_export": [
            ("GET", "/contractors/{company}/rounds.csv", scoped(COMPANIES), list(COMPANIES))
        ],
        "contractors.start_evaluation": [
            (
                "POST",
                "/contractors/{company}/evaluation",
                scoped(COMPANIES, {"admin"}, 302),
                list(COMPANIES),
            )
        ],
        "contractors.end_notice": [
            (
                "POST",
                "/contractors/recommendations/{recommendation}/end-notice",
                scoped(COMPANIES, {"admin"}, 302),
                ["contract", "other"],
            )
        ],
        # A delegate's only pages are its part: the list of contracts is not there for it.
        "contractors.contracts": [
            (
                "GET",
                "/contractors/contracts",
                lambda r, t: 404 if r in DELEGATES else 200,
                ["own"],
            )
        ],
        "contractors.contract": [
            ("GET", "/contractors/contracts/{contract}", scoped(CONTRACTS), list(CONTRACTS))
        ],
        # Only the company carrying out the contract asks; an empty form is refused (422).
        "contractors.request_subcontract": [
            (
                "GET",
                "/contractors/contracts/{contract}/subcontract-requests/new",
                scoped(CONTRACTS, {"contractor"}),
                list(CONTRACTS),
            ),
            (
                "POST",
                "/contractors/contracts/{contract}/subcontract-requests/new",
                scoped(CONTRACTS, {"contractor"}, 422),
                list(CONTRACTS),
            ),
        ],
        "contractors.decide": [
            (
                "GET",
                "/contractors/subcontract-requests/{request}",
                scoped(CONTRACTS),
                list(CONTRACTS),
            ),
            (
                "POST",
                "/contractors/subcontract-requests/{request}",
                scoped(CONTRACTS, DECIDES, 422),
                list(CONTRACTS),
            ),
        ],
    }
)

# The upload token below belongs to nobody: the admin is sent back to upload again.
UPLOAD = "/admin/registers/units/upload"
DECISIONS.update(
    {
        "admin.registers_index": [("GET", "/admin/registers/", checklist_read, ["own"])],
        "admin.register_list": [("GET", "/admin/registers/users", checklist_read, ["own"])],
        "admin.register_template": [
            ("GET", "/admin/registers/units/template.xlsx", checklist_read, ["own"])
        ],
        "admin.register_export": [
            ("GET", "/admin/registers/users/export.csv", checklist_read, ["own"])
        ],
        "admin.register_upload": [
            ("GET", UPLOAD, checklist_change(200), ["own"]),
            ("POST", UPLOAD, checklist_change(422), ["own"]),  # no file in the body
        ],
        "admin.register_preview": [
            ("GET", UPLOAD + "/nobodys-token-0123456789", checklist_change(302), ["own"])
        ],
        "admin.register_apply": [
            ("POST", UPLOAD + "/nobodys-token-0123456789/apply", checklist_change(302), ["own"])
        ],
        # The office's escalation defaults; an empty form leaves every step out (302).
        "admin.escalation_defaults": [
            ("GET", "/admin/escalation", office_decides(200), ["own"]),
            ("POST", "/admin/escalation", office_decides(302), ["own"]),
        ],
        "admin.outbox": [("GET", "/admin/outbox/", mail_admin, ["own"])],
        "admin.outbox_mail": [("GET", "/admin/outbox/{mail}", mail_admin, ["own"])],
        "admin.outbox_retry": [
            (
                "POST",
                "/admin/outbox/{mail}/retry",
                lambda role, target: 302 if role == "admin" else 404,
                ["own"],
            )
        ],
        # Whether an address the register does not hold gets an account: the office's call.
        # Without a decision in the body the form is refused (422).
        "admin.invitation_requests_index": [
            ("GET", "/admin/invitation-requests/", office_decides(200), ["own"])
        ],
        "admin.invitation_request": [
            (
                "GET",
                "/admin/invitation-requests/{invitation_request}",
                office_decides(200),
                ["own"],
            ),
            (
                "POST",
                "/admin/invitation-requests/{invitation_request}",
                office_decides(422),
                ["own"],
            ),
        ],
    }
)


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
            ("POST", ACTION + "/verify", admin_acts(409), list(VISIBLE)),
            ("POST", ACTION + "/send_back", admin_acts(409), list(VISIBLE)),
        ],
        # These actions come from no answer: nothing to reopen, even for the office (403);
        # test_action_follow_through covers the office reopening one that does.
        "followup.action_reopen": [("POST", ACTION + "/reopen", admin_acts(403), list(VISIBLE))],
        "followup.audit_list": [("GET", "/followup/audits/", signed_in, ["own"])],
        "followup.audit_new": [
            ("GET", "/followup/audits/new", lambda r, t: 200 if r == "admin" else 403, ["own"]),
            ("POST", "/followup/audits/new", lambda r, t: 422 if r == "admin" else 403, ["own"]),
        ],
        "followup.audit_detail": [("GET", AUDIT, read, list(VISIBLE))],
        "followup.audit_export": [("GET", AUDIT + "/status.xlsx", read, list(VISIBLE))],
        "followup.finding_add": [("POST", AUDIT + "/findings", admin_acts(422), list(VISIBLE))],
        "followup.measure_add": [
            ("POST", AUDIT + "/findings/{finding}/measures", admin_acts(422), list(VISIBLE))
        ],
        "followup.measure_result": [
            ("POST", AUDIT + "/measures/{measure}/result", admin_acts(422), list(VISIBLE))
        ],
    }
)


def _no_delegates(decide):
    return lambda role, target: 404 if role in DELEGATES else decide(role, target)


# A delegate sees a part of one questionnaire and nothing of its unit's or company's follow-up.
for _endpoint, _cases in DECISIONS.items():
    if _endpoint.startswith("followup."):
        DECISIONS[_endpoint] = [
            (method, path, _no_delegates(decide) if len(targets) > 1 else decide, targets)
            for method, path, decide, targets in _cases
        ]

# ログ点検: the office's pages only; for everyone else, auditors too, they do not exist (the logs
# name residents' records). Posts without a valid form are refused (422); an upload token that
# belongs to nobody sends the office back to upload again.
LOGS = "/logs/sources/JUKI"
DECISIONS.update(
    {
        "logreview.index": [("GET", "/logs/", office_decides(200), ["own"])],
        "logreview.source_new": [
            ("GET", "/logs/sources/new", office_decides(200), ["own"]),
            ("POST", "/logs/sources/new", office_decides(422), ["own"]),
        ],
        "logreview.source_edit": [
            ("GET", LOGS + "/edit", office_decides(200), ["own"]),
            ("POST", LOGS + "/edit", office_decides(422), ["own"]),
        ],
        "logreview.upload": [
            ("GET", LOGS + "/upload", office_decides(200), ["own"]),
            ("POST", LOGS + "/upload", office_decides(422), ["own"]),
        ],
        "logreview.preview": [
            ("GET", LOGS + "/upload/nobodys-token-0123456789", office_decides(302), ["own"])
        ],
        "logreview.do_import": [
            ("POST", LOGS + "/upload/nobodys-token-0123456789/import", office_decides(302), ["own"])
        ],
        "logreview.imports": [("GET", "/logs/imports", office_decides(200), ["own"])],
        "logreview.round_new": [
            ("GET", "/logs/rounds/new", office_decides(200), ["own"]),
            ("POST", "/logs/rounds/new", office_decides(422), ["own"]),
        ],
        "logreview.round_detail": [
            ("GET", "/logs/rounds/JUKI-2026-10", office_decides(200), ["own"])
        ],
        # The demo's round is routed already: routing it again is refused.
        "logreview.route_round": [
            ("POST", "/logs/rounds/JUKI-2026-10/route", office_decides(422), ["own"])
        ],
        "logreview.figures_xlsx": [
            ("GET", "/logs/rounds/JUKI-2026-10/figures.xlsx", office_decides(200), ["own"])
        ],
        "logreview.figures_csv": [
            ("GET", "/logs/rounds/JUKI-2026-10/figures.csv", office_decides(200), ["own"])
        ],
        "logreview.trend_csv": [
            ("GET", "/logs/rounds/JUKI-2026-10/trend.csv", office_decides(200), ["own"])
        ],
        # Incidents are the office's: the list, and moving one on (no status posted: refused,
        # back to the list); recording one from a sheet not approved yet is refused (422).
        "logreview.incidents": [("GET", "/logs/incidents", office_decides(200), ["own"])],
        "logreview.incident_status": [
            ("POST", "/logs/incidents/{incident}/status", office_decides(302), ["own"])
        ],
        "logreview.incident_open": [
            (
                "POST",
                "/logs/reviews/{sheet}/entries/{asked}/incident",
                office_decides(422),
                ["own", "other"],
            )
        ],
    }
)

# The review of a round: a sheet is its head's (区民部's manager for 戸籍住民課) and the office's
# (which approves: no manager above a department), never an auditor's; an entry asked to be
# explained is its employee's, or its company's for contractor staff, and nobody else's — not
# even the head's or the office's, who read the explanation on the sheet. Nothing of it exists
# for anyone else (404).
SHEET = "/logs/reviews/{sheet}"
SHEET_SEES = {"own": {"admin", "manager"}, "other": {"admin"}}
EXPLAINS = {"own": "respondent", "other": None, "contract": "contractor"}


def sheet_decides(by_head, by_office):
    def decide(role, target):
        if role not in SHEET_SEES[target]:
            return 404
        return by_head if role == "manager" else by_office

    return decide


def explains(ok):
    return lambda role, target: ok if role == EXPLAINS[target] else 404


DECISIONS.update(
    {
        "logreview.desk": [
            # A delegate was asked to explain nothing: for it, as for auditors, there is no desk.
            (
                "GET",
                "/logs/reviews/",
                lambda r, t: 404 if r in {"auditor", *DELEGATES} else 200,
                ["own"],
            )
        ],
        "logreview.sheet": [("GET", SHEET, sheet_decides(200, 200), list(SHEET_SEES))],
        # The head: nothing changed (no answer posted) → back to the sheet; the office answers
        # nothing (403) and approves only what was handed in (409: not yet).
        "logreview.sheet_save": [("POST", SHEET, sheet_decides(302, 403), list(SHEET_SEES))],
        "logreview.ask": [
            ("POST", SHEET + "/entries/{asked}/ask", sheet_decides(302, 403), list(SHEET_SEES))
        ],
        "logreview.submit": [
            ("POST", SHEET + "/submit", sheet_decides(302, 403), list(SHEET_SEES))
        ],
        "logreview.decide": [
            ("POST", SHEET + "/decide", sheet_decides(403, 409), list(SHEET_SEES))
        ],
        "logreview.explain": [
            ("GET", "/logs/explain/{asked}", explains(200), list(EXPLAINS)),
            ("POST", "/logs/explain/{asked}", explains(422), list(EXPLAINS)),
        ],
    }
)

# Pledges (誓約書): the office writes them; the office, auditors and managers follow them (managers
# the staff pledges of their subtree only); everyone has their own acknowledgements.
FOLLOWS_PLEDGES = {"admin", "auditor", "manager"}


def follows_pledges(audience):
    followers = FOLLOWS_PLEDGES if audience == "staff" else OFFICE

    def decide(role, target):
        return 200 if role in followers else 404

    return decide


def writes_pledges(ok):
    def decide(role, target):
        if role == "admin":
            return ok
        return 403 if role in FOLLOWS_PLEDGES else 404

    return decide


# 研修: each person's course and attempts are theirs alone (404 for everyone else, the office
# too); the completion pages are the office's, the auditors' and the managers' (their subtree),
# and exist for nobody else; only the office prepares, opens and closes a course. A step that
# cannot be taken (the course is open already, the material was read) goes back to the page.
TAKES = {"own": "respondent", "other": None, "contract": "contractor"}
FOLLOWS = {"admin", "auditor", "manager"}


def takes(ok):
    return lambda role, target: ok if TAKES[target] == role else 404


def follows(ok):
    return lambda role, target: ok if role in FOLLOWS else 404


def prepares(ok):
    def decide(role, target):
        if role not in FOLLOWS:
            return 404
        return ok if role == "admin" else 403

    return decide


DECISIONS.update(
    {
        "pledges.mine": [("GET", "/pledges/mine", signed_in, ["own"])],
        # A printed copy is its signer's alone: the office counts signatures, it does not read
        # other people's copies.
        "pledges.print_view": [
            (
                "GET",
                "/pledges/acknowledgements/{ack}/print",
                lambda r, t: 200 if r == "respondent" else 404,
                ["own"],
            )
        ],
        "pledges.index": [("GET", "/pledges/", follows_pledges("staff"), ["own"])],
        "pledges.show": [
            ("GET", "/pledges/staff", follows_pledges("staff"), ["own"]),
            ("GET", "/pledges/contractors", follows_pledges("contractors"), ["own"]),
        ],
        "pledges.completion": [
            ("GET", "/pledges/staff/completion", follows_pledges("staff"), ["own"]),
            ("GET", "/pledges/contractors/completion", follows_pledges("contractors"), ["own"]),
        ],
        "pledges.completion_xlsx": [
            ("GET", "/pledges/staff/completion.xlsx", follows_pledges("staff"), ["own"]),
            (
                "GET",
                "/pledges/contractors/completion.xlsx",
                follows_pledges("contractors"),
                ["own"],
            ),
        ],
        # The posted body has none of the form's fields: refused (422), nothing stored.
        "pledges.new": [
            ("GET", "/pledges/new", writes_pledges(200), ["own"]),
            ("POST", "/pledges/new", writes_pledges(422), ["own"]),
        ],
        "pledges.draft": [
            ("GET", "/pledges/staff/draft", writes_pledges(200), ["own"]),
            ("POST", "/pledges/staff/draft", writes_pledges(422), ["own"]),
        ],
        # No draft to publish: back to the pledge, saying so.
        "pledges.publish": [("POST", "/pledges/staff/publish", writes_pledges(302), ["own"])],
    }
)

COURSE = "/training/courses/{course}"
DECISIONS.update(
    {
        "training.index": [("GET", "/training/", signed_in, ["own"])],
        "training.take": [("GET", "/training/my/{enrolment}", takes(200), list(TAKES))],
        "training.read": [("POST", "/training/my/{enrolment}/read", takes(302), list(TAKES))],
        "training.start": [("POST", "/training/my/{enrolment}/start", takes(302), list(TAKES))],
        "training.attempt": [
            ("GET", "/training/attempts/{attempt}", takes(200), list(TAKES)),
            # Handed in with no answers: refused, the form shown again.
            ("POST", "/training/attempts/{attempt}", takes(422), list(TAKES)),
        ],
        "training.course_new": [
            ("GET", "/training/courses/new", prepares(200), ["own"]),
            ("POST", "/training/courses/new", prepares(422), ["own"]),
        ],
        "training.course": [("GET", COURSE, follows(200), ["own"])],
        "training.course_targets": [("POST", COURSE + "/targets", prepares(302), ["own"])],
        "training.course_open": [("POST", COURSE + "/open", prepares(302), ["own"])],
        "training.people": [("GET", COURSE + "/people", follows(200), ["own"])],
        "training.completion_xlsx": [("GET", COURSE + "/completion.xlsx", follows(200), ["own"])],
        # Everyone here is enrolled on the demo course, or of the office, but `contractor-staff`
        # (its account was made after the course opened).
        "training.material": [
            (
                "GET",
                COURSE + "/material",
                lambda r, t: 404 if r == "contractor-staff" else 200,
                ["own"],
            )
        ],
        # Without the tick that the unfinished are shut out: the page again (422), still open.
        "training.course_close": [("POST", COURSE + "/close", prepares(422), ["own"])],
    }
)

PUBLIC = {
    "static": ("GET", "/static/css/tenken.css", 200),
    "auth.login": ("GET", "/auth/login", 200),
    "auth.logout": ("POST", "/auth/logout", None),  # signs out whoever asks; tested elsewhere
    "auth.accept_invitation": ("GET", "/auth/invite/not-a-token", 404),
    "auth.two_factor": ("GET", "/auth/2fa", 302),  # with no sign-in under way: back to login
    "auth.pledge": ("GET", "/auth/pledge", 302),  # likewise (tests/test_pledges.py)
    "auth.forgot_password": ("GET", "/auth/forgot", 200),
    "auth.reset_password": ("GET", "/auth/reset/not-a-token", 404),
    "health.healthz": ("GET", "/healthz", 200),  # the load balancer's probe (test_health.py)
}


def test_every_route_has_a_decision(demo_app):
    # The API's routes take tokens, not sessions: tests/api/test_api_access_matrix.py.
    endpoints = {
        rule.endpoint for rule in demo_app.url_map.iter_rules() if not rule.rule.startswith("/api/")
    }
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
                    **world.places[target],
                    mail=world.mail,
                    invitation_request=world.invitation_request,
                    **world.followup[target],
                    job=world.job,
                    ack=world.ack,
                    delegation=world.delegation,
                    company_delegation=world.company_delegation,
                    **world.training[target],
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
    assert wrong == [], "\n".join(map(str, wrong))


# The delegation's steps: last, so that every route above sees it as the demo left it. Without
# the box ticked the delegate, or the side that delegated, is sent back to the page, nothing
# changed.
DONE = "/assignments/{id}/delegations/%s/done"
WITHDRAW = "/assignments/{id}/delegations/%s/withdraw"
DELEGATES_OF = {"own": "staff", "contract": "contractor-staff"}
DELEGATORS_OF = {"own": "respondent", "contract": "contractor"}
DECISIONS["respond.delegation_done"] = [
    ("POST", DONE % "{delegation}", delegation_step(DELEGATES_OF), ["own"]),
    ("POST", DONE % "{company_delegation}", delegation_step(DELEGATES_OF), ["contract"]),
]
DECISIONS["respond.delegation_withdraw"] = [
    ("POST", WITHDRAW % "{delegation}", delegation_step(DELEGATORS_OF), ["own"]),
    ("POST", WITHDRAW % "{company_delegation}", delegation_step(DELEGATORS_OF), ["contract"]),
]


# Pages only for someone signed out: every role is sent to its account page instead.
SIGNED_OUT_ONLY = {"auth.forgot_password", "auth.reset_password"}


@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
def test_signed_in_users_are_sent_from_the_signed_out_pages_to_their_account(demo_app, role):
    client = login(demo_app, role)
    for endpoint in sorted(SIGNED_OUT_ONLY):
        for method in ("GET", "POST"):
            response = client.open(PUBLIC[endpoint][1], method=method)
            assert (response.status_code, response.headers.get("Location")) == (
                302,
                "/auth/account",
            ), (endpoint, method)


@pytest.mark.parametrize("endpoint", sorted(PUBLIC))
def test_public_pages_need_no_sign_in(demo_client, endpoint):
    method, path, expected = PUBLIC[endpoint]
    if expected is not None:
        with demo_client.open(path, method=method) as response:
            assert response.status_code == expected
