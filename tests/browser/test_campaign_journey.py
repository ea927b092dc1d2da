"""The security office sends out an inspection in a browser: creates it from the published
checklist, chooses every division of one department, opens it and follows its progress.

`run_campaign_journey` (tests/browser/steps.py) is the reusable part: the checklist journey
calls it with the version it has just published."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from survey.extensions import db
from survey.models import OrgUnit
from tests.browser.steps import checklist_option, run_campaign_journey, sign_in


def test_admin_sends_out_an_inspection_to_one_department(live_server, page, shot):
    department = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "区民部"))
    expected = db.session.scalar(
        sa.select(sa.func.count()).where(
            OrgUnit.parent_id == department.id, OrgUnit.kind.in_(("division", "office"))
        )
    )
    sign_in(page, live_server, "admin")
    sent = run_campaign_journey(page, live_server, checklist_label=checklist_option(), shot=shot)
    assert sent == expected
    # The new round is listed with its progress bar.
    page.get_by_role("link", name="点検の実施").first.click()
    expect(page.get_by_text("令和9年度 区民部 情報資産の取扱状況 点検")).to_be_visible()
