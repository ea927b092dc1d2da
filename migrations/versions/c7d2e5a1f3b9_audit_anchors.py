"""audit anchors

Revision ID: c7d2e5a1f3b9
Revises: 5502f3024173
Create Date: 2026-12-03 15:50:00.000000

The chain heads `flask audit anchor` sent to the system log and the auditors' mail.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7d2e5a1f3b9'
down_revision = '5502f3024173'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_anchor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.Column('sent_to', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_anchor'))
    )


def downgrade():
    op.drop_table('audit_anchor')
