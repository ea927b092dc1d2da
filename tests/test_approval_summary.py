"""The manager opens a handed-in questionnaire and reads, before anything else, how the answers
fall, every いいえ with its comment, and what changed since he last sent it back; 承認 and 差戻し
sit right under that summary, not at the end of a 6,000-pixel page."""

from __future__ import annotations

import re

import pytest

from survey.extensions import db
from survey.models import Assignment
from tests.helpers import assignment_of, form_data, login


@pytest.fixture
def handed_in(demo_app):
    """戸籍住民課's questionnaire, every item はい but items 5 and 20 いいえ, handed in."""
    mine = assignment_of("戸籍住民課")
    answers = {item.number: "yes" for item in mine.campaign.checklist.items} | {5: "no", 20: "no"}
    comments = {5: "書庫の鍵が壊れている", 20: "来月実施予定"}
    clerk = login(demo_app, "respondent")
    response = clerk.post(
        f"/assignments/{mine.id}", data=form_data(mine, answers, comments, action="submit")
    )
    assert response.status_code == 302
    return db.session.get(Assignment, mine.id)


def review_section(page: str) -> str:
    found = re.search(r'<section class="card review".*?</section>', page, re.S)
    assert found, "no approval summary on the page"
    return found.group(0)


def test_manager_reads_the_summary_first_with_every_no_and_its_comment(demo_app, handed_in):
    page = login(demo_app, "manager").get(f"/assignments/{handed_in.id}").get_data(as_text=True)

    section = review_section(page)
    assert page.index(section) < page.index('<form method="post" action="/assignments/')
    assert "「いいえ」の項目（2 件）" in section
    assert "書庫の鍵が壊れている" in section and "来月実施予定" in section
    assert section.index("項目 5") < section.index("項目 20")
    counts = dict(
        re.findall(r'<span class="figure-label">(.*?)</span> <strong>(\d+)</strong>', section)
    )
    assert counts["いいえ"] == "2" and counts["はい"] == str(int(counts["対象の項目"]) - 2)
    # 承認 and 差戻し inside the summary, before the questionnaire's first item.
    assert 'name="approve"' in section and 'name="send_back"' in section
    assert page.index('name="approve"') < page.index('id="item-')


def test_each_no_is_marked_in_the_questionnaire_below(demo_app, handed_in):
    page = login(demo_app, "manager").get(f"/assignments/{handed_in.id}").get_data(as_text=True)
    assert page.count('class="answer-noncompliant"') == 2 + 2  # summary and questionnaire


def test_after_a_return_the_summary_shows_what_changed(demo_app, handed_in):
    manager = login(demo_app, "manager")
    manager.post(
        f"/assignments/{handed_in.id}/review", data={"send_back": "1", "comment": "項目5を確認"}
    )
    clerk = login(demo_app, "respondent")
    mine = db.session.get(Assignment, handed_in.id)
    data = form_data(mine, {5: "yes"}, {5: "鍵を交換済み"}, action="submit")
    assert clerk.post(f"/assignments/{mine.id}", data=data).status_code == 302

    section = review_section(manager.get(f"/assignments/{mine.id}").get_data(as_text=True))

    assert "の後に変わった回答" in section
    assert re.search(r"項目 5</a>：いいえ → はい", section)
    assert "「いいえ」の項目（1 件）" in section


def test_the_respondent_sees_no_approval_summary(demo_app, handed_in):
    page = login(demo_app, "respondent").get(f"/assignments/{handed_in.id}").get_data(as_text=True)
    assert 'class="card review"' not in page
