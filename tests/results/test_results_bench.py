"""`make bench` measures tenken's own schema and code, so its figures mean something."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import sqlalchemy as sa

from reports import aggregate, answers, bench, bench_logs, excel
from survey.extensions import db


@pytest.mark.parametrize("metadata", [bench.metadata, bench_logs.metadata], ids=["results", "logs"])
def test_bench_schema_uses_the_tables_columns_and_types_of_the_models(app, metadata):
    for table in metadata.sorted_tables:
        real = db.metadata.tables[table.name]
        for column in table.columns:
            assert column.name in real.columns, f"{table.name}.{column.name}"
            expected = real.columns[column.name].type._type_affinity
            assert column.type._type_affinity is expected, f"{table.name}.{column.name}"
        for index in table.indexes:
            same = next(i for i in real.indexes if i.name == index.name)
            assert [c.name for c in index.columns] == [c.name for c in same.columns]


def test_bench_runs_on_a_small_campaign_and_agrees_with_its_baselines(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'bench.db'}")
    bench.fill(engine, respondents=60, small=10, items=6)
    with engine.connect() as conn:
        _, ours = aggregate.per_item(conn, "bench-60")
        bare = conn.exec_driver_sql(bench.BARE_PER_ITEM.format(campaign=1)).all()
        assert ours[["compliant", "noncompliant", "excluded"]].sum().sum() == sum(
            n for *_, n in bare
        )
        figures = aggregate.per_department(conn, "bench-60")
        bare = conn.exec_driver_sql(bench.BARE_DEPT_ITEM.format(campaign=1)).all()
        assert figures.items["noncompliant"].sum() == sum(n for _, _, o, n in bare if o == 2)
        ours_file, bare_file = io.BytesIO(), io.BytesIO()
        excel.write_summary(conn, "bench-60", ours_file)
        bench.bare_export(conn, "bench-60", bare_file)
        answers.write_answers(conn, "bench-60", tmp_path / "answers.xlsx")
        bench.bare_answers(conn, "bench-60", str(tmp_path / "bare.csv"))
    mine, theirs = openpyxl.load_workbook(ours_file), openpyxl.load_workbook(bare_file)
    # The baselines write the same sheets and cells: same respondents, same answers.
    assert mine.sheetnames == theirs.sheetnames
    pending = list(mine["未提出一覧"].iter_rows(min_row=8, values_only=True))
    assert [r[0] for r in pending] == [
        r[0] for r in theirs["未提出一覧"].iter_rows(min_row=2, values_only=True)
    ]
    book = openpyxl.load_workbook(tmp_path / "answers.xlsx")
    ours_rows = list(book["回答一覧"].iter_rows(min_row=2, values_only=True))
    with open(tmp_path / "bare.csv", encoding="utf-8-sig", newline="") as bare_csv:
        bare_rows = list(csv.reader(bare_csv))[1:]
    assert len(ours_rows) == len(bare_rows) > 50
    assert [[v or "" for v in r[9:]] for r in ours_rows] == [r[9:] for r in bare_rows]
    remarks = list(book["いいえ・コメント一覧"].iter_rows(min_row=2, values_only=True))
    with open(str(tmp_path / "bare.csv") + ".remarks.csv", encoding="utf-8-sig") as bare_csv:
        assert len(remarks) == len(list(csv.reader(bare_csv))) - 1 > 0
    engine.dispose()


def test_the_log_bench_imports_the_same_rows_both_ways_and_samples_them(tmp_path):
    from reports.accesslogs.sampler import Scope

    url = f"sqlite:///{tmp_path / 'logs.db'}"
    engine = bench_logs.engine_for(url)
    bench_logs.fill_registers(engine)
    path = tmp_path / "log.csv"
    bench_logs.write_log(path, 3_000)
    counts = []
    for load in (bench_logs.bare_import, bench_logs.import_log):
        bench_logs._fresh_entries(engine)
        with engine.begin() as conn:
            counts.append(load(conn, path))
    assert counts == [3_000, 3_000]
    with engine.connect() as conn:
        resolved = conn.scalar(sa.text("SELECT count(*) FROM log_entry WHERE unit_id IS NOT NULL"))
        assert resolved > 2_500  # staff ids resolve to their units through the registers
        scope = Scope(1, *bench_logs.MONTH, bench_logs.ZONE)
        assert bench_logs.bare_scan(conn, scope) == 3_000
        sampled = bench_logs.draw(conn, scope)
        assert 5 * 60 <= sampled < 3_000 // 5  # the random draw and a few rule matches
    engine.dispose()
