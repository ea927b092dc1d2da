"""log review incidents

Revision ID: e8c4a2f6d913
Revises: e8c4a2f6b913
Create Date: 2026-12-04 02:48:11

An incident record the office may open from a confirmed flag of the access-log review
(不適切な可能性 on an approved sheet): what, when found, the unit, 調査中 / 対応済 / 報告済, the
look-up and the sheet it came from, who opened and who last moved it on.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8c4a2f6d913'
down_revision = 'e8c4a2f6b913'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('found_on', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('sampled_id', sa.Integer(), nullable=False),
    sa.Column('sheet_id', sa.Integer(), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_id'], ['user_account.id'], name=op.f('fk_incident_changed_by_id_user_account')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['user_account.id'], name=op.f('fk_incident_opened_by_id_user_account')),
    sa.ForeignKeyConstraint(['sampled_id'], ['sampled_entry.id'], name=op.f('fk_incident_sampled_id_sampled_entry')),
    sa.ForeignKeyConstraint(['sheet_id'], ['review_sheet.id'], name=op.f('fk_incident_sheet_id_review_sheet')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_incident_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident')),
    sa.UniqueConstraint('sampled_id', name=op.f('uq_incident_sampled_id'))
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_sheet_id'), ['sheet_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_unit_id'), ['unit_id'], unique=False)



def downgrade():
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_unit_id'))
        batch_op.drop_index(batch_op.f('ix_incident_sheet_id'))

    op.drop_table('incident')
