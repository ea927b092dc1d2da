"""The access-log review end to end: the office imports a day of the resident system's log and
starts a round, sends it to the heads; 区民部長 justifies the look-ups of 戸籍住民課 and flags
the one at night, and hands the sheet in; the office approves it, sees the figures and
downloads the Excel summary."""

from datetime import timedelta

import openpyxl
from playwright.sync_api import expect

from survey import clock, demo_logs
from tests.browser.steps import sign_in
from tests.register_helpers import csv_bytes

DAY = "2026/11/02"  # a Monday


def _log() -> bytes:
    rows = [
        [
            f"{DAY} {9 + n}:15:00",
            f"D04-01-{n + 1:04d}",
            "TM-1",
            "住民票照会",
            f"00000{n:05d}",
            "中央",
            "01",
            f"R8-B{n:03d}",
        ]
        for n in range(6)
    ]
    rows.append(
        [
            f"{DAY} 23:40:00",
            "D04-01-0009",
            "TM-9",
            "住民票照会",
            "0000077777",
            "中央",
            "01",
            "R8-B999",
        ]
    )
    return csv_bytes([demo_logs.HEADER, *rows], "cp932")


def sign_out(page):
    page.get_by_role("button", name="ログアウト").click()


def test_import_route_justify_flag_approve_and_download(live_server, page, shot, tmp_path):
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/logs/sources/{demo_logs.SOURCE}/upload")
    page.get_by_label("ログファイル（CSV または .xlsx）").set_input_files(
        files=[{"name": "juki_20261102.csv", "mimeType": "text/csv", "buffer": _log()}]
    )
    page.get_by_role("button", name="アップロードして確認する").click()
    page.get_by_role("button", name="取り込む").click()
    expect(page.get_by_text("juki_20261102.csv を取り込みました（7 行）。")).to_be_visible()

    page.goto(f"{live_server}/logs/rounds/new")
    page.get_by_label("期間（開始日）").fill("2026-11-02")
    page.get_by_label("期間（終了日）").fill("2026-11-02")
    page.get_by_label("コード").fill("JUKI-2026-11-02")
    page.get_by_label("名称").fill("11月2日 照会ログ点検")
    page.get_by_role("button", name="抽出して開始する").click()
    expect(page.get_by_text("ログ点検「11月2日 照会ログ点検」を開始しました。")).to_be_visible()
    due = clock.today() + timedelta(days=14)
    page.get_by_label("回答期限").fill(due.isoformat())
    page.get_by_role("button", name="所属長に確認を依頼する").click()
    expect(page.get_by_text("1 所属の所属長に確認を依頼しました。")).to_be_visible()
    shot(page, "log-round-routed")
    sign_out(page)

    sign_in(page, live_server, "manager")
    page.get_by_role("link", name="ログ点検の回答", exact=True).click()
    page.get_by_role("link", name="11月2日 照会ログ点検").click()
    expect(page.get_by_text("0000077777")).to_be_visible()  # the head sees the number whole
    rows = page.locator("#entries tbody tr")
    # The night look-up (a rule's) and five drawn at random from the day's seven, which may
    # have drawn it too: the round's seed is new each time.
    sampled = rows.count()
    assert sampled in (5, 6)
    for n in range(sampled):
        row = rows.nth(n)
        if "0000077777" in row.inner_text():
            row.get_by_label("不適切な可能性", exact=True).check()
            row.get_by_label("用務・コメント").fill(
                "深夜の照会。窓口は閉じており、用務が確認できない。"
            )
        else:
            row.get_by_label("業務上必要", exact=True).check()
            row.get_by_label("用務・コメント").fill("窓口での住民票の交付")
    shot(page, "log-sheet-answered")
    page.get_by_role("button", name="保存する").click()
    expect(page.get_by_text(f"{sampled} 件の回答を保存しました。")).to_be_visible()
    page.get_by_role("button", name="提出する").click()
    expect(page.get_by_text("点検票を提出しました。")).to_be_visible()
    sign_out(page)

    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/logs/reviews/")
    page.locator("#to-approve").get_by_role("link", name="11月2日 照会ログ点検").click()
    expect(page.get_by_text("0000077777")).to_have_count(0)  # masked for the approver
    page.get_by_role("button", name="承認する").click()
    expect(page.get_by_text("点検票を承認しました。")).to_be_visible()
    expect(page.get_by_role("link", name="是正措置")).to_be_visible()

    page.goto(f"{live_server}/logs/rounds/JUKI-2026-11-02")
    units = page.locator("#review-units")
    expect(units.locator("tbody tr").first).to_contain_text("戸籍住民課")
    expect(units.locator("tfoot")).to_contain_text(str(sampled))
    shot(page, "log-round-figures")
    with page.expect_download() as downloading:
        page.get_by_role("link", name="集計をExcelでダウンロード").click()
    saved = tmp_path / downloading.value.suggested_filename
    downloading.value.save_as(saved)
    book = openpyxl.load_workbook(saved)
    by_unit = {row[0]: row for row in book["所属別"].iter_rows(min_row=8, values_only=True)}
    assert by_unit["戸籍住民課"][1:5] == (sampled, sampled - 1, 0, 1)
