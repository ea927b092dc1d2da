"""The most-used pages, as each kind of user sees them, checked with axe-core against WCAG 2.1
A/AA (the level JIS X 8341-3 asks of public bodies): a new violation fails its page's test.

One demo ward and one signed-in browser context per user serve the whole module: the pages
are only read, and signing in once per user keeps the run short."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from survey import clock, demo_logs
from survey.extensions import db
from survey.services import actions
from tests.browser.axe import assert_accessible
from tests.browser.conftest import new_context, serving_demo_copy
from tests.browser.steps import sign_in
from tests.helpers import assignment_of, user
from tests.test_corrective_actions import noncompliant

CAMPAIGN = "2026-annual-assets"
SUBMITTED = "南部地域事務所"  # handed in to the manager of 区民部 in the demo ward

# (test id, user or None for a visitor, path; {names} are filled from the demo ward)
PAGES = [
    ("login", None, "/auth/login"),
    ("home-admin", "admin", "/"),
    ("home-manager", "manager", "/"),
    ("home-respondent", "respondent", "/"),
    ("home-contractor", "contractor", "/"),
    ("questionnaire-editable", "respondent", "/assignments/{editable}"),
    ("questionnaire-approval", "manager", "/assignments/{submitted}"),
    # The demo's delegation: the part handed to `staff`, their inbox, and the form handing one.
    ("questionnaire-delegated", "staff", "/assignments/{editable}"),
    ("inbox-delegate", "staff", "/assignments/"),
    ("delegation-form", "respondent", "/assignments/{editable}/delegate"),
    ("results-campaign", "admin", f"/results/{CAMPAIGN}"),
    ("results-department", "admin", f"/results/{CAMPAIGN}?dept={{department}}"),
    ("results-trend", "manager", f"/results/{CAMPAIGN}/trend"),
    ("company", "contractor", "/contractors/{company}"),
    ("progress", "admin", f"/campaigns/{CAMPAIGN}/progress"),
    ("campaign-new", "admin", "/campaigns/new"),
    ("escalation-defaults", "admin", "/admin/escalation"),
    ("campaign-escalation", "admin", f"/campaigns/{CAMPAIGN}/escalation"),
    ("followup-dashboard", "admin", "/followup/"),
    ("action", "manager", "/followup/actions/{action}"),
    ("checklists", "admin", "/admin/checklists/"),
    ("register-units", "admin", "/admin/registers/units"),
    ("audit-log", "admin", "/audit/"),
    ("logs", "admin", "/logs/"),
    ("log-source", "admin", "/logs/sources/JUKI/edit"),
    ("log-round", "admin", "/logs/rounds/JUKI-2026-10"),
    ("log-reviews", "manager", "/logs/reviews/"),
    ("log-sheet", "manager", "/logs/reviews/{log_sheet}"),
    ("log-sheet-approval", "admin", "/logs/reviews/{log_sheet}"),
    ("pledges", "admin", "/pledges/"),
    ("pledge", "admin", "/pledges/staff"),
    ("pledge-completion", "manager", "/pledges/staff/completion"),
    ("pledge-completion-office", "admin", "/pledges/staff/completion"),
    ("pledge-draft", "admin", "/pledges/staff/draft"),
    # September's approved sheet: its confirmed flag, recorded as an incident.
    ("log-sheet-incident", "admin", "/logs/reviews/{log_sheet_approved}"),
    ("log-incidents", "admin", "/logs/incidents"),
]


def demo_ids() -> dict[str, int]:
    """The demo ward's records the pages show, and a corrective action to show."""
    assignment, item = noncompliant("国民年金課")
    action = actions.open_action(
        title=f"項目{item.number} の是正（国民年金課）",
        due_on=clock.today() + timedelta(days=30),
        created_by=user("manager"),
        unit=assignment.responsible_unit,
        assignment=assignment,
        item=item,
        notify=False,
    )
    db.session.commit()
    return {
        "editable": assignment_of("戸籍住民課").id,
        "submitted": assignment_of(SUBMITTED).id,
        "department": user("manager").unit_id,
        "action": action.id,
        "company": user("contractor").contractor_id,
        "log_sheet": _log_sheet("戸籍住民課", demo_logs.ROUND),
        "log_sheet_approved": _log_sheet("戸籍住民課", demo_logs.PREVIOUS),
    }


def _log_sheet(unit_name: str, round_code: str) -> int:
    from survey.models import OrgUnit, ReviewRound, ReviewSheet

    return db.session.scalar(
        sa.select(ReviewSheet.id)
        .join(OrgUnit, OrgUnit.id == ReviewSheet.unit_id)
        .join(ReviewRound, ReviewRound.id == ReviewSheet.round_id)
        .where(OrgUnit.name == unit_name, ReviewRound.code == round_code)
    )


@pytest.fixture(scope="module")
def ward(databases, demo_template, tmp_path_factory):
    """(base URL, demo_ids()) of a demo ward served for the whole module."""
    instance = tmp_path_factory.mktemp("instance")
    with serving_demo_copy(databases, demo_template, instance, demo_ids) as served:
        yield served


@pytest.fixture(scope="module")
def pages(browser, ward):
    """`pages(username)`: that user's page, signed in once; None is a visitor's."""
    base, _ = ward
    opened = {}

    def page_of(username):
        if username not in opened:
            context = new_context(browser)
            opened[username] = context.new_page()
            if username is not None:
                sign_in(opened[username], base, username)
        return opened[username]

    yield page_of
    for page in opened.values():
        page.context.close()


@pytest.mark.parametrize(("username", "path"), [p[1:] for p in PAGES], ids=[p[0] for p in PAGES])
def test_page_has_no_wcag_violations(pages, ward, username, path):
    base, ids = ward
    page = pages(username)
    path = path.format(**ids)
    response = page.goto(base + path)
    assert response.status == 200, f"{path} answered {response.status}"
    expect(page.locator("h1")).to_be_visible()
    assert_accessible(page, path)


def test_keyboard_meets_each_item_of_the_results_once_in_the_table(pages, ward):
    """The chart's links (a mouse's shortcut) are out of the Tab order; the table beside it
    leads to the same answers, so a keyboard or screen reader user reaches each of them once."""
    base, _ = ward
    page = pages("admin")
    page.goto(f"{base}/results/{CAMPAIGN}")
    chart = page.locator("svg.chart a").evaluate_all(
        "links => links.map((a) => [a.getAttribute('href'), a.tabIndex])"
    )
    assert len(chart) == 21
    assert {tab for _, tab in chart} == {-1}
    table = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="点検項目"))
    tabbable = table.locator("a:not([tabindex])").evaluate_all(
        "links => links.map((a) => a.getAttribute('href'))"
    )
    assert {href for href, _ in chart} <= set(tabbable)
