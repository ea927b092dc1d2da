"""Counts into tables. Every figure a user sees of a campaign comes out of here.

The database counts (one GROUP BY per table, see queries.py); pandas only shapes the few
hundred count rows into tables. No function here starts by reading every answer.

Every function takes `units` (None: the whole campaign), the responsible units whose assignments
count: a manager's figures are computed on their subtree only, not filtered afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

from checklists import scoring
from checklists.scoring import APPLICABLE
from reports import queries
from reports.queries import CLASSES, CampaignInfo, Units

PER_ITEM_COLUMNS = [
    "number",
    "key",
    "category",
    "text",
    "compliant",
    "noncompliant",
    "applicable",
    "excluded",
    "unanswered",
    "ratio",
    "percent",
]
COUNT_COLUMNS = ["compliant", "noncompliant", "applicable", "excluded", "unanswered"]
# What adds up: every class, and the items asked but not answered.
SUMMED = [*CLASSES, "unanswered"]
# Classes whose counts only checklists that use them show (a column each, beside いいえ).
OWN_COLUMN_CLASSES = ("partial", "unknown")
DEPARTMENT_COLUMNS = [
    "department_id",
    "department_code",
    "department",
    "assignments",
    "handed_in",
    *COUNT_COLUMNS,
    "ratio",
    "percent",
]
DEPARTMENT_ITEM_COLUMNS = [
    "department_id",
    "department_code",
    "department",
    "number",
    "key",
    *COUNT_COLUMNS,
    "ratio",
    "percent",
]
CATEGORY_COLUMNS = [
    "category_code",
    "category",
    "items",
    *COUNT_COLUMNS,
    *OWN_COLUMN_CLASSES,
    "ratio",
    "percent",
]


@dataclass(frozen=True)
class Campaign:
    """What every table of one campaign needs: its info, items, conditions and options."""

    info: CampaignInfo
    items: list[sa.Row]
    conditions: list[queries.Condition]
    options: dict[int, sa.Row]
    grades: list[sa.Row] = field(default_factory=list)  # queries.grades: bands, highest first

    def grade(self, score: int | None, max_score: int | None) -> sa.Row | None:
        """The band of a respondent's result (checklists.scoring.grade); None if ungraded."""
        if not self.grades:
            return None
        return scoring.grade(self.grades, self.grades[0].basis, score, max_score)

    @property
    def classes(self) -> set[str]:
        """The classes of the options the checklist offers."""
        return {o.klass for o in self.options.values()}

    @property
    def extra_classes(self) -> list[str]:
        """partial and unknown, as far as the checklist offers them: counted on their own."""
        return [k for k in OWN_COLUMN_CLASSES if k in self.classes]

    @property
    def listed_classes(self) -> list[str]:
        """The classes an item's answers can be listed by: the three every checklist has, and
        partial and unknown where this one offers them (informational is never listed)."""
        return ["noncompliant", *self.extra_classes, "compliant", "excluded"]

    @property
    def has_scores(self) -> bool:
        """True where some scale gives more than yes/no points (1 and 0)."""
        return any((o.score or 0) > 1 for o in self.options.values())


def load(conn: sa.Connection, campaign_code: str) -> Campaign:
    info = queries.campaign_info(conn, campaign_code)
    rows = queries.items(conn, info.checklist_id)
    return Campaign(
        info,
        rows,
        queries.conditions(rows),
        {o.id: o for o in queries.options(conn, info.checklist_id)},
        queries.grades(conn, info.checklist_id),
    )


def _campaign(conn: sa.Connection, campaign: str | Campaign) -> Campaign:
    return campaign if isinstance(campaign, Campaign) else load(conn, campaign)


# --- per item -----------------------------------------------------------------------------


def _by_class(rows: list[sa.Row], keys: list[str], campaign: Campaign) -> pd.DataFrame:
    """GROUP BY rows (keys..., option_id, n) summed per class: one column per class. Added up
    in plain Python: a few thousand rows, where pandas' pivot cost twice as much."""
    position = {klass: i for i, klass in enumerate(CLASSES)}
    column = {o.id: position[o.klass] for o in campaign.options.values()}
    width = len(keys)
    sums: dict = {}
    for row in rows:
        at = column.get(row[width])  # no option: not answered
        if at is None:
            continue
        key = row[0] if width == 1 else tuple(row[:width])
        cell = sums.get(key)
        if cell is None:
            cell = sums[key] = [0] * len(CLASSES)
        cell[at] += row[width + 1]
    if width == 1:
        index = pd.Index(list(sums), name=keys[0])
    else:
        index = pd.MultiIndex.from_arrays(list(zip(*sums, strict=True)) or [[]] * width, names=keys)
    return pd.DataFrame(list(sums.values()), index=index, columns=list(CLASSES), dtype="int64")


def _with_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """該当 and 該当率 by checklists.scoring's rule: compliant over every applicable answer."""
    for column in SUMMED:
        frame[column] = (frame[column] if column in frame else 0).astype("int64")
    frame["applicable"] = frame[list(APPLICABLE)].sum(axis=1)
    frame["ratio"] = frame["compliant"].astype(str) + "/" + frame["applicable"].astype(str)
    share = frame["compliant"] / frame["applicable"].where(frame["applicable"] > 0)
    frame["percent"] = (share * 100).round(1)
    return frame


def _items_frame(campaign: Campaign) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [
            (r.id, r.number, r.key, r.category_code, r.category_title, r.text, r.importance)
            for r in campaign.items
        ],
        columns=["item_id", "number", "key", "category_code", "category", "text", "importance"],
    )


def item_table(conn: sa.Connection, campaign: str | Campaign, units: Units = None) -> pd.DataFrame:
    """per_item with the item id and category code kept (for pages that link and filter)."""
    campaign = _campaign(conn, campaign)
    units = queries.unit_ids(conn, units)
    cid = campaign.info.id
    counts = _by_class(
        queries.answer_counts(conn, cid, campaign.conditions, units=units), ["item_id"], campaign
    )
    total = queries.assignment_counts(conn, cid, units=units)[0].total
    frame = _items_frame(campaign).join(counts, on="item_id")
    frame[list(CLASSES)] = frame[list(CLASSES)].fillna(0)
    asked = pd.Series(total, index=frame.index)
    for cond in campaign.conditions:
        unmet = queries.condition_unmet_counts(conn, cid, cond, units=units)[0].n
        asked[frame["item_id"] == cond.item_id] -= unmet
    frame["unanswered"] = asked - frame[list(CLASSES)].sum(axis=1)
    return _with_ratios(frame)


def per_item(
    conn: sa.Connection, campaign_code: str, units: Units = None
) -> tuple[CampaignInfo, pd.DataFrame]:
    """Per item: compliant, noncompliant, applicable (their sum), excluded (対象外), unanswered,
    the ratio as the reports write it (`133/139`) and the percentage.

    対象外 is left out of both counts. A conditional item counts only the assignments where its
    condition held; where it did not, the item was never asked and is not "unanswered" either.
    """
    campaign = load(conn, campaign_code)
    return campaign.info, item_table(conn, campaign, units)[PER_ITEM_COLUMNS]


def per_category(items: pd.DataFrame) -> pd.DataFrame:
    """Per category, from item_table(): the answers of its items added up."""
    grouped = items.groupby(["category_code", "category"], sort=False)
    frame = grouped[SUMMED].sum().reset_index()
    frame.insert(2, "items", grouped.size().to_numpy())
    return _with_ratios(frame)[CATEGORY_COLUMNS]


# --- per option -----------------------------------------------------------------------------


class UnknownScale(LookupError):
    """A scale code the campaign's checklist does not use."""


@dataclass(frozen=True)
class OptionCounts:
    """One scale's answers: its items down, its options across (headed by their labels)."""

    scale: sa.Row  # id, code, title
    options: list[sa.Row]  # in the scale's order
    frame: pd.DataFrame  # number, key, category, text, then one count column per option id


def option_counts(
    conn: sa.Connection, campaign: Campaign, units: Units = None, scale: str | None = None
) -> list[OptionCounts]:
    """Per scale the checklist uses (or only `scale`, by code): how many handed-in answers
    chose each option of each item, every class counted, 対象外 and 参考 too."""
    scales = queries.scales(conn, campaign.info.checklist_id)
    if scale is not None:
        scales = [s for s in scales if s.code == scale]
        if not scales:
            raise UnknownScale(scale)
    rows = queries.answer_counts(
        conn, campaign.info.id, campaign.conditions, units=queries.unit_ids(conn, units)
    )
    counts = {(r.item_id, r.option_id): r.n for r in rows}
    items = _items_frame(campaign)
    scale_of = {r.id: r.scale_id for r in campaign.items}
    result = []
    for s in scales:
        options = [o for o in campaign.options.values() if o.scale_id == s.id]
        frame = items[items["item_id"].map(scale_of) == s.id].copy()
        for o in options:
            frame[o.id] = [counts.get((i, o.id), 0) for i in frame["item_id"]]
        result.append(OptionCounts(s, options, frame.reset_index(drop=True)))
    return result


# --- per department -----------------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentFigures:
    summary: pd.DataFrame  # one row per department (DEPARTMENT_COLUMNS)
    items: pd.DataFrame  # department × item, long (DEPARTMENT_ITEM_COLUMNS)

    def matrix(self, value: str = "percent") -> pd.DataFrame:
        """Departments down, item numbers across."""
        table = self.items.pivot(index="department_id", columns="number", values=value)
        return table.reindex(self.summary["department_id"])


def _within(conn: sa.Connection, units: Units, parent: int | None) -> list[int] | None:
    """The scope's ids, cut to `parent`'s subtree: a level's figures count only what lies below
    it. Read as ids first, so that a scope already holding that subtree is not joined twice."""
    units = queries.unit_ids(conn, units)
    if parent is None:
        return units
    return queries.unit_ids(conn, queries.narrow(units, queries.subtree(parent)))


def per_department(
    conn: sa.Connection, campaign: str | Campaign, units: Units = None, parent: int | None = None
) -> DepartmentFigures:
    """Per 部局 (the top-level unit above each assignment's responsible unit), and per 部局 ×
    item; with `parent`, one level down the tree: per child of `parent` (and `parent` itself
    for what it answers itself), over `parent`'s subtree. Groups without an assignment in scope
    are left out."""
    campaign = _campaign(conn, campaign)
    units = _within(conn, units, parent)
    cid = campaign.info.id
    grouped = {"units": units, "by_department": True, "parent": parent}
    rows = queries.answer_counts(conn, cid, campaign.conditions, **grouped)
    counts = _by_class(rows, ["department_id", "item_id"], campaign)
    totals = pd.DataFrame.from_records(
        [tuple(r) for r in queries.assignment_counts(conn, cid, **grouped)],
        columns=["department_id", "assignments", "handed_in"],
    )
    names = pd.DataFrame.from_records(
        [tuple(r) for r in queries.departments(conn, parent)],
        columns=["department_id", "department_code", "department"],
    )
    names["order"] = range(len(names))
    depts = totals.merge(names, on="department_id", how="left")
    depts["department_id"] = depts["department_id"].fillna(0).astype("int64")
    depts[["department_code", "department"]] = depts[["department_code", "department"]].fillna("")
    depts = depts.sort_values("order", na_position="last").drop(columns="order")
    counts = counts.rename(index=lambda v: 0 if pd.isna(v) else v, level="department_id")

    grid = depts.merge(_items_frame(campaign)[["item_id", "number", "key"]], how="cross")
    grid = grid.join(counts, on=["department_id", "item_id"])
    grid[list(CLASSES)] = grid[list(CLASSES)].fillna(0)
    asked = grid["assignments"].copy()
    for cond in campaign.conditions:
        unmet = {
            (0 if r.department_id is None else r.department_id): r.n
            for r in queries.condition_unmet_counts(conn, cid, cond, **grouped)
        }
        at = grid["item_id"] == cond.item_id
        asked[at] -= grid.loc[at, "department_id"].map(unmet).fillna(0).astype("int64")
    grid["unanswered"] = asked - grid[list(CLASSES)].sum(axis=1)
    grid = _with_ratios(grid)

    sums = grid.groupby("department_id", sort=False)[SUMMED].sum()
    summary = _with_ratios(depts.join(sums, on="department_id"))
    return DepartmentFigures(
        summary[DEPARTMENT_COLUMNS].reset_index(drop=True),
        grid[DEPARTMENT_ITEM_COLUMNS].reset_index(drop=True),
    )


def per_department_item(
    conn: sa.Connection, campaign_code: str, units: Units = None
) -> tuple[CampaignInfo, pd.DataFrame]:
    campaign = load(conn, campaign_code)
    return campaign.info, per_department(conn, campaign, units).items


# --- the rows behind a figure ---------------------------------------------------------------

RESPONDENT_COLUMNS = [
    "assignment_id",
    "department_id",
    "department",
    "unit",
    "target",
    "status",
    "submitted_at",
    "compliant",
    "noncompliant",
    "excluded",
    "percent",
    "score",
    "max_score",
    "partial",
    "unknown",
]


def per_respondent(
    conn: sa.Connection,
    campaign: str | Campaign,
    units: Units = None,
    *,
    sort: str = "department",
    descending: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[int, pd.DataFrame]:
    """Per handed-in assignment: はい, いいえ (noncompliant), 対象外, percentage and the score
    (sum of option scores, and the best possible on the items answered). Sorted and paged by the
    database; returns (number of rows in all, this page)."""
    campaign = _campaign(conn, campaign)
    units = queries.unit_ids(conn, units)
    total, rows = queries.respondent_rows(
        conn,
        campaign.info.id,
        campaign.conditions,
        units=units,
        sort=sort,
        descending=descending,
        limit=limit,
        offset=offset,
    )
    frame = pd.DataFrame.from_records([tuple(r) for r in rows], columns=RESPONDENT_COLUMNS)
    frame["percent"] = frame["percent"].astype("float").round(1)
    bands = [campaign.grade(r.score, r.max_score) for r in rows]
    frame["grade"] = [None if band is None else band.label for band in bands]
    return total, frame


ANSWER_COLUMNS = [
    "assignment_id",
    "department_id",
    "department",
    "unit",
    "target",
    "answer",
    "klass",
    "comment",
    "answered_at",
    "answered_by",
]


def answers_behind(
    conn: sa.Connection,
    campaign: str | Campaign,
    number: int,
    units: Units = None,
    *,
    klass: str | None = None,
    sort: str = "department",
    descending: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[int, pd.DataFrame]:
    """Who answered item `number` (with `klass`: noncompliant for いいえ), and their comments."""
    campaign = _campaign(conn, campaign)
    units = queries.unit_ids(conn, units)
    item_id = next((r.id for r in campaign.items if r.number == number), None)
    if item_id is None:
        raise KeyError(number)
    total, rows = queries.answer_rows(
        conn,
        campaign.info.id,
        item_id,
        campaign.conditions,
        units=units,
        klass=klass,
        sort=sort,
        descending=descending,
        limit=limit,
        offset=offset,
    )
    return total, pd.DataFrame.from_records([tuple(r) for r in rows], columns=ANSWER_COLUMNS)


def departments_in_scope(
    conn: sa.Connection, campaign: str | Campaign, units: Units = None, parent: int | None = None
) -> list[tuple[int, str]]:
    """(id, name) of the groups of one level (the departments, or `parent` and its children)
    with at least one assignment in scope, in their order."""
    campaign = _campaign(conn, campaign)
    units = _within(conn, units, parent)
    present = {
        r.department_id
        for r in queries.assignment_counts(
            conn, campaign.info.id, units=units, by_department=True, parent=parent
        )
    }
    return [(r.id, r.name) for r in queries.departments(conn, parent) if r.id in present]


PENDING_COLUMNS = ["assignment_id", "department_id", "department", "unit", "target", "status"]
PENDING_COLUMNS += ["submitted_at", "due_on", "answered"]


def pending(
    conn: sa.Connection,
    campaign: str | Campaign,
    units: Units = None,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[int, pd.DataFrame]:
    """Assignments not handed in yet (not started, in progress, returned), one page of them."""
    campaign = _campaign(conn, campaign)
    units = queries.unit_ids(conn, units)
    total, rows = queries.pending_rows(
        conn, campaign.info.id, units=units, limit=limit, offset=offset
    )
    frame = pd.DataFrame.from_records(
        [tuple(r)[: len(PENDING_COLUMNS)] for r in rows], columns=PENDING_COLUMNS
    )
    return total, frame
