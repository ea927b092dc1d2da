"""company staff accounts; a delegation's steps in the history name it

Revision ID: f3b7d1c9e524
Revises: 7e4c1a9d2b53
Create Date: 2026-12-04 08:00:00.000000

A staff account may belong to a company instead of a unit (a contractor's own staff, who answer
only what the company's contact hands them). Each delegation step of a questionnaire's history
names its delegation, so that a delegate's history shows their own steps only. The conditions
are written here, not imported from the model, so that this migration never changes when the
model does.
"""

import contextlib
import datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f3b7d1c9e524'
down_revision = '7e4c1a9d2b53'
branch_labels = None
depends_on = None

OLD_ACCOUNTS = "(role = 'contractor') = (contractor_id IS NOT NULL)"
NEW_ACCOUNTS = (
    "(role = 'contractor' AND contractor_id IS NOT NULL)"
    " OR (role = 'staff' AND (unit_id IS NULL OR contractor_id IS NULL))"
    " OR (role NOT IN ('contractor', 'staff') AND contractor_id IS NULL)"
)


@contextlib.contextmanager
def _tables_rebuilt():
    """SQLite rebuilds a table to change its constraints: dropping the old user_account with
    foreign keys enforced would fail, or cascade to the sessions and recovery codes that point
    at it. They are turned off around the rebuild (outside a transaction, where SQLite heeds the
    pragma) and on again after."""
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
        with op.batch_alter_table("user_account", schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f("ck_user_account_contractor_has_company"), type_="check"
            )
            batch_op.create_check_constraint(
                batch_op.f("ck_user_account_company_accounts"), NEW_ACCOUNTS
            )
        with op.batch_alter_table("assignment_event", schema=None) as batch_op:
            batch_op.add_column(sa.Column("delegation_id", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f("fk_assignment_event_delegation_id_delegation"),
                "delegation",
                ["delegation_id"],
                ["id"],
            )
    # The steps recorded before are matched to their delegation: on the same questionnaire, by
    # the same person, the one whose own time of that step is nearest the step's.
    _name_old_steps()


STEP_TIMES = {
    "delegate": ("delegator_id", "created_at"),
    "delegate_done": ("delegate_id", "done_at"),
    "delegate_end": ("ended_by_id", "ended_at"),
}


def _name_old_steps():
    when = sa.DateTime(timezone=True)
    event = sa.table(
        "assignment_event",
        sa.column("id"),
        sa.column("assignment_id"),
        sa.column("action"),
        sa.column("user_id"),
        sa.column("at", when),
        sa.column("delegation_id"),
    )
    delegation = sa.table(
        "delegation",
        sa.column("id"),
        sa.column("assignment_id"),
        sa.column("delegator_id"),
        sa.column("delegate_id"),
        sa.column("ended_by_id"),
        sa.column("created_at", when),
        sa.column("done_at", when),
        sa.column("ended_at", when),
    )
    conn = op.get_bind()
    steps = conn.execute(
        sa.select(
            event.c.id, event.c.assignment_id, event.c.action, event.c.user_id, event.c.at
        ).where(event.c.action.in_(list(STEP_TIMES)))
    ).all()
    for step_id, assignment_id, action, user_id, at in steps:
        author, moment = STEP_TIMES[action]
        found = conn.execute(
            sa.select(delegation.c.id, delegation.c[moment]).where(
                delegation.c.assignment_id == assignment_id,
                delegation.c[author] == user_id,
                delegation.c[moment].is_not(None),
            )
        ).all()
        if found and at is not None:
            nearest = min(found, key=lambda row: abs(_naive(row[1]) - _naive(at)))
            conn.execute(
                event.update().where(event.c.id == step_id).values(delegation_id=nearest[0])
            )


def _naive(moment):
    # SQLite hands the times back without their zone (UTC), PostgreSQL with it: compared alike.
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(datetime.UTC).replace(tzinfo=None)


def downgrade():
    with _tables_rebuilt():
        # SQLite drops a column used by a foreign key only by rebuilding the table.
        with op.batch_alter_table("assignment_event", schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f("fk_assignment_event_delegation_id_delegation"), type_="foreignkey"
            )
            batch_op.drop_column("delegation_id")
        # The old rule has no company staff: their accounts are switched off and left unlinked
        # from the company (their delegations keep their names).
        account = sa.table(
            "user_account",
            sa.column("role"),
            sa.column("contractor_id"),
            sa.column("active"),
        )
        op.get_bind().execute(
            account.update()
            .where(account.c.role == "staff", account.c.contractor_id.is_not(None))
            .values(contractor_id=None, active=False)
        )
        with op.batch_alter_table("user_account", schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f("ck_user_account_company_accounts"), type_="check")
            batch_op.create_check_constraint(
                batch_op.f("ck_user_account_contractor_has_company"), OLD_ACCOUNTS
            )
