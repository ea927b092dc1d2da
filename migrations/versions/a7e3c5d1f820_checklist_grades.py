"""checklist grades: bands on a respondent's result, per checklist version

Revision ID: a7e3c5d1f820
Revises: d4f1a7c2e9b6
Create Date: 2026-12-10 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7e3c5d1f820'
down_revision = 'd4f1a7c2e9b6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'checklist_grade',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('checklist_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('basis', sa.String(length=16), nullable=False),
        sa.Column('min', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=100), nullable=False),
        sa.Column('label_en', sa.String(length=100), nullable=False),
        sa.Column('advice', sa.Text(), nullable=False),
        sa.Column('advice_en', sa.Text(), nullable=False),
        sa.Column('below_standard', sa.Boolean(), nullable=False),
        sa.CheckConstraint("basis IN ('percent', 'points')", name=op.f('ck_checklist_grade_known_basis')),
        sa.ForeignKeyConstraint(['checklist_id'], ['checklist.id'], name=op.f('fk_checklist_grade_checklist_id_checklist')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_checklist_grade')),
        sa.UniqueConstraint('checklist_id', 'position', name=op.f('uq_checklist_grade_checklist_id_position')),
    )
    with op.batch_alter_table('checklist_grade', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checklist_grade_checklist_id'), ['checklist_id'], unique=False)


def downgrade():
    with op.batch_alter_table('checklist_grade', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checklist_grade_checklist_id'))
    op.drop_table('checklist_grade')
