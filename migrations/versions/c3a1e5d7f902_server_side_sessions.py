"""server-side sessions: user_session replaces the session epoch

Revision ID: c3a1e5d7f902
Revises: 437411c1b5f7
Create Date: 2026-12-03 15:50:00.000000

Sessions signed in before the upgrade carry no session token: their users sign in again.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a1e5d7f902'
down_revision = '437411c1b5f7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_session',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=True),
    sa.Column('next_url', sa.String(length=2000), nullable=True),
    sa.Column('totp_setup', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=16), nullable=True),
    sa.Column('remote_addr', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_user_session_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session'))
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)

    # Not in batch mode: on SQLite that would copy user_account into a new table and drop the
    # old one, which the foreign keys pointing at it (recovery codes cascade) do not survive.
    # SQLite 3.35 and later drop a plain column in place, as PostgreSQL does.
    op.drop_column('user_account', 'session_epoch')


def downgrade():
    op.add_column('user_account', sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_user_session_created_at'))

    op.drop_table('user_session')
