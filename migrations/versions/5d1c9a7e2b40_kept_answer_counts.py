"""kept answer counts: answer_count, filled from the handed-in answers

Revision ID: 5d1c9a7e2b40
Revises: a7e3c5d1f820
Create Date: 2026-12-03 22:00:00.000000

The results read answer_count (handed-in answers per campaign, responsible unit, item and option)
instead of every answer. The upgrade counts every campaign's submitted and approved answers into
it, per responsible unit and for the whole campaign (unit -1); a conditional item's answer is
`asked` only where its condition item was answered with one of its codes. The counting repeats
reports/queries.py (counted_answers, visible) on purpose: this migration must not change when
that module does. `flask report counts check` compares the
result with the answers.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d1c9a7e2b40'
down_revision = 'a7e3c5d1f820'
branch_labels = None
depends_on = None

COUNTED = ("submitted", "approved")
ALL_UNITS = -1

campaign = sa.table("campaign", sa.column("id"), sa.column("checklist_id"))
item = sa.table(
    "item",
    sa.column("id"),
    sa.column("checklist_id"),
    sa.column("number"),
    sa.column("condition_number"),
    sa.column("condition_options", sa.JSON),
)
option = sa.table("scale_option", sa.column("id"), sa.column("code"))
assignment = sa.table(
    "assignment",
    sa.column("id"),
    sa.column("campaign_id"),
    sa.column("responsible_unit_id"),
    sa.column("status"),
)
answer = sa.table(
    "answer", sa.column("assignment_id"), sa.column("item_id"), sa.column("option_id")
)
answer_count = sa.table(
    "answer_count",
    sa.column("campaign_id"),
    sa.column("unit_id"),
    sa.column("item_id"),
    sa.column("option_id"),
    sa.column("answers"),
    sa.column("asked"),
)


def upgrade():
    op.create_table('answer_count',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('option_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.Column('asked', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_answer_count_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_answer_count_item_id_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'item_id', 'option_id', 'unit_id', name=op.f('pk_answer_count')),
    sqlite_with_rowid=False,
    )
    op.create_index(op.f('ix_answer_count_campaign_unit'), 'answer_count', ['campaign_id', 'unit_id'], unique=False)
    conn = op.get_bind()
    columns = ["campaign_id", "unit_id", "item_id", "option_id", "answers", "asked"]
    for campaign_id, checklist_id in conn.execute(sa.select(campaign.c.id, campaign.c.checklist_id)).all():
        conn.execute(
            sa.insert(answer_count).from_select(columns, _counted(conn, campaign_id, checklist_id))
        )
    # Each (item, option) of the whole campaign: unit_id ALL_UNITS (-1).
    conn.execute(
        sa.insert(answer_count).from_select(
            columns,
            sa.select(
                answer_count.c.campaign_id,
                sa.literal_column(str(ALL_UNITS)),
                answer_count.c.item_id,
                answer_count.c.option_id,
                sa.func.sum(answer_count.c.answers),
                sa.func.sum(answer_count.c.asked),
            ).group_by(answer_count.c.campaign_id, answer_count.c.item_id, answer_count.c.option_id),
        )
    )


def _conditions(conn, checklist_id):
    """(conditional item id, its condition item's id, the codes that ask it)."""
    rows = conn.execute(
        sa.select(item.c.id, item.c.number, item.c.condition_number, item.c.condition_options)
        .where(item.c.checklist_id == checklist_id)
    ).all()
    ids = {row.number: row.id for row in rows}
    return [
        (row.id, ids[row.condition_number], tuple(row.condition_options or ()))
        for row in rows
        if row.condition_number is not None and row.condition_number in ids
    ]


def _asked(conds):
    if not conds:
        return sa.func.count()
    clauses = [answer.c.item_id.not_in([c[0] for c in conds])]
    for item_id, parent_id, codes in conds:
        parent = answer.alias(f"condition_parent_{item_id}")
        parent_option = option.alias(f"condition_option_{item_id}")
        clauses.append(
            sa.and_(
                answer.c.item_id == item_id,
                sa.exists().where(
                    parent.c.assignment_id == answer.c.assignment_id,
                    parent.c.item_id == parent_id,
                    parent_option.c.id == parent.c.option_id,
                    parent_option.c.code.in_(codes),
                ),
            )
        )
    return sa.func.sum(sa.case((sa.or_(*clauses), 1), else_=0))


def _counted(conn, campaign_id, checklist_id):
    none = sa.literal_column("0")
    unit = sa.func.coalesce(assignment.c.responsible_unit_id, none)
    choice = sa.func.coalesce(answer.c.option_id, none)
    return (
        sa.select(
            sa.literal_column(str(int(campaign_id))),
            unit,
            answer.c.item_id,
            choice,
            sa.func.count(),
            _asked(_conditions(conn, checklist_id)),
        )
        .select_from(answer.join(assignment, assignment.c.id == answer.c.assignment_id))
        .where(assignment.c.campaign_id == campaign_id, assignment.c.status.in_(COUNTED))
        .group_by(unit, answer.c.item_id, choice)
    )


def downgrade():
    op.drop_index(op.f('ix_answer_count_campaign_unit'), table_name='answer_count')
    op.drop_table('answer_count')
