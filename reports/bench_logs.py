"""`make bench`, access logs: a month of a ward's resident system (1,000,000 look-ups by default)
imported and sampled by tenken's code against the bare work underneath, in the same run.

- log_import_ratio: reports.accesslogs.importer (the file's SHA-256 and encoding, every row parsed,
  checked and resolved through the registers, batched INSERTs in one transaction) against a
  bare csv.reader whose rows go unchanged into the same table by batched executemany;
- log_import_peak_rss_mb: the import's peak resident memory, in a child process of its own
  (the bare import's is printed beside it);
- log_sample_ratio: drawing a round's sample with every shipped rule (reports.accesslogs.sampler)
  against one bare scan that fetches every column of the period's rows.

Both imports run in fresh interpreters, each into an empty log_entry with the model's indexes
and foreign keys (enforced on SQLite too, as the app does). The tables below carry the names,
columns and indexes of survey/models (tests/results/test_results_bench.py keeps them in step).
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from reports import queries

ZONE = ZoneInfo("Asia/Tokyo")
MONTH = (date(2026, 10, 1), date(2026, 10, 31))
HEADER = ["操作日時", "職員ID", "端末ID", "処理区分", "宛名番号", "地区", "事由", "申請書番号"]
PATTERN = r"(?P<unit>D\d{2}-\d{2})-\d{4}|(?P<contractor>C\d{3})-\d{3}|(?P<user>[a-z][a-z0-9-]*)"
COLUMNS = dict(zip(("time", "user", "terminal", "operation", "record", "district", "reason",
                    "request"), HEADER, strict=True))  # fmt: skip
DISTRICTS = ("中央", "北部", "南部", "東部", "西部")
OPERATIONS = ("住民票照会", "住民票照会", "住民票照会", "証明書交付", "異動届入力", "世帯照会")
UNITS, STAFF, COMPANIES, RESIDENTS = 60, 15, 5, 400_000
BATCH = 5_000

metadata = sa.MetaData()
org_unit = sa.Table(
    "org_unit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
)
contractor = sa.Table(
    "contractor",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
)
user_account = sa.Table(
    "user_account",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("org_unit.id")),
    sa.Column("contractor_id", sa.Integer, sa.ForeignKey("contractor.id")),
)
log_source = sa.Table(
    "log_source",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
)
log_import = sa.Table(
    "log_import",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("log_source.id"), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
log_entry = sa.Table(
    "log_entry",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("import_id", sa.Integer, sa.ForeignKey("log_import.id"), nullable=False, index=True),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("log_source.id"), nullable=False),
    sa.Column("row_number", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("user_code", sa.String(64), nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("user_account.id")),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("org_unit.id")),
    sa.Column("contractor_id", sa.Integer, sa.ForeignKey("contractor.id")),
    sa.Column("terminal", sa.String(64), nullable=False),
    sa.Column("operation", sa.String(64), nullable=False),
    sa.Column("record_id", sa.String(64), nullable=False),
    sa.Column("district", sa.String(32), nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("request_no", sa.String(64), nullable=False),
    sa.Index("ix_log_entry_source_at", "source_id", "at"),
    sa.Index("ix_log_entry_source_owner_at", "source_id", "unit_id", "contractor_id", "at", "id"),
    sa.Index("ix_log_entry_source_user_at", "source_id", "user_code", "at"),
    sa.Index("ix_log_entry_source_record", "source_id", "record_id"),
)
served_district = sa.Table(
    "served_district",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("org_unit.id")),
    sa.Column("contractor_id", sa.Integer, sa.ForeignKey("contractor.id")),
    sa.Column("district", sa.String(32), nullable=False),
    sa.Index("ix_served_district_unit", "unit_id", "district"),
    sa.Index("ix_served_district_contractor", "contractor_id", "district"),
)
staff_household = sa.Table(
    "staff_household",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("log_source.id"), nullable=False),
    sa.Column("user_code", sa.String(64), nullable=False),
    sa.Column("record_id", sa.String(64), nullable=False),
    sa.UniqueConstraint("source_id", "user_code", "record_id"),
)

BARE_COLUMNS = (
    "import_id, source_id, row_number, at, user_code, terminal, operation, record_id, district, "
    "reason, request_no"
)


def engine_for(url: str) -> sa.Engine:
    """An engine as the app makes one: SQLite enforces foreign keys (survey/sqlite.py)."""
    engine = sa.create_engine(url, **queries.engine_options(url))
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _foreign_keys(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA foreign_keys=ON")

    return engine


# --- the registers and the month's log ---------------------------------------------------------


def fill_registers(engine: sa.Engine) -> None:
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            org_unit.insert(),
            [
                dict(id=u, code=f"D{u // 10:02d}-{u % 10:02d}", name=f"第{u}課")
                for u in range(1, UNITS + 1)
            ],
        )
        conn.execute(
            contractor.insert(),
            [dict(id=c, code=f"C{c:03d}", name=f"委託事業者{c}") for c in range(1, COMPANIES + 1)],
        )
        conn.execute(
            user_account.insert(),
            [dict(id=u, username=f"user{u}", unit_id=1 + u % UNITS) for u in range(1, 201)],
        )
        conn.execute(log_source.insert(), [dict(id=1, code="JUKI")])
        conn.execute(
            served_district.insert(),
            [dict(unit_id=u, contractor_id=None, district=DISTRICTS[u % 5]) for u in range(1, 11)]
            + [
                dict(unit_id=None, contractor_id=c, district=DISTRICTS[c % 5])
                for c in range(1, COMPANIES + 1)
            ],
        )
        conn.execute(
            staff_household.insert(),
            [dict(source_id=1, user_code=_staff(u), record_id=f"{u:010d}") for u in range(100)],
        )


def _staff(n: int) -> str:
    unit = 1 + n % UNITS
    return f"D{unit // 10:02d}-{unit % 10:02d}-{n:04d}"


def write_log(path: Path, rows: int) -> None:
    """A month of look-ups on working days in office hours, cp932 as the systems write it. Each
    unit mostly looks up its own residents, and those with served districts (and the companies)
    only their district's; here and there is what the rules look for: evenings and nights,
    bursts, other districts, a household's record, missing request numbers."""
    from reports.accesslogs.hours import is_day_off

    rng = random.Random(rows)
    days = [d for d in (MONTH[0] + timedelta(n) for n in range(31)) if not is_day_off(d)]
    # (user id, unit or 0, index of the district served or None)
    people = [(_staff(n), 1 + n % UNITS, None) for n in range(UNITS * STAFF)]
    people = [(who, unit, unit % 5 if unit <= 10 else None) for who, unit, _ in people]
    people += [(f"C{1 + n % COMPANIES:03d}-{n:03d}", 0, (1 + n % COMPANIES) % 5) for n in range(50)]
    people += [("batch01", 0, None), ("user7", 7, None)]
    per_day = rows // len(days)
    slice_ = RESIDENTS // UNITS
    who, unit, district = people[0]
    with path.open("w", encoding="cp932", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADER)
        for index in range(rows):
            day = days[min(index // per_day, len(days) - 1)]
            seconds = 30_600 + (index % per_day) * 34_200 // per_day  # 08:30-18:00, in order
            if rng.random() < 0.002:
                seconds += 14_400  # after 20:00
            moment = datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)
            if index % 50_000 >= 40:  # but for a burst of 40 now and then
                who, unit, district = people[rng.randrange(len(people))]
            record = rng.randrange(RESIDENTS)
            if unit and rng.random() > 0.05:  # the unit's own residents
                record = (unit - 1) * slice_ + record % slice_
            if district is not None and rng.random() > 0.005:  # the district served
                record += (district - record % 5) % 5
            if index % 100_000 == 500:  # a household's own record (staff_household below)
                who, record = _staff(index // 100_000), index // 100_000
            writer.writerow(
                [
                    moment.strftime("%Y/%m/%d %H:%M:%S"),
                    who,
                    f"TM-{index % 997:05d}",
                    OPERATIONS[index % len(OPERATIONS)],
                    f"{record:010d}",
                    DISTRICTS[record % 5],
                    "01",
                    "" if rng.random() < 0.001 else f"R8-{index:07d}",
                ]
            )


# --- importing ---------------------------------------------------------------------------------


def _fresh_entries(engine: sa.Engine) -> None:
    log_entry.drop(engine, checkfirst=True)
    log_entry.create(engine)
    with engine.begin() as conn:
        conn.execute(log_import.delete())


def bare_import(conn: sa.Connection, path: Path) -> int:
    """The baseline: csv.reader, the cells as they are, executemany in batches."""
    conn.execute(log_import.insert().values(id=1, source_id=1, sha256="bare"))
    marks = ", ".join(["?" if conn.dialect.name == "sqlite" else "%s"] * 11)
    sql = f"INSERT INTO log_entry ({BARE_COLUMNS}) VALUES ({marks})"
    batch, count = [], 0
    with path.open(encoding="cp932", newline="") as stream:
        reader = csv.reader(stream)
        next(reader)
        for number, row in enumerate(reader, start=2):
            batch.append(
                (1, 1, number, row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])
            )
            if len(batch) >= BATCH:
                conn.exec_driver_sql(sql, batch)
                count += len(batch)
                batch = []
    if batch:
        conn.exec_driver_sql(sql, batch)
        count += len(batch)
    return count


def import_log(conn: sa.Connection, path: Path) -> int:
    """tenken's import of the file, as `flask logs import` runs it."""
    from checklists.workbook_limits import WorkbookLimits
    from reports.accesslogs import importer, reader
    from reports.accesslogs.mapping import Mapping

    mapping = Mapping(COLUMNS, user_pattern=PATTERN)
    with path.open("rb") as stream:
        facts = reader.inspect(stream, mapping.encoding)
        conn.execute(log_import.insert().values(id=1, source_id=1, sha256=facts.sha256))
        result = importer.load(
            conn,
            stream,
            facts,
            mapping,
            zone=ZONE,
            now=datetime.now(UTC),
            limits=WorkbookLimits(cells=12_000_000, rows=1_048_576, unpacked_bytes=2**30),
            target=importer.Target(1, 1),
        )
    if not result.ok:
        raise RuntimeError("\n".join(p.render() for p in result.problems))
    return result.rows


def import_main(mode: str, url: str, path: str) -> None:
    """In the child process: one import in one transaction, timed from the first byte read to
    the commit; prints the seconds and the peak RSS (kB)."""
    import reports.accesslogs.importer  # noqa: F401  (loading the modules is not part of the import)
    from reports.bench import peak_rss_kb

    engine = engine_for(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")  # connecting is not part of the import
        conn.commit()
        start = time.perf_counter()
        with conn.begin():
            rows = (import_log if mode == "log-import" else bare_import)(conn, Path(path))
        elapsed = time.perf_counter() - start
    engine.dispose()
    print(f"{rows} {elapsed:.3f} {peak_rss_kb()}")


def child(mode: str, url: str, path: Path) -> tuple[int, float, float]:
    """(rows, seconds, peak RSS in MB) of one import in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-m", "reports.bench", mode, url, str(path)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{mode} failed:\n{result.stderr}")
    rows, seconds, peak_kb = result.stdout.split()[-3:]
    return int(rows), float(seconds), int(peak_kb) / 1024


# --- sampling ----------------------------------------------------------------------------------


def bare_scan(conn: sa.Connection, scope) -> int:
    """The baseline: every column of the period's rows, fetched once."""
    stmt = sa.select(log_entry).where(scope.where(log_entry))
    rows = conn.execute(stmt.execution_options(yield_per=BATCH))
    return sum(len(part) for part in rows.partitions())


def draw(conn: sa.Connection, scope) -> int:
    from reports.accesslogs import rules, sampler

    (path,) = rules.SHIPPED.glob("*.yaml")
    return len(sampler.draw(conn, scope, rules.parse(path.read_bytes()), "bench").reasons)


def run(url: str, label: str, args: argparse.Namespace, scratch: Path) -> None:
    from reports.accesslogs.sampler import Scope
    from reports.bench import paired, report

    engine = engine_for(url)
    fill_registers(engine)
    path = scratch / "log.csv"
    if not path.exists():
        write_log(path, args.log_rows)
    _fresh_entries(engine)
    rows, bare, bare_rss = child("bare-log-import", url, path)
    _fresh_entries(engine)
    ours_rows, ours, rss = child("log-import", url, path)
    assert rows == ours_rows == args.log_rows, (rows, ours_rows)
    report(label, "log_import_bare_s", bare, "s")
    report(label, "log_import_s", ours, "s")
    report(label, "log_import_ratio", ours / bare, "x")
    report(label, "log_import_bare_peak_rss_mb", bare_rss, "MB")
    report(label, "log_import_peak_rss_mb", rss, "MB")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    with engine.connect() as conn:
        scope = Scope(1, *MONTH, ZONE)
        assert bare_scan(conn, scope) == args.log_rows
        bare, ours = paired(lambda: bare_scan(conn, scope), lambda: draw(conn, scope), args.repeat)
        report(label, "log_sample_bare_scan_s", bare, "s")
        report(label, "log_sample_s", ours, "s")
        report(label, "log_sample_ratio", ours / bare, "x")
        report(label, "log_sampled_entries", draw(conn, scope), "rows")
    engine.dispose()
