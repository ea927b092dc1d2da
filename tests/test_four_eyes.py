"""Four eyes (四つの目): nobody approves, confirms or returns answers they wrote or handed in
themselves, whatever their role; a division confirms its contractor's answers, and what the
division answers itself goes to its manager."""

from datetime import date

import pytest
import sqlalchemy as sa

from survey import access
from survey.extensions import db
from survey.models import Assignment, OrgUnit, Role, User
from survey.services import inbox
from tests import helpers
from tests.helpers import assignment_of, form_data, login

INVOLVED = "この回答の入力・提出に関わったため、承認できません。"
TO_MANAGER = "承認は所属長が行います。"
OWN_DIVISION = "担当課が自ら入力・提出した委託先の回答は、担当課では確認できません。"
BY_DIVISION = (
    "承認は、担当課の職員（この回答の入力・提出に関わっていない方）または所属長が行います。"
)
APPROVE_BUTTON = 'value="承認する"'


def everything(assignment, comment="確認しました。"):
    """Every item answered はい, with a comment (some checklists ask for one even then)."""
    items = assignment.campaign.checklist.items
    return form_data(
        assignment,
        {item.number: "yes" for item in items},
        {item.number: comment for item in items},
        action="submit",
    )


def hand_in(client, assignment, comment="確認しました。"):
    assignment = db.session.get(Assignment, assignment.id)
    response = client.post(f"/assignments/{assignment.id}", data=everything(assignment, comment))
    assert response.status_code == 302
    assert db.session.get(Assignment, assignment.id).status == "submitted"


def review(client, assignment, **data):
    return client.post(f"/assignments/{assignment.id}/review", data=data)


def page(client, assignment) -> str:
    return client.get(f"/assignments/{assignment.id}").get_data(as_text=True)


def waiting_for(username: str) -> list[int]:
    return [row.assignment.id for row in inbox.to_review(helpers.user(username), date.today())]


def move(username: str, role: Role, unit_name: str) -> None:
    """A staff change: the account keeps its history under a new role."""
    account = helpers.user(username)
    account.role = role
    account.unit_id = db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.name == unit_name))
    db.session.commit()


@pytest.fixture
def mine(demo_app):
    """戸籍住民課's questionnaire of this year, half answered by `respondent`."""
    return assignment_of("戸籍住民課")


@pytest.fixture
def contract(demo_app):
    return helpers.contract_questionnaire()


def test_a_colleague_cannot_approve_a_contract_questionnaire_the_division_answered(
    demo_app, contract
):
    hand_in(login(demo_app, "respondent"), contract)
    colleague = login(demo_app, "r-d04-01")

    shown = page(colleague, contract)
    refused = review(colleague, contract, approve="1")

    assert APPROVE_BUTTON not in shown
    assert OWN_DIVISION in shown and TO_MANAGER in shown
    assert refused.status_code == 403
    assert contract.id not in waiting_for("r-d04-01")
    assert db.session.get(Assignment, contract.id).status == "submitted"
    # It goes to the division's manager, as the clerk was told.
    manager = login(demo_app, "manager")
    assert contract.id in waiting_for("manager")
    assert review(manager, contract, approve="1").status_code == 302
    assert db.session.get(Assignment, contract.id).status == "approved"


def test_the_division_confirms_what_its_contractor_handed_in(demo_app, contract):
    company = login(demo_app, helpers.company_account(contract).username)
    hand_in(company, contract)
    division = login(demo_app, "respondent")

    shown = page(division, contract)

    assert APPROVE_BUTTON in shown
    assert contract.id in waiting_for("respondent")
    company_page = page(company, contract)
    assert BY_DIVISION in company_page and APPROVE_BUTTON not in company_page
    assert review(company, contract, approve="1").status_code == 403
    assert review(division, contract, approve="1").status_code == 302
    assert db.session.get(Assignment, contract.id).status == "approved"


def test_a_clerk_made_manager_cannot_approve_or_return_what_they_answered(demo_app, mine):
    hand_in(login(demo_app, "respondent"), mine)
    move("respondent", Role.MANAGER, "区民部")
    promoted = login(demo_app, "respondent")

    shown = page(promoted, mine)

    assert APPROVE_BUTTON not in shown
    assert INVOLVED + TO_MANAGER in shown
    assert review(promoted, mine, approve="1").status_code == 403
    assert review(promoted, mine, send_back="1", comment="自分で直します").status_code == 403
    assert mine.id not in waiting_for("respondent")
    assert mine.id in waiting_for("m-d04")  # the department's other manager approves it
    assert db.session.get(Assignment, mine.id).status == "submitted"


def test_whoever_only_pressed_submit_does_not_approve_either(demo_app, mine):
    colleague = login(demo_app, "r-d04-01")
    draft = everything(db.session.get(Assignment, mine.id)) | {"action": "save"}
    assert colleague.post(f"/assignments/{mine.id}", data=draft).status_code == 302
    # Every stored answer is the colleague's now; the clerk only hands them in.
    hand_in(login(demo_app, "respondent"), mine)
    move("respondent", Role.MANAGER, "区民部")

    assert not access.can(helpers.user("respondent"), "review", mine)
    assert INVOLVED in page(login(demo_app, "respondent"), mine)


def test_an_office_clerk_made_admin_cannot_approve_the_office_answers_they_wrote(demo_app):
    office = assignment_of("情報政策課")
    clerk = db.session.scalar(
        sa.select(User.username).where(
            User.role == Role.RESPONDENT, User.unit_id == helpers.user("admin").unit_id
        )
    )
    hand_in(login(demo_app, clerk), office)
    move(clerk, Role.ADMIN, "情報政策課")
    promoted = login(demo_app, clerk)

    assert APPROVE_BUTTON not in page(promoted, office)
    assert review(promoted, office, approve="1").status_code == 403
    assert office.id not in waiting_for(clerk)
    assert office.id in waiting_for("admin")
    assert review(login(demo_app, "admin"), office, approve="1").status_code == 302


def test_a_return_starts_a_new_round_of_whose_hands_count(demo_app, mine):
    hand_in(login(demo_app, "respondent"), mine)
    manager = login(demo_app, "manager")
    assert review(manager, mine, send_back="1", comment="根拠を書いてください").status_code == 302
    # The colleague rewrites every answer and hands them in: the clerk's work is history.
    hand_in(login(demo_app, "r-d04-01"), mine, comment="施錠管理簿で確認しました。")
    move("respondent", Role.MANAGER, "区民部")
    move("r-d04-01", Role.MANAGER, "区民部")

    assert access.can(helpers.user("respondent"), "review", mine)
    assert not access.can(helpers.user("r-d04-01"), "review", mine)
