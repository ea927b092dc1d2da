"""The demo's escalation (督促段階): one division of 区民部 was asked to answer this year's
round early and has not, so by December its reminders have climbed past its head to the
department's (部局長), as the progress page and the 未提出一覧 show. The demo's overdue
corrective action of 納税課 (demo_followup) climbs the same way under the office's defaults."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Assignment, Campaign, OrgUnit
from survey.models.campaigns import AssignmentStatus

CAMPAIGN = "2026-annual-assets"
DEPARTMENT = "区民部"
DEMO_RESPONDENT_UNIT = "戸籍住民課"  # the demo respondent's own work stays as it is
# Seven days past it the department head's step is reached (the built-in steps): 2026-12-01.
EARLY_DUE = date(2026, 11, 24)


def load() -> Assignment:
    """Bring one not-yet-handed-in questionnaire of 区民部 forward to EARLY_DUE (the first of
    its divisions in the tree's order, so the demo comes out the same every time)."""
    department = sa.select(OrgUnit.id).where(OrgUnit.name == DEPARTMENT).scalar_subquery()
    late = db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .join(OrgUnit, OrgUnit.id == Assignment.unit_id)
        .where(
            Campaign.code == CAMPAIGN,
            OrgUnit.parent_id == department,
            OrgUnit.name != DEMO_RESPONDENT_UNIT,
            Assignment.status.in_((AssignmentStatus.NOT_STARTED, AssignmentStatus.DRAFT)),
        )
        .order_by(OrgUnit.position, OrgUnit.code)
        .limit(1)
    )
    late.due_on = EARLY_DUE
    return late
