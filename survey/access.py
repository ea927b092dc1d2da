"""The one permission gate: who may see which assignments, units and registers.

Every list a view shows is built from these scoped queries, so a role can never see what the
scope leaves out, whatever id it puts in a URL.
"""

from __future__ import annotations

import sqlalchemy as sa

from survey.models import Assignment, Contract, OrgUnit, Role, User

SEE_ALL = (Role.ADMIN, Role.AUDITOR)


def subtree_ids(unit_id: int) -> sa.Select:
    """The ids of a unit and every unit below it (a recursive CTE, one query at any depth)."""
    tree = sa.select(OrgUnit.id).where(OrgUnit.id == unit_id).cte("tree", recursive=True)
    tree = tree.union_all(sa.select(OrgUnit.id).join(tree, OrgUnit.parent_id == tree.c.id))
    return sa.select(tree.c.id)


def scope_assignments(user: User, stmt: sa.Select) -> sa.Select:
    """Restrict a query over Assignment to what `user` may see."""
    if user.role in SEE_ALL:
        return stmt
    if user.role == Role.MANAGER and user.unit_id is not None:
        return stmt.where(Assignment.responsible_unit_id.in_(subtree_ids(user.unit_id)))
    if user.role == Role.RESPONDENT and user.unit_id is not None:
        return stmt.where(Assignment.responsible_unit_id == user.unit_id)
    if user.role == Role.CONTRACTOR and user.contractor_id is not None:
        own_contracts = sa.select(Contract.id).where(Contract.contractor_id == user.contractor_id)
        return stmt.where(
            sa.or_(
                Assignment.contract_id.in_(own_contracts),
                Assignment.contractor_id == user.contractor_id,
            )
        )
    return stmt.where(sa.false())
