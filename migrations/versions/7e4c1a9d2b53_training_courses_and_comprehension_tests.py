"""training courses and comprehension tests: course, course_target, enrolment, test_attempt,
attempt_answer; checklist.pass_mark, item.correct (a test's right answers), user_account.temporary

Revision ID: 7e4c1a9d2b53
Revises: e8c4a2f6d135
Create Date: 2026-12-04 02:47:36.585566

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7e4c1a9d2b53'
down_revision = 'e8c4a2f6d135'
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('course',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('material_text', sa.Text(), nullable=False),
    sa.Column('material_file_id', sa.Integer(), nullable=True),
    sa.Column('material_filename', sa.String(length=255), nullable=False),
    sa.Column('test_id', sa.Integer(), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('due_on >= opens_on', name=op.f('ck_course_period_order')),
    sa.ForeignKeyConstraint(['material_file_id'], ['stored_file.id'], name=op.f('fk_course_material_file_id_stored_file')),
    sa.ForeignKeyConstraint(['test_id'], ['checklist.id'], name=op.f('fk_course_test_id_checklist')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_course_code_version'))
    )
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_test_id'), ['test_id'], unique=False)

    op.create_table('course_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('contractor_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(unit_id IS NULL) <> (contractor_id IS NULL)', name=op.f('ck_course_target_one_kind')),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor.id'], name=op.f('fk_course_target_contractor_id_contractor')),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_course_target_course_id_course')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_course_target_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_target')),
    sa.UniqueConstraint('course_id', 'unit_id', 'contractor_id', name=op.f('uq_course_target_course_id_unit_id_contractor_id'))
    )
    with op.batch_alter_table('course_target', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_target_course_id'), ['course_id'], unique=False)

    op.create_table('enrolment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('contractor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('passed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor.id'], name=op.f('fk_enrolment_contractor_id_contractor')),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_enrolment_course_id_course')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_enrolment_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_enrolment_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolment')),
    sa.UniqueConstraint('course_id', 'user_id', name=op.f('uq_enrolment_course_id_user_id'))
    )
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolment_contractor_id'), ['contractor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrolment_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrolment_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrolment_user_id'), ['user_id'], unique=False)

    op.create_table('test_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], name=op.f('fk_test_attempt_enrolment_id_enrolment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_test_attempt')),
    sa.UniqueConstraint('enrolment_id', 'number', name=op.f('uq_test_attempt_enrolment_id_number'))
    )
    with op.batch_alter_table('test_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_test_attempt_enrolment_id'), ['enrolment_id'], unique=False)

    op.create_table('attempt_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('option_code', sa.String(length=32), nullable=False),
    sa.Column('correct', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['test_attempt.id'], name=op.f('fk_attempt_answer_attempt_id_test_attempt')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_attempt_answer_item_id_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attempt_answer')),
    sa.UniqueConstraint('attempt_id', 'item_id', name=op.f('uq_attempt_answer_attempt_id_item_id'))
    )
    with op.batch_alter_table('attempt_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attempt_answer_attempt_id'), ['attempt_id'], unique=False)

    with op.batch_alter_table('checklist', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pass_mark', sa.Integer(), nullable=True))

    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('correct', sa.String(length=32), server_default='', nullable=False))

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('temporary', sa.Boolean(), server_default='0', nullable=False))




def downgrade():
    
    # Not in batch mode: on SQLite that would copy user_account into a new table and drop the old one,
    # which the foreign keys pointing at it refuse while rows refer to it. SQLite 3.35 and
    # later drop a plain column in place, as PostgreSQL does.
    op.drop_column('user_account', 'temporary')

    op.drop_column('item', 'correct')
    op.drop_column('checklist', 'pass_mark')

    with op.batch_alter_table('attempt_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attempt_answer_attempt_id'))

    op.drop_table('attempt_answer')
    with op.batch_alter_table('test_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_test_attempt_enrolment_id'))

    op.drop_table('test_attempt')
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrolment_user_id'))
        batch_op.drop_index(batch_op.f('ix_enrolment_unit_id'))
        batch_op.drop_index(batch_op.f('ix_enrolment_course_id'))
        batch_op.drop_index(batch_op.f('ix_enrolment_contractor_id'))

    op.drop_table('enrolment')
    with op.batch_alter_table('course_target', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_target_course_id'))

    op.drop_table('course_target')
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_test_id'))

    op.drop_table('course')

