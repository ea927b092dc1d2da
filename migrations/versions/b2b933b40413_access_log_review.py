"""access log review

Revision ID: b2b933b40413
Revises: e24194cd480e
Create Date: 2026-12-03 18:57:44.661693

Access-log review (ログ点検): log sources and their imports and entries, served districts and
staff households for the rules, sampling rule sets, review rounds and their sampled entries.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b2b933b40413'
down_revision = 'e24194cd480e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sampling_rule_set',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('source_text', sa.Text(), nullable=False),
    sa.Column('imported_by_name', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sampling_rule_set')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_sampling_rule_set_code_version'))
    )
    op.create_table('served_district',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('contractor_id', sa.Integer(), nullable=True),
    sa.Column('district', sa.String(length=32), nullable=False),
    sa.CheckConstraint('(unit_id IS NULL) <> (contractor_id IS NULL)', name=op.f('ck_served_district_one_owner')),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor.id'], name=op.f('fk_served_district_contractor_id_contractor')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_served_district_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_served_district'))
    )
    with op.batch_alter_table('served_district', schema=None) as batch_op:
        batch_op.create_index('ix_served_district_contractor', ['contractor_id', 'district'], unique=False)
        batch_op.create_index('ix_served_district_unit', ['unit_id', 'district'], unique=False)

    op.create_table('log_source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('encoding', sa.String(length=16), nullable=False),
    sa.Column('delimiter', sa.String(length=1), nullable=False),
    sa.Column('time_format', sa.String(length=64), nullable=False),
    sa.Column('user_pattern', sa.String(length=300), nullable=False),
    sa.Column('time_column', sa.String(length=100), nullable=False),
    sa.Column('date_column', sa.String(length=100), nullable=False),
    sa.Column('user_column', sa.String(length=100), nullable=False),
    sa.Column('terminal_column', sa.String(length=100), nullable=False),
    sa.Column('operation_column', sa.String(length=100), nullable=False),
    sa.Column('record_column', sa.String(length=100), nullable=False),
    sa.Column('district_column', sa.String(length=100), nullable=False),
    sa.Column('reason_column', sa.String(length=100), nullable=False),
    sa.Column('request_column', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['system_id'], ['information_system.id'], name=op.f('fk_log_source_system_id_information_system')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log_source')),
    sa.UniqueConstraint('code', name=op.f('uq_log_source_code'))
    )
    with op.batch_alter_table('log_source', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_log_source_system_id'), ['system_id'], unique=False)

    op.create_table('log_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('file_format', sa.String(length=8), nullable=False),
    sa.Column('encoding', sa.String(length=16), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('unresolved_count', sa.Integer(), nullable=False),
    sa.Column('first_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.Column('imported_by_name', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['imported_by_id'], ['user_account.id'], name=op.f('fk_log_import_imported_by_id_user_account')),
    sa.ForeignKeyConstraint(['source_id'], ['log_source.id'], name=op.f('fk_log_import_source_id_log_source')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log_import')),
    sa.UniqueConstraint('source_id', 'sha256', name=op.f('uq_log_import_source_id_sha256'))
    )
    with op.batch_alter_table('log_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_log_import_source_id'), ['source_id'], unique=False)

    op.create_table('review_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('rule_set_id', sa.Integer(), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=False),
    sa.Column('period_to', sa.Date(), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('entries_in_period', sa.Integer(), nullable=True),
    sa.Column('created_by_name', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sampled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('period_to >= period_from', name=op.f('ck_review_round_period_order')),
    sa.ForeignKeyConstraint(['rule_set_id'], ['sampling_rule_set.id'], name=op.f('fk_review_round_rule_set_id_sampling_rule_set')),
    sa.ForeignKeyConstraint(['source_id'], ['log_source.id'], name=op.f('fk_review_round_source_id_log_source')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_round')),
    sa.UniqueConstraint('code', name=op.f('uq_review_round_code'))
    )
    with op.batch_alter_table('review_round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_round_source_id'), ['source_id'], unique=False)

    op.create_table('staff_household',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('user_code', sa.String(length=64), nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['log_source.id'], name=op.f('fk_staff_household_source_id_log_source')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_household')),
    sa.UniqueConstraint('source_id', 'user_code', 'record_id', name=op.f('uq_staff_household_source_id_user_code_record_id'))
    )
    op.create_table('log_entry',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_code', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('contractor_id', sa.Integer(), nullable=True),
    sa.Column('terminal', sa.String(length=64), nullable=False),
    sa.Column('operation', sa.String(length=64), nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.Column('district', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('request_no', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor.id'], name=op.f('fk_log_entry_contractor_id_contractor')),
    sa.ForeignKeyConstraint(['import_id'], ['log_import.id'], name=op.f('fk_log_entry_import_id_log_import')),
    sa.ForeignKeyConstraint(['source_id'], ['log_source.id'], name=op.f('fk_log_entry_source_id_log_source')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_log_entry_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_log_entry_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log_entry'))
    )
    with op.batch_alter_table('log_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_log_entry_import_id'), ['import_id'], unique=False)
        batch_op.create_index('ix_log_entry_source_at', ['source_id', 'at'], unique=False)
        batch_op.create_index('ix_log_entry_source_record', ['source_id', 'record_id'], unique=False)
        batch_op.create_index('ix_log_entry_source_owner_at', ['source_id', 'unit_id', 'contractor_id', 'at', 'id'], unique=False)
        batch_op.create_index('ix_log_entry_source_user_at', ['source_id', 'user_code', 'at'], unique=False)

    op.create_table('sampled_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('review_unit_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_code', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('contractor_id', sa.Integer(), nullable=True),
    sa.Column('terminal', sa.String(length=64), nullable=False),
    sa.Column('operation', sa.String(length=64), nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.Column('district', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('request_no', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor.id'], name=op.f('fk_sampled_entry_contractor_id_contractor')),
    sa.ForeignKeyConstraint(['entry_id'], ['log_entry.id'], name=op.f('fk_sampled_entry_entry_id_log_entry'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['review_unit_id'], ['org_unit.id'], name=op.f('fk_sampled_entry_review_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['round_id'], ['review_round.id'], name=op.f('fk_sampled_entry_round_id_review_round')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_sampled_entry_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_sampled_entry_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sampled_entry')),
    sa.UniqueConstraint('round_id', 'entry_id', name=op.f('uq_sampled_entry_round_id_entry_id'))
    )
    with op.batch_alter_table('sampled_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sampled_entry_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index('ix_sampled_entry_round_unit', ['round_id', 'review_unit_id'], unique=False)

    op.create_table('sample_reason',
    sa.Column('sampled_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['sampled_id'], ['sampled_entry.id'], name=op.f('fk_sample_reason_sampled_id_sampled_entry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sampled_id', 'rule', name=op.f('pk_sample_reason'))
    )


def downgrade():
    op.drop_table('sample_reason')
    with op.batch_alter_table('sampled_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_sampled_entry_round_unit')
        batch_op.drop_index(batch_op.f('ix_sampled_entry_entry_id'))

    op.drop_table('sampled_entry')
    with op.batch_alter_table('log_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_log_entry_source_user_at')
        batch_op.drop_index('ix_log_entry_source_owner_at')
        batch_op.drop_index('ix_log_entry_source_record')
        batch_op.drop_index('ix_log_entry_source_at')
        batch_op.drop_index(batch_op.f('ix_log_entry_import_id'))

    op.drop_table('log_entry')
    op.drop_table('staff_household')
    with op.batch_alter_table('review_round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_round_source_id'))

    op.drop_table('review_round')
    with op.batch_alter_table('log_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_log_import_source_id'))

    op.drop_table('log_import')
    with op.batch_alter_table('log_source', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_log_source_system_id'))

    op.drop_table('log_source')
    with op.batch_alter_table('served_district', schema=None) as batch_op:
        batch_op.drop_index('ix_served_district_unit')
        batch_op.drop_index('ix_served_district_contractor')

    op.drop_table('served_district')
    op.drop_table('sampling_rule_set')
