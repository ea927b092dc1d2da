"""Reading an access-log export into log entries: every row parsed, checked and resolved, and
written in batches of INSERTs on the caller's connection and transaction.

`load` streams the file (reports.accesslogs.reader) and keeps at most one batch of rows in
memory. Each row's time is read in the office's zone and stored in UTC; its user id is resolved
once per distinct id through the registers (`Resolver`). Problems are collected by row and
column, and as soon as there is one nothing more is written: the caller rolls the transaction
back, so a file with a problem leaves nothing behind. `load(..., target=None)` checks a file
without writing (the upload's preview).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from checklists.workbook_limits import WorkbookLimits
from reports.accesslogs import reader, tables
from reports.accesslogs.mapping import MAX_LENGTH, Mapping, heading_key
from reports.accesslogs.messages import Problem, ProblemsFound

BATCH = 5_000
MAX_PROBLEMS = 200  # listed; the rest are counted
OLDEST_YEAR = 2000
CLOCK_SLACK = timedelta(hours=1)  # a system's clock a little ahead is not a problem
VALUE_REQUIRED = ("time", "user")  # a look-up without a record (a list search) is kept

# The column of log_entry each field of the mapping fills (time and date make `at`).
COLUMNS = {
    "user": "user_code",
    "terminal": "terminal",
    "operation": "operation",
    "record": "record_id",
    "district": "district",
    "reason": "reason",
    "request": "request_no",
}

# 2026/10/1 9:05, 2026-10-01 09:05:00.123, 2026年10月1日 9時5分, 2026.10.01T09:05:00
_LOOSE = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?[ T\u3000]+"
    r"(\d{1,2})[:時](\d{1,2})(?:[:分](\d{1,2})(?:\.(\d{1,6}))?秒?)?分?"
)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?")


# --- who a user id is -------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    user_id: int | None = None
    unit_id: int | None = None
    contractor_id: int | None = None

    @property
    def known(self) -> bool:
        return self.unit_id is not None or self.contractor_id is not None


UNRESOLVED = Resolved()


class Resolver:
    """A log's user id → the tenken user, unit or company it stands for, through the registers
    (inactive records too: last month's log names people who have left since). One regular
    expression match per distinct id; the answers are kept."""

    def __init__(self, conn: sa.Connection, pattern: re.Pattern):
        users = tables.user_account
        self.pattern = pattern
        self.users = {
            row.username: Resolved(row.id, row.unit_id, row.contractor_id)
            for row in conn.execute(
                sa.select(users.c.username, users.c.id, users.c.unit_id, users.c.contractor_id)
            )
        }
        self.units = dict(
            conn.execute(sa.select(tables.org_unit.c.code, tables.org_unit.c.id)).all()
        )
        self.companies = dict(
            conn.execute(sa.select(tables.contractor.c.code, tables.contractor.c.id)).all()
        )
        self.known: dict[str, Resolved] = {}

    def __call__(self, code: str) -> Resolved:
        found = self.known.get(code)
        if found is None:
            found = self.known[code] = self._resolve(code)
        return found

    def _resolve(self, code: str) -> Resolved:
        match = self.pattern.fullmatch(code)
        if match is None:
            return UNRESOLVED
        groups = match.groupdict()
        if groups.get("user") and groups["user"] in self.users:
            return self.users[groups["user"]]
        if groups.get("unit") and groups["unit"] in self.units:
            return Resolved(unit_id=self.units[groups["unit"]])
        if groups.get("contractor") and groups["contractor"] in self.companies:
            return Resolved(contractor_id=self.companies[groups["contractor"]])
        return UNRESOLVED


# --- when -------------------------------------------------------------------------------------


def _loose(text: str) -> datetime | None:
    match = _LOOSE.fullmatch(text) or _COMPACT.fullmatch(text)
    if match is None:
        return None
    parts = match.groups()
    fraction = parts[6] if len(parts) > 6 else None
    try:
        return datetime(
            *(int(p) for p in parts[:5]),
            int(parts[5] or 0),
            int((fraction or "0").ljust(6, "0")),
        )
    except ValueError:
        return None


def time_reader(mapping: Mapping, zone: ZoneInfo) -> Callable[[Any, Any], datetime | None]:
    """(time cell, date cell or None) → the moment in UTC, or None if it cannot be read. A
    moment without an offset is the office's local time."""
    fmt = mapping.time_format

    def parse_text(text: str) -> datetime | None:
        if fmt:
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                return None
        try:
            moment = datetime.fromisoformat(text.replace("/", "-"))
        except ValueError:
            return _loose(text)
        return moment if len(text) > 10 else None  # a day alone is no time of a look-up

    # The zone's offset for each local hour, looked up once: a million rows spend more on
    # zoneinfo than on parsing. (Offsets change on the hour wherever offices keep time.)
    offsets: dict[tuple[int, int, int, int], timedelta] = {}

    def to_utc(moment: datetime) -> datetime:
        if moment.tzinfo is not None:
            return moment.astimezone(UTC)
        hour = (moment.year, moment.month, moment.day, moment.hour)
        offset = offsets.get(hour)
        if offset is None:
            offset = offsets[hour] = moment.replace(tzinfo=zone).utcoffset()
        return (moment - offset).replace(tzinfo=UTC)

    def read(value: Any, day: Any) -> datetime | None:
        if day is not None:
            value = _combine(day, value)
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, str) and value:
            moment = parse_text(value.strip())
        else:
            return None
        return None if moment is None else to_utc(moment)

    return read


def _combine(day: Any, value: Any) -> Any:
    """A date column and a time column as one value, whatever mix of cells and text."""
    if isinstance(day, datetime):
        day = day.date()
    if isinstance(day, date) and isinstance(value, time):
        return datetime.combine(day, value)
    if isinstance(value, datetime):  # Excel keeps a time of day as a datetime on 1899-12-30
        value = value.time()
    day_text = day.isoformat() if isinstance(day, date) else str(day).strip()
    value_text = value.isoformat() if isinstance(value, time) else str(value).strip()
    return f"{day_text} {value_text}" if day_text and value_text else ""


# --- the file ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where the rows go: the import's and the source's ids."""

    import_id: int
    source_id: int


@dataclass
class Result:
    rows: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None
    unresolved: Counter = field(default_factory=Counter)  # user id -> rows
    users: int = 0  # distinct user ids
    problems: list[Problem] = field(default_factory=list)
    more: int = 0  # problems left off the list

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.more += 1


def positions(headings: list[Any], mapping: Mapping) -> dict[str, int]:
    """field -> index of its column; ProblemsFound naming every mapped heading not found."""
    keys = {}
    for index, heading in enumerate(headings):
        keys.setdefault(heading_key(str(heading)), index)
    found, problems = {}, []
    for name, heading in mapping.columns.items():
        if not heading:
            continue
        index = keys.get(heading_key(heading))
        if index is None:
            shown = "、".join(str(h) for h in headings if str(h).strip())[:300]
            problems.append(
                Problem(
                    heading, "missing_column", {"heading": heading, "field": name, "found": shown}
                )
            )
        else:
            found[name] = index
    if problems:
        raise ProblemsFound(problems)
    return found


class _Writer:
    """Batches of rows INSERTed through the driver: SQLAlchemy's per-row parameter processing
    (executemany of dictionaries) cost as much as the database's own work. Moments are bound
    as the dialect binds them (SQLite: its text format, which every comparison relies on)."""

    COLUMNS = (
        "import_id", "source_id", "row_number", "at", *COLUMNS.values(),
        "user_id", "unit_id", "contractor_id",
    )  # fmt: skip

    def __init__(self, conn: sa.Connection, target: Target):
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        self.sql = (
            f"INSERT INTO log_entry ({', '.join(self.COLUMNS)}) "
            f"VALUES ({', '.join([mark] * len(self.COLUMNS))})"
        )
        self.conn = conn
        self.head = (target.import_id, target.source_id)
        moment_type = tables.log_entry.c.at.type.dialect_impl(conn.dialect)
        self.moment = moment_type.bind_processor(conn.dialect) or (lambda m: m)
        self.batch: list[tuple] = []
        self.last: datetime | None = None
        self.bound: Any = None

    def add(self, number: int, moment: datetime, texts: list[str], who: Resolved) -> None:
        if moment is not self.last:  # rows of the same second share one bound value
            self.last, self.bound = moment, self.moment(moment)
        self.batch.append(
            (
                *self.head,
                number,
                self.bound,
                *texts,
                who.user_id,
                who.unit_id,
                who.contractor_id,
            )
        )
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            self.conn.exec_driver_sql(self.sql, self.batch)
            self.batch = []


def _time_problem(moment: datetime | None, shown: str, latest: datetime, mapping: Mapping):
    """(message id, params) of a time that cannot be stored, or None."""
    shown = shown.strip()[:40]
    if moment is None:
        if not shown:
            return "value_required", {}
        return "time_unreadable", {"value": shown, "format": mapping.time_format or "-"}
    if moment > latest:
        return "time_future", {"value": shown}
    if moment.year < OLDEST_YEAR:
        return "time_too_old", {"value": shown, "year": OLDEST_YEAR}
    return None


def load(
    conn: sa.Connection,
    stream: BinaryIO,
    facts: reader.FileFacts,
    mapping: Mapping,
    *,
    zone: ZoneInfo,
    now: datetime,
    limits: WorkbookLimits,
    target: Target | None,
) -> Result:
    """Read every row of the file; with a `target`, INSERT them until a problem is found.
    ProblemsFound if the file cannot be read at all (no headings, a missing column, a damaged
    workbook, an undecodable byte): the caller rolls back whatever was written."""
    rows = reader.rows(stream, facts, mapping.delimiter, limits)
    first = next(rows, None)
    if first is None or not any(str(c).strip() for c in first[1]):
        raise ProblemsFound([Problem("", "no_header", row=1)])
    at = positions(first[1], mapping)
    headings = {name: mapping.columns[name] for name in at}
    resolve = Resolver(conn, mapping.compiled())
    read_time = time_reader(mapping, zone)
    latest = now + CLOCK_SLACK
    result = Result()
    writer = _Writer(conn, target) if target is not None else None
    width = max(at.values()) + 1
    # Each text column of the entry, in the writer's order: (cell index or None, longest,
    # required, heading); a field the log does not have is stored empty.
    plan = [
        (at.get(name), MAX_LENGTH[name], name in VALUE_REQUIRED, headings.get(name, ""))
        for name in COLUMNS
    ]
    time_index, date_index = at["time"], at.get("date")
    last: tuple = (None, None, None, None)  # the previous row's time: raw, day, moment, problem

    for number, cells in rows:
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        if not any(cells):
            continue  # a blank line
        texts, bad = [], False
        for index, longest, required, heading in plan:
            value = "" if index is None else cells[index]
            value = value.strip() if value.__class__ is str else str(value)
            if len(value) > longest:
                result.add(
                    Problem(
                        heading,
                        "value_too_long",
                        {"max": longest, "length": len(value)},
                        row=number,
                    )
                )
                bad = True
            elif required and not value:
                result.add(Problem(heading, "value_required", row=number))
                bad = True
            texts.append(value)
        raw, day = cells[time_index], cells[date_index] if date_index is not None else None
        if raw != last[0] or day != last[1]:  # rows come in time order, often a second apart
            moment = read_time(raw, day)
            shown = str(raw if day is None else f"{day} {raw}")
            last = (raw, day, moment, _time_problem(moment, shown, latest, mapping))
        moment, problem = last[2], last[3]
        if problem is not None:
            result.add(Problem(headings["time"], problem[0], problem[1], row=number))
            continue
        if bad:
            continue
        who = resolve(texts[0])
        if not who.known:
            result.unresolved[texts[0]] += 1
        result.rows += 1
        if result.first_at is None or moment < result.first_at:
            result.first_at = moment
        if result.last_at is None or moment > result.last_at:
            result.last_at = moment
        if writer is not None and not result.problems:
            writer.add(number, moment, texts, who)
    if writer is not None and not result.problems:
        writer.flush()
    result.users = len(resolve.known)
    if result.rows == 0 and not result.problems:
        result.add(Problem("", "no_rows"))
    return result
