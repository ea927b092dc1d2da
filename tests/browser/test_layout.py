"""The pages that show label | value blocks and dates, measured in Chromium on a desk (1366 ×
768) and on a phone (360 px): each value stands beside its own label (or under it, on the
phone), no date breaks inside, nothing is wider than the screen. axe checks, on the desk, the
pages that tests/browser/test_accessibility.py does not visit.

Screenshots: test-output/screenshots/test_layout_<page>-<width>_/01-page.png."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEntry, Campaign
from survey.services import invitations, notify, trail
from tests.browser.axe import assert_accessible
from tests.browser.conftest import ACTION_TIMEOUT_MS, serving_demo_copy
from tests.browser.steps import sign_in
from tests.helpers import assignment_of, user

CONTRACTS = "2026-annual-contracts"
ASSETS = "2026-annual-assets"
WIDTHS = {"desk": {"width": 1366, "height": 768}, "phone": {"width": 360, "height": 740}}

# (page, user or None for a visitor, path; {names} are filled from seed())
PAGES = [
    ("campaign", "admin", f"/campaigns/{CONTRACTS}"),
    ("account", "admin", "/auth/account"),
    ("audit-entry", "admin", "/audit/entries/{entry}"),
    ("outbox-mail", "admin", "/admin/outbox/{mail}"),
    ("two-factor-setup", "admin", "/auth/2fa/setup"),
    ("invitation", None, "/auth/invite/{token}"),
    ("campaign-assignment", "admin", "/campaigns/assignments/{assignment}"),
    ("contractor-company", "contractor", "/contractors/{company}"),
    # tables of dates
    ("audit-log", "admin", "/audit/"),
    ("progress", "admin", f"/campaigns/{ASSETS}/progress"),
    ("results", "admin", "/results/"),
]
CHECKED_ELSEWHERE = {"audit-log", "progress"}  # by axe in test_accessibility.py

LONG_ADDRESS = "a-long-recipient-address.for-the-contract-office@mail.example-contractor.co.jp"


def seed() -> dict:
    """A queued mail with a long address and error, an invitation, an entry with before/after."""
    admin = user("admin")
    contract = db.session.scalar(sa.select(Campaign).where(Campaign.code == CONTRACTS))
    assignment = next(a for a in contract.assignments if a.contract_id is not None)
    mail = notify.queue_mail(LONG_ADDRESS, "【情報セキュリティ自己点検】回答のお願い", "本文")
    mail.last_error = "SMTPRecipientsRefused: 550 5.1.1 Recipient address rejected: " * 3
    _, token = invitations.invite(assignment, "tantou@example-contractor.co.jp", admin)
    trail.record(
        "campaign.update",
        contract,
        summary=CONTRACTS,
        user=admin,
        before={"closes_on": "2026-11-30", "title": contract.title, "reason": ""},
        after={"closes_on": "2026-12-25", "title": contract.title, "reason": "年末のため。" * 20},
    )
    db.session.commit()
    return {
        "entry": db.session.scalar(sa.select(sa.func.max(AuditEntry.id))),
        "mail": mail.id,
        "token": token,
        "assignment": assignment.id,
        "company": user("contractor").contractor_id,
        "unit_assignment": assignment_of("戸籍住民課").id,
    }


@pytest.fixture(scope="module")
def ward(databases, demo_template, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    with serving_demo_copy(databases, demo_template, instance, seed) as served:
        yield served


@pytest.fixture(scope="module")
def pages(browser, ward):
    """`pages(username, width)`: that user's page at that width, signed in once."""
    base, _ = ward
    opened = {}

    def page_of(username, width):
        if (username, width) not in opened:
            context = browser.new_context(locale="ja-JP", viewport=WIDTHS[width])
            context.set_default_timeout(ACTION_TIMEOUT_MS)
            opened[username, width] = context.new_page()
            if username is not None:
                sign_in(opened[username, width], base, username)
        return opened[username, width]

    yield page_of
    for page in opened.values():
        page.context.close()


# Each pair of a label | value block: where its label and its value stand on the screen.
PAIRS = """() => [...document.querySelectorAll("dl.facts:not(.compact) > div")].map((pair) => {
  const [dt, dd] = [pair.querySelector("dt"), pair.querySelector("dd")];
  const [l, v] = [dt.getBoundingClientRect(), dd.getBoundingClientRect()];
  return {label: dt.textContent.trim(), labelTop: l.top, labelRight: l.right,
          labelBottom: l.bottom, valueTop: v.top, valueLeft: v.left, valueRight: v.right};
})"""
# Each date (or time of day) on the page, and how many lines it takes.
DATES = """() => [...document.querySelectorAll("time > span")].map(
  (part) => ({text: part.textContent, lines: part.getClientRects().length}))"""
# Data tables whose column headings are out of sight while some cell does not carry its
# heading: on a phone, such a cell is a value without a meaning.
HEADLESS_CELLS = """() => [...document.querySelectorAll("table.data")].filter((table) => {
  const head = table.tHead;
  if (!head || head.getBoundingClientRect().height > 0) return false;
  const cells = [...table.querySelectorAll("tbody td, tbody th")];
  return cells.some((cell) => cell.textContent.trim() && !cell.dataset.label
                              && !cell.querySelector(".cell-label"));
}).map((table) => table.className)"""
# The header's menu links, ログアウト and the language switch, and how many lines each takes
# (a range over the words: a button's own box stays one box when its text wraps inside it).
HEADER_WORDS = """() => [...document.querySelectorAll(
    ".site-nav a, .account button, .lang-switch a")].map((control) => {
  const words = document.createRange();
  words.selectNodeContents(control);
  return {text: control.textContent.trim(), lines: words.getClientRects().length};
})"""


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize(("name", "username", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_layout(pages, ward, shot, name, username, path, width):
    base, ids = ward
    page = pages(username, width)
    response = page.goto(base + path.format(**ids))
    assert response.status == 200
    shot(page, "page")

    for pair in page.evaluate(PAIRS):
        if width == "desk":  # side by side, the value right of its own label
            assert abs(pair["valueTop"] - pair["labelTop"]) < 8, pair
            assert pair["valueLeft"] >= pair["labelRight"], pair
        else:  # the value under its label
            assert pair["valueTop"] >= pair["labelBottom"] - 1, pair
        assert pair["valueRight"] <= WIDTHS[width]["width"], pair

    dates = page.evaluate(DATES)
    assert [d for d in dates if d["lines"] != 1] == []
    assert [w for w in page.evaluate(HEADER_WORDS) if w["lines"] != 1] == []
    assert page.evaluate(HEADLESS_CELLS) == []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{path} is {overflow} px wider than the screen"
    if width == "desk" and name not in CHECKED_ELSEWHERE:
        assert_accessible(page, path)


def test_the_pages_show_dates_and_label_value_blocks(pages, ward):
    """The measurements above are not vacuous: the pages hold what they measure."""
    base, ids = ward
    page = pages("admin", "desk")
    page.goto(base + f"/campaigns/{CONTRACTS}")
    assert page.locator("dl.facts > div").count() == 7  # … and its escalation steps
    assert page.locator("time").count() > 10
    page.goto(base + f"/audit/entries/{ids['entry']}")
    changed = page.locator("table.trail-changes").first.locator("tbody tr")
    assert changed.count() == 2  # closes_on, reason
