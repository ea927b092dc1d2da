"""directory accounts: the DN of a user's LDAP / Active Directory entry

Revision ID: a6c4e8d2f105
Revises: b3d9e2f4a610
Create Date: 2026-12-04 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a6c4e8d2f105'
down_revision = 'b3d9e2f4a610'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('directory_dn', sa.String(length=500), nullable=True))


def downgrade():
    # Not in batch mode: on SQLite that would copy user_account into a new table and drop the old one,
    # which the foreign keys pointing at it refuse while rows refer to it. SQLite 3.35 and
    # later drop a plain column in place, as PostgreSQL does.
    op.drop_column('user_account', 'directory_dn')
