"""Small builders for tests that need more than the demo: an open campaign on any checklist."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from survey.demo import DEMO_PASSWORD
from survey.extensions import db
from survey.models import Assignment, Campaign, Checklist, OrgUnit, User
from survey.models.campaigns import CampaignStatus
from survey.models.org import UserSession
from survey.services.checklists import import_files
from survey.services.signin import hash_session_token


def user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


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
