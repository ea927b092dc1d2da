"""An officer opens this year's results and steps to the 推移: every round of the checklist side
by side, on his scope, sortable, and downloadable like the other tables."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from reports import formats, queries, rounds
from survey.extensions import db
from tests.results.conftest import REMOVED_KEY, REWORDED, unit

TREND = "/results/2026-annual-assets/trend"
ROUNDS = ["令和7年度 情報資産の取扱状況 自己点検", "令和8年度 情報資産の取扱状況 自己点検"]


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def csv_rows(client, url: str) -> list[dict]:
    body = text(client.get(url))
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def row_of(page: str, number: int) -> str:
    """The HTML of an item's row in the trend table."""
    body = page.split('<table class="data results-trend">', 1)[1]
    rows = re.findall(r"<tr>\s*<td class=\"num\">(\d+)</td>(.*?)</tr>", body, re.S)
    return next(html for n, html in rows if int(n) == number)


def test_the_campaign_page_leads_to_three_rounds_side_by_side(signed_in):
    client = signed_in("admin")
    assert TREND in text(client.get("/results/2026-annual-assets"))
    page = text(client.get(TREND))
    assert "情報セキュリティに係る緊急一斉点検（情報資産）" in page
    for title in ROUNDS:
        assert title in page
    table = page.split("results-trend")[1]
    heads = re.findall(r'<th scope="col" class="num"[^>]*>(.*?)</th>', table, re.S)
    assert [re.sub(r"<[^>]+>|\s|▲|▼", "", h) for h in heads[1:4]] == [
        "平成29年1月",
        "令和7年11月",
        "令和8年11月",
    ]
    trend = rounds.trend(db.session.connection(), "2026-annual-assets")
    first = row_of(page, 1)
    # Oldest first: seed 003's 133/139, then last year's, then this year's so far.
    ratios = list(trend.wide("ratio").iloc[0])
    assert ratios[0] == "133/139"
    assert [m for m in re.findall(r"\d+/\d+", first)] == ratios
    assert formats.points(trend.items["change"].iloc[0]) in first


def test_a_manager_sees_his_subtree_round_by_round(signed_in):
    client = signed_in("manager")  # 区民部長
    page = text(client.get(TREND))
    assert "集計範囲：区民部（配下の所属を含む）" in page
    assert "133/139" not in page
    mine = rounds.trend(
        db.session.connection(), "2026-annual-assets", queries.subtree(unit("区民部").id)
    )
    assert re.findall(r"\d+/\d+", row_of(page, 1)) == list(mine.wide("ratio").iloc[0])
    assert f"{mine.totals['handed_in'].iloc[0]}/{mine.totals['assignments'].iloc[0]}" in page
    # One division of his, through ?dept= as on the results page.
    koseki = unit("戸籍住民課")
    one = text(client.get(f"{TREND}?dept={koseki.id}"))
    alone = rounds.trend(db.session.connection(), "2026-annual-assets", queries.subtree(koseki.id))
    assert re.findall(r"\d+/\d+", row_of(one, 1)) == list(alone.wide("ratio").iloc[0].dropna())


def test_a_manager_cannot_reach_another_departments_trend(signed_in):
    client = signed_in("manager")
    other = unit("総務部")
    assert client.get(f"{TREND}?dept={other.id}").status_code == 404
    response = client.get(f"/results/2026-annual-assets/export/trend.csv?dept={other.id}")
    response.close()
    assert response.status_code == 404
    # A manager with nothing in a campaign does not learn that it exists.
    assert signed_in("m-d13").get("/results/2017-emergency-contracts/trend").status_code == 404


@pytest.mark.parametrize("username", ["respondent", "contractor"])
def test_respondents_and_contractors_are_refused_the_trend(signed_in, username):
    client = signed_in(username)
    for url in (TREND, "/results/2026-annual-assets/export/trend.csv"):
        response = client.get(url)
        response.close()
        assert response.status_code == 403, url


def test_the_trend_sorts_by_the_latest_round_or_the_change(signed_in):
    client = signed_in("auditor")
    trend = rounds.trend(db.session.connection(), "2026-annual-assets")
    items = trend.items.assign(latest=trend.wide().iloc[:, -1].to_numpy())

    def numbers(page: str) -> list[int]:
        body = page.split('<table class="data results-trend">', 1)[1]
        return [int(n) for n in re.findall(r"<tr>\s*<td class=\"num\">(\d+)</td>", body)]

    worst_first = items.sort_values(["change", "number"], kind="stable")["number"]
    assert numbers(text(client.get(TREND + "?sort=change")))[0] == worst_first.iloc[0]
    best = items.sort_values("latest", ascending=False, kind="stable")["number"]
    assert numbers(text(client.get(TREND + "?sort=percent&dir=desc")))[0] == best.iloc[0]
    assert numbers(text(client.get(TREND + "?sort=number&dir=desc"))) == list(range(21, 0, -1))
    assert numbers(text(client.get(TREND + "?sort=nonsense"))) == list(range(1, 22))


def test_an_item_not_asked_in_a_round_is_blank_there(second_version, signed_in):
    page = text(signed_in("admin").get(f"/results/{second_version.code}/trend"))
    added = row_of(page, 21).split("</td>")
    assert "trend-absent" in row_of(page, 21)  # the new item 21, in the three older rounds
    assert page.count("trend-absent") == 3 + 1  # ... and the dropped item 21, in 2027
    assert "今回はない項目" in page and "文言変更" in page and REWORDED in page
    assert "0/0" not in "".join(added)
    rows = csv_rows(signed_in("admin"), f"/results/{second_version.code}/export/trend.csv")
    by_key = {r["キー"]: r for r in rows[:-1]}
    assert by_key["cloud-services"]["令和8年11月\n該当"] == ""
    assert by_key["cloud-services"]["令和9年11月\n該当"] == "1/2"
    assert by_key[REMOVED_KEY]["令和9年11月\n該当率"] == ""


def test_trend_and_comparison_download_as_csv_and_json(signed_in):
    client = signed_in("admin")
    trend = rounds.trend(db.session.connection(), "2026-annual-assets")
    rows = csv_rows(client, "/results/2026-annual-assets/export/trend.csv")
    assert [r["番号"] for r in rows[:-1]] == [str(n) for n in range(1, 22)]
    assert rows[0]["平成29年1月\n該当"] == "133/139"
    assert rows[0]["増減（前回比）"] == formats.points(trend.items["change"].iloc[0])
    assert rows[-1]["点検項目"] == "全項目"
    compared = csv_rows(client, "/results/2026-annual-assets/export/compare.csv")
    assert compared[0]["前回 該当"] == trend.wide("ratio").iloc[0, 1]
    assert compared[0]["今回 該当"] == trend.wide("ratio").iloc[0, 2]
    body = json.loads(text(client.get("/results/2026-annual-assets/export/trend.json")))
    assert [r["campaign"] for r in body["rounds"]] == trend.codes
    assert body["rows"][0]["2017-emergency-assets_ratio"] == "133/139"
    # The first round has nothing to compare with.
    response = client.get("/results/2017-emergency-assets/export/compare.csv")
    response.close()
    assert response.status_code == 404
