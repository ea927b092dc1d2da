"""log review sheets

Revision ID: d5e1a7c3b820
Revises: b2b933b40413
Create Date: 2026-12-03 21:55:00

Access-log review, routed: a round's deadline and when it was routed; one review sheet per
reviewing unit (answered by its head, approved by the next level up); one answer per sampled
entry, with the employee's explanation and the corrective action it opened.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5e1a7c3b820'
down_revision = 'b2b933b40413'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('review_round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('routed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('routed_by_name', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))

    op.create_table('review_sheet',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('head_unit_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_review_sheet_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['head_unit_id'], ['org_unit.id'], name=op.f('fk_review_sheet_head_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['round_id'], ['review_round.id'], name=op.f('fk_review_sheet_round_id_review_round')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['user_account.id'], name=op.f('fk_review_sheet_submitted_by_id_user_account')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_review_sheet_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_sheet')),
    sa.UniqueConstraint('round_id', 'unit_id', name=op.f('uq_review_sheet_round_id_unit_id'))
    )
    with op.batch_alter_table('review_sheet', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_sheet_head_unit_id'), ['head_unit_id'], unique=False)

    op.create_table('entry_review',
    sa.Column('sampled_id', sa.Integer(), nullable=False),
    sa.Column('sheet_id', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('request_no', sa.String(length=64), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('explain_asked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('explained_by_id', sa.Integer(), nullable=True),
    sa.Column('explained_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('action_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['action_id'], ['corrective_action.id'], name=op.f('fk_entry_review_action_id_corrective_action')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user_account.id'], name=op.f('fk_entry_review_answered_by_id_user_account')),
    sa.ForeignKeyConstraint(['explained_by_id'], ['user_account.id'], name=op.f('fk_entry_review_explained_by_id_user_account')),
    sa.ForeignKeyConstraint(['sampled_id'], ['sampled_entry.id'], name=op.f('fk_entry_review_sampled_id_sampled_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sheet_id'], ['review_sheet.id'], name=op.f('fk_entry_review_sheet_id_review_sheet')),
    sa.PrimaryKeyConstraint('sampled_id', name=op.f('pk_entry_review'))
    )
    with op.batch_alter_table('entry_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_review_action_id'), ['action_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_entry_review_sheet_id'), ['sheet_id'], unique=False)


def downgrade():
    with op.batch_alter_table('entry_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_review_sheet_id'))
        batch_op.drop_index(batch_op.f('ix_entry_review_action_id'))

    op.drop_table('entry_review')
    with op.batch_alter_table('review_sheet', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_sheet_head_unit_id'))

    op.drop_table('review_sheet')
    # A plain DROP COLUMN (SQLite 3.35+ has it): a batch rebuild of review_round on SQLite drops
    # the table, which the sampled entries of a demo or real round still reference.
    for column in ('due_on', 'routed_by_name', 'routed_at'):
        op.execute(f'ALTER TABLE review_round DROP COLUMN {column}')
