"""Counting answers with SQLAlchemy Core.

The tables are declared here by name rather than imported from the Flask models, so this package
stays usable without the application. Only the columns the counts need are listed.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

# Answers count once their assignment has been handed in; drafts are still the respondent's.
COUNTED_STATUSES = ("submitted", "approved")

campaign = sa.table(
    "campaign",
    sa.column("id"),
    sa.column("code"),
    sa.column("title"),
    sa.column("checklist_id"),
    sa.column("opens_on"),
    sa.column("closes_on"),
)
checklist = sa.table(
    "checklist", sa.column("id"), sa.column("code"), sa.column("version"), sa.column("title")
)
category = sa.table("category", sa.column("id"), sa.column("code"), sa.column("title"))
item = sa.table(
    "item",
    sa.column("id"),
    sa.column("checklist_id"),
    sa.column("category_id"),
    sa.column("number"),
    sa.column("key"),
    sa.column("text"),
    sa.column("condition_number"),
    sa.column("condition_options", sa.JSON),
)
option = sa.table("scale_option", sa.column("id"), sa.column("code"), sa.column("klass"))
assignment = sa.table("assignment", sa.column("id"), sa.column("campaign_id"), sa.column("status"))
answer = sa.table(
    "answer",
    sa.column("id"),
    sa.column("assignment_id"),
    sa.column("item_id"),
    sa.column("option_id"),
)


class UnknownCampaign(LookupError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CampaignInfo:
    id: int
    code: str
    title: str
    checklist_id: int
    checklist_code: str
    checklist_version: int
    checklist_title: str


def campaign_info(conn: sa.Connection, code: str) -> CampaignInfo:
    row = conn.execute(
        sa.select(
            campaign.c.id,
            campaign.c.code,
            campaign.c.title,
            campaign.c.checklist_id,
            checklist.c.code,
            checklist.c.version,
            checklist.c.title,
        )
        .join(checklist, checklist.c.id == campaign.c.checklist_id)
        .where(campaign.c.code == code)
    ).first()
    if row is None:
        raise UnknownCampaign(code)
    return CampaignInfo(*row)


def items(conn: sa.Connection, checklist_id: int) -> list[sa.Row]:
    return list(
        conn.execute(
            sa.select(
                item.c.id,
                item.c.number,
                item.c.key,
                item.c.text,
                category.c.code.label("category_code"),
                category.c.title.label("category_title"),
                item.c.condition_number,
                item.c.condition_options,
            )
            .join(category, category.c.id == item.c.category_id)
            .where(item.c.checklist_id == checklist_id)
            .order_by(item.c.number)
        )
    )


def assignment_count(conn: sa.Connection, campaign_id: int) -> int:
    return conn.scalar(sa.select(sa.func.count()).where(assignment.c.campaign_id == campaign_id))


def _counted(campaign_id: int):
    return sa.and_(
        assignment.c.id == answer.c.assignment_id,
        assignment.c.campaign_id == campaign_id,
        assignment.c.status.in_(COUNTED_STATUSES),
    )


def class_counts(conn: sa.Connection, campaign_id: int) -> list[sa.Row]:
    """(item_id, klass, n) for every item: one GROUP BY over the handed-in answers."""
    return list(
        conn.execute(
            sa.select(answer.c.item_id, option.c.klass, sa.func.count().label("n"))
            .select_from(answer)
            .join(assignment, _counted(campaign_id))
            .join(option, option.c.id == answer.c.option_id)
            .group_by(answer.c.item_id, option.c.klass)
        )
    )


def conditional_class_counts(
    conn: sa.Connection, campaign_id: int, item_id: int, condition_item_id: int, codes: list[str]
) -> list[sa.Row]:
    """(klass, n) for a conditional item, counting only where its condition holds."""
    parent = answer.alias("parent")
    parent_option = option.alias("parent_option")
    return list(
        conn.execute(
            sa.select(option.c.klass, sa.func.count().label("n"))
            .select_from(answer)
            .join(assignment, _counted(campaign_id))
            .join(option, option.c.id == answer.c.option_id)
            .join(
                parent,
                sa.and_(
                    parent.c.assignment_id == answer.c.assignment_id,
                    parent.c.item_id == condition_item_id,
                ),
            )
            .join(parent_option, parent_option.c.id == parent.c.option_id)
            .where(answer.c.item_id == item_id, parent_option.c.code.in_(codes))
            .group_by(option.c.klass)
        )
    )


def condition_unmet_count(
    conn: sa.Connection, campaign_id: int, condition_item_id: int, codes: list[str]
) -> int:
    """How many handed-in assignments answered the condition item outside `codes`: for them
    the conditional item was never asked, so it is neither answered nor unanswered."""
    return conn.scalar(
        sa.select(sa.func.count())
        .select_from(answer)
        .join(assignment, _counted(campaign_id))
        .join(option, option.c.id == answer.c.option_id)
        .where(answer.c.item_id == condition_item_id, option.c.code.not_in(codes))
    )
