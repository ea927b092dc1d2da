"""export jobs: long exports made by a worker, their progress and their file

Revision ID: abdc845f6c60
Revises: 5d8e1c0a7b42
Create Date: 2026-12-03 21:42:09.025613

One row per export job (survey.services.jobs): its owner, kind and parameters, status and
progress, the Japanese message of a failure, and the stored_file it made. A new table only:
nothing existing changes. The downgrade deletes the jobs' files with the table: nothing else
refers to them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'abdc845f6c60'
down_revision = '5d8e1c0a7b42'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('identity', sa.String(length=64), nullable=False),
    sa.Column('active_key', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=True),
    sa.Column('queue_ref', sa.String(length=64), nullable=True),
    sa.Column('file_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=True),
    sa.Column('fallback', sa.String(length=255), nullable=True),
    sa.Column('mimetype', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['file_id'], ['stored_file.id'], name=op.f('fk_export_job_file_id_stored_file'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_export_job_owner_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_job')),
    sa.UniqueConstraint('active_key', name=op.f('uq_export_job_active_key'))
    )
    with op.batch_alter_table('export_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_job_finished_at'), ['finished_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_export_job_owner_id'), ['owner_id'], unique=False)

def downgrade():
    made = "SELECT file_id FROM export_job WHERE file_id IS NOT NULL"
    # Chunks first: SQLite enforces no ON DELETE CASCADE unless the connection asked for it.
    op.execute(f"DELETE FROM stored_file_chunk WHERE file_id IN ({made})")
    op.execute(f"DELETE FROM stored_file WHERE id IN ({made})")
    with op.batch_alter_table('export_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_job_owner_id'))
        batch_op.drop_index(batch_op.f('ix_export_job_finished_at'))

    op.drop_table('export_job')
