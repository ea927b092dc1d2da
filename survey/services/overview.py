"""What the home page shows: campaigns and assignments within the user's scope."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from survey.access import scope_assignments
from survey.extensions import db
from survey.models import Assignment, Campaign, User
from survey.models.campaigns import COUNTED_STATUSES


@dataclass(frozen=True)
class CampaignSummary:
    campaign: Campaign
    total: int
    handed_in: int  # submitted or approved

    @property
    def percent(self) -> int:
        return round(100 * self.handed_in / self.total) if self.total else 0


def campaign_summaries(user: User) -> list[CampaignSummary]:
    handed_in = sa.func.sum(sa.case((Assignment.status.in_(COUNTED_STATUSES), 1), else_=0))
    stmt = (
        sa.select(Campaign, sa.func.count(Assignment.id), handed_in)
        .join(Assignment, Assignment.campaign_id == Campaign.id)
        .group_by(Campaign.id)
        .order_by(Campaign.opens_on.desc(), Campaign.code)
        .options(joinedload(Campaign.checklist))
    )
    rows = db.session.execute(scope_assignments(user, stmt)).unique()
    return [CampaignSummary(campaign, total, done or 0) for campaign, total, done in rows]


def own_assignments(user: User) -> list[Assignment]:
    stmt = (
        sa.select(Assignment)
        .join(Campaign)
        .order_by(Campaign.closes_on.desc(), Assignment.id)
        .options(
            joinedload(Assignment.campaign),
            joinedload(Assignment.unit),
            joinedload(Assignment.system),
            joinedload(Assignment.contract),
        )
    )
    return list(db.session.scalars(scope_assignments(user, stmt)))
