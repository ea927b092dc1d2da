"""Small builders for tests that need more than the demo: an open campaign on any checklist."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from datetime import date, timedelta

import sqlalchemy as sa

from survey.demo import DEMO_PASSWORD
from survey.extensions import db
from survey.models import Answer, Assignment, Campaign, Checklist, OrgUnit, Role, StoredFile, User
from survey.models.campaigns import CampaignStatus
from survey.models.org import UnitKind, UserSession
from survey.services import escalation, files
from survey.services.checklists import import_files
from survey.services.signin import hash_session_token


def user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def stored_file(data: bytes = b"%PDF-1.4") -> StoredFile:
    """A file in the database, as an upload leaves it (in the caller's transaction)."""
    return files.store(io.BytesIO(data))


def checklist(code: str) -> Checklist:
    return db.session.scalar(
        sa.select(Checklist).where(Checklist.code == code).order_by(Checklist.version.desc())
    )


def import_checklist(tmp_path, text: str) -> Checklist:
    path = tmp_path / "checklist.yaml"
    path.write_text(text, encoding="utf-8")
    outcomes, problems = import_files([path], publish=True)
    assert not problems, [p.render() for p in problems]
    return outcomes[0].checklist


def open_campaign(
    checklist: Checklist, targets: list, *, code: str = "test-open", days_left: int = 14
) -> list[Assignment]:
    """An open campaign with one assignment per target (units, systems or contracts)."""
    today = date.today()
    campaign = Campaign(
        code=code,
        title="テスト点検",
        checklist=checklist,
        opens_on=today - timedelta(days=7),
        closes_on=today + timedelta(days=days_left),
        status=CampaignStatus.OPEN,
    )
    escalation.apply(campaign, escalation.BUILT_IN)
    db.session.add(campaign)
    assignments = []
    for target in targets:
        kind = checklist.target_kind
        column = {"unit": "unit", "system": "system", "contract": "contract"}[kind]
        unit = target if kind == "unit" else target.unit
        assignment = Assignment(
            campaign=campaign, target_kind=kind, responsible_unit=unit, **{column: target}
        )
        db.session.add(assignment)
        assignments.append(assignment)
    db.session.commit()
    return assignments


ANNUAL = "2026-annual-assets"


def session_token(client) -> str | None:
    """The session token the browser's cookie carries."""
    with client.session_transaction() as session:
        return session.get("sid")


def session_row(client) -> UserSession | None:
    """The database row of the browser's session."""
    token = session_token(client)
    if token is None:
        return None
    db.session.expire_all()
    return db.session.get(UserSession, hash_session_token(token))


def signed_in(client) -> bool:
    row = session_row(client)
    return row is not None and row.stage is None and row.ended_at is None


def login(app, username):
    client = app.test_client()
    response = client.post("/auth/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    return client


def assignment_of(unit_name, campaign=ANNUAL) -> Assignment:
    return db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .join(OrgUnit, OrgUnit.id == Assignment.unit_id)
        .where(Campaign.code == campaign, OrgUnit.name == unit_name)
    )


def contract_questionnaire(unit_name: str = "戸籍住民課") -> Assignment:
    """A contract questionnaire of this year's round the division is responsible for (answered
    by the division or its contractor), set back to a draft."""
    found = db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .join(OrgUnit, OrgUnit.id == Assignment.responsible_unit_id)
        .where(
            Campaign.code == "2026-annual-contracts",
            OrgUnit.name == unit_name,
            Assignment.contract_id.is_not(None),
        )
        .limit(1)
    )
    assert found is not None, f"{unit_name} has a contract in this year's round"
    found.status = "draft"
    db.session.commit()
    return found


def company_account(assignment: Assignment) -> User:
    """The contractor's account of the company that carries out the assignment's contract (not
    a staff account of the company, which sees only what is handed to it)."""
    return db.session.scalar(
        sa.select(User)
        .where(
            User.contractor_id == assignment.contract.contractor_id,
            User.role == Role.CONTRACTOR,
        )
        .order_by(User.id)
        .limit(1)
    )


def form_data(assignment, answers=None, comments=None, action="save", keep=True):
    """What the browser posts: the stored answers (as the page shows them) with changes."""
    data = {"revision": str(assignment.revision), "action": action}
    if keep:
        for answer in assignment.answers:
            if answer.option:
                data[f"item_{answer.item_id}"] = answer.option.code
            data[f"comment_{answer.item_id}"] = answer.comment
    items = {item.number: item for item in assignment.campaign.checklist.items}
    for number, code in (answers or {}).items():
        data[f"item_{items[number].id}"] = code
    for number, text in (comments or {}).items():
        data[f"comment_{items[number].id}"] = text
    return data


CONDITIONAL = """\
code: cond
version: 1
title: 条件付き
target: unit
categories:
  - code: A
    title: バックアップ
    items:
      - number: 1
        text: バックアップを取得している
      - number: 2
        text: 復元テストをしている
        condition: {item: 1, answers: [yes]}
      - number: 3
        text: 証跡を添付している
        evidence: compliant
"""


def conditional_assignment(tmp_path) -> Assignment:
    """戸籍住民課's questionnaire whose item 2 is asked only when item 1 is answered はい."""
    checklist = import_checklist(tmp_path, CONDITIONAL)
    unit = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "戸籍住民課"))
    return open_campaign(checklist, [unit], code="cond-test")[0]


def store_directly(assignment: Assignment, answers: dict[int, tuple[str, str]]) -> None:
    """Answers written as the code before the answer rules did, not through save(): item
    number -> (option code, comment)."""
    items = {item.number: item for item in assignment.campaign.checklist.items}
    for number, (code, comment) in answers.items():
        option = next(o for o in items[number].scale.options if o.code == code)
        db.session.add(
            Answer(
                assignment_id=assignment.id,
                item_id=items[number].id,
                option_id=option.id,
                comment=comment,
            )
        )
    db.session.commit()


@contextlib.contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements the block sends to the database, as SQLAlchemy hands them over."""
    sent: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)


def add_unit(name: str, parent: OrgUnit, code: str) -> OrgUnit:
    """A unit below `parent` (a 係 below a 課: the demo ward stops at 課)."""
    unit = OrgUnit(name=name, code=code, parent=parent, kind=UnitKind.SECTION)
    db.session.add(unit)
    db.session.commit()
    return unit


def job_download(client, url: str, query: str = "", wait: float = 120.0):
    """A click on an export that runs as a job (survey.services.jobs): the POST, its job's page
    until the job has finished, then the file. Returns (job page URL, the file's response);
    the response is closed, its body read."""
    import time

    response = client.post(url + query)
    assert response.status_code == 303, (url, response.status_code)
    page = response.headers["Location"]
    deadline = time.monotonic() + wait  # a bound for a hung job, not a speed goal
    while "data-job-pending" in (shown := client.get(page).get_data(as_text=True)):
        assert time.monotonic() < deadline, f"{page} still under way"
        time.sleep(0.05)
    assert "/file" in shown, shown
    file = client.get(page + "/file")
    file.get_data()
    file.close()
    return page, file
