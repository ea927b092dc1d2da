"""pledges: versioned pledge texts, their acknowledgements, the contract's pledge flag

Revision ID: e8c4a2f6b913
Revises: a6c4e8d2f105
Create Date: 2026-12-04 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8c4a2f6b913'
down_revision = 'a6c4e8d2f105'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pledge',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('audience', sa.String(length=16), nullable=False),
        sa.Column('renewal', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pledge')),
        sa.UniqueConstraint('code', name=op.f('uq_pledge_code')),
    )
    op.create_table(
        'pledge_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pledge_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('published_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['pledge_id'], ['pledge.id'], name=op.f('fk_pledge_version_pledge_id_pledge')),
        sa.ForeignKeyConstraint(['published_by_id'], ['user_account.id'], name=op.f('fk_pledge_version_published_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pledge_version')),
        sa.UniqueConstraint('pledge_id', 'version', name=op.f('uq_pledge_version_pledge_id_version')),
    )
    with op.batch_alter_table('pledge_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pledge_version_pledge_id'), ['pledge_id'], unique=False)
    op.create_table(
        'pledge_acknowledgement',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('signed_name', sa.String(length=100), nullable=False),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('acknowledged_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_pledge_acknowledgement_user_id_user_account')),
        sa.ForeignKeyConstraint(['version_id'], ['pledge_version.id'], name=op.f('fk_pledge_acknowledgement_version_id_pledge_version')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pledge_acknowledgement')),
        sa.UniqueConstraint('version_id', 'user_id', 'acknowledged_on', name=op.f('uq_pledge_acknowledgement_version_id_user_id_acknowledged_on')),
    )
    with op.batch_alter_table('pledge_acknowledgement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pledge_acknowledgement_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pledge_acknowledgement_version_id'), ['version_id'], unique=False)
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pledge_required', sa.Boolean(), server_default='0', nullable=False))


def downgrade():
    # Not in batch mode: on SQLite that would copy contract into a new table and drop the old one,
    # which the foreign keys pointing at it refuse while rows refer to it. SQLite 3.35 and
    # later drop a plain column in place, as PostgreSQL does.
    op.drop_column('contract', 'pledge_required')
    with op.batch_alter_table('pledge_acknowledgement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pledge_acknowledgement_version_id'))
        batch_op.drop_index(batch_op.f('ix_pledge_acknowledgement_user_id'))
    op.drop_table('pledge_acknowledgement')
    with op.batch_alter_table('pledge_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pledge_version_pledge_id'))
    op.drop_table('pledge_version')
    op.drop_table('pledge')
