"""scored self-assessments: more answer classes, scales per checklist

Revision ID: d4f1a7c2e9b6
Revises: abdc845f6c60
Create Date: 2026-12-10 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4f1a7c2e9b6'
down_revision = 'abdc845f6c60'
branch_labels = None
depends_on = None

OLD_CLASSES = "klass IN ('compliant', 'noncompliant', 'excluded')"
NEW_CLASSES = (
    "klass IN ('compliant', 'partial', 'noncompliant', 'unknown', 'excluded', 'informational')"
)


import contextlib


@contextlib.contextmanager
def _tables_rebuilt():
    """SQLite rebuilds a table to change its constraints: dropping the old `scale` or
    `scale_option` would fail with foreign keys enforced while items and answers point at
    them. They are turned off around the rebuild (outside a transaction, where SQLite heeds
    the pragma) and checked again after."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        with op.get_context().autocommit_block():
            op.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        if sqlite:
            with op.get_context().autocommit_block():
                op.execute("PRAGMA foreign_keys=ON")


def upgrade():
    with _tables_rebuilt():
        _upgrade()


def downgrade():
    with _tables_rebuilt():
        _downgrade()


def _upgrade():
    with op.batch_alter_table('scale_option', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_scale_option_known_class'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_scale_option_known_class'), NEW_CLASSES)

    # A file's own scales belong to the checklist version that defines them (NULL: a built-in
    # scale, or one stored before, shared as it was): the same code in two files never mixes.
    with op.batch_alter_table('scale', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checklist_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_scale_checklist_id_checklist'), 'checklist', ['checklist_id'], ['id']
        )
        batch_op.drop_constraint(batch_op.f('uq_scale_code'), type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_scale_checklist_id_code'), ['checklist_id', 'code']
        )
        batch_op.create_index(batch_op.f('ix_scale_checklist_id'), ['checklist_id'])


def _downgrade():
    # Codes are global again: a checklist's own scale that shares its code with another keeps
    # its options under a code of its own.
    scale = sa.table('scale', sa.column('id'), sa.column('code'), sa.column('checklist_id'))
    conn = op.get_bind()
    seen = set()
    for id_, code in conn.execute(sa.select(scale.c.id, scale.c.code).order_by(scale.c.id)):
        if code in seen:
            renamed = f"{code[:20]}-{id_}"
            conn.execute(scale.update().where(scale.c.id == id_).values(code=renamed))
        seen.add(code)
    with op.batch_alter_table('scale', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scale_checklist_id'))
        batch_op.drop_constraint(batch_op.f('uq_scale_checklist_id_code'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_scale_code'), ['code'])
        batch_op.drop_constraint(batch_op.f('fk_scale_checklist_id_checklist'), type_='foreignkey')
        batch_op.drop_column('checklist_id')

    # The older classes are the nearest ones a partial or unknown answer (not compliant) and an
    # informational one (left out of every count) had before.
    option = sa.table('scale_option', sa.column('klass'))
    for new, old in (
        ('partial', 'noncompliant'),
        ('unknown', 'noncompliant'),
        ('informational', 'excluded'),
    ):
        conn.execute(option.update().where(option.c.klass == new).values(klass=old))
    with op.batch_alter_table('scale_option', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_scale_option_known_class'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_scale_option_known_class'), OLD_CLASSES)
