"""The auditor's pages: only admin and auditors see them; search, paging, the Excel export and
the review of unusual patterns, on entries crafted with chosen times."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from survey.demo import DEMO_PASSWORD
from survey.extensions import db
from survey.models import AuditEntry
from survey.services import trail, trail_diff
from tests.helpers import job_download

JST = ZoneInfo("Asia/Tokyo")
JUNE = {"date_from": "2026-06-01", "date_to": "2026-06-30"}


def login(app, username: str):
    client = app.test_client()
    response = client.post("/auth/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, username
    return client


def jst(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=JST)


_people: dict[str, SimpleNamespace] = {}


def person(name: str) -> SimpleNamespace:
    return _people.setdefault(name, SimpleNamespace(id=9000 + len(_people), username=name))


def craft(action: str, who: str | None, when: datetime, addr: str = "192.0.2.1", **kw):
    if who is None or action == "auth.login_failed":
        return trail.record(
            action, user=None, username=kw.pop("username", who), at=when, remote_addr=addr, **kw
        )
    return trail.record(action, user=person(who), at=when, remote_addr=addr, **kw)


def found(client, **args) -> int:
    page = client.get("/audit/?" + urlencode(args))
    assert page.status_code == 200
    match = re.search(r"記録（(\d+)件）", page.get_data(as_text=True))
    return int(match.group(1))


def entries(**where) -> list[AuditEntry]:
    db.session.expire_all()
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, name) == value)
    return list(db.session.scalars(stmt))


# --- who sees the pages ---------------------------------------------------------------------

PAGES = ("/audit/", "/audit/review", "/audit/entries/1")
EXPORT = "/audit/export.xlsx"  # a POST: the click that makes an export job


@pytest.mark.parametrize("username", ["admin", "auditor"])
def test_admin_and_auditor_see_every_page(demo_app, username):
    client = login(demo_app, username)
    for path in PAGES:
        response = client.get(path)
        response.close()  # the export is a file
        assert response.status_code == 200, path
    assert client.post(EXPORT).status_code == 303
    assert 'href="/audit/"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("username", ["respondent", "manager", "contractor"])
def test_everyone_else_gets_404_and_the_attempt_is_recorded(demo_app, username):
    client = login(demo_app, username)
    assert 'href="/audit/"' not in client.get("/").get_data(as_text=True)
    for path in PAGES:
        response = client.get(path)
        response.close()
        assert response.status_code == 404, path
    assert client.post(EXPORT).status_code == 404
    denied = entries(action="access.denied", username=username)
    assert [e.after["path"] for e in denied] == [*PAGES, EXPORT]
    assert all(e.object_type == "audit_entry" and e.after["reason"] == "role" for e in denied)


def test_signed_out_visitors_are_sent_to_sign_in(demo_app):
    response = demo_app.test_client().get("/audit/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# --- search ---------------------------------------------------------------------------------


@pytest.fixture
def sample(demo_app):
    craft("auth.login", "alice", jst(6, 2, 9))
    craft(
        "download.sheet",
        "alice",
        jst(6, 2, 10),
        object_type="assignment",
        object_id=11,
        summary="2026-annual-assets #11 戸籍住民課",
    )
    craft(
        "export.results",
        "bob",
        jst(6, 3, 11),
        addr="198.51.100.7",
        object_type="campaign",
        object_id="2017-emergency-assets",
    )
    craft(
        "answer.save",
        "bob",
        jst(6, 4, 23, 59),
        object_type="assignment",
        object_id=12,
        after={"answers": {"3": {"option": "yes", "comment": "鍵の管理を確認"}}},
    )
    craft("auth.login_failed", None, jst(6, 5, 13), addr="203.0.113.9", username="mallory")
    db.session.commit()
    return login(demo_app, "auditor")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, 5),
        ({"user": "alice"}, 2),
        ({"user": "mallory"}, 1),
        ({"action": "downloads"}, 2),
        ({"action": "auth.*"}, 2),
        ({"action": "answer.save"}, 1),
        ({"object_type": "assignment"}, 2),
        ({"object_type": "assignment", "object_id": "12"}, 1),
        ({"date_from": "2026-06-03", "date_to": "2026-06-04"}, 2),  # local days, to 23:59
        ({"date_from": "2026-06-05"}, 1),
        ({"text": "鍵の管理"}, 1),  # inside before → after
        ({"text": "戸籍住民課"}, 1),
        ({"text": "100%"}, 0),  # no wildcard
        ({"addr": "203.0.113.9"}, 1),
        ({"off_hours": "y"}, 1),  # the save at 23:59
        ({"since": "2026-06-02T00:30:00Z", "until": "2026-06-03T02:00:00Z"}, 2),
    ],
)
def test_filters(sample, args, expected):
    window = {k: v for k, v in JUNE.items() if k not in args}
    assert found(sample, **window, **args) == expected


def test_typed_text_with_a_nul_is_stored_and_searched_safely(sample):
    craft("auth.login_failed", None, jst(6, 6, 9), username="ad\x00min")
    db.session.commit()
    assert found(sample, **JUNE, user="ad\ufffdmin") == 1
    assert found(sample, **JUNE, text="\x00") == 6
    assert trail.verify().problem is None


def test_a_wrong_filter_is_shown_and_left_out(sample):
    page = sample.get("/audit/?" + urlencode({**JUNE, "date_from": "2026-13-40", "action": "x"}))
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "記録（5件）" in text
    assert text.count('class="error"') == 2


def test_paged_by_fifty_newest_first_and_sortable(demo_app):
    start = jst(6, 10, 9)
    for n in range(120):
        craft("download.sheet", "carol", start + timedelta(minutes=n), summary=f"n={n:03d}")
    db.session.commit()
    client = login(demo_app, "auditor")
    day = {"date_from": "2026-06-10", "date_to": "2026-06-10"}
    first = client.get("/audit/?" + urlencode(day)).get_data(as_text=True)
    assert first.count('href="/audit/entries/') == 50
    assert "1 / 3 ページ（全120件）" in first
    assert first.index("n=119") < first.index("n=118")
    last = client.get("/audit/?" + urlencode({**day, "page": 3})).get_data(as_text=True)
    assert last.count('href="/audit/entries/') == 20 and "n=000" in last
    oldest = client.get("/audit/?" + urlencode({**day, "sort": "asc"})).get_data(as_text=True)
    assert oldest.index("n=000") < oldest.index("n=001") and "n=119" not in oldest
    assert "sort=asc" in first  # the time column's link switches the order


def test_one_entry_shows_before_after_and_hashes(sample):
    entry = entries(action="answer.save")[0]
    page = sample.get(f"/audit/entries/{entry.id}").get_data(as_text=True)
    assert "鍵の管理を確認" in page and entry.hash in page and entry.prev_hash in page
    assert sample.get("/audit/entries/999999").status_code == 404


# --- one entry, field by field --------------------------------------------------------------


def _rows(page: str, table: int = 0) -> list[list[str]]:
    """The body rows of the page's n-th before/after table, each cell's text squeezed."""
    body = re.findall(r'<table class="data trail-changes">.*?<tbody>(.*?)</tbody>', page, re.S)
    cells = (
        re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in body[table].split("</tr>")
    )
    return [[" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in row] for row in cells if row]


def _entry_page(client, **kw) -> str:
    recorded = craft("campaign.update", "alice", jst(6, 8, 10), **kw)
    db.session.commit()
    return client.get(f"/audit/entries/{recorded.id}").get_data(as_text=True)


def test_an_entry_shows_each_changed_field_with_both_values(sample):
    page = _entry_page(
        sample,
        before={
            "closes_on": "2026-11-30",
            "targets": {"note": "最初の案", "units": [1, 2]},
            "title": "令和8年度 点検",
            "old": True,
        },
        after={
            "closes_on": "2026-12-25",
            "targets": {"note": "最初の案", "units": [1, 2, 3]},
            "title": "令和8年度 点検",
            "reason": "年末のため",
        },
    )
    assert _rows(page) == [
        ["closes_on 変更", "変更前 2026-11-30", "変更後 2026-12-25"],
        ["old 削除", "変更前 true", "変更後 （なし）"],
        ["reason 追加", "変更前 （なし）", "変更後 年末のため"],
        ["targets › units 変更", "変更前 [1, 2]", "変更後 [1, 2, 3]"],
    ]
    assert _rows(page, 1) == [["targets › note", "値 最初の案"], ["title", "値 令和8年度 点検"]]
    assert "変更のない項目（2件）" in page
    assert '<details class="trail-raw">' in page  # the JSON as recorded, on request
    assert '<pre class="json">{\n  &#34;closes_on&#34;: &#34;2026-11-30&#34;,' in page


def test_an_entry_without_before_lists_what_was_recorded_as_added(sample):
    page = _entry_page(sample, after={"kind": "書面監査", "findings": [{"n": 1}, {"n": 2}]})
    rows = _rows(page)
    assert rows[1] == ["kind 追加", "変更前 （なし）", "変更後 書面監査"]
    assert rows[0][0] == "findings 追加"
    assert '<pre class="json">[\n  {\n    &#34;n&#34;: 1\n  },' in page  # a list of objects
    assert "変更のない項目" not in page


def test_hostile_keys_and_values_of_an_entry_are_shown_as_text(sample):
    script = "<script>alert(1)</script>"
    image = '"><img src=x onerror=alert(1)>'
    page = _entry_page(
        sample,
        before={script: "a", "nested": {image: [script]}},
        after={script: image, "nested": {image: [image]}},
    )
    assert script not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert _rows(page)[1][0] == "nested › &#34;&gt;&lt;img src=x onerror=alert(1)&gt; 変更"


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ({"n": 1}, {"n": True}, [(("n",), "changed", "1", "true")]),  # equal in Python only
        ({"n": "1"}, {"n": 1}, [(("n",), "changed", "1", "1")]),  # a string becomes a number
        (None, [1, 2], [((), "added", None, "[1, 2]")]),
        ({}, {"a": {}}, [(("a",), "added", None, "{}")]),
        ({"a": {"b": None}}, {"a": {"b": None}}, [(("a", "b"), "same", "null", "null")]),
        (None, None, []),
    ],
)
def test_changes_compare_fields_as_json(before, after, expected):
    found = trail_diff.changes(before, after)
    text = [(c.path, c.kind, c.before and c.before.text, c.after and c.after.text) for c in found]
    assert text == expected


# --- export ---------------------------------------------------------------------------------

HOSTILE = [
    '=HYPERLINK("http://evil.example/","click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,1)",
    "=1+1\x07",
]


def test_export_holds_the_filtered_entries_with_hostile_text_as_text(sample, demo_app):
    for n, text in enumerate(HOSTILE):
        craft("auth.login_failed", None, jst(6, 20, 10, n), username=text[:64])
        craft("download.sheet", "dave", jst(6, 20, 11, n), summary=text)
    db.session.commit()
    _page, response = job_download(sample, EXPORT, "?" + urlencode(JUNE))
    data = response.data
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(data))
    sheet = book["audit"]
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]][:6] == [
        "ID",
        "日時",
        "ユーザーID",
        "ユーザー名",
        "接続元",
        "操作コード",
    ]
    assert len(rows) == 1 + 5 + 2 * len(HOSTILE)
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c.data_type == "f"]  # no formula anywhere
    names = {row[3].value: row[3] for row in rows[1:]}
    summaries = {row[9].value: row[9] for row in rows[1:]}
    for text in HOSTILE:
        kept = text.replace("\x07", "\ufffd")  # a control character cannot be stored
        for cell in (names[kept[:64]], summaries[kept]):
            assert cell.data_type == "s" and cell.quotePrefix
    assert not names["alice"].quotePrefix
    dates = [row[1].value for row in rows[1:]]
    assert dates == sorted(dates, reverse=True) and dates[0] == datetime(2026, 6, 20, 11, 4)

    export = entries(action="export.audit")
    assert len(export) == 1 and export[0].username == "auditor"
    assert export[0].after == {"filters": JUNE, "rows": 5 + 2 * len(HOSTILE)}
    assert trail.verify().problem is None


def test_export_respects_the_filters(sample):
    data = job_download(sample, EXPORT, "?" + urlencode({**JUNE, "user": "bob"}))[1].data
    rows = list(load_workbook(io.BytesIO(data))["audit"].iter_rows(values_only=True))
    assert [row[3] for row in rows[1:]] == ["bob", "bob"]


# --- review ---------------------------------------------------------------------------------


@pytest.fixture
def patterns(demo_app):
    # 20 downloads in under 8 minutes: flagged. 19 in 10 minutes, or 20 over hours: not.
    for n in range(20):
        craft("download.sheet", "heavy", jst(6, 2, 10) + timedelta(seconds=25 * n))
        craft("export.results", "slow", jst(6, 2, 10) + timedelta(minutes=10 * n))
    for n in range(19):
        craft("download.evidence", "steady", jst(6, 2, 14) + timedelta(seconds=31 * n))
    # Night, weekend, holiday: flagged. Office hours on a working day: not.
    craft("answer.save", "owl", jst(6, 2, 23, 30))  # Tuesday night
    craft("answer.save", "owl", jst(6, 3, 5, 59))
    craft("answer.save", "owl", jst(6, 3, 6, 0))
    craft("answer.save", "owl", jst(6, 3, 21, 59))
    craft("answer.save", "owl", jst(6, 3, 22, 0))
    craft("auth.login", "weekender", jst(6, 6, 14))  # Saturday
    craft("download.sheet", "holiday", jst(7, 20, 10))  # 海の日
    craft("answer.save", "dayworker", jst(6, 3, 10))
    # Attempts to open other units' objects.
    for n in range(3):
        craft("access.denied", "prober", jst(6, 4, 11, n), object_type="assignment", object_id=n)
    # Failed sign-ins: five for one name from five addresses; five from one address for five
    # names; four, which is not yet a pattern.
    for n in range(5):
        craft("auth.login_failed", None, jst(6, 8, 9, 3 * n), f"198.51.100.{n}", username="target")
        craft("auth.login_failed", None, jst(6, 9, 9, 3 * n + 1), "203.0.113.9", username=f"u{n}")
    for n in range(4):
        craft("auth.login_failed", None, jst(6, 10, 9, n), "198.51.100.200", username="almost")
    db.session.commit()
    return trail.review(date(2026, 6, 1), date(2026, 7, 31))


def test_each_pattern_is_flagged_and_normal_use_is_not(patterns):
    assert [(f.who, f.count) for f in patterns.downloads] == [("heavy", 20)]
    off = [(f.who, f.day.isoformat(), f.count, f.day_off) for f in patterns.off_hours]
    assert off == [
        ("owl", "2026-06-02", 1, None),
        ("owl", "2026-06-03", 2, None),  # 05:59 and 22:00; not 06:00 or 21:59
        ("weekender", "2026-06-06", 1, "weekend"),
        ("holiday", "2026-07-20", 1, "海の日"),
    ]
    assert [(f.who, f.count) for f in patterns.denied] == [("prober", 3)]
    failed = [(f.kind, f.who, f.count) for f in patterns.failed_sign_ins]
    assert failed == [("failed_by_user", "target", 5), ("failed_by_address", "203.0.113.9", 5)]


def test_each_flag_links_to_exactly_the_entries_behind_it(patterns, demo_app):
    client = login(demo_app, "auditor")
    flags = patterns.downloads + patterns.off_hours + patterns.denied + patterns.failed_sign_ins
    for flag in flags:
        assert found(client, **flag.link) == flag.count, flag


def test_the_review_page_lists_the_flags(patterns, demo_app):
    client = login(demo_app, "auditor")
    page = client.get("/audit/review?date_from=2026-06-01&date_to=2026-07-31")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    for shown in ("heavy", "owl", "weekender", "海の日", "prober", "target", "203.0.113.9"):
        assert shown in text, shown
    for quiet in ("steady", "slow", "dayworker", "almost", "198.51.100.200"):
        assert quiet not in text, quiet
    assert text.count("記録を見る") == patterns.total == 8
    assert client.get("/audit/review").status_code == 200  # the last 30 days by default


def test_normal_use_raises_no_flag(demo_app):
    for n in range(19):
        craft("download.sheet", "clerk", jst(6, 3, 9) + timedelta(seconds=30 * n))
    for n in range(4):
        craft("auth.login_failed", None, jst(6, 3, 10, n), username="clerk")
    craft("auth.login", "clerk", jst(6, 3, 8, 30))
    craft("auth.logout", "clerk", jst(6, 3, 17, 45))
    db.session.commit()
    assert trail.review(date(2026, 6, 1), date(2026, 6, 30)).total == 0


def test_bursts_merge_overlapping_windows():
    times = [datetime(2026, 6, 1, 10) + timedelta(minutes=m) for m in (0, 1, 2, 3, 20, 21, 50)]
    assert trail.bursts(times, 3, timedelta(minutes=5)) == [(0, 3)]
    assert trail.bursts(times, 2, timedelta(minutes=5)) == [(0, 3), (4, 5)]
    assert trail.bursts(times, 8, timedelta(hours=2)) == []
