"""Partial and unknown answers on the results pages, in the comment rule, the corrective actions
and the 該当率 rule of the files (checklists/scoring.py)."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from survey.services.answering import ItemInput, check_complete
from tests.helpers import login
from tests.results.test_results_pages import download
from tests.test_scoring import answered  # noqa: F401  (the fixture)

RULE_WITH_CLASSES = "該当率＝はい÷（はい＋一部実施＋いいえ＋わからない）"
RULE_PLAIN = "該当率＝はい÷（はい＋いいえ）"


@pytest.fixture
def admin(demo_app, answered):  # noqa: F811
    return login(demo_app, "admin")


def test_the_campaign_page_counts_partial_and_unknown_in_columns_of_their_own(admin):
    page = admin.get("/results/classes-1").get_data(as_text=True)
    assert "「一部実施」の回答" in page and "「わからない」の回答" in page
    assert "「はい」÷（「はい」＋「一部実施」＋「いいえ」＋「わからない」）" in page
    # Item 4's 一部実施 and わからない each link to the answers behind them.
    assert "item=4&amp;klass=partial" in page and "item=4&amp;klass=unknown" in page


def test_a_checklist_without_them_shows_the_columns_it_always_did(demo_app):
    page = login(demo_app, "admin").get("/results/2026-annual-assets").get_data(as_text=True)
    assert "一部実施" not in page and "わからない" not in page
    assert "該当率＝「はい」÷（「はい」＋「いいえ」）" in page


def test_the_answers_of_one_class_are_listed_and_offer_a_corrective_action(admin, answered):  # noqa: F811
    first, second = answered
    page = admin.get("/results/classes-1/answers?item=3&klass=partial").get_data(as_text=True)
    assert "戸籍住民課" in page and "秘書課" not in page
    assert "是正措置を登録" in page
    # An informational answer is never listed by class, nor turned into an action.
    assert admin.get("/results/classes-1/answers?item=1&klass=informational").status_code == 404
    item = {i.number: i for i in first.campaign.checklist.items}
    ok = admin.get(f"/followup/actions/new?assignment={first.id}&item={item[4].id}")
    assert ok.status_code == 200  # わからない
    fact = admin.get(f"/followup/actions/new?assignment={first.id}&item={item[1].id}")
    assert fact.status_code == 404
    compliant = admin.get(f"/followup/actions/new?assignment={first.id}&item={item[2].id}")
    assert compliant.status_code == 404


def test_the_respondents_list_counts_partial_and_unknown(admin):
    page = admin.get("/results/classes-1/respondents").get_data(as_text=True)
    assert '<th scope="col" class="num">一部実施</th>' in page
    assert '<th scope="col" class="num">わからない</th>' in page


@pytest.mark.parametrize("code", ["part", "dk", "no"])
def test_a_shortfall_answer_needs_a_comment_under_the_noncompliant_rule(demo_app, answered, code):  # noqa: F811
    first, _ = answered
    items = {i.number: i for i in first.campaign.checklist.items}
    inputs = {i.id: ItemInput("done") for i in items.values()}
    inputs[items[1].id] = ItemInput("yes")
    inputs[items[3].id] = ItemInput(code)
    with demo_app.test_request_context():
        assert list(check_complete(first, inputs)) == [items[3].id]
        inputs[items[3].id] = ItemInput(code, "手順書を作成中")
        assert check_complete(first, inputs) == {}


def test_an_informational_answer_needs_no_comment(demo_app, answered):  # noqa: F811
    first, _ = answered
    items = {i.number: i for i in first.campaign.checklist.items}
    inputs = {i.id: ItemInput("na") for i in items.values()}
    inputs[items[1].id] = ItemInput("no")  # a fact, whatever its wording
    with demo_app.test_request_context():
        assert check_complete(first, inputs) == {}


@pytest.mark.parametrize(
    "campaign, rule", [("classes-1", RULE_WITH_CLASSES), ("2026-annual-assets", RULE_PLAIN)]
)
def test_the_files_state_the_rule_of_the_checklists_classes(admin, campaign, rule):
    book = openpyxl.load_workbook(io.BytesIO(download(admin, f"/results/{campaign}/export.xlsx")))
    title_block = [c.value for c in book["集計"]["A"][:6] if c.value]
    assert any(line.startswith(rule + "。") for line in title_block)
    notes = [str(c.value) for row in book["部局別"].iter_rows() for c in row if c.value]
    assert any(rule.removeprefix("該当率＝") in v for v in notes)
    document = admin.get(f"/results/{campaign}/export/items.json").get_json()
    assert document["ratio_rule"] == rule


# --- counts per option ------------------------------------------------------------------------


def options_json(runner, *extra):
    args = ["report", "table", "classes-1", "--table", "options", "--format", "json", *extra]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_every_scale_counts_its_options_under_its_own_labels(answered, demo_runner):  # noqa: F811
    document = options_json(demo_runner)
    titles = {c["key"]: c["title"] for c in document["columns"]}
    assert titles["level4.part"] == "一部実施している" and titles["fact.yes"] == "している"
    assert titles["level4.no"] == "実施していない" and titles["fact.no"] == "していない"
    rows = {r["number"]: r for r in document["rows"]}
    # Item 3: one 実施している, one 一部実施している; the fact scale's columns stay empty.
    assert (rows[3]["level4.done"], rows[3]["level4.part"], rows[3]["level4.dk"]) == (1, 1, 0)
    assert rows[3]["fact.yes"] is None
    assert (rows[1]["fact.yes"], rows[1]["fact.no"], rows[1]["level4.done"]) == (1, 1, None)
    assert (rows[5]["level4.na"], rows[5]["level4.done"]) == (1, 1)


def test_one_scale_alone_is_keyed_by_its_option_codes(answered, demo_runner):  # noqa: F811
    document = options_json(demo_runner, "--scale", "level4")
    assert [r["number"] for r in document["rows"]] == [2, 3, 4, 5]
    assert [c["key"] for c in document["columns"]][4:] == ["done", "part", "no", "dk", "na"]
    assert document["rows"][2]["dk"] == 1  # item 4: the first respondent's わからない


def test_an_unknown_scale_is_refused_with_its_code(answered, demo_runner):  # noqa: F811
    args = ["report", "table", "classes-1", "--table", "options", "--scale", "level9"]
    result = demo_runner.invoke(args=args)
    assert result.exit_code == 1 and "level9" in result.output
    args = ["report", "table", "classes-1", "--table", "items", "--scale", "level4"]
    assert demo_runner.invoke(args=args).exit_code == 1


def test_the_page_and_the_files_give_the_same_counts(admin, answered, demo_runner):  # noqa: F811
    page = admin.get("/results/classes-1").get_data(as_text=True)
    assert "選択肢別の回答数" in page and ">4段階</h3>" in page and ">事実</h3>" in page
    assert '<th scope="col" class="num">一部実施している</th>' in page
    expected = options_json(demo_runner, "--scale", "level4")["rows"]
    csv = admin.get("/results/classes-1/export/options.csv?scale=level4").get_data(as_text=True)
    lines = csv.lstrip("\ufeff").splitlines()
    assert lines[0].split(",")[4:] == [
        "実施している",
        "一部実施している",
        "実施していない",
        "わからない",
        "該当しない",
    ]
    assert [line.split(",")[4:] for line in lines[1:]] == [
        [str(r[k]) for k in ("done", "part", "no", "dk", "na")] for r in expected
    ]
    assert admin.get("/results/classes-1/export/options.csv?scale=level9").status_code == 404
    assert admin.get("/results/classes-1/export/items.csv?scale=level4").status_code == 404
    book = openpyxl.load_workbook(io.BytesIO(download(admin, "/results/classes-1/export.xlsx")))
    sheet = book["選択肢別"]
    header = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "番号")
    assert "一部実施している" in header and "していない" in header
    by_number = {r[0]: r for r in sheet.iter_rows(values_only=True) if isinstance(r[0], int)}
    assert by_number[4][header.index("わからない")] == 1
