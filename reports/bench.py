"""`make bench`: tenken's reports against the bare work they are built on, in one run.

A scratch SQLite database (and PostgreSQL when TEST_DATABASE_URL is set) is filled with a
synthetic prefecture-wide campaign (100,000 respondents × 50 items = 5,000,000 answers) and a
small one (10,000 respondents), last year's round of the same checklist, and the year before's
(1,000), so that both sizes have an earlier round. Each figure is printed as
`BENCH name value unit`. Ratios compare tenken's code with a baseline measured on the same data
in the same run, so they hold on any machine:

- per_item_ratio: aggregate.per_item against the bare `GROUP BY item, option` SQL;
- dept_item_ratio: aggregate.per_department against the bare `GROUP BY department, item,
  option` SQL (the same recursive unit -> department CTE);
- trend_ratio: rounds.trend (this round and the earlier ones, side by side) against the bare
  per-item SQL of every round;
- results_page_ratio: the whole results page (pages.campaign_page, which reads the kept counts)
  against the bare per-item `GROUP BY item, option` over the answers; results_growth: that page
  at 100,000 against 10,000 respondents, each beside its previous round;
- xlsx_export_ratio: the whole summary workbook against a bare exporter that streams the same
  rows with bare SQL and writes the same cells with xlsxwriter (constant_memory), unformatted;
- xlsx_peak_rss_mb, summary_xlsx_growth, xlsx_rss_growth_mb: the summary in a child process at
  100,000 and at 10,000 respondents, in turns, medians of three (peak RSS read by the child, so
  this process does not pollute it);
- answers_xlsx_ratio, answers_peak_rss_mb: the answers' workbook (reports/answers.py: 回答一覧
  and いいえ・コメント一覧) against the same cells read with bare SQL from the same streams and
  written with the standard csv module, in turns;
- log_import_ratio, log_import_peak_rss_mb, log_sample_ratio: access logs (reports/bench_logs.py),
  a million look-ups by default (--log-rows).

The scratch schema is declared below with the table, column and index names of survey/models
(tests/results/test_bench_schema.py keeps them in step), plus the covering index the counts need.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from reports import aggregate, pages, queries, rounds

# --- the scratch schema: names and types as in survey/models -----------------------------------

metadata = sa.MetaData()
org_unit = sa.Table(
    "org_unit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("parent_id", sa.Integer, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
)
checklist = sa.Table(
    "checklist",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("target_kind", sa.String(16), nullable=False),
)
# No grades: the bench's checklist is not graded (reports read the table all the same).
checklist_grade = sa.Table(
    "checklist_grade",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("checklist_id", sa.Integer, nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("basis", sa.String(16), nullable=False),
    sa.Column("min", sa.Integer, nullable=False),
    sa.Column("label", sa.String(100), nullable=False),
    sa.Column("label_en", sa.String(100), nullable=False),
    sa.Column("advice", sa.Text, nullable=False),
    sa.Column("advice_en", sa.Text, nullable=False),
    sa.Column("below_standard", sa.Boolean, nullable=False),
)
category = sa.Table(
    "category",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("checklist_id", sa.Integer, nullable=False),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
)
scale = sa.Table(
    "scale",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("title", sa.String(100), nullable=False),
)
scale_option = sa.Table(
    "scale_option",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("scale_id", sa.Integer, nullable=False),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("label", sa.String(100), nullable=False),
    sa.Column("label_en", sa.String(100), nullable=False, server_default=""),
    sa.Column("klass", sa.String(16), nullable=False),
    sa.Column("score", sa.Integer),
    sa.Column("position", sa.Integer, nullable=False),
)
item = sa.Table(
    "item",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("checklist_id", sa.Integer, nullable=False),
    sa.Column("category_id", sa.Integer, nullable=False, index=True),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("key", sa.String(100), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("scale_id", sa.Integer, nullable=False),
    sa.Column("condition_number", sa.Integer),
    sa.Column("condition_options", sa.JSON),
    sa.Column("importance", sa.String(16), nullable=False, server_default=""),
)
campaign = sa.Table(
    "campaign",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("checklist_id", sa.Integer, nullable=False, index=True),
    sa.Column("opens_on", sa.Date, nullable=False),
    sa.Column("closes_on", sa.Date, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    # Escalation steps (days from the due date): none in the bench's campaigns.
    sa.Column("remind_respondent_days", sa.Integer),
    sa.Column("remind_unit_head_days", sa.Integer),
    sa.Column("remind_department_head_days", sa.Integer),
)
information_system = sa.Table(
    "information_system",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("unit_id", sa.Integer, nullable=False, index=True),
)
contract = sa.Table(
    "contract",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
)
contractor = sa.Table(
    "contractor",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
)
user_account = sa.Table(
    "user_account",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
)
assignment = sa.Table(
    "assignment",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("campaign_id", sa.Integer, nullable=False),
    sa.Column("target_kind", sa.String(16), nullable=False),
    sa.Column("unit_id", sa.Integer, index=True),
    sa.Column("system_id", sa.Integer, index=True),
    sa.Column("contract_id", sa.Integer, index=True),
    sa.Column("contractor_id", sa.Integer, index=True),
    sa.Column("responsible_unit_id", sa.Integer, index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("due_on", sa.Date),
    sa.Column("submitted_at", sa.DateTime(timezone=True)),
    sa.Index("ix_assignment_campaign_status", "campaign_id", "status"),
)
answer = sa.Table(
    "answer",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("assignment_id", sa.Integer, nullable=False),
    sa.Column("item_id", sa.Integer, nullable=False),
    sa.Column("option_id", sa.Integer),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("answered_by_id", sa.Integer),
    sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.UniqueConstraint("assignment_id", "item_id", name="uq_answer_assignment_id_item_id"),
    # Together these let every count read only an index, whichever way the planner joins.
    sa.Index("ix_answer_item_option", "item_id", "option_id", "assignment_id"),
    sa.Index("ix_answer_assignment_item_option", "assignment_id", "item_id", "option_id"),
)

answer_count = sa.Table(
    "answer_count",
    metadata,
    sa.Column("campaign_id", sa.Integer, nullable=False),
    sa.Column("unit_id", sa.Integer, nullable=False, autoincrement=False),
    sa.Column("item_id", sa.Integer, nullable=False),
    sa.Column("option_id", sa.Integer, nullable=False, autoincrement=False),
    sa.Column("answers", sa.Integer, nullable=False),
    sa.Column("asked", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("campaign_id", "item_id", "option_id", "unit_id"),
    sa.Index("ix_answer_count_campaign_unit", "campaign_id", "unit_id"),
    sqlite_with_rowid=False,
)

BARE_PER_ITEM = """
SELECT a.item_id, a.option_id, count(*) FROM answer a
JOIN assignment s ON s.id = a.assignment_id
WHERE s.campaign_id = {campaign} AND s.status IN ('submitted', 'approved')
GROUP BY a.item_id, a.option_id
"""

BARE_DEPT_ITEM = """
WITH RECURSIVE unit_department(unit_id, department_id) AS (
  SELECT id, id FROM org_unit WHERE parent_id IS NULL
  UNION ALL
  SELECT u.id, d.department_id FROM org_unit u JOIN unit_department d ON u.parent_id = d.unit_id
)
SELECT d.department_id, a.item_id, a.option_id, count(*) FROM answer a
JOIN assignment s ON s.id = a.assignment_id
LEFT JOIN unit_department d ON d.unit_id = s.responsible_unit_id
WHERE s.campaign_id = {campaign} AND s.status IN ('submitted', 'approved')
GROUP BY d.department_id, a.item_id, a.option_id
"""

DEPARTMENTS = 50
DIVISIONS = 40  # per department
OPTIONS = ((1, "yes", "はい", "compliant", 1), (2, "no", "いいえ", "noncompliant", 0))
OPTIONS += ((3, "na", "対象外", "excluded", None),)
COMMENTS = (
    "手順書を見直し、来月から実施します。",
    "担当者の異動により未実施。今年度中に対応予定。",
    "予算措置を要するため、次年度に対応します。",
    "一部の職員が未受講。3月末までに受講させます。",
    "=SUM(A1:A2) と書かれた付箋を撤去しました。",
)


def campaigns(respondents: int, small: int) -> list[tuple[int, str, int, date]]:
    """(id, code, respondents, opening day): the large campaign and the small one for the
    growth figures, last year's round of the same checklist (the large one's 前回比較 and
    推移), and the year before's, a tenth of the small one, so that the small one has an
    earlier round too and the two sizes are measured doing the same work."""
    return [
        (1, f"bench-{respondents}", respondents, date(2026, 11, 2)),
        (2, f"bench-{small}", small, date(2025, 11, 4)),
        (3, f"bench-{small}-before", max(1, small // 10), date(2024, 11, 5)),
    ]


def fill(engine: sa.Engine, respondents: int, small: int, items: int) -> None:
    metadata.create_all(engine, tables=[t for t in metadata.sorted_tables if t is not answer])
    with engine.begin() as conn:
        conn.execute(sa.schema.CreateTable(answer))  # its indexes once it is filled
    rng = random.Random(0)
    now = datetime(2026, 11, 20, 10, 0)
    with engine.begin() as conn:
        conn.execute(
            checklist.insert(),
            [dict(id=1, code="bench", version=1, title="ベンチ点検", target_kind="system")],
        )
        conn.execute(
            category.insert(),
            [
                dict(id=c, checklist_id=1, code=chr(64 + c), title=f"分類{c}", position=c)
                for c in range(1, 6)
            ],
        )
        conn.execute(scale.insert(), [dict(id=1, code="yes_no_na", title="はい／いいえ／対象外")])
        conn.execute(
            scale_option.insert(),
            [
                dict(id=i, scale_id=1, code=c, label=lb, klass=k, score=s, position=i)
                for i, c, lb, k, s in OPTIONS
            ],
        )
        conn.execute(
            item.insert(),
            [
                dict(
                    id=n,
                    checklist_id=1,
                    category_id=1 + (n - 1) * 5 // items,
                    number=n,
                    key=f"item-{n}",
                    text=f"点検項目{n}：情報資産を適切に管理している",
                    scale_id=1,
                )
                for n in range(1, items + 1)
            ],
        )
        units = [
            dict(
                id=d,
                code=f"D{d:02d}",
                name=f"第{d}部",
                kind="department",
                parent_id=None,
                position=d,
                active=True,
            )
            for d in range(1, DEPARTMENTS + 1)
        ]
        for d in range(1, DEPARTMENTS + 1):
            for v in range(1, DIVISIONS + 1):
                units.append(
                    dict(
                        id=DEPARTMENTS + (d - 1) * DIVISIONS + v,
                        code=f"D{d:02d}-{v:02d}",
                        name=f"第{d}部第{v}課",
                        kind="division",
                        parent_id=d,
                        position=v,
                        active=True,
                    )
                )
        conn.execute(org_unit.insert(), units)
        plan = campaigns(respondents, small)
        conn.execute(
            campaign.insert(),
            [
                dict(
                    id=cid,
                    code=code,
                    title=f"県内一斉点検 {n:,}件",
                    checklist_id=1,
                    opens_on=opens,
                    closes_on=opens + timedelta(days=39),
                    status="open",
                )
                for cid, code, n, opens in plan
            ],
        )
    systems, assignments = [], []
    sid = 0
    for cid, _, n, _ in plan:
        for _ in range(n):
            sid += 1
            unit = DEPARTMENTS + 1 + rng.randrange(DEPARTMENTS * DIVISIONS)
            systems.append((sid, f"S{sid:06d}", f"業務システム{sid:06d}", unit))
            roll = rng.random()
            status = "approved" if roll < 0.97 else "submitted" if roll < 0.99 else "draft"
            assignments.append((sid, cid, "system", sid, unit, status, date(2026, 12, 11), now))
    _bulk(engine, "information_system", ("id", "code", "name", "unit_id"), systems)
    _bulk(
        engine,
        "assignment",
        (
            "id",
            "campaign_id",
            "target_kind",
            "system_id",
            "responsible_unit_id",
            "status",
            "due_on",
            "submitted_at",
        ),
        assignments,
    )
    del systems, assignments

    def rows():
        aid = 0
        for assignment_id in range(1, sid + 1):
            chosen = rng.choices((1, 2, 3), cum_weights=(90, 97, 100), k=items)
            for number, option in enumerate(chosen, start=1):
                aid += 1
                comment = COMMENTS[aid % len(COMMENTS)] if option == 2 else ""
                yield (aid, assignment_id, number, option, comment, now, 1)

    _bulk(
        engine,
        "answer",
        ("id", "assignment_id", "item_id", "option_id", "comment", "answered_at", "version"),
        rows(),
    )
    with engine.begin() as conn:
        for index in answer.indexes:
            index.create(conn)
    # As the app keeps them at each hand-in; counted in one pass here, as `flask report counts
    # check --repair` would.
    with engine.begin() as conn:
        for cid, *_ in plan:
            queries.recount(conn, cid, [])


def _bulk(engine: sa.Engine, table: str, columns: tuple[str, ...], rows) -> None:
    """Fast loading: COPY on PostgreSQL, executemany in batches on SQLite."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) >= 100_000:
                    cursor.executemany(sql, batch)
                    batch = []
            cursor.executemany(sql, batch)
        raw.commit()
    finally:
        raw.close()


# --- measurements ------------------------------------------------------------------------------


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def paired(bare, ours, repeat: int) -> tuple[float, float]:
    """Medians of `repeat` runs of each, taken in turns so that both see the same machine."""
    samples = [(timed(bare), timed(ours)) for _ in range(repeat)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def report(label: str, name: str, value: float, unit: str) -> None:
    print(
        f"BENCH {label}{name} {value:.2f} {unit}"
        if unit == "x" or unit == "s"
        else f"BENCH {label}{name} {value:.1f} {unit}",
        flush=True,
    )


def measure_counts(engine: sa.Engine, label: str, code: str, small: str, repeat: int) -> None:
    with engine.connect() as conn:
        cid = conn.scalar(sa.text("SELECT id FROM campaign WHERE code = :c"), {"c": code})
        bare_item = BARE_PER_ITEM.format(campaign=cid)
        bare_dept = BARE_DEPT_ITEM.format(campaign=cid)
        conn.exec_driver_sql(bare_item).all()  # warm the cache for both sides alike
        bare, ours = paired(
            lambda: conn.exec_driver_sql(bare_item).all(),
            lambda: aggregate.per_item(conn, code),
            repeat,
        )
        report(label, "per_item_bare_sql", bare * 1000, "ms")
        report(label, "per_item_report", ours * 1000, "ms")
        report(label, "per_item_ratio", ours / bare, "x")
        bare, ours = paired(
            lambda: conn.exec_driver_sql(bare_dept).all(),
            lambda: aggregate.per_department(conn, code),
            repeat,
        )
        report(label, "dept_item_bare_sql", bare * 1000, "ms")
        report(label, "dept_item_report", ours * 1000, "ms")
        report(label, "dept_item_ratio", ours / bare, "x")
        earlier = conn.scalars(
            sa.text(
                "SELECT id FROM campaign WHERE checklist_id = "
                "(SELECT checklist_id FROM campaign WHERE id = :c) AND opens_on < "
                "(SELECT opens_on FROM campaign WHERE id = :c) ORDER BY opens_on"
            ),
            {"c": cid},
        ).all()
        bare_rounds = [BARE_PER_ITEM.format(campaign=e) for e in earlier] + [bare_item]
        bare, ours = paired(
            lambda: [conn.exec_driver_sql(sql).all() for sql in bare_rounds],
            lambda: rounds.trend(conn, code),
            repeat,
        )
        report(label, "trend_bare_sql", bare * 1000, "ms")
        report(label, "trend_report", ours * 1000, "ms")
        report(label, "trend_ratio", ours / bare, "x")
        measure_results_page(conn, label, code, small, bare_item, repeat)
        _, frame = aggregate.per_item(conn, code)
        handed_in = conn.scalar(
            sa.text(
                "SELECT count(*) FROM answer a JOIN assignment s ON s.id = a.assignment_id "
                "WHERE s.campaign_id = :c AND s.status IN ('submitted', 'approved')"
            ),
            {"c": cid},
        )
        assert int(frame[["compliant", "noncompliant", "excluded"]].sum().sum()) == handed_in


def measure_results_page(
    conn: sa.Connection, label: str, code: str, small: str, bare_item: str, repeat: int
) -> None:
    """The whole results page (pages.campaign_page: per item, per category, per department and
    the previous round beside them, from the kept counts) against the bare per-item GROUP BY
    over the answers; and the same page at 100,000 against 10,000 respondents, each beside
    its earlier round."""

    def page(campaign_code: str):
        return lambda: pages.campaign_page(conn, aggregate.load(conn, campaign_code), None)

    bare, ours = paired(lambda: conn.exec_driver_sql(bare_item).all(), page(code), repeat)
    report(label, "results_page_bare_sql", bare * 1000, "ms")
    report(label, "results_page", ours * 1000, "ms")
    report(label, "results_page_ratio", ours / bare, "x")
    small_page, large_page = paired(page(small), page(code), repeat)
    report(label, "results_page_small", small_page * 1000, "ms")
    report(label, "results_growth", large_page / small_page, "x")


def child(mode: str, url: str, code: str, out: Path) -> tuple[float, float]:
    """Runs one export in a fresh interpreter: (seconds it reports, its peak RSS in MB).

    The peak is the child's own VmHWM, read from /proc by the child as it ends: getrusage()'s
    ru_maxrss of a child starts from this process's size at fork (Linux carries it across exec),
    which would add the bench's own memory to the export's."""
    result = subprocess.run(
        [sys.executable, "-m", "reports.bench", mode, url, code, str(out)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{mode} {code} failed:\n{result.stderr}")
    seconds, peak_kb = result.stdout.split()[-2:]
    return float(seconds), int(peak_kb) / 1024


def measure_exports(
    url: str, label: str, large: str, small: str, scratch: Path, repeat: int = 3
) -> None:
    """The summary against the bare exporter, and at 100,000 against 10,000 respondents: a
    summary takes a second or so, as much as a neighbour's burst of work, so the two sizes are
    written in turns `repeat` times and their medians compared."""
    bare, bare_rss = child("bare-export", url, large, scratch / "bare.xlsx")
    samples = [
        (
            child("export", url, small, scratch / "small.xlsx"),
            child("export", url, large, scratch / "ours.xlsx"),
        )
        for _ in range(repeat)
    ]
    ours_small = statistics.median(s[0][0] for s in samples)
    ours = statistics.median(s[1][0] for s in samples)
    rss_small = max(s[0][1] for s in samples)
    rss = max(s[1][1] for s in samples)
    report(label, "xlsx_bare_s", bare, "s")
    report(label, "xlsx_export_s", ours, "s")
    report(label, "xlsx_export_ratio", ours / bare, "x")
    report(label, "xlsx_bare_peak_rss_mb", bare_rss, "MB")
    report(label, "xlsx_peak_rss_mb", rss, "MB")
    report(label, "xlsx_export_small_s", ours_small, "s")
    report(label, "summary_xlsx_growth", ours / ours_small, "x")
    report(label, "xlsx_peak_rss_small_mb", rss_small, "MB")
    report(label, "xlsx_rss_growth_mb", rss - rss_small, "MB")
    report(label, "xlsx_file_mb", (scratch / "ours.xlsx").stat().st_size / 2**20, "MB")


def measure_answers(url: str, label: str, large: str, scratch: Path, repeat: int) -> None:
    """The answers' workbook against the bare CSV of the same cells, runs taken in turns."""
    samples = [
        (
            child("bare-answers", url, large, scratch / "bare-answers.csv"),
            child("answers", url, large, scratch / "answers.xlsx"),
        )
        for _ in range(repeat)
    ]
    bare = statistics.median(s[0][0] for s in samples)
    ours = statistics.median(s[1][0] for s in samples)
    report(label, "answers_csv_bare_s", bare, "s")
    report(label, "answers_xlsx_s", ours, "s")
    report(label, "answers_xlsx_ratio", ours / bare, "x")
    report(label, "answers_csv_bare_peak_rss_mb", max(s[0][1] for s in samples), "MB")
    report(label, "answers_peak_rss_mb", max(s[1][1] for s in samples), "MB")
    report(label, "answers_xlsx_file_mb", (scratch / "answers.xlsx").stat().st_size / 2**20, "MB")


def run(url: str, label: str, args: argparse.Namespace, scratch: Path) -> None:
    engine = sa.create_engine(url, **queries.engine_options(url))
    start = time.perf_counter()
    fill(engine, args.respondents, args.small, args.items)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    report(label, "fill_s", time.perf_counter() - start, "s")
    plan = campaigns(args.respondents, args.small)
    measure_counts(engine, label, plan[0][1], plan[1][1], args.repeat)
    engine.dispose()
    if not args.no_export:
        measure_exports(url, label, plan[0][1], plan[1][1], scratch, min(args.repeat, 3))
        measure_answers(url, label, plan[0][1], scratch, min(args.repeat, 3))


EXPORTS = ("export", "bare-export", "answers", "bare-answers")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in EXPORTS:
        return export_main(*sys.argv[1:5])
    if len(sys.argv) > 1 and sys.argv[1] in ("log-import", "bare-log-import"):
        from reports import bench_logs

        return bench_logs.import_main(*sys.argv[1:4])
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--respondents", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--log-rows", type=int, default=1_000_000)
    parser.add_argument("--no-results", action="store_true", help="Only the access logs.")
    parser.add_argument("--no-logs", action="store_true", help="Only the results.")
    args = parser.parse_args()
    if not args.no_results:
        print(f"BENCH answers {args.respondents * args.items} rows", flush=True)
    if not args.no_logs:
        print(f"BENCH log_rows {args.log_rows} rows", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        if args.only != "postgres":
            run_parts(f"sqlite:///{scratch / 'bench.db'}", "sqlite_", args, scratch)
        url = os.environ.get("TEST_DATABASE_URL")
        if url and args.only != "sqlite":
            with postgres_database(url) as bench_url:
                run_parts(bench_url, "postgres_", args, scratch)


def run_parts(url: str, label: str, args: argparse.Namespace, scratch: Path) -> None:
    if not args.no_results:
        run(url, label, args, scratch)
    if not args.no_logs:
        from reports import bench_logs

        if url.startswith("sqlite"):
            bench_logs.run(url.replace("bench.db", "logs.db"), label, args, scratch)
            return
        with postgres_database(os.environ["TEST_DATABASE_URL"], "_logs") as logs_url:
            bench_logs.run(logs_url, label, args, scratch)


class postgres_database:
    """A throwaway database next to TEST_DATABASE_URL's, dropped afterwards."""

    def __init__(self, url: str, suffix: str = ""):
        self.name = f"tenken_bench_{os.getpid()}{suffix}"
        self.url = sa.engine.make_url(url)
        self.admin = sa.create_engine(
            self.url.set(database="postgres"), isolation_level="AUTOCOMMIT"
        )

    def __enter__(self) -> str:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
        return self.url.set(database=self.name).render_as_string(hide_password=False)

    def __exit__(self, *_):
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin.dispose()


def export_main(mode: str, url: str, code: str, out: str) -> None:
    """In the child process: one export, timed from the first query to the closed file (the
    modules it needs are imported before: the summary's own work is now a second or two)."""
    import csv  # noqa: F401

    import xlsxwriter  # noqa: F401

    from reports import answers, excel

    engine = sa.create_engine(url, **queries.engine_options(url))
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")  # connecting is not part of the export
        start = time.perf_counter()
        if mode == "export":
            excel.write_summary(conn, code, out, generated_by="make bench")
        elif mode == "answers":
            answers.write_answers(conn, code, out, generated_by="make bench")
        elif mode == "bare-answers":
            bare_answers(conn, code, out)
        else:
            bare_export(conn, code, out)
        elapsed = time.perf_counter() - start
    engine.dispose()
    print(f"{elapsed:.3f} {peak_rss_kb()}")


def peak_rss_kb() -> int:
    """This process's peak resident set size (VmHWM), in kB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


BARE_NAMES = """
WITH RECURSIVE unit_department(unit_id, department_id) AS (
  SELECT id, id FROM org_unit WHERE parent_id IS NULL
  UNION ALL
  SELECT u.id, d.department_id FROM org_unit u JOIN unit_department d ON u.parent_id = d.unit_id
)
SELECT s.id, dep.name, ru.name, coalesce(tu.name, sy.name, co.title, ct.name),
       s.status, s.submitted_at, s.due_on {extra}
FROM assignment s
LEFT JOIN unit_department d ON d.unit_id = s.responsible_unit_id
LEFT JOIN org_unit dep ON dep.id = d.department_id
LEFT JOIN org_unit ru ON ru.id = s.responsible_unit_id
LEFT JOIN org_unit tu ON tu.id = s.unit_id
LEFT JOIN information_system sy ON sy.id = s.system_id
LEFT JOIN contract co ON co.id = s.contract_id
LEFT JOIN contractor ct ON ct.id = s.contractor_id
{join}
WHERE s.campaign_id = {campaign} AND {status}
ORDER BY {order}
"""
HANDED_IN = "s.status IN ('submitted', 'approved')"


def bare_export(conn: sa.Connection, code: str, out: str) -> None:
    """The summary's baseline: the same cells, read with bare SQL and written with plain
    write_row in constant_memory mode, without formats, widths, charts or any checks."""
    import xlsxwriter

    cid, items, options = _bare_lists(conn, code)
    checklist_id = conn.scalar(
        sa.text("SELECT checklist_id FROM campaign WHERE id = :c"), {"c": cid}
    )
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "remove_timezone": True})
    stream = conn.execution_options(stream_results=True, yield_per=5_000)

    counts, chosen = {}, {}
    for item_id, option_id, n in conn.exec_driver_sql(BARE_PER_ITEM.format(campaign=cid)):
        counts.setdefault(item_id, {})[options[option_id][1]] = n
        chosen[item_id, option_id] = n
    ws = book.add_worksheet("集計")
    ws.write_row(0, 0, ["番号", "分類", "点検項目", "該当", "該当率", "はい", "いいえ", "対象外"])
    for r, (item_id, number, category, text) in enumerate(items, start=1):
        c = counts.get(item_id, {})
        yes, no, na = c.get("compliant", 0), c.get("noncompliant", 0), c.get("excluded", 0)
        share = yes / (yes + no) if yes + no else None
        ws.write_row(r, 0, [number, category, text, f"{yes}/{yes + no}", share, yes, no, na])

    matrix = {}
    for dept, item_id, option_id, n in conn.exec_driver_sql(BARE_DEPT_ITEM.format(campaign=cid)):
        cell = matrix.setdefault(dept, {}).setdefault(item_id, [0, 0])
        klass = options[option_id][1]
        if klass != "excluded":
            cell[klass == "compliant"] += n
    names = dict(
        conn.exec_driver_sql("SELECT id, name FROM org_unit WHERE parent_id IS NULL").all()
    )
    ws = book.add_worksheet("部局別")
    ws.write_row(0, 0, ["部局", *(str(i[1]) for i in items)])
    for r, (dept, cells) in enumerate(matrix.items(), start=1):
        shares = [cells.get(i[0], (0, 0)) for i in items]
        ws.write_row(r, 0, [names.get(dept), *(y / (y + n) if y + n else None for n, y in shares)])

    # The bench's checklist has one scale: its options across, in their order.
    ws = book.add_worksheet("選択肢別")
    title = conn.exec_driver_sql("SELECT title FROM scale").scalar()
    ws.write_row(0, 0, ["番号", "分類", "点検項目", "尺度", *(o[0] for o in options.values())])
    for r, (item_id, number, category, text) in enumerate(items, start=1):
        row = [chosen.get((item_id, o), 0) for o in options]
        ws.write_row(r, 0, [number, category, text, title, *row])

    _bare_rounds(conn, book, cid, checklist_id, items, options)

    ws = book.add_worksheet("未提出一覧")
    ws.write_row(0, 0, ["部局", "担当所属", "対象", "状態", "回答期限"])
    pending_rows = BARE_NAMES.format(
        extra="", join="", campaign=cid, status=f"NOT {HANDED_IN}", order="s.id"
    )
    for r, row in enumerate(stream.exec_driver_sql(pending_rows), start=1):
        ws.write_row(r, 0, [row[1], row[2], row[3], row[4], row[6]])
    book.close()


def _bare_lists(conn: sa.Connection, code: str):
    """The campaign's id, its items (id, number, category, text) and options (id -> label,
    klass), read with bare SQL."""
    cid, checklist_id = conn.execute(
        sa.text("SELECT id, checklist_id FROM campaign WHERE code = :c"), {"c": code}
    ).one()
    items = conn.execute(
        sa.text(
            "SELECT i.id, i.number, c.title, i.text FROM item i "
            "JOIN category c ON c.id = i.category_id WHERE i.checklist_id = :c ORDER BY i.number"
        ),
        {"c": checklist_id},
    ).all()
    options = {
        r[0]: r[1:]
        for r in conn.exec_driver_sql("SELECT id, label, klass FROM scale_option ORDER BY position")
    }
    return cid, items, options


def bare_answers(conn: sa.Connection, code: str, out: str) -> None:
    """The answers' baseline: the cells of 回答一覧 and いいえ・コメント一覧, read with bare SQL
    (server-side cursors) and written with the standard csv module, one file each."""
    import csv

    cid, items, options = _bare_lists(conn, code)
    stream = conn.execution_options(stream_results=True, yield_per=5_000)
    with open(out, "w", encoding="utf-8-sig", newline="") as answers_file:
        writer = csv.writer(answers_file)
        writer.writerow(
            ["部局", "担当所属", "対象", "状態", "提出日時", "はい", "いいえ", "対象外"]
        )
        column = {item[0]: 9 + 2 * k for k, item in enumerate(items)}
        answers = stream.exec_driver_sql(
            "SELECT a.assignment_id, a.item_id, a.option_id, a.comment FROM answer a JOIN "
            f"assignment s ON s.id = a.assignment_id WHERE s.campaign_id = {cid} AND {HANDED_IN} "
            "ORDER BY a.assignment_id, a.item_id"
        )
        pending = next(answers, None)
        people = BARE_NAMES.format(extra="", join="", campaign=cid, status=HANDED_IN, order="s.id")
        for person in stream.exec_driver_sql(people):
            row = [None] * (9 + 2 * len(items))
            row[:5] = person[1:6]
            tally = {"compliant": 0, "noncompliant": 0, "excluded": 0}
            while pending is not None and pending[0] == person[0]:
                label, klass = options[pending[2]]
                tally[klass] += 1
                row[column[pending[1]]] = label
                row[column[pending[1]] + 1] = pending[3] or None
                pending = next(answers, None)
            row[5:8] = tally.values()
            yes, no = tally["compliant"], tally["noncompliant"]
            row[8] = yes / (yes + no) if yes + no else None
            writer.writerow(row)
    with open(out + ".remarks.csv", "w", encoding="utf-8-sig", newline="") as remarks_file:
        writer = csv.writer(remarks_file)
        writer.writerow(
            ["番号", "点検項目", "部局", "担当所属", "対象", "回答", "コメント", "日時"]
        )
        texts = {i[0]: (i[1], i[3]) for i in items}
        for row in stream.exec_driver_sql(_bare_remarks(cid)):
            number, text = texts[row[7]]
            writer.writerow([number, text, row[1], row[2], row[3], row[8], row[9], row[10]])


def _bare_remarks(cid: int) -> str:
    return BARE_NAMES.format(
        extra=", a.item_id, o.label, a.comment, a.answered_at",
        join="JOIN answer a ON a.assignment_id = s.id JOIN scale_option o ON o.id = a.option_id "
        "JOIN item i ON i.id = a.item_id",
        campaign=cid,
        status=f"{HANDED_IN} AND (o.klass = 'noncompliant' OR a.comment <> '')",
        order="i.number, dep.position, ru.code, s.id",
    )


def _bare_rounds(conn, book, cid: int, checklist_id: int, items, options) -> None:
    """前回比較 and 推移 as the baseline writes them: the per-item counts of every round of the
    checklist up to this one (the same GROUP BY each), a row per item, when there is an
    earlier round. The bench's rounds share one version: items match by id."""
    earlier = conn.execute(
        sa.text(
            "SELECT id FROM campaign WHERE checklist_id = :k AND opens_on < "
            "(SELECT opens_on FROM campaign WHERE id = :c) ORDER BY opens_on"
        ),
        {"k": checklist_id, "c": cid},
    ).scalars()
    shares = []
    for round_id in [*earlier, cid]:
        tally = {}
        for item_id, option_id, n in conn.exec_driver_sql(BARE_PER_ITEM.format(campaign=round_id)):
            klass = options[option_id][1]
            if klass != "excluded":
                tally.setdefault(item_id, [0, 0])[klass == "compliant"] += n
        shares.append({i: (y, y + n) for i, (n, y) in tally.items()})
    if len(shares) < 2:
        return
    before, now = shares[-2:]
    for name, rounds_shown in (("前回比較", [before, now]), ("推移", shares)):
        ws = book.add_worksheet(name)
        ws.write_row(0, 0, ["番号", "分類", "点検項目", "該当・該当率", "増減"])
        for r, (item_id, number, category, text) in enumerate(items, start=1):
            cells = [number, category, text]
            for shown in rounds_shown:
                y, a = shown.get(item_id, (0, 0))
                cells += [f"{y}/{a}", y / a if a else None]
            y0, a0 = before.get(item_id, (0, 0))
            y1, a1 = now.get(item_id, (0, 0))
            if a0 and a1:
                cells.append(round(100 * (y1 / a1 - y0 / a0), 1))
            ws.write_row(r, 0, cells)


if __name__ == "__main__":
    main()
