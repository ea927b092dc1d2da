"""The security office asks the command line for the rounds of a checklist and for a company's
self-inspections across its contracts: aligned text, CSV or JSON, like the other reports."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa

from reports import formats, queries, rounds
from survey.extensions import db
from survey.models import AuditEntry, Contract, Contractor
from tests.results.conftest import unit


def conn():
    return db.session.connection()


def invoke(runner, *args: str):
    result = runner.invoke(args=list(args))
    return result


def test_trend_is_printed_oldest_round_first_with_the_change(demo_runner):
    result = invoke(demo_runner, "report", "trend", "2026-annual-assets")
    assert result.exit_code == 0, result.output
    trend = rounds.trend(conn(), "2026-annual-assets")
    lines = result.output.splitlines()
    assert [line.split("：")[0] for line in lines[:3]] == [
        "平成29年1月",
        "令和7年11月",
        "令和8年11月",
    ]
    assert "全項目 2678/2864（93.5%）" in lines[0]  # seed 003's whole checklist
    header = lines[4].split()
    assert header[:2] == ["番号", "項目"] and header[-1] == "増減"
    first = lines[5]
    ratios, percents = trend.wide("ratio").iloc[0], trend.wide().iloc[0]
    for ratio, percent in zip(ratios, percents, strict=True):
        assert f"{ratio} ({percent:.1f}%)" in first
    assert first.rstrip().endswith(formats.points(trend.items["change"].iloc[0]))


def test_trend_of_a_managers_subtree_and_in_english(demo_runner):
    kumin = unit("区民部")
    result = invoke(
        demo_runner, "report", "trend", "2026-annual-assets", "--unit", kumin.code, "--lang", "en"
    )
    assert result.exit_code == 0, result.output
    assert "集計範囲：区民部（配下の所属を含む）" in result.output
    mine = rounds.trend(conn(), "2026-annual-assets", queries.subtree(kumin.id))
    header, first = result.output.splitlines()[4:6]
    assert header.split()[:2] == ["number", "text"]
    assert "2017-emergency-assets" in header  # rounds named by their code
    assert f"{mine.wide('ratio').iloc[0, 0]} (" in first
    assert "133/139" not in result.output


def test_trend_and_comparison_as_csv_and_json(demo_runner, tmp_path):
    out = tmp_path / "trend.csv"
    result = invoke(
        demo_runner, "report", "trend", "2026-annual-assets", "--format", "csv", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    text = out.read_bytes().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert rows[0]["平成29年1月\n該当"] == "133/139" and rows[-1]["点検項目"] == "全項目"
    result = invoke(demo_runner, "report", "trend", "2026-annual-assets", "--format", "json")
    body = json.loads(result.output)
    assert [r["campaign"] for r in body["rounds"]] == [
        "2017-emergency-assets",
        "2025-annual-assets",
        "2026-annual-assets",
    ]
    assert body["rounds"][0]["ratio"] == "2678/2864"
    result = invoke(demo_runner, "report", "table", "2026-annual-assets", "--table", "compare")
    compared = list(csv.DictReader(io.StringIO(result.output.lstrip("\ufeff"))))
    trend = rounds.trend(conn(), "2026-annual-assets")
    assert compared[0]["前回 該当"] == trend.wide("ratio").iloc[0, 1]
    exports = db.session.scalars(
        sa.select(AuditEntry.summary).where(AuditEntry.action == "export.results")
    ).all()
    assert "2026-annual-assets trend.csv 全体" in exports


def test_the_first_round_has_no_comparison_and_an_unknown_campaign_is_named(demo_runner):
    result = invoke(demo_runner, "report", "table", "2017-emergency-assets", "--table", "compare")
    assert result.exit_code == 1
    assert "2017-emergency-assets はこのチェックリストの最初の回です" in result.output
    result = invoke(demo_runner, "report", "trend", "no-such-campaign")
    assert result.exit_code == 1 and "no-such-campaign は登録されていません" in result.output


def test_a_companys_contracts_across_rounds(demo_runner):
    result = invoke(demo_runner, "report", "contractor", "C001")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "株式会社さくら情報サービス（C001）"
    company = db.session.scalar(sa.select(Contractor).where(Contractor.code == "C001"))
    ids = db.session.scalars(sa.select(Contract.id).where(Contract.contractor_id == company.id))
    found = rounds.company_rounds(conn(), list(ids))
    for line, total in zip(lines[1:4], found.totals.itertuples(), strict=True):
        assert f"全契約 {total.ratio}（{total.percent:.1f}%）" in line
    header = lines[4].split()
    assert header[:3] == ["契約番号", "契約", "所管"]
    codes = [line.split()[0] for line in lines[5:]]
    assert codes == list(found.contracts["contract_code"])

    result = invoke(demo_runner, "report", "contractor", "C001", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.output.lstrip("\ufeff"))))
    assert [r["契約番号"] for r in rows[:-1]] == codes and rows[-1]["契約"] == "全契約"
    result = invoke(demo_runner, "report", "contractor", "C001", "--format", "json")
    body = json.loads(result.output)
    assert body["contractor"] == "C001" and len(body["rounds"]) == 3
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(AuditEntry.action == "export.contractor_rounds")
        )
        == 3
    )

    result = invoke(demo_runner, "report", "contractor", "C999")
    assert result.exit_code == 1 and "C999 は登録されていません" in result.output
