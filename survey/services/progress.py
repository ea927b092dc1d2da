"""How far a campaign has come, on the user's scope (access.scope_assignments): counts per
department (部局), the overdue list with the people to chase, and the rows of the not-yet-
submitted download."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from reports.escalation import Steps
from reports.escalation import label as escalation_label
from reports.queries import unit_departments
from reports.tables import STATUS_LABELS
from survey import access
from survey.extensions import db
from survey.models import Assignment, Campaign, OrgUnit, User
from survey.models.campaigns import COUNTED_STATUSES, AssignmentStatus
from survey.services.escalation import campaign_steps
from survey.services.levels import Level

STATUSES = tuple(AssignmentStatus)
OVERDUE_SORTS = ("department", "unit", "due", "status")


@dataclass
class DepartmentRow:
    department_id: int | None
    name: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def handed_in(self) -> int:
        return sum(self.counts[s] for s in COUNTED_STATUSES)

    @property
    def percent(self) -> float:
        return round(100 * self.handed_in / self.total, 1) if self.total else 0.0


@dataclass
class Overview:
    departments: list[DepartmentRow]
    totals: DepartmentRow


def _department_of(parent: int | None = None):
    """(unit_id, department_id) and the department's row, for joining to assignments; with
    `parent`, the group is the child of `parent` above each unit (one level down the tree)."""
    tree = unit_departments(parent)
    department = aliased(OrgUnit, name="department")
    return tree, department


def overview(campaign: Campaign, user: User, level: Level | None = None) -> Overview:
    """Counts per status for each group of the level (survey.services.levels): per 部局, or
    per child of the chosen unit, on the level's scope."""
    parent = level.parent if level else None
    tree, department = _department_of(parent)
    stmt = (
        sa.select(department.id, department.name, Assignment.status, sa.func.count())
        .select_from(Assignment)
        .outerjoin(tree, tree.c.unit_id == Assignment.responsible_unit_id)
        .outerjoin(department, department.id == tree.c.department_id)
        .where(Assignment.campaign_id == campaign.id)
        .group_by(department.id, department.name, department.position, department.code)
        .group_by(Assignment.status)
        .order_by(department.position, department.code)
    )
    rows: dict[int | None, DepartmentRow] = {}
    totals = DepartmentRow(None, "")
    stmt = _within(access.scope_assignments(user, stmt), level)
    # The parent's own questionnaires first, then its children in their order.
    stmt = stmt.order_by(None).order_by(
        sa.case((department.id == parent, 0), else_=1) if parent else sa.literal(0),
        department.position,
        department.code,
    )
    for dept_id, name, status, count in db.session.execute(stmt):
        row = rows.setdefault(dept_id, DepartmentRow(dept_id, name or ""))
        row.counts[status] = row.counts.get(status, 0) + count
        totals.counts[status] = totals.counts.get(status, 0) + count
    return Overview(list(rows.values()), totals)


# --- not handed in ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    assignment: Assignment
    department: str
    unit: str
    due: date
    days_over: int  # 0 when not overdue
    people: list[User]
    step: str | None  # the escalation step reached today (reports.escalation), if any


def _due():
    return sa.func.coalesce(Assignment.due_on, Campaign.closes_on)


def _within(stmt: sa.Select, level: Level | None) -> sa.Select:
    """Only the assignments of the level's units, when a unit was chosen down the tree (the
    user's own scope is access.scope_assignments' business)."""
    if level is None or level.chosen is None:
        return stmt
    return stmt.where(Assignment.responsible_unit_id.in_(level.units))


def _pending_stmt(
    campaign: Campaign,
    user: User,
    today: date | None,
    sort: str,
    descending,
    level: Level | None = None,
):
    tree, department = _department_of()
    unit = aliased(OrgUnit, name="responsible")
    due = _due()
    order = {
        "department": [department.position, department.code, unit.position, unit.code],
        "unit": [unit.name, unit.code],
        "due": [due],
        "status": [Assignment.status],
    }[sort if sort in OVERDUE_SORTS else "department"]
    if descending:
        order = [column.desc() for column in order]
    stmt = (
        sa.select(Assignment, department.name, unit.name, due)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .outerjoin(unit, unit.id == Assignment.responsible_unit_id)
        .outerjoin(tree, tree.c.unit_id == Assignment.responsible_unit_id)
        .outerjoin(department, department.id == tree.c.department_id)
        .where(Assignment.campaign_id == campaign.id, Assignment.status.in_(access.EDITABLE))
        .order_by(*order, Assignment.id)
    )
    if today is not None:
        stmt = stmt.where(due < today)
    return _within(access.scope_assignments(user, stmt), level)


def _people(unit_ids: set[int]) -> dict[int, list[User]]:
    found: dict[int, list[User]] = defaultdict(list)
    if unit_ids:
        for person in db.session.scalars(
            sa.select(User)
            .where(User.unit_id.in_(unit_ids), User.active.is_(True))
            .order_by(User.role, User.username)
        ):
            found[person.unit_id].append(person)
    return found


def _rows(result, today: date, steps: Steps) -> list[Pending]:
    rows = list(result)
    people = _people({a.responsible_unit_id for a, *_ in rows if a.responsible_unit_id})
    return [
        Pending(
            assignment=a,
            department=dept or "",
            unit=unit or "",
            due=due,
            days_over=max(0, (today - due).days),
            people=people.get(a.responsible_unit_id, []),
            step=steps.step(due, today),
        )
        for a, dept, unit, due in rows
    ]


def _loading(stmt: sa.Select) -> sa.Select:
    return stmt.options(
        selectinload(Assignment.unit),
        selectinload(Assignment.system),
        selectinload(Assignment.contract),
        selectinload(Assignment.contractor),
    )


def overdue(
    campaign: Campaign,
    user: User,
    today: date,
    *,
    sort: str = "department",
    descending: bool = False,
    page: int = 1,
    per_page: int = 50,
    level: Level | None = None,
) -> tuple[int, list[Pending]]:
    """Assignments not handed in whose due date has passed, a page of them, with the people
    of the responsible unit."""
    stmt = _pending_stmt(campaign, user, today, sort, descending, level)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    page_stmt = _loading(stmt).limit(per_page).offset((page - 1) * per_page)
    return total, _rows(db.session.execute(page_stmt), today, campaign_steps(campaign))


def pending(
    campaign: Campaign, user: User, today: date, level: Level | None = None
) -> list[Pending]:
    """Every assignment in scope not handed in yet (overdue or not), department by department."""
    stmt = _loading(_pending_stmt(campaign, user, None, "department", False, level))
    return _rows(db.session.execute(stmt), today, campaign_steps(campaign))


PENDING_HEADERS = (
    "部局",
    "担当所属",
    "対象",
    "状態",
    "回答期限",
    "超過日数",
    "担当者",
    "メールアドレス",
    "督促段階",
)


def pending_rows(rows: list[Pending]) -> list[tuple]:
    """Plain rows for reports.progress, in the order of PENDING_HEADERS (Japanese: the workbook
    is written for the office, whatever language the screen is in)."""
    labels = STATUS_LABELS["ja"]
    return [
        (
            row.department,
            row.unit,
            row.assignment.target_name,
            labels.get(row.assignment.status, row.assignment.status),
            row.due,
            row.days_over or None,
            "、".join(p.display_name for p in row.people),
            "、".join(p.email for p in row.people if p.email),
            escalation_label(row.step) or None,
        )
        for row in rows
    ]
