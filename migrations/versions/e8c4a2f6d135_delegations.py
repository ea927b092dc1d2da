"""delegations: parts of a questionnaire handed to a colleague

Revision ID: e8c4a2f6d135
Revises: c7e4a1d9f352
Create Date: 2026-12-04 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8c4a2f6d135'
down_revision = 'c7e4a1d9f352'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'delegation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assignment_id', sa.Integer(), nullable=False),
        sa.Column('delegator_id', sa.Integer(), nullable=False),
        sa.Column('delegate_id', sa.Integer(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_delegation_assignment_id_assignment')),
        sa.ForeignKeyConstraint(['delegate_id'], ['user_account.id'], name=op.f('fk_delegation_delegate_id_user_account')),
        sa.ForeignKeyConstraint(['delegator_id'], ['user_account.id'], name=op.f('fk_delegation_delegator_id_user_account')),
        sa.ForeignKeyConstraint(['ended_by_id'], ['user_account.id'], name=op.f('fk_delegation_ended_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_delegation')),
    )
    with op.batch_alter_table('delegation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delegation_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delegation_delegate_id'), ['delegate_id'], unique=False)
    op.create_table(
        'delegation_category',
        sa.Column('delegation_id', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_delegation_category_category_id_category')),
        sa.ForeignKeyConstraint(['delegation_id'], ['delegation.id'], name=op.f('fk_delegation_category_delegation_id_delegation'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('delegation_id', 'category_id', name=op.f('pk_delegation_category')),
    )


def downgrade():
    op.drop_table('delegation_category')
    with op.batch_alter_table('delegation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegation_delegate_id'))
        batch_op.drop_index(batch_op.f('ix_delegation_assignment_id'))
    op.drop_table('delegation')
