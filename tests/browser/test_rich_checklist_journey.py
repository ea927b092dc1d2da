"""A contractor answers a checklist written as published ones are: its own wording, headings,
examples folded, and a category that appears only once the answer it depends on is given."""

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from survey.extensions import db
from survey.models import Contract, User
from tests.browser.axe import assert_accessible
from tests.helpers import import_checklist, open_campaign
from tests.rich_checklist import RICH


@pytest.fixture
def contract_name(demo_app, tmp_path) -> str:
    """The rich checklist opened on the first contract of the demo contractor's company."""
    company = db.session.scalar(sa.select(User.contractor_id).where(User.username == "contractor"))
    contract = db.session.scalar(
        sa.select(Contract).where(Contract.contractor_id == company).order_by(Contract.id)
    )
    open_campaign(import_checklist(tmp_path, RICH), [contract], code="rich-journey")
    return contract.title


def test_contractor_answers_a_checklist_with_headings_and_a_conditional_category(
    signed_in, contract_name, shot
):
    page = signed_in("contractor")
    page.get_by_role("link", name="回答・承認").first.click()
    page.get_by_role("row").filter(has_text="テスト点検").get_by_role(
        "link", name=contract_name
    ).click()
    expect(page.get_by_text("貴社が受託している業務について回答してください。")).to_be_visible()
    expect(page.get_by_role("heading", name="基本方針")).to_be_visible()
    first = page.locator("fieldset.item").nth(0)
    expect(first.get_by_text("貴社は情報セキュリティ方針を定めていますか")).to_be_visible()
    subcontractors = page.locator("section.category").nth(1)
    expect(subcontractors).to_be_hidden()
    first.get_by_text("確認方法の例").click()
    expect(first.get_by_text("プライバシーマークの登録証")).to_be_visible()
    shot(page, "contractor-wording-and-examples")
    assert_accessible(page, "a questionnaire with headings and examples")

    page.locator("fieldset.item").nth(1).get_by_label("はい", exact=True).check()
    expect(subcontractors).to_be_visible()
    expect(
        subcontractors.get_by_text("この分類は、項目 2 の回答が「はい」の場合に")
    ).to_be_visible()
    roster = page.locator("fieldset.item").nth(3)
    expect(roster).to_be_hidden()
    on_file = page.locator("fieldset.item").nth(2)
    expect(on_file.get_by_label("委託先に確認中")).to_have_count(0)  # the staff's option
    on_file.get_by_label("実施している").check()
    expect(roster).to_be_visible()
    shot(page, "category-shown")
    page.locator("fieldset.item").nth(1).get_by_label("いいえ", exact=True).check()
    expect(subcontractors).to_be_hidden()
