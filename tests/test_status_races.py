"""Every status change happens once: a double click, a retry or four identical requests at the
same moment record one event, one audit entry and one set of mails; the other requests are told
it was already done, never a server error."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from survey import clock
from survey.demo import DEMO_PASSWORD
from survey.extensions import db
from survey.models import (
    ActionEvent,
    Assignment,
    AssignmentEvent,
    AuditEntry,
    Contractor,
    ContractorEvaluation,
    CorrectiveAction,
    FindingMeasure,
    OutgoingMail,
    Recommendation,
    Role,
    Subcontract,
    User,
)
from survey.models.followup import ActionStatus
from survey.services import delegations, evaluations
from tests.helpers import assignment_of, form_data, login
from tests.test_subcontracting import REQUEST, file_request

N = 4


@dataclass
class Step:
    """One status change as a browser posts it, and how to count what it recorded."""

    username: str
    path: str
    data: dict
    done: Callable[[], int]  # the events it recorded
    audit_action: str


def events_of(assignment_id: int, action: str) -> Callable[[], int]:
    return lambda: db.session.scalar(
        sa.select(sa.func.count()).where(
            AssignmentEvent.assignment_id == assignment_id, AssignmentEvent.action == action
        )
    )


def action_events(action_id: int, kind: str) -> Callable[[], int]:
    return lambda: db.session.scalar(
        sa.select(sa.func.count()).where(
            ActionEvent.action_id == action_id, ActionEvent.kind == kind
        )
    )


def everything(assignment, action="submit") -> dict:
    items = assignment.campaign.checklist.items
    return form_data(
        assignment,
        {item.number: "yes" for item in items},
        {item.number: "確認しました。" for item in items},
        action=action,
    )


def _drafted(app) -> Assignment:
    """戸籍住民課's questionnaire with every answer saved, ready to hand in."""
    mine = assignment_of("戸籍住民課")
    clerk = login(app, "respondent")
    assert clerk.post(f"/assignments/{mine.id}", data=everything(mine, "save")).status_code == 302
    return db.session.get(Assignment, mine.id)


def _submitted(app) -> Assignment:
    mine = _drafted(app)
    login(app, "respondent").post(f"/assignments/{mine.id}", data=everything(mine))
    assert db.session.get(Assignment, mine.id).status == "submitted"
    return mine


def submit(app) -> Step:
    mine = _drafted(app)
    return Step(
        "respondent",
        f"/assignments/{mine.id}",
        everything(mine),
        events_of(mine.id, "submit"),
        "assignment.submit",
    )


def approve(app) -> Step:
    mine = _submitted(app)
    return Step(
        "manager",
        f"/assignments/{mine.id}/review",
        {"approve": "1", "comment": ""},
        events_of(mine.id, "approve"),
        "assignment.approve",
    )


def send_back(app) -> Step:
    mine = _submitted(app)
    return Step(
        "manager",
        f"/assignments/{mine.id}/review",
        {"send_back": "1", "comment": "項目3の根拠を追記してください"},
        events_of(mine.id, "return"),
        "assignment.return",
    )


def reopen(app) -> Step:
    mine = _submitted(app)
    login(app, "manager").post(f"/assignments/{mine.id}/review", data={"approve": "1"})
    return Step(
        "admin",
        f"/campaigns/assignments/{mine.id}/reopen",
        {
            "reopen-due_on": (date.today() + timedelta(days=14)).isoformat(),
            "reopen-reason": "項目3の回答に誤り",
        },
        events_of(mine.id, "reopen"),
        "assignment.reopen",
    )


def close(app) -> Step:
    def closes() -> int:
        return db.session.scalar(
            sa.select(sa.func.count()).where(AuditEntry.action == "campaign.close")
        )

    return Step("admin", "/campaigns/2026-annual-assets/close", {}, closes, "campaign.close")


def _action(status: str) -> CorrectiveAction:
    return db.session.scalar(
        sa.select(CorrectiveAction)
        .where(
            CorrectiveAction.status == status,
            CorrectiveAction.unit_id.is_not(None),
            CorrectiveAction.contractor_id.is_(None),
        )
        .order_by(CorrectiveAction.id)
        .limit(1)
    )


def _owner(action: CorrectiveAction) -> str:
    return db.session.scalar(
        sa.select(User.username).where(User.role == Role.RESPONDENT, User.unit_id == action.unit_id)
    )


def action_step(verb: str, status: str, **data) -> Callable:
    def build(app) -> Step:
        action = _action(status)
        assert action is not None, f"the demo has a {status} action"
        who = "admin" if verb in ("verify", "send_back") else _owner(action)
        return Step(
            who,
            f"/followup/actions/{action.id}/{verb}",
            {"expected": status, **data},
            action_events(action.id, verb),
            f"action.{verb}",
        )

    return build


def decide_subcontract(app) -> Step:
    filed = file_request(app)

    def subcontractors() -> int:
        return db.session.scalar(
            sa.select(sa.func.count()).where(
                Subcontract.contract_id == filed.contract_id,
                Subcontract.company_name == REQUEST["company_name"],
            )
        )

    return Step(
        "admin",
        f"/contractors/subcontract-requests/{filed.id}",
        {"decision": "approve", "conditions": ""},
        subcontractors,
        "subcontract.approve",
    )


def _audited(action: str) -> Callable[[], int]:
    return lambda: db.session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == action))


def end_notice(app) -> Step:
    overdue = db.session.scalar(
        sa.select(Recommendation)
        .join(ContractorEvaluation)
        .join(Contractor)
        .where(Contractor.code == "C003")
        .order_by(Recommendation.id.desc())
        .limit(1)
    )
    assert evaluations.recommendation_state(overdue, clock.today()) == "overdue"
    return Step(
        "admin",
        f"/contractors/recommendations/{overdue.id}/end-notice",
        {"confirm": "y"},
        _audited("recommendation.end_notice"),
        "recommendation.end_notice",
    )


def audit_result(app) -> Step:
    measure = db.session.scalar(sa.select(FindingMeasure).order_by(FindingMeasure.id).limit(1))
    assert measure is not None, "the demo has a measure taken on an audit finding"
    return Step(
        "admin",
        f"/followup/audits/{measure.finding.audit_id}/measures/{measure.id}/result",
        {"result": "done", "result_note": "実地で確認済み", "result_on": "2026-11-10"},
        _audited("audit.result"),
        "audit.result",
    )


def delegate(app) -> Step:
    """戸籍住民課's respondent hands a category not yet handed over to the demo's staff."""
    mine = assignment_of("戸籍住民課")
    mine.due_on = clock.today() + timedelta(days=14)
    db.session.commit()
    free = next(
        c for c in mine.campaign.checklist.categories if c.id not in delegations.taken(mine)
    )
    staff = db.session.scalar(sa.select(User).where(User.username == "staff"))
    return Step(
        "respondent",
        f"/assignments/{mine.id}/delegate",
        {
            "delegate": staff.id,
            "categories": free.id,
            "due_on": (clock.today() + timedelta(days=7)).isoformat(),
        },
        events_of(mine.id, "delegate"),
        "delegation.create",
    )


STEPS = {
    "submit": submit,
    "delegate": delegate,
    "approve": approve,
    "return": send_back,
    "reopen": reopen,
    "close": close,
    "action_start": action_step("start", ActionStatus.OPEN),
    "action_report": action_step("report", ActionStatus.OPEN, measure="手順書を改訂"),
    "action_verify": action_step("verify", ActionStatus.REPORTED, comment="確認しました"),
    "action_send_back": action_step("send_back", ActionStatus.REPORTED, comment="証跡が不足"),
    "subcontract_decide": decide_subcontract,
    "end_notice": end_notice,
    "audit_result": audit_result,
}


class Recorded:
    """What the step left behind since this was made: its events, audit entries and mails."""

    def __init__(self, step: Step):
        self.step = step
        db.session.commit()
        self.events = step.done()
        self.audits = self._audits()
        self.mail_id = db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.max(OutgoingMail.id), 0))
        )

    def _audits(self) -> int:
        return db.session.scalar(
            sa.select(sa.func.count()).where(AuditEntry.action == self.step.audit_action)
        )

    def since(self) -> tuple[int, int, list[tuple[str, str]]]:
        db.session.commit()  # a new transaction: see what the requests committed
        mails = db.session.execute(
            sa.select(OutgoingMail.recipient, OutgoingMail.subject).where(
                OutgoingMail.id > self.mail_id
            )
        ).all()
        return (
            self.step.done() - self.events,
            self._audits() - self.audits,
            [tuple(mail) for mail in mails],
        )


def _mailed_once_each(mails: list[tuple[str, str]]) -> bool:
    return all(count == 1 for count in Counter(mails).values())


@pytest.mark.parametrize("name", STEPS)
def test_a_step_posted_twice_is_taken_once(demo_app, name):
    step = STEPS[name](demo_app)
    client = login(demo_app, step.username)
    recorded = Recorded(step)

    first = client.post(step.path, data=step.data)
    after_first = recorded.since()
    second = client.post(step.path, data=step.data)

    assert first.status_code == 302, first.get_data(as_text=True)[:2000]
    assert second.status_code in (302, 409)
    events, audits, mails = recorded.since()
    assert (events, audits) == (1, 1)
    assert mails == after_first[2]  # the second post mailed nobody
    if name in ("submit", "approve", "return"):
        page = client.get(second.headers["Location"]).get_data(as_text=True)
        assert {
            "submit": "すでに提出されています。",
            "approve": "すでに承認されています。",
            "return": "すでに差し戻されています。",
        }[name] in page


# --- the same, N requests at the same moment against a served app ----------------------------


class NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the status is what the test reads


class Browser:
    """One signed-in browser: its cookies shared by the tabs that post at once."""

    def __init__(self, base: str):
        self.base = base
        self.cookies = CookieJar()

    def post(self, path: str, data: dict) -> int:
        opener = build_opener(HTTPCookieProcessor(self.cookies), NoRedirect)
        request = Request(self.base + path, data=urlencode(data).encode(), method="POST")
        try:
            with opener.open(request, timeout=120) as response:
                response.read()
                return response.status
        except HTTPError as refused:
            refused.read()
            return refused.code

    def sign_in(self, username: str) -> Browser:
        assert self.post("/auth/login", {"username": username, "password": DEMO_PASSWORD}) == 302
        return self


@pytest.fixture
def served(demo_app):
    """The demo app served on loopback by threads, as a real server runs requests side by side."""
    server = make_server("127.0.0.1", 0, demo_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def at_once(send: Callable[[], int], n: int = N) -> list[int]:
    """`send` from n threads released together."""
    start = threading.Barrier(n)
    statuses: list[int] = [0] * n

    def run(i: int) -> None:
        start.wait()
        statuses[i] = send()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.parametrize("name", STEPS)
def test_identical_requests_at_the_same_moment_take_the_step_once(demo_app, served, name):
    step = STEPS[name](demo_app)
    browser = Browser(served).sign_in(step.username)
    recorded = Recorded(step)

    statuses = at_once(lambda: browser.post(step.path, step.data))

    assert 500 not in statuses and all(s in (302, 409) for s in statuses), statuses
    events, audits, mails = recorded.since()
    assert (events, audits) == (1, 1)
    assert _mailed_once_each(mails), mails
    if name in ("approve", "return", "reopen"):
        assert mails, "the people who answer it are told once"
