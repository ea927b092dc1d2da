"""Small builders for tests that need more than the demo: an open campaign on any checklist."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Assignment, Campaign, Checklist, User
from survey.models.campaigns import CampaignStatus
from survey.services.checklists import import_files


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
