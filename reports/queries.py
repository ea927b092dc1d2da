"""Counting answers with SQLAlchemy Core.

The tables are declared here by name rather than imported from the Flask models, so this package
stays usable without the application. Only the columns the counts need are listed.

Every count is one GROUP BY in the database; nothing here reads answers one by one except the
`stream_*` functions, which hand rows to a file writer as they come (server-side cursor on
PostgreSQL, so memory stays flat whatever the size of the campaign).

Scope: every function takes `units`, the responsible units whose assignments count (None: all).
It may be a list of ids or a SQL selectable of ids, such as survey.access.subtree_ids(unit) or
`subtree()` below, so a manager's figures are computed on their subtree only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from checklists import scoring
from checklists.schema import OPTION_CLASSES

# Answers count once their assignment has been handed in; drafts are still the respondent's.
COUNTED_STATUSES = ("submitted", "approved")
CLASSES = OPTION_CLASSES


def engine_options(url: str) -> dict:
    """create_engine() keywords for tenken's database at `url`, for the app and `make bench`
    alike. PostgreSQL without JIT: the reports' queries read kept counts and lists of a few
    thousand rows, whose plans PostgreSQL prices above jit_above_cost on a large campaign, then
    spends longer compiling than running (未提出一覧 of 100,000 assignments: 0.15 s without JIT,
    0.3–0.5 s with it; the bare GROUP BY over five million answers no slower)."""
    if sa.engine.make_url(url).get_backend_name() == "postgresql":
        return {"connect_args": {"options": "-c jit=off"}}
    return {}


campaign = sa.table(
    "campaign",
    sa.column("id"),
    sa.column("code"),
    sa.column("title"),
    sa.column("checklist_id"),
    sa.column("opens_on", sa.Date),
    sa.column("closes_on", sa.Date),
    sa.column("status"),
    sa.column("remind_respondent_days"),
    sa.column("remind_unit_head_days"),
    sa.column("remind_department_head_days"),
)
checklist = sa.table(
    "checklist",
    sa.column("id"),
    sa.column("code"),
    sa.column("version"),
    sa.column("title"),
    sa.column("target_kind"),
)
category = sa.table(
    "category", sa.column("id"), sa.column("code"), sa.column("title"), sa.column("position")
)
item = sa.table(
    "item",
    sa.column("id"),
    sa.column("checklist_id"),
    sa.column("category_id"),
    sa.column("number"),
    sa.column("key"),
    sa.column("text"),
    sa.column("scale_id"),
    sa.column("condition_number"),
    sa.column("condition_options", sa.JSON),
    sa.column("importance"),
)
option = sa.table(
    "scale_option",
    sa.column("id"),
    sa.column("scale_id"),
    sa.column("code"),
    sa.column("label"),
    sa.column("label_en"),
    sa.column("klass"),
    sa.column("score"),
    sa.column("position"),
)
scale = sa.table("scale", sa.column("id"), sa.column("code"), sa.column("title"))
checklist_grade = sa.table(
    "checklist_grade",
    sa.column("checklist_id"),
    sa.column("position"),
    sa.column("basis"),
    sa.column("min"),
    sa.column("label"),
    sa.column("label_en"),
    sa.column("advice"),
    sa.column("advice_en"),
    sa.column("below_standard"),
)
org_unit = sa.table(
    "org_unit",
    sa.column("id"),
    sa.column("code"),
    sa.column("name"),
    sa.column("kind"),
    sa.column("parent_id"),
    sa.column("position"),
)
assignment = sa.table(
    "assignment",
    sa.column("id"),
    sa.column("campaign_id"),
    sa.column("unit_id"),
    sa.column("system_id"),
    sa.column("contract_id"),
    sa.column("contractor_id"),
    sa.column("responsible_unit_id"),
    sa.column("status"),
    sa.column("due_on", sa.Date),
    sa.column("submitted_at", sa.DateTime(timezone=True)),
)
answer = sa.table(
    "answer",
    sa.column("id"),
    sa.column("assignment_id"),
    sa.column("item_id"),
    sa.column("option_id"),
    sa.column("comment"),
    sa.column("answered_by_id"),
    sa.column("answered_at", sa.DateTime(timezone=True)),
)
# Handed-in answers counted per (campaign, responsible unit, item, option): see
# survey/models/campaigns.py AnswerCount. 0 in unit_id or option_id: none.
answer_count = sa.table(
    "answer_count",
    sa.column("campaign_id"),
    sa.column("unit_id"),
    sa.column("item_id"),
    sa.column("option_id"),
    sa.column("answers"),
    sa.column("asked"),
)
# "No unit", "no option" in the kept counts' keys; a literal, so that the expression in the
# SELECT is the one in the GROUP BY (two bound parameters would differ for PostgreSQL).
_NONE = sa.literal_column("0")
information_system = sa.table("information_system", sa.column("id"), sa.column("name"))
contract = sa.table(
    "contract", sa.column("id"), sa.column("code"), sa.column("title"), sa.column("unit_id")
)
contractor = sa.table("contractor", sa.column("id"), sa.column("name"))
user_account = sa.table("user_account", sa.column("id"), sa.column("display_name"))

Units = Iterable[int] | sa.Select | None


class UnknownCampaign(LookupError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CampaignInfo:
    id: int
    code: str
    title: str
    checklist_id: int
    checklist_code: str
    checklist_version: int
    checklist_title: str
    opens_on: date | None = None
    closes_on: date | None = None
    status: str = ""
    target_kind: str = ""  # unit | system | contract | contractor
    # The escalation steps (reports.escalation.Steps), in days from the due date.
    remind_respondent_days: int | None = None
    remind_unit_head_days: int | None = None
    remind_department_head_days: int | None = None


@dataclass(frozen=True)
class Condition:
    """A conditional item: asked only where `parent_id` was answered with one of `codes`."""

    item_id: int
    parent_id: int
    codes: tuple[str, ...]


def _infos() -> sa.Select:
    """The columns of CampaignInfo, in its order."""
    return sa.select(
        campaign.c.id,
        campaign.c.code,
        campaign.c.title,
        campaign.c.checklist_id,
        checklist.c.code,
        checklist.c.version,
        checklist.c.title,
        campaign.c.opens_on,
        campaign.c.closes_on,
        campaign.c.status,
        checklist.c.target_kind,
        campaign.c.remind_respondent_days,
        campaign.c.remind_unit_head_days,
        campaign.c.remind_department_head_days,
    ).join(checklist, checklist.c.id == campaign.c.checklist_id)


def campaign_info(conn: sa.Connection, code: str) -> CampaignInfo:
    row = conn.execute(_infos().where(campaign.c.code == code)).first()
    if row is None:
        raise UnknownCampaign(code)
    return CampaignInfo(*row)


def _oldest_first(conn: sa.Connection, stmt: sa.Select) -> list[CampaignInfo]:
    return [
        CampaignInfo(*row)
        for row in conn.execute(stmt.order_by(campaign.c.opens_on, campaign.c.id))
    ]


def rounds(conn: sa.Connection, info: CampaignInfo) -> list[CampaignInfo]:
    """This round and every earlier one of the same checklist (any version), oldest first.
    Earlier drafts are left out: nothing has been asked in them."""
    earlier = sa.or_(
        campaign.c.opens_on < info.opens_on,
        sa.and_(campaign.c.opens_on == info.opens_on, campaign.c.id < info.id),
    )
    return _oldest_first(
        conn,
        _infos().where(
            checklist.c.code == info.checklist_code,
            sa.or_(campaign.c.id == info.id, sa.and_(earlier, campaign.c.status != "draft")),
        ),
    )


def items(conn: sa.Connection, checklist_id: int) -> list[sa.Row]:
    return list(
        conn.execute(
            sa.select(
                item.c.id,
                item.c.number,
                item.c.key,
                item.c.text,
                item.c.scale_id,
                category.c.code.label("category_code"),
                category.c.title.label("category_title"),
                item.c.condition_number,
                item.c.condition_options,
                item.c.importance,
            )
            .join(category, category.c.id == item.c.category_id)
            .where(item.c.checklist_id == checklist_id)
            .order_by(item.c.number)
        )
    )


def conditions(item_rows: list[sa.Row]) -> list[Condition]:
    ids = {row.number: row.id for row in item_rows}
    return [
        Condition(row.id, ids[row.condition_number], tuple(row.condition_options or ()))
        for row in item_rows
        if row.condition_number is not None and row.condition_number in ids
    ]


def options(conn: sa.Connection, checklist_id: int) -> list[sa.Row]:
    """The options of every scale the checklist's items use: id, code, label, klass, score."""
    used = sa.select(item.c.scale_id).where(item.c.checklist_id == checklist_id)
    return list(
        conn.execute(
            sa.select(
                option.c.id,
                option.c.scale_id,
                option.c.code,
                option.c.label,
                option.c.label_en,
                option.c.klass,
                option.c.score,
            )
            .where(option.c.scale_id.in_(used))
            .order_by(option.c.scale_id, option.c.position)
        )
    )


def grades(conn: sa.Connection, checklist_id: int) -> list[sa.Row]:
    """The checklist's grade bands, highest first (none: its results are not graded)."""
    c = checklist_grade.c
    return list(
        conn.execute(
            sa.select(c.basis, c.min, c.label, c.label_en, c.advice, c.advice_en, c.below_standard)
            .where(c.checklist_id == checklist_id)
            .order_by(c.position)
        )
    )


def scales(conn: sa.Connection, checklist_id: int) -> list[sa.Row]:
    """The scales the checklist's items use (id, code, title), in the order items first use
    them."""
    first = (
        sa.select(item.c.scale_id, sa.func.min(item.c.number).label("first"))
        .where(item.c.checklist_id == checklist_id)
        .group_by(item.c.scale_id)
        .subquery("first_use")
    )
    return list(
        conn.execute(
            sa.select(scale.c.id, scale.c.code, scale.c.title)
            .join(first, first.c.scale_id == scale.c.id)
            .order_by(first.c.first)
        )
    )


# --- scope --------------------------------------------------------------------------------


def subtree(unit_id: int) -> sa.Select:
    """Ids of a unit and every unit below it (a recursive CTE, one query at any depth)."""
    tree = (
        sa.select(org_unit.c.id)
        .where(org_unit.c.id == unit_id)
        .cte(f"unit_subtree_{int(unit_id)}", recursive=True)
    )
    child = org_unit.alias(f"subtree_child_{int(unit_id)}")
    tree = tree.union_all(
        sa.select(child.c.id).select_from(child.join(tree, child.c.parent_id == tree.c.id))
    )
    return sa.select(tree.c.id)


def unit_ids(conn: sa.Connection, units: Units) -> list[int] | None:
    """The scope as a plain list of ids, read once. A manager's subtree is a few dozen units;
    as literals in `IN (...)` the planner estimates them well (PostgreSQL: the department ×
    item counts of one department in 0.07 s instead of 1.45 s with the recursive CTE inline)."""
    if units is None:
        return None
    if isinstance(units, sa.Select):
        return [int(i) for (i,) in conn.execute(units)]
    return [int(i) for i in units]


def _ids(units: Units):
    if isinstance(units, sa.Select):
        return units
    # Ints only, written as literals: no limit on bound parameters, nothing to inject.
    return sa.bindparam(
        "units", [int(i) for i in units], expanding=True, literal_execute=True, unique=True
    )


def narrow(units: Units, more: Units) -> Units:
    """Both restrictions at once (a manager filtering on one department)."""
    if units is None:
        return more
    if more is None:
        return units
    return sa.select(org_unit.c.id).where(
        org_unit.c.id.in_(_ids(units)), org_unit.c.id.in_(_ids(more))
    )


def _scoped(stmt: sa.Select, units: Units) -> sa.Select:
    if units is None:
        return stmt
    return stmt.where(assignment.c.responsible_unit_id.in_(_ids(units)))


def unit_departments(parent: int | None = None) -> sa.CTE:
    """(unit_id, department_id): every unit with the unit it falls under one level below
    `parent` — the top-level unit above it (its 部局) when `parent` is None, otherwise the child
    of `parent` above it (部 → 課 → 係). `parent` itself is a group of its own: what it answers
    itself. Units outside `parent`'s subtree are not listed."""
    if parent is None:
        start = org_unit.c.parent_id.is_(None)
    else:
        at = sa.bindparam("parent_unit", int(parent), unique=True, literal_execute=True)
        start = sa.or_(org_unit.c.parent_id == at, org_unit.c.id == at)
    tree = (
        sa.select(org_unit.c.id.label("unit_id"), org_unit.c.id.label("department_id"))
        .where(start)
        .cte("unit_department", recursive=True)
    )
    child = org_unit.alias("department_child")
    step = sa.select(child.c.id, tree.c.department_id).select_from(
        child.join(tree, child.c.parent_id == tree.c.unit_id)
    )
    if parent is not None:
        # The parent's children are groups of their own (anchored above), not the parent's.
        step = step.where(tree.c.unit_id != int(parent))
    return tree.union_all(step)


def department_of(conn: sa.Connection, parent: int | None = None):
    """unit_departments(parent) as the counts join it. On PostgreSQL its pairs are read first
    and written into the SQL as literals (VALUES): estimating the recursive CTE at 25 times its
    2,050 rows, the planner hashed the 300,000 kept counts instead (spilling to disk), 2–3 times
    slower. SQLite looks the CTE up through an automatic index, and has no VALUES alias."""
    tree = unit_departments(parent)
    if conn.dialect.name != "postgresql":
        return tree
    pairs = conn.execute(sa.select(tree.c.unit_id, tree.c.department_id)).all()
    # Ints only, joined by hand: SQLAlchemy took 0.17 s to render 2,050 literal rows.
    rows = ", ".join(f"({int(u)}, {int(d)})" for u, d in pairs) or "(-1, -1)"  # no unit is -1
    return (
        sa.text(f"SELECT * FROM (VALUES {rows}) AS pairs (unit_id, department_id)")
        .columns(sa.column("unit_id", sa.Integer), sa.column("department_id", sa.Integer))
        .subquery("unit_department")
    )


def departments(conn: sa.Connection, parent: int | None = None) -> list[sa.Row]:
    """The groups of one level in their order: id, code, name — the top-level units, or
    `parent` followed by its children."""
    if parent is None:
        where, first = org_unit.c.parent_id.is_(None), sa.literal(0)
    else:
        where = sa.or_(org_unit.c.parent_id == int(parent), org_unit.c.id == int(parent))
        first = sa.case((org_unit.c.id == int(parent), 0), else_=1)
    return list(
        conn.execute(
            sa.select(org_unit.c.id, org_unit.c.code, org_unit.c.name)
            .where(where)
            .order_by(first, org_unit.c.position, org_unit.c.code)
        )
    )


def ancestors(conn: sa.Connection, unit_id: int) -> list[sa.Row]:
    """id, code, name, parent_id of a unit and every unit above it, from the top down (a
    recursive CTE: one query at any depth). Empty when there is no such unit."""
    columns = (org_unit.c.id, org_unit.c.code, org_unit.c.name, org_unit.c.parent_id)
    above = (
        sa.select(*columns, sa.literal_column("0").label("depth"))
        .where(org_unit.c.id == int(unit_id))
        .cte("unit_ancestors", recursive=True)
    )
    parent = org_unit.alias("ancestor")
    above = above.union_all(
        sa.select(
            parent.c.id, parent.c.code, parent.c.name, parent.c.parent_id, above.c.depth + 1
        ).select_from(parent.join(above, parent.c.id == above.c.parent_id))
    )
    path = sa.select(above.c.id, above.c.code, above.c.name, above.c.parent_id)
    return list(conn.execute(path.order_by(above.c.depth.desc())))


# --- counts -------------------------------------------------------------------------------


# The campaign and the statuses are written into the SQL as literals (an int and constants, so
# nothing to inject): the planner then sees the values, as in a hand-written query, and SQLite
# can pick the index-only scan when one campaign holds most of the answers.
def _of_campaign(campaign_id: int):
    return assignment.c.campaign_id == sa.bindparam(
        "campaign_id", int(campaign_id), unique=True, literal_execute=True
    )


def _counted_status():
    return assignment.c.status.in_(
        sa.bindparam(
            "counted", list(COUNTED_STATUSES), unique=True, expanding=True, literal_execute=True
        )
    )


def _handed_in(campaign_id: int):
    return sa.and_(_of_campaign(campaign_id), _counted_status())


def visible(conds: list[Condition]):
    """Leaves out answers to conditional items whose condition did not hold (None: no such
    items). Such answers may linger after a respondent changed the earlier answer; the item was
    not asked, so they belong in no count."""
    if not conds:
        return None
    clauses = [answer.c.item_id.not_in([c.item_id for c in conds])]
    for cond in conds:
        parent = answer.alias(f"condition_parent_{cond.item_id}")
        parent_option = option.alias(f"condition_option_{cond.item_id}")
        clauses.append(
            sa.and_(
                answer.c.item_id == cond.item_id,
                sa.exists().where(
                    parent.c.assignment_id == answer.c.assignment_id,
                    parent.c.item_id == cond.parent_id,
                    parent_option.c.id == parent.c.option_id,
                    parent_option.c.code.in_(cond.codes),
                ),
            )
        )
    return sa.or_(*clauses)


def _where_visible(stmt: sa.Select, conds: list[Condition]) -> sa.Select:
    clause = visible(conds)
    return stmt if clause is None else stmt.where(clause)


def answer_counts(
    conn: sa.Connection,
    campaign_id: int,
    conds: list[Condition],
    *,
    units: Units = None,
    by_department: bool = False,
    parent: int | None = None,
) -> list[sa.Row]:
    """(department_id,) item_id, option_id, n over the handed-in answers, read from the kept
    counts: their size is units × items × options, whatever the number of answers. `conds` is
    applied when the counts are kept (`asked` leaves out the answers to items not asked)."""
    keys = [answer_count.c.item_id, answer_count.c.option_id]
    joined = answer_count
    if by_department:
        dept = department_of(conn, parent)
        joined = joined.outerjoin(dept, dept.c.unit_id == answer_count.c.unit_id)
        keys = [dept.c.department_id, *keys]
    n = sa.func.sum(answer_count.c.asked)
    # Grouped by the key's own columns, in its order (no sort for the per-item rows); "no
    # option" comes back as NULL, as from the answers.
    columns = [*keys[:-1], sa.func.nullif(answer_count.c.option_id, _NONE).label("option_id")]
    stmt = (
        sa.select(*columns, n.label("n"))
        .select_from(joined)
        .where(_kept_of(campaign_id))
        .group_by(*keys)
        .having(n > 0)
    )
    return list(conn.execute(_kept_scoped(stmt, units, totals=not by_department)))


def assignment_counts(
    conn: sa.Connection,
    campaign_id: int,
    *,
    units: Units = None,
    by_department: bool = False,
    parent: int | None = None,
) -> list[sa.Row]:
    """(department_id,) total, handed_in: every assignment, whatever its status."""
    handed_in = sa.func.sum(sa.case((_counted_status(), 1), else_=0))
    columns = [sa.func.count().label("total"), handed_in.label("handed_in")]
    stmt = _scoped(sa.select(*columns).where(_of_campaign(campaign_id)), units)
    if not by_department:
        return list(conn.execute(stmt))
    # Per responsible unit first (a few thousand rows), then per department: the join then
    # looks up units, not each of the campaign's assignments.
    unit = assignment.c.responsible_unit_id
    per_unit = stmt.add_columns(unit.label("unit_id")).group_by(unit).subquery("per_unit")
    dept = department_of(conn, parent)
    return list(
        conn.execute(
            sa.select(
                dept.c.department_id,
                sa.cast(sa.func.sum(per_unit.c.total), sa.Integer).label("total"),
                sa.cast(sa.func.sum(per_unit.c.handed_in), sa.Integer).label("handed_in"),
            )
            .select_from(per_unit.outerjoin(dept, dept.c.unit_id == per_unit.c.unit_id))
            .group_by(dept.c.department_id)
        )
    )


def condition_unmet_counts(
    conn: sa.Connection,
    campaign_id: int,
    cond: Condition,
    *,
    units: Units = None,
    by_department: bool = False,
    parent: int | None = None,
) -> list[sa.Row]:
    """(department_id,) n: handed-in assignments that answered the condition item outside its
    codes. For them the conditional item was never asked: neither answered nor unanswered.
    Read from the kept counts of the condition item (all its answers, asked or not)."""
    joined = answer_count.join(option, option.c.id == answer_count.c.option_id)
    keys = []
    if by_department:
        dept = department_of(conn, parent)
        joined = joined.outerjoin(dept, dept.c.unit_id == answer_count.c.unit_id)
        keys = [dept.c.department_id]
    n = sa.func.coalesce(sa.func.sum(answer_count.c.answers), 0)
    stmt = (
        sa.select(*keys, n.label("n"))
        .select_from(joined)
        .where(
            _kept_of(campaign_id),
            answer_count.c.item_id == cond.parent_id,
            option.c.code.not_in(cond.codes),
        )
    )
    if keys:
        stmt = stmt.group_by(*keys)
    return list(conn.execute(_kept_scoped(stmt, units, totals=not by_department)))


# --- the kept counts ---------------------------------------------------------------------------


def _kept_of(campaign_id: int):
    return answer_count.c.campaign_id == sa.bindparam(
        "campaign_id", int(campaign_id), unique=True, literal_execute=True
    )


def _kept_scoped(stmt: sa.Select, units: Units, *, totals: bool) -> sa.Select:
    """The rows of `units`; of the whole campaign, its ALL_UNITS rows (`totals`) or the rows of
    every unit (to be grouped by department)."""
    if units is not None:
        return stmt.where(answer_count.c.unit_id.in_(_ids(units)))
    if totals:
        return stmt.where(answer_count.c.unit_id == ALL_UNITS)
    return stmt.where(answer_count.c.unit_id != ALL_UNITS)


# The key of the kept counts, in the order of their primary key.
KEPT_KEYS = ("campaign_id", "item_id", "option_id", "unit_id")
# The unit of the rows that hold the whole campaign's count of an (item, option), kept beside
# the rows of each unit: the figures of the whole campaign read 150 rows, not 300,000.
ALL_UNITS = -1


def counted_answers(
    campaign_id: int, conds: list[Condition], assignment_id: int | None = None
) -> sa.Select:
    """campaign_id, unit_id, item_id, option_id, answers, asked counted from the answers
    themselves: the campaign's handed-in ones, or (with `assignment_id`) that assignment's,
    whatever its status — what it adds to the kept counts or takes away from them."""
    shown = visible(conds)
    asked = sa.func.count() if shown is None else sa.func.sum(sa.case((shown, 1), else_=0))
    unit = sa.func.coalesce(assignment.c.responsible_unit_id, _NONE)
    keys = [unit, answer.c.item_id, sa.func.coalesce(answer.c.option_id, _NONE)]
    if assignment_id is None:
        which = _handed_in(campaign_id)
    else:
        which = assignment.c.id == int(assignment_id)
    return (
        sa.select(
            sa.literal(int(campaign_id)).label("campaign_id"),
            unit.label("unit_id"),
            answer.c.item_id,
            keys[2].label("option_id"),
            sa.func.count().label("answers"),
            asked.label("asked"),
        )
        .select_from(answer.join(assignment, assignment.c.id == answer.c.assignment_id))
        .where(which)
        .group_by(*keys)
    )


def kept_rows(conn: sa.Connection, campaign_id: int) -> list[sa.Row]:
    """The campaign's kept counts that are not zero (its ALL_UNITS rows too), in key order."""
    return list(
        conn.execute(
            sa.select(answer_count)
            .where(
                _kept_of(campaign_id),
                sa.or_(answer_count.c.answers != 0, answer_count.c.asked != 0),
            )
            .order_by(*(answer_count.c[k] for k in KEPT_KEYS))
        )
    )


def counted_rows(conn: sa.Connection, campaign_id: int, conds: list[Condition]) -> list[sa.Row]:
    """The same rows counted afresh from the answers (each unit's, then the ALL_UNITS ones)."""
    per_unit = counted_answers(campaign_id, conds).subquery()
    return list(conn.execute(sa.union_all(sa.select(per_unit), _totals_of(per_unit))))


def _totals_of(rows) -> sa.Select:
    """The ALL_UNITS rows of a selectable of each unit's rows."""
    return sa.select(
        rows.c.campaign_id,
        sa.literal_column(str(ALL_UNITS)).label("unit_id"),
        rows.c.item_id,
        rows.c.option_id,
        sa.func.sum(rows.c.answers).label("answers"),
        sa.func.sum(rows.c.asked).label("asked"),
    ).group_by(rows.c.campaign_id, rows.c.item_id, rows.c.option_id)


def recount(conn: sa.Connection, campaign_id: int, conds: list[Condition]) -> None:
    """Replaces the campaign's kept counts with the counts of its answers (bulk loads, repair)."""
    conn.execute(sa.delete(answer_count).where(_kept_of(campaign_id)))
    columns = ["campaign_id", "unit_id", "item_id", "option_id", "answers", "asked"]
    per_unit = counted_answers(campaign_id, conds)
    conn.execute(sa.insert(answer_count).from_select(columns, per_unit))
    kept = (
        sa.select(answer_count)
        .where(_kept_of(campaign_id), answer_count.c.unit_id != ALL_UNITS)
        .subquery("kept")
    )
    conn.execute(sa.insert(answer_count).from_select(columns, _totals_of(kept)))


# --- contracts, across rounds ----------------------------------------------------------------


def contract_rounds(conn: sa.Connection, contract_ids: list[int]) -> list[CampaignInfo]:
    """Every campaign that asked about one of these contracts (drafts aside), oldest first."""
    asked = sa.select(assignment.c.campaign_id).where(
        assignment.c.contract_id.in_(_ids(contract_ids))
    )
    return _oldest_first(
        conn, _infos().where(campaign.c.id.in_(asked), campaign.c.status != "draft")
    )


def contracts(conn: sa.Connection, contract_ids: list[int]) -> list[sa.Row]:
    """id, code, title and owning unit's name of each contract, by code."""
    owner = org_unit.alias("contract_owner")
    return list(
        conn.execute(
            sa.select(
                contract.c.id,
                contract.c.code,
                contract.c.title,
                sa.func.coalesce(owner.c.name, "").label("unit"),
            )
            .select_from(contract.outerjoin(owner, owner.c.id == contract.c.unit_id))
            .where(contract.c.id.in_(_ids(contract_ids)))
            .order_by(contract.c.code, contract.c.id)
        )
    )


def contract_answer_counts(
    conn: sa.Connection, campaign_id: int, conds: list[Condition], contract_ids: list[int]
) -> list[sa.Row]:
    """contract_id, option_id, n over the handed-in answers about these contracts."""
    keys = [assignment.c.contract_id, answer.c.option_id]
    stmt = (
        sa.select(*keys, sa.func.count().label("n"))
        .select_from(answer.join(assignment, assignment.c.id == answer.c.assignment_id))
        .where(_handed_in(campaign_id), assignment.c.contract_id.in_(_ids(contract_ids)))
        .group_by(*keys)
    )
    return list(conn.execute(_where_visible(stmt, conds)))


def contract_assignment_counts(
    conn: sa.Connection, campaign_id: int, contract_ids: list[int]
) -> list[sa.Row]:
    """contract_id, total, handed_in: the campaign's assignments about these contracts."""
    handed_in = sa.func.sum(sa.case((_counted_status(), 1), else_=0))
    return list(
        conn.execute(
            sa.select(
                assignment.c.contract_id,
                sa.func.count().label("total"),
                handed_in.label("handed_in"),
            )
            .where(_of_campaign(campaign_id), assignment.c.contract_id.in_(_ids(contract_ids)))
            .group_by(assignment.c.contract_id)
        )
    )


# --- kept for callers of the first version ----------------------------------------------------


def assignment_count(conn: sa.Connection, campaign_id: int) -> int:
    return conn.scalar(sa.select(sa.func.count()).where(assignment.c.campaign_id == campaign_id))


def class_counts(conn: sa.Connection, campaign_id: int) -> list[sa.Row]:
    """(item_id, klass, n) for every item: one GROUP BY over the handed-in answers."""
    return list(
        conn.execute(
            sa.select(answer.c.item_id, option.c.klass, sa.func.count().label("n"))
            .select_from(answer)
            .join(assignment, assignment.c.id == answer.c.assignment_id)
            .join(option, option.c.id == answer.c.option_id)
            .where(_handed_in(campaign_id))
            .group_by(answer.c.item_id, option.c.klass)
        )
    )


# --- rows behind the figures --------------------------------------------------------------


def target_name():
    """The assignment's target, whichever kind it is (one LEFT JOIN per kind)."""
    target_unit = org_unit.alias("target_unit")
    joined = (
        assignment.outerjoin(target_unit, target_unit.c.id == assignment.c.unit_id)
        .outerjoin(information_system, information_system.c.id == assignment.c.system_id)
        .outerjoin(contract, contract.c.id == assignment.c.contract_id)
        .outerjoin(contractor, contractor.c.id == assignment.c.contractor_id)
    )
    name = sa.func.coalesce(
        target_unit.c.name, information_system.c.name, contract.c.title, contractor.c.name, ""
    )
    return joined, name


def _with_names(joined):
    """Adds the responsible unit and its department; returns (from clause, columns, ordering)."""
    dept = unit_departments()
    responsible = org_unit.alias("responsible_unit")
    department = org_unit.alias("department_unit")
    joined = (
        joined.outerjoin(responsible, responsible.c.id == assignment.c.responsible_unit_id)
        .outerjoin(dept, dept.c.unit_id == assignment.c.responsible_unit_id)
        .outerjoin(department, department.c.id == dept.c.department_id)
    )
    columns = [
        dept.c.department_id,
        sa.func.coalesce(department.c.name, "").label("department"),
        sa.func.coalesce(responsible.c.name, "").label("unit"),
    ]
    order = {
        "department": [department.c.position, department.c.code],
        "unit": [responsible.c.code],
    }
    return joined, columns, order


def respondent_figures(campaign_id: int, conds: list[Condition], units: Units = None) -> sa.Select:
    """assignment_id, the count of each class, applicable, score and max_score of every
    handed-in assignment with an answer: checklists.scoring's rules in one GROUP BY. The results
    page, the files and a respondent's own result all read their figures from here."""
    scored = option.c.klass.in_(scoring.APPLICABLE)
    best = (
        sa.select(option.c.scale_id, sa.func.max(option.c.score).label("best"))
        .where(scored)
        .group_by(option.c.scale_id)
        .subquery("scale_best")
    )

    def n(classes):
        return sa.func.sum(sa.case((option.c.klass.in_(classes), 1), else_=0))

    figures = (
        sa.select(
            answer.c.assignment_id,
            *(n([klass]).label(klass) for klass in CLASSES),
            n(scoring.APPLICABLE).label("applicable"),
            sa.func.sum(sa.case((scored, option.c.score), else_=None)).label("score"),
            sa.func.sum(sa.case((scored, best.c.best), else_=None)).label("max_score"),
        )
        .select_from(
            answer.join(assignment, assignment.c.id == answer.c.assignment_id)
            .join(option, option.c.id == answer.c.option_id)
            .outerjoin(best, best.c.scale_id == option.c.scale_id)
        )
        .where(_handed_in(campaign_id))
        .group_by(answer.c.assignment_id)
    )
    return _where_visible(_scoped(figures, units), conds)


def stream_respondent_figures(
    conn: sa.Connection, campaign_id: int, conds: list[Condition], *, units: Units = None
) -> Iterator[sa.Row]:
    """respondent_figures, by assignment id (beside stream_assignments)."""
    stmt = respondent_figures(campaign_id, conds, units)
    return _stream(conn, stmt.order_by(answer.c.assignment_id))


def own_figures(
    conn: sa.Connection, campaign_id: int, conds: list[Condition], assignment_id: int
) -> sa.Row | None:
    """One handed-in assignment's row of respondent_figures (None: no answer counted)."""
    stmt = respondent_figures(campaign_id, conds).where(answer.c.assignment_id == assignment_id)
    return conn.execute(stmt).first()


def shortfalls(conn: sa.Connection, conds: list[Condition], assignment_id: int) -> list[sa.Row]:
    """The answers that lowered an assignment's result, by item: number, text, the option's
    label and class, the comment (checklists.scoring.SHORTFALL, asked items only)."""
    stmt = (
        sa.select(item.c.number, item.c.text, option.c.label, option.c.klass, answer.c.comment)
        .select_from(
            answer.join(option, option.c.id == answer.c.option_id).join(
                item, item.c.id == answer.c.item_id
            )
        )
        .where(answer.c.assignment_id == assignment_id, option.c.klass.in_(scoring.SHORTFALL))
        .order_by(item.c.number)
    )
    return list(conn.execute(_where_visible(stmt, conds)))


RESPONDENT_SORTS = ("department", "target", "noncompliant", "percent", "score", "submitted_at")


def respondent_rows(
    conn: sa.Connection,
    campaign_id: int,
    conds: list[Condition],
    *,
    units: Units = None,
    sort: str = "department",
    descending: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[int, list[sa.Row]]:
    """Per handed-in assignment: counts by class and the score, sorted and paged in SQL."""
    figures = respondent_figures(campaign_id, conds, units).subquery("respondent_figures")
    joined, name = target_name()
    joined, name_columns, order = _with_names(joined)
    joined = joined.outerjoin(figures, figures.c.assignment_id == assignment.c.id)
    zero = sa.literal(0)
    compliant = sa.func.coalesce(figures.c.compliant, zero)
    noncompliant = sa.func.coalesce(figures.c.noncompliant, zero)
    applicable = sa.func.coalesce(figures.c.applicable, zero)
    percent = sa.case((applicable > 0, 100.0 * compliant / applicable), else_=None)
    stmt = _scoped(
        sa.select(
            assignment.c.id.label("assignment_id"),
            *name_columns,
            name.label("target"),
            assignment.c.status,
            assignment.c.submitted_at,
            compliant.label("compliant"),
            noncompliant.label("noncompliant"),
            sa.func.coalesce(figures.c.excluded, zero).label("excluded"),
            percent.label("percent"),
            figures.c.score,
            figures.c.max_score,
            sa.func.coalesce(figures.c.partial, zero).label("partial"),
            sa.func.coalesce(figures.c.unknown, zero).label("unknown"),
        )
        .select_from(joined)
        .where(_handed_in(campaign_id)),
        units,
    )
    keys = {
        "department": [*order["department"], *order["unit"], name],
        "target": [name],
        "noncompliant": [noncompliant],
        "percent": [percent],
        "score": [figures.c.score],
        "submitted_at": [assignment.c.submitted_at],
    }[sort if sort in RESPONDENT_SORTS else "department"]
    keys = [k.desc() if descending else k.asc() for k in keys]
    # NULLs last whichever way: the same on SQLite and PostgreSQL.
    stmt = stmt.order_by(*[sa.nulls_last(k) for k in keys], assignment.c.id)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    total = conn.scalar(
        _scoped(
            sa.select(sa.func.count()).select_from(assignment).where(_handed_in(campaign_id)),
            units,
        )
    )
    return total, list(conn.execute(stmt))


ANSWER_SORTS = ("department", "target", "answer", "answered_at")


def answer_rows(
    conn: sa.Connection,
    campaign_id: int,
    item_id: int,
    conds: list[Condition],
    *,
    units: Units = None,
    klass: str | None = None,
    sort: str = "department",
    descending: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[int, list[sa.Row]]:
    """The handed-in answers to one item behind a figure, with who answered and their comment."""
    joined, name = target_name()
    joined, name_columns, order = _with_names(joined)
    joined = (
        joined.join(answer, answer.c.assignment_id == assignment.c.id)
        .outerjoin(option, option.c.id == answer.c.option_id)
        .outerjoin(user_account, user_account.c.id == answer.c.answered_by_id)
    )
    where = [_handed_in(campaign_id), answer.c.item_id == item_id]
    if klass:
        where.append(option.c.klass == klass)
    stmt = _scoped(
        sa.select(
            assignment.c.id.label("assignment_id"),
            *name_columns,
            name.label("target"),
            option.c.label.label("answer"),
            option.c.klass,
            answer.c.comment,
            answer.c.answered_at,
            sa.func.coalesce(user_account.c.display_name, "").label("answered_by"),
        )
        .select_from(joined)
        .where(*where),
        units,
    )
    stmt = _where_visible(stmt, conds)
    count = sa.select(sa.func.count()).select_from(stmt.subquery())
    keys = {
        "department": [*order["department"], *order["unit"], name],
        "target": [name],
        "answer": [option.c.position],
        "answered_at": [answer.c.answered_at],
    }[sort if sort in ANSWER_SORTS else "department"]
    keys = [k.desc() if descending else k.asc() for k in keys]
    stmt = stmt.order_by(*keys, assignment.c.id)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return conn.scalar(count), list(conn.execute(stmt))


# --- streams for the export (constant memory) ---------------------------------------------

STREAM_BATCH = 5_000


def _stream(conn: sa.Connection, stmt) -> Iterator[sa.Row]:
    result = conn.execution_options(stream_results=True, yield_per=STREAM_BATCH).execute(stmt)
    try:
        # Row by row: result.partitions() took three times as long on PostgreSQL's server-side
        # cursor and half again on SQLite (measured on the bench's million answers).
        yield from result
    finally:
        result.close()


def stream_assignments(
    conn: sa.Connection, campaign_id: int, *, units: Units = None, handed_in: bool = True
) -> Iterator[sa.Row]:
    """Handed-in (or, with handed_in=False, the other) assignments by id, with their names."""
    return _stream(conn, _assignments(campaign_id, units, handed_in).order_by(assignment.c.id))


def handed_in_count(conn: sa.Connection, campaign_id: int, *, units: Units = None) -> int:
    """Handed-in assignments: the rows of the answers' download."""
    stmt = sa.select(sa.func.count()).select_from(assignment).where(_handed_in(campaign_id))
    return conn.scalar(_scoped(stmt, units))


def pending_rows(
    conn: sa.Connection, campaign_id: int, *, units: Units = None, limit=None, offset: int = 0
) -> tuple[int, list[sa.Row]]:
    """Assignments not handed in yet, by department and unit, one page of them."""
    stmt = _assignments(campaign_id, units, handed_in=False)
    total = conn.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    stmt = stmt.order_by(sa.text("department_position"), sa.text("unit_code"), assignment.c.id)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return total, list(conn.execute(stmt))


def _assignments(campaign_id: int, units: Units, handed_in: bool) -> sa.Select:
    joined, name = target_name()
    joined, name_columns, order = _with_names(joined)
    status = _counted_status()
    answered = (
        sa.select(sa.func.count())
        .where(answer.c.assignment_id == assignment.c.id, answer.c.option_id.is_not(None))
        .correlate(assignment)
        .scalar_subquery()
    )
    stmt = sa.select(
        assignment.c.id,
        *name_columns,
        name.label("target"),
        assignment.c.status,
        assignment.c.submitted_at,
        assignment.c.due_on,
        *([] if handed_in else [answered.label("answered")]),
        *(
            c.label(label)
            for c, label in zip(
                order["department"], ("department_position", "department_code"), strict=True
            )
        ),
        order["unit"][0].label("unit_code"),
    ).select_from(joined)
    stmt = stmt.where(_of_campaign(campaign_id), status if handed_in else sa.not_(status))
    return _scoped(stmt, units)


def stream_answers(conn: sa.Connection, campaign_id: int, *, units: Units = None):
    """(assignment_id, item_id, option_id, comment) of handed-in assignments, by assignment."""
    stmt = (
        sa.select(answer.c.assignment_id, answer.c.item_id, answer.c.option_id, answer.c.comment)
        .select_from(answer.join(assignment, assignment.c.id == answer.c.assignment_id))
        .where(_handed_in(campaign_id))
    )
    return _stream(conn, _scoped(stmt, units).order_by(answer.c.assignment_id, answer.c.item_id))


def stream_remarks(
    conn: sa.Connection, campaign_id: int, conds: list[Condition], *, units: Units = None
):
    """Every いいえ, 一部実施 and わからない and every comment of the handed-in answers, by item,
    class, then department."""
    joined, name = target_name()
    joined, name_columns, order = _with_names(joined)
    joined = (
        joined.join(answer, answer.c.assignment_id == assignment.c.id)
        .join(item, item.c.id == answer.c.item_id)
        .outerjoin(option, option.c.id == answer.c.option_id)
    )
    stmt = sa.select(
        item.c.number,
        *name_columns,
        name.label("target"),
        option.c.label.label("answer"),
        option.c.klass,
        answer.c.comment,
        answer.c.answered_at,
    ).select_from(joined)
    stmt = stmt.where(
        _handed_in(campaign_id),
        sa.or_(option.c.klass.in_(scoring.SHORTFALL), answer.c.comment != ""),
    )
    stmt = _where_visible(_scoped(stmt, units), conds)
    # Within an item, いいえ first, then 一部実施 and わからない, each class listed together.
    by_class = sa.case(
        *((option.c.klass == k, n) for n, k in enumerate(("noncompliant", "partial", "unknown"))),
        else_=3,
    )
    return _stream(
        conn,
        stmt.order_by(
            item.c.number, by_class, *order["department"], *order["unit"], assignment.c.id
        ),
    )
