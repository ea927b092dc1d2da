"""`make bench`: the per-item report against the bare GROUP BY it is built on, in one run.

A scratch SQLite database (and PostgreSQL when TEST_DATABASE_URL is set) is filled with a
synthetic campaign; each figure is printed as `BENCH name value unit`. Ratios compare tenken's
code with a baseline measured on the same data in the same run, so they hold on any machine.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from reports import aggregate, queries

SCHEMA = """
CREATE TABLE checklist (id INTEGER PRIMARY KEY, code TEXT, version INTEGER, title TEXT);
CREATE TABLE category (id INTEGER PRIMARY KEY, code TEXT, title TEXT);
CREATE TABLE item (id INTEGER PRIMARY KEY, checklist_id INTEGER, category_id INTEGER,
  number INTEGER, key TEXT, text TEXT, condition_number INTEGER, condition_options TEXT);
CREATE TABLE scale_option (id INTEGER PRIMARY KEY, code TEXT, klass TEXT);
CREATE TABLE campaign (id INTEGER PRIMARY KEY, code TEXT, title TEXT, checklist_id INTEGER,
  opens_on DATE, closes_on DATE);
CREATE TABLE assignment (id INTEGER PRIMARY KEY, campaign_id INTEGER, status TEXT);
CREATE TABLE answer (id INTEGER PRIMARY KEY, assignment_id INTEGER, item_id INTEGER,
  option_id INTEGER);
CREATE UNIQUE INDEX answer_assignment_item ON answer (assignment_id, item_id);
CREATE INDEX answer_item_option ON answer (item_id, option_id);
CREATE INDEX assignment_campaign_status ON assignment (campaign_id, status);
"""

BARE = """
SELECT a.item_id, a.option_id, count(*) FROM answer a
JOIN assignment s ON s.id = a.assignment_id
WHERE s.campaign_id = 1 AND s.status IN ('submitted', 'approved')
GROUP BY a.item_id, a.option_id
"""


def fill(engine: sa.Engine, respondents: int, items: int) -> None:
    rng = random.Random(0)
    with engine.begin() as conn:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.exec_driver_sql(statement)
        conn.exec_driver_sql("INSERT INTO checklist VALUES (1, 'bench', 1, 'bench')")
        conn.exec_driver_sql("INSERT INTO category VALUES (1, 'A', 'A')")
        conn.exec_driver_sql(
            "INSERT INTO scale_option VALUES (1, 'yes', 'compliant'), (2, 'no', 'noncompliant'),"
            " (3, 'na', 'excluded')"
        )
        conn.exec_driver_sql(
            "INSERT INTO campaign VALUES (1, 'bench', 'bench', 1, '2026-01-01', '2026-01-31')"
        )
        conn.execute(
            sa.text("INSERT INTO item VALUES (:id, 1, 1, :id, :key, :key, NULL, NULL)"),
            [{"id": n, "key": f"item-{n}"} for n in range(1, items + 1)],
        )
        conn.execute(
            sa.text("INSERT INTO assignment VALUES (:id, 1, 'approved')"),
            [{"id": n} for n in range(1, respondents + 1)],
        )
        batch = []
        for respondent in range(1, respondents + 1):
            for item in range(1, items + 1):
                option = rng.choices((1, 2, 3), weights=(90, 7, 3))[0]
                batch.append({"s": respondent, "i": item, "o": option})
            if len(batch) >= 50_000:
                conn.execute(
                    sa.text(
                        "INSERT INTO answer (assignment_id, item_id, option_id) VALUES (:s, :i, :o)"
                    ),
                    batch,
                )
                batch = []
        if batch:
            conn.execute(
                sa.text(
                    "INSERT INTO answer (assignment_id, item_id, option_id) VALUES (:s, :i, :o)"
                ),
                batch,
            )


def timed(function, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def measure(engine: sa.Engine, label: str, repeat: int) -> None:
    with engine.connect() as conn:
        bare = timed(lambda: conn.exec_driver_sql(BARE).all(), repeat)
        ours = timed(lambda: aggregate.per_item(conn, "bench"), repeat)
        _, frame = aggregate.per_item(conn, "bench")
        assert int(frame[["compliant", "noncompliant", "excluded"]].sum().sum()) == conn.scalar(
            sa.select(sa.func.count()).select_from(queries.answer)
        )
    print(f"BENCH {label}per_item_bare_sql {bare * 1000:.1f} ms")
    print(f"BENCH {label}per_item_report {ours * 1000:.1f} ms")
    print(f"BENCH {label}per_item_ratio {ours / bare:.2f} x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--respondents", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"BENCH answers {args.respondents * args.items} rows")
    with tempfile.TemporaryDirectory() as scratch:
        engine = sa.create_engine(f"sqlite:///{Path(scratch) / 'bench.db'}")
        fill(engine, args.respondents, args.items)
        measure(engine, "sqlite_", args.repeat)
        engine.dispose()
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        measure_postgres(url, args)


def measure_postgres(url: str, args: argparse.Namespace) -> None:
    name = f"tenken_bench_{os.getpid()}"
    admin = sa.create_engine(
        sa.engine.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        engine = sa.create_engine(sa.engine.make_url(url).set(database=name))
        fill(engine, args.respondents, args.items)
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        measure(engine, "postgres_", args.repeat)
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
