"""A manager opens a campaign's results, sees which items and departments fall short, clicks
through to who answered いいえ and why, and downloads the figures; others may not."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import unquote

import openpyxl
import pytest

from reports import aggregate
from survey.extensions import db
from tests.helpers import job_download
from tests.results.conftest import unit

CAMPAIGN = "/results/2017-emergency-assets"
ALL_URLS = [
    "/results/",
    CAMPAIGN,
    CAMPAIGN + "/answers?item=1",
    CAMPAIGN + "/respondents",
    CAMPAIGN + "/respondents?view=pending",
    CAMPAIGN + "/export.xlsx",
    CAMPAIGN + "/export/items.csv",
    CAMPAIGN + "/export/respondents.json",
]


def text(response) -> str:
    return response.get_data(as_text=True)


def download(client, url: str) -> bytes:
    """The body of a download; the response is closed, as a WSGI server closes it. The Excel
    summary and the answers' workbook are made by export jobs: the click, the job's page, then
    its file."""
    if url.split("?")[0].endswith(("/export.xlsx", "/export/answers.xlsx")):
        path, _, query = url.partition("?")
        return job_download(client, path, "?" + query if query else "")[1].data
    response = client.get(url)
    try:
        assert response.status_code == 200, url
        return response.data
    finally:
        response.close()


def test_admin_sees_the_published_figures_with_charts_and_the_matrix(signed_in):
    client = signed_in("admin")
    page = text(client.get(CAMPAIGN))
    for ratio in ("133/139", "134/139", "135/139", "138/139"):
        assert ratio in page
    assert '<svg class="chart"' in page
    assert page.count('<th scope="row" class="sticky">') == 15  # every department
    assert "前回との比較" not in page  # the 2017 round is the first


def test_this_years_round_is_compared_with_the_previous_one(signed_in):
    page = text(signed_in("auditor").get("/results/2026-annual-assets"))
    assert "前回との比較" in page
    assert "令和7年度 情報資産の取扱状況 自己点検" in page
    last_year = aggregate.item_table(db.session.connection(), "2025-annual-assets")
    first = last_year.iloc[0]
    # Item 1 last year, beside this year's figure.
    assert f'{first["percent"]:.1f}%<br><small class="muted">{first["ratio"]}</small>' in page
    assert "/results/2026-annual-assets/trend" in page


def test_manager_sees_only_their_departments_results(signed_in, demo_app):
    client = signed_in("manager")  # 区民部長
    page = text(client.get(CAMPAIGN))
    assert page.count('<th scope="row" class="sticky">') == 9  # 区民部's divisions and offices
    assert "区民部" in page and "総務部" not in page
    assert "133/139" not in page  # the ward's figure is not theirs
    assert "集計範囲：区民部（配下の所属を含む）" in page

    rows = list(
        csv.DictReader(io.StringIO(text(client.get(CAMPAIGN + "/export/respondents.csv"))[1:]))
    )
    assert rows and {r["部局"] for r in rows} == {"区民部"}
    assert len(rows) == 9  # 区民部's divisions and offices
    items = list(csv.DictReader(io.StringIO(text(client.get(CAMPAIGN + "/export/items.csv"))[1:])))
    assert sum(int(r["はい"]) + int(r["いいえ"]) + int(r["対象外"]) for r in items[:-1]) <= 9 * 21

    book = openpyxl.load_workbook(io.BytesIO(download(client, CAMPAIGN + "/export.xlsx")))
    divisions = [r[0].value for r in book["所属別"].iter_rows(min_row=8) if r[0].value]
    assert "戸籍住民課" in divisions and "区民部" not in divisions and "総務部" not in divisions
    assert "集計範囲：区民部（配下の所属を含む）" in book["集計"]["A4"].value
    book = openpyxl.load_workbook(io.BytesIO(download(client, CAMPAIGN + "/export/answers.xlsx")))
    people = [r[0].value for r in book["回答一覧"].iter_rows(min_row=2)]
    assert set(people) == {"区民部"}


def test_manager_cannot_reach_other_departments_by_changing_the_url(signed_in):
    client = signed_in("manager")
    other = unit("総務部")
    assert client.get(f"{CAMPAIGN}?dept={other.id}").status_code == 404
    assert client.post(f"{CAMPAIGN}/export.xlsx?dept={other.id}").status_code == 404
    assert client.get(f"{CAMPAIGN}/answers?item=1&dept={other.id}").status_code == 404
    mine = unit("区民部")
    assert client.get(f"{CAMPAIGN}?dept={mine.id}").status_code == 200


def test_manager_does_not_see_a_campaign_without_assignments_in_their_subtree(signed_in):
    client = signed_in("m-d13")  # 区議会事務局長: no outsourced contract of theirs in 2017
    assert client.get(CAMPAIGN).status_code == 200
    assert client.get("/results/2017-emergency-contracts").status_code == 404
    assert client.post("/results/2017-emergency-contracts/export.xlsx").status_code == 404
    assert "/results/2017-emergency-contracts" not in text(client.get("/results/"))


@pytest.mark.parametrize("username", ["respondent", "contractor"])
def test_respondents_and_contractors_are_refused_results_and_downloads(signed_in, username):
    client = signed_in(username)
    for url in ALL_URLS:
        response = client.post(url) if url.endswith("/export.xlsx") else client.get(url)
        response.close()
        assert response.status_code == 403, url
    assert "/results/" not in text(client.get("/"))


def test_signed_out_visitors_are_sent_to_sign_in(demo_client):
    response = demo_client.post(CAMPAIGN + "/export.xlsx")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_home_page_links_each_campaign_to_its_results_for_those_who_may_see_them(signed_in):
    assert f'href="{CAMPAIGN}"' in text(signed_in("admin").get("/"))
    assert f'href="{CAMPAIGN}"' in text(signed_in("manager").get("/"))
    assert 'href="/results/"' in text(signed_in("auditor").get("/"))


def test_a_click_on_a_figure_lists_the_respondents_behind_it_with_their_comments(signed_in):
    client = signed_in("admin")
    page = text(client.get(CAMPAIGN))
    link = re.search(
        r'href="(/results/2017-emergency-assets/answers\?[^"]*klass=noncompliant[^"]*)"', page
    )
    assert link
    behind = text(client.get(link.group(1).replace("&amp;", "&")))
    assert "回答者とコメント（6件）" in behind  # item 1: 139 - 133 いいえ
    assert behind.count('class="answer-noncompliant"') == 6
    assert "研修" in behind or "職員" in behind  # the comments are shown
    kumin = unit("区民部")
    cell = text(client.get(f"{CAMPAIGN}/answers?item=5&dept={kumin.id}"))
    assert "区民部" in cell and "総務部" not in cell


def test_long_lists_are_paged_and_sorted(signed_in):
    client = signed_in("admin")
    first = text(client.get(CAMPAIGN + "/respondents?sort=noncompliant&dir=desc"))
    assert "1 / 3 ページ（全139件）" in first
    second = text(client.get(CAMPAIGN + "/respondents?sort=noncompliant&dir=desc&page=2"))
    assert "2 / 3 ページ" in second
    assert 'rel="next"' in first and 'rel="prev"' in second
    pending = text(client.get("/results/2026-annual-assets/respondents?view=pending"))
    assert "未提出（78件）" in pending


def test_downloads_have_japanese_file_names_per_rfc_6266(signed_in):
    client = signed_in("admin")
    _page, response = job_download(client, CAMPAIGN + "/export.xlsx")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="2017-emergency-assets_summary.xlsx"; ')
    encoded = re.search(r"filename\*=UTF-8''(\S+)$", disposition).group(1)
    assert unquote(encoded) == "2017情報セキュリティに係る緊急一斉点検（情報資産）_集計.xlsx"
    assert re.fullmatch(r"[A-Za-z0-9%._~-]+", encoded)  # RFC 5987 attr-chars only
    assert response.mimetype.endswith("spreadsheetml.sheet")
    csv_response = client.get(CAMPAIGN + "/export/remarks.csv")
    assert unquote(csv_response.headers["Content-Disposition"]).endswith(
        "_いいえ・コメント一覧.csv"
    )


def test_csv_is_utf8_with_a_bom_or_shift_jis_on_request(signed_in):
    client = signed_in("admin")
    utf8 = client.get(CAMPAIGN + "/export/items.csv").data
    assert utf8.startswith(b"\xef\xbb\xbf")
    assert "133/139" in utf8.decode("utf-8-sig")
    sjis = client.get(CAMPAIGN + "/export/items.csv?encoding=cp932")
    assert sjis.headers["Content-Type"] == "text/csv; charset=Shift_JIS"
    decoded = sjis.data.decode("cp932")
    assert decoded.startswith("番号,分類,点検項目") and "133/139" in decoded
    payload = client.get(CAMPAIGN + "/export/items.json").get_json()
    assert payload["campaign"] == "2017-emergency-assets"
    assert [r["ratio"] for r in payload["rows"][:4]] == ["133/139", "134/139", "135/139", "138/139"]
