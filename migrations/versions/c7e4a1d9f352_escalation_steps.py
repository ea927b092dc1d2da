"""escalation steps: per campaign, and the office's defaults

Campaigns that exist get the built-in steps (respondent 3 days before the due date, unit head 3
days after, department head 7 days after), as a new campaign would.

Revision ID: c7e4a1d9f352
Revises: e8c4a2f6d913
Create Date: 2026-12-04 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7e4a1d9f352'
down_revision = 'e8c4a2f6d913'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'escalation_default',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('respondent_days', sa.Integer(), nullable=True),
        sa.Column('unit_head_days', sa.Integer(), nullable=True),
        sa.Column('department_head_days', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_escalation_default_updated_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_default')),
    )
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remind_respondent_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('remind_unit_head_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('remind_department_head_days', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE campaign SET remind_respondent_days = -3, remind_unit_head_days = 3,"
        " remind_department_head_days = 7"
    )


def downgrade():
    # Not in batch mode: on SQLite that would copy campaign into a new table and drop the old
    # one, which the foreign keys pointing at it refuse while rows refer to it. SQLite 3.35 and
    # later drop a plain column in place, as PostgreSQL does.
    op.drop_column('campaign', 'remind_department_head_days')
    op.drop_column('campaign', 'remind_unit_head_days')
    op.drop_column('campaign', 'remind_respondent_days')
    op.drop_table('escalation_default')
