"""A review round's sample: every entry a rule matches, plus N entries drawn at random per unit.

Each rule is one query the database answers over the period's entries of one source (most are
a single pass over an index; a burst is one window function, then the bursts' own rows); only
the matching ids come back to Python. The random draw counts the entries of each group (a unit,
a company's staff, or the user ids the registers could not place) and picks positions in it with
`random.Random(f"{seed}:{unit}:{company}")`: the same seed, rules and entries give the same
sample on any machine, which `flask logs sample` checks against what a round recorded.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from reports.accesslogs import hours, tables
from reports.accesslogs.rules import RANDOM, Rule, RuleSet

Group = tuple[int | None, int | None]  # (unit_id, contractor_id); (None, None): unresolved


@dataclass(frozen=True)
class Scope:
    """The entries a round covers: one source, the local days first to last."""

    source_id: int
    first: date
    last: date
    zone: ZoneInfo

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in UTC."""
        start = datetime.combine(self.first, time(), self.zone).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time(), self.zone).astimezone(UTC)
        return start, end

    def where(self, entry=tables.log_entry) -> sa.ColumnElement[bool]:
        start, end = self.bounds
        return sa.and_(entry.c.source_id == self.source_id, entry.c.at >= start, entry.c.at < end)


@dataclass
class Sample:
    reasons: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    population: dict[Group, int] = field(default_factory=dict)  # entries per group

    @property
    def in_period(self) -> int:
        return sum(self.population.values())

    def add(self, ids: Iterable[int], reason: str) -> None:
        for entry_id in ids:
            self.reasons[entry_id].add(reason)

    def matched(self, reason: str) -> int:
        return sum(1 for found in self.reasons.values() if reason in found)


def draw(conn: sa.Connection, scope: Scope, ruleset: RuleSet, seed: str) -> Sample:
    sample = Sample()
    sample.population = _population(conn, scope)
    for rule in ruleset.rules:
        sample.add(MATCHES[rule.kind](conn, scope, rule), rule.key)
    if ruleset.per_unit:
        for group in sorted(sample.population, key=_order):
            picks = _picks(seed, group, sample.population[group], ruleset.per_unit)
            sample.add(_picked(conn, scope, group, picks), RANDOM)
    return sample


# --- at random --------------------------------------------------------------------------------


def _order(group: Group) -> tuple[int, int]:
    return (group[0] or 0, group[1] or 0)


def _population(conn: sa.Connection, scope: Scope) -> dict[Group, int]:
    entry = tables.log_entry
    rows = conn.execute(
        sa.select(entry.c.unit_id, entry.c.contractor_id, sa.func.count())
        .where(scope.where())
        .group_by(entry.c.unit_id, entry.c.contractor_id)
    )
    return {(unit, company): n for unit, company, n in rows}


def _picks(seed: str, group: Group, population: int, per_unit: int) -> list[int]:
    """Positions (in time order) drawn from the group: the seed and the group fix them."""
    rng = random.Random(f"{seed}:{group[0]}:{group[1]}")
    return sorted(rng.sample(range(population), min(per_unit, population)))


def _is(column: sa.ColumnElement, value: int | None) -> sa.ColumnElement[bool]:
    # `= NULL` is never true, and IS NOT DISTINCT FROM cannot use an index on PostgreSQL.
    return column.is_(None) if value is None else column == value


def _picked(conn: sa.Connection, scope: Scope, group: Group, picks: list[int]) -> list[int]:
    """The entries at the drawn positions of the group, in time order. The positions are
    counted in the database, along the index (source, unit, company, time, id) that holds all
    it needs: reading the ids into Python, or an OFFSET per position, cost several times more."""
    if not picks:
        return []
    entry = tables.log_entry
    position = sa.func.row_number().over(order_by=(entry.c.at, entry.c.id)) - 1
    numbered = (
        sa.select(entry.c.id, position.label("position"))
        .where(scope.where(), _is(entry.c.unit_id, group[0]), _is(entry.c.contractor_id, group[1]))
        .subquery()
    )
    stmt = sa.select(numbered.c.id).where(numbered.c.position.in_(picks))
    return list(conn.execute(stmt).scalars())


# --- the rules --------------------------------------------------------------------------------


def off_hours(conn: sa.Connection, scope: Scope, rule: Rule) -> list[int]:
    entry = tables.log_entry
    # The days either side: a UTC bound falls on the local day before or after.
    first, last = scope.first - timedelta(days=1), scope.last + timedelta(days=1)
    clause = hours.off_hours_clause(
        entry.c.at,
        conn.dialect.name,
        scope.zone,
        first,
        last,
        rule.settings["night_starts"],
        rule.settings["night_ends"],
        rule.closed_days(first, last),
    )
    return list(conn.execute(sa.select(entry.c.id).where(scope.where(), clause)).scalars())


def _minutes_before(conn: sa.Connection, moment: sa.ColumnElement, minutes: int):
    if conn.dialect.name == "postgresql":
        return moment - timedelta(minutes=minutes)
    # SQLite keeps moments as text in one format, compared as text: the same format here.
    return sa.func.strftime("%Y-%m-%d %H:%M:%f", moment, f"-{minutes} minutes")


def burst(conn: sa.Connection, scope: Scope, rule: Rule) -> list[int]:
    """Runs of `count` look-ups by one user id within `minutes`: a look-up ends one when the
    look-up `count - 1` before it by the same id is recent enough; each run's look-ups are then
    read by user id and time (overlapping runs merged)."""
    entry = tables.log_entry
    count, minutes = rule.settings["count"], rule.settings["minutes"]
    earlier = sa.func.lag(entry.c.at, count - 1, type_=entry.c.at.type).over(
        partition_by=entry.c.user_code, order_by=(entry.c.at, entry.c.id)
    )
    lagged = (
        sa.select(entry.c.user_code, entry.c.at, earlier.label("earlier"))
        .where(scope.where())
        .subquery()
    )
    ends = conn.execute(
        sa.select(lagged.c.user_code, lagged.c.earlier, lagged.c.at)
        .where(lagged.c.earlier >= _minutes_before(conn, lagged.c.at, minutes))
        .order_by(lagged.c.user_code, lagged.c.at)
    ).all()
    runs: list[tuple[str, object, object]] = []
    for user_code, start, end in ends:
        if runs and runs[-1][0] == user_code and start <= runs[-1][2]:
            runs[-1] = (user_code, runs[-1][1], max(end, runs[-1][2]))
        else:
            runs.append((user_code, start, end))
    found: list[int] = []
    for user_code, start, end in runs:
        found += conn.execute(
            sa.select(entry.c.id).where(
                scope.where(),
                entry.c.user_code == user_code,
                entry.c.at >= start,
                entry.c.at <= end,
            )
        ).scalars()
    return found


def own_household(conn: sa.Connection, scope: Scope, rule: Rule) -> list[int]:
    entry, household = tables.log_entry, tables.staff_household
    stmt = (
        sa.select(entry.c.id)
        .select_from(household)
        .join(
            entry,
            sa.and_(
                entry.c.source_id == household.c.source_id,
                entry.c.record_id == household.c.record_id,
                entry.c.user_code == household.c.user_code,
            ),
        )
        .where(household.c.source_id == scope.source_id, scope.where())
    )
    return list(conn.execute(stmt).scalars())


def other_district(conn: sa.Connection, scope: Scope, rule: Rule) -> list[int]:
    """Look-ups of a district the user's company (contractor staff) or unit does not serve;
    units and companies without served districts serve every district."""
    entry, served = tables.log_entry, tables.served_district
    company = entry.c.contractor_id.is_not(None)
    listed = sa.or_(
        sa.and_(company, entry.c.contractor_id.in_(sa.select(served.c.contractor_id))),
        sa.and_(~company, entry.c.unit_id.in_(sa.select(served.c.unit_id))),
    )
    serves = sa.exists().where(
        served.c.district == entry.c.district,
        sa.or_(
            sa.and_(company, served.c.contractor_id == entry.c.contractor_id),
            sa.and_(~company, served.c.unit_id == entry.c.unit_id),
        ),
    )
    stmt = sa.select(entry.c.id).where(scope.where(), entry.c.district != "", listed, ~serves)
    return list(conn.execute(stmt).scalars())


def many_units(conn: sa.Connection, scope: Scope, rule: Rule) -> list[int]:
    """Every look-up of a record that `units` units or companies looked up in the period
    (a unit's staff and a company's staff are never the same people: the counts add up)."""
    entry = tables.log_entry
    looked_up_by = sa.func.count(entry.c.unit_id.distinct()) + sa.func.count(
        entry.c.contractor_id.distinct()
    )
    records = (
        sa.select(entry.c.record_id)
        .where(scope.where(), entry.c.record_id != "")
        .group_by(entry.c.record_id)
        .having(looked_up_by >= rule.settings["units"])
        .subquery()
    )
    found = conn.execute(sa.select(records.c.record_id)).scalars().all()
    ids: list[int] = []
    for start in range(0, len(found), 500):
        ids += conn.execute(
            sa.select(entry.c.id).where(
                scope.where(), entry.c.record_id.in_(found[start : start + 500])
            )
        ).scalars()
    return ids


def missing_request(conn: sa.Connection, scope: Scope, rule: Rule) -> list[int]:
    entry = tables.log_entry
    stmt = sa.select(entry.c.id).where(scope.where(), entry.c.request_no == "")
    if rule.settings["operations"]:
        stmt = stmt.where(entry.c.operation.in_(rule.settings["operations"]))
    return list(conn.execute(stmt).scalars())


MATCHES: dict[str, Callable[[sa.Connection, Scope, Rule], list[int]]] = {
    "off_hours": off_hours,
    "burst": burst,
    "own_household": own_household,
    "other_district": other_district,
    "many_units": many_units,
    "missing_request": missing_request,
}
