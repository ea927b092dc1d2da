"""The home page puts first what waits for the user: the approver's 承認待ち, longest waiting
first, and the contractor's open correction recommendations (是正勧告) with their deadline and the
corrective action where the company reports."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import url_for

from survey import clock
from survey.extensions import db
from survey.models import Assignment, Campaign, Recommendation
from survey.models.campaigns import AssignmentStatus
from survey.services import inbox
from tests.helpers import ANNUAL, assignment_of, login, user

CSS = Path(__file__).resolve().parent.parent / "survey/static/css/tenken.css"


def _hand_in(unit_name: str, at: datetime) -> Assignment:
    assignment = assignment_of(unit_name)
    assignment.status = AssignmentStatus.SUBMITTED
    assignment.submitted_at = at
    db.session.commit()
    return assignment


def _waiting_section(html: str) -> str:
    found = re.search(
        r'<section class="card desk" aria-labelledby="waiting-heading">(.*?)</section>', html, re.S
    )
    assert found, "no 承認待ち on the home page"
    return found.group(1)


def test_manager_finds_what_waits_for_approval_on_home_page_longest_waiting_first(demo_app):
    now = datetime.now(UTC)
    newer = _hand_in("戸籍住民課", now - timedelta(hours=1))
    older = _hand_in("税務課", now - timedelta(days=3))
    manager = user("manager")
    expected = len(inbox.to_review(manager, clock.today()))
    assert expected >= 2

    html = login(demo_app, "manager").get("/").get_data(as_text=True)

    section = _waiting_section(html)
    assert f"{expected} 件" in section
    assert section.index(older.target_name) < section.index(newer.target_name)
    with demo_app.test_request_context():
        assert f'href="{url_for("respond.assignment", assignment_id=older.id)}"' in section


def test_respondent_with_nothing_to_confirm_sees_no_approval_desk(demo_app):
    html = login(demo_app, "respondent").get("/").get_data(as_text=True)
    assert "waiting-heading" not in html


def test_admin_home_lists_at_most_ten_and_links_to_the_rest(demo_app):
    now = datetime.now(UTC)
    submitted = db.session.scalars(
        sa.select(Assignment)
        .join(Campaign)
        .where(Campaign.code == ANNUAL, Assignment.status == AssignmentStatus.DRAFT)
        .limit(12)
    ).all()
    for n, assignment in enumerate(submitted):
        assignment.status = AssignmentStatus.SUBMITTED
        assignment.submitted_at = now - timedelta(minutes=n)
    db.session.commit()
    total = len(inbox.to_review(user("admin"), clock.today()))
    assert total > 10

    section = _waiting_section(login(demo_app, "admin").get("/").get_data(as_text=True))

    assert section.count("<tr>") == 1 + 10  # the heading row and ten rows
    assert f"承認待ちをすべて表示（{total} 件）" in section


def test_contractor_home_shows_open_recommendation_with_grade_deadline_and_action(demo_app):
    contractor = user("contractor")
    open_ones = [
        r
        for r in db.session.scalars(sa.select(Recommendation))
        if r.evaluation.contractor_id == contractor.contractor_id
        and r.corrective_action.status != "verified"
    ]
    assert open_ones, "the demo contractor has an open recommendation"
    recommendation = open_ones[0]

    html = login(demo_app, "contractor").get("/").get_data(as_text=True)

    found = re.search(r'aria-labelledby="recommendations-heading">(.*?)</section>', html, re.S)
    assert found, "no 是正勧告 on the contractor's home page"
    section = found.group(1)
    assert f"評価 {recommendation.evaluation.grade}" in section
    assert f"/followup/actions/{recommendation.corrective_action_id}" in section
    assert recommendation.corrective_action.title in section


def test_other_roles_see_no_recommendation_desk(demo_app):
    html = login(demo_app, "respondent").get("/").get_data(as_text=True)
    assert "recommendations-heading" not in html


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("variable", ["--warn", "--ok", "--bad", "--accent", "--muted"])
def test_status_colours_are_readable_on_cards_and_page(variable):
    """WCAG 2.1 AA (JIS X 8341-3): small text needs 4.5:1 against its background."""
    css = CSS.read_text(encoding="utf-8")
    colours = dict(re.findall(r"(--[a-z]+):\s*(#[0-9a-fA-F]{6})", css))
    for background in (colours["--card"], colours["--bg"]):
        assert _contrast(colours[variable], background) >= 4.5, (variable, background)
