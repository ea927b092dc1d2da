"""When something is handed in, the people who may approve it hear of it: by a mail at once, or,
when the office chooses, in one digest a day. Nobody who had a hand in it is mailed to approve."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from config import ConfigError, load
from survey import access
from survey.extensions import db
from survey.models import AnswerHistory, Assignment, OrgUnit, OutgoingMail, Role, User
from survey.models.campaigns import AssignmentStatus
from survey.services import notify
from tests import helpers
from tests.helpers import assignment_of, form_data, login, user
from tests.test_four_eyes import hand_in


def all_yes(assignment: Assignment) -> dict[int, str]:
    return {item.number: "yes" for item in assignment.campaign.checklist.items}


def hand_in_by_form(app, username: str, assignment: Assignment) -> None:
    client = login(app, username)
    data = form_data(assignment, all_yes(assignment), action="submit")
    assert client.post(f"/assignments/{assignment.id}", data=data).status_code == 302


def mails(subject_part: str) -> list[OutgoingMail]:
    db.session.rollback()
    return [
        m
        for m in db.session.scalars(sa.select(OutgoingMail).order_by(OutgoingMail.id))
        if subject_part in m.subject
    ]


def test_a_hand_in_mails_the_managers_who_may_approve_it(demo_app):
    mine = assignment_of("戸籍住民課")
    hand_in_by_form(demo_app, "respondent", mine)

    sent = mails("承認のお願い")

    managers = {u.email for u in notify.approvers(db.session.get(Assignment, mine.id))}
    assert managers and user("manager").email in managers
    assert {m.recipient for m in sent} == managers
    assert user("respondent").email not in managers  # the one who handed it in
    body = sent[0].body
    assert "戸籍住民課" in body and f"/assignments/{mine.id}" in body


@pytest.fixture
def contract(demo_app):
    return helpers.contract_questionnaire()  # a contract of 戸籍住民課


def test_what_a_contractor_hands_in_asks_the_owning_division_and_its_managers(demo_app, contract):
    company = helpers.company_account(contract).username
    hand_in(login(demo_app, company), contract)

    recipients = {m.recipient for m in mails("承認のお願い")}

    assert user("respondent").email in recipients  # 戸籍住民課 confirms its contractor's work
    assert user("manager").email in recipients
    assert user(company).email not in recipients


def test_with_a_daily_digest_nothing_goes_at_hand_in_and_one_mail_a_day_lists_everything(
    demo_app,
):
    demo_app.config["APPROVAL_MAIL"] = "daily"
    hand_in_by_form(demo_app, "respondent", assignment_of("戸籍住民課"))
    hand_in_by_form(demo_app, "r-d04-02", assignment_of("税務課"))
    assert mails("承認のお願い") == []

    runner = demo_app.test_cli_runner()
    day = date.today().isoformat()
    assert runner.invoke(args=["reminders", "send", "--today", day]).exit_code in (0, 1)
    digests = [m for m in mails("承認待ちの回答") if m.recipient == user("manager").email]
    assert len(digests) == 1
    assert "戸籍住民課" in digests[0].body and "税務課" in digests[0].body

    runner.invoke(args=["reminders", "send", "--today", day])
    again = [m for m in mails("承認待ちの回答") if m.recipient == user("manager").email]
    assert len(again) == 1  # once a day


def test_immediate_mail_sends_no_daily_digest(demo_app):
    hand_in_by_form(demo_app, "respondent", assignment_of("戸籍住民課"))
    runner = demo_app.test_cli_runner()
    runner.invoke(args=["reminders", "send", "--today", date.today().isoformat()])
    assert mails("承認待ちの回答") == []


def test_an_unknown_approval_mail_setting_is_refused(monkeypatch):
    monkeypatch.setenv("SURVEY_APPROVAL_MAIL", "weekly")
    with pytest.raises(ConfigError, match="SURVEY_APPROVAL_MAIL"):
        load()


# --- who the approvers are: one query, however deep the unit ---------------------------------


def one_by_one(assignment: Assignment) -> set[str]:
    """The approvers as access.can names them, asking it of every account with an address (the
    security office aside: it reviews everything and is not mailed about each one)."""
    everyone = db.session.scalars(
        sa.select(User).where(User.active.is_(True), User.email != "", User.role != Role.ADMIN)
    )
    return {u.username for u in everyone if access.can(u, "review", assignment)}


def approver_names(assignment: Assignment) -> set[str]:
    return {u.username for u in notify.approvers(assignment)}


@pytest.fixture
def section(demo_app) -> Assignment:
    """A 係 below 戸籍住民課, whose 課 has a manager of its own, and its handed-in
    questionnaire: three levels of managers above it."""
    division = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "戸籍住民課"))
    unit = helpers.add_unit("住民記録係", division, "T-KOSEKI-1")
    db.session.add(
        User(
            username="m-koseki",
            display_name="戸籍住民課長",
            role=Role.MANAGER,
            unit=division,
            email="m-koseki@example.jp",
            password_hash=user("manager").password_hash,
        )
    )
    (found,) = helpers.open_campaign(helpers.checklist("emergency-assets"), [unit], code="sec")
    found.status = AssignmentStatus.SUBMITTED
    db.session.commit()
    return found


def test_the_approvers_are_those_access_lets_review_each_one(demo_app, contract, section):
    own = assignment_of("戸籍住民課")
    hand_in_by_form(demo_app, "respondent", own)
    hand_in(login(demo_app, helpers.company_account(contract).username), contract)
    db.session.expire_all()

    managers = {"manager", "m-d04", "m-koseki"}  # of 区民部 and of 戸籍住民課
    assert approver_names(own) == one_by_one(own) == managers
    assert approver_names(section) == one_by_one(section) == managers
    # The division confirms what its contractor handed in (but not the one who wrote answers).
    division = {"respondent", "r-d04-01"}
    assert approver_names(contract) == one_by_one(contract) == managers | division


def test_nobody_is_asked_to_approve_what_is_not_handed_in_or_what_they_wrote(demo_app, section):
    manager = user("m-koseki")
    db.session.add(
        AnswerHistory(
            assignment_id=section.id,
            item_id=section.campaign.checklist.items[0].id,
            revision=1,
            changed_by_id=manager.id,
        )
    )
    db.session.commit()
    assert approver_names(section) == one_by_one(section) == {"manager", "m-d04"}
    section.status = AssignmentStatus.DRAFT
    assert notify.approvers(section) == []


def test_the_approvers_and_the_managers_above_take_one_query_at_any_depth(demo_app, section):
    own = assignment_of("戸籍住民課")
    own.status = AssignmentStatus.SUBMITTED
    db.session.commit()
    for assignment in (own, section):
        assert assignment.campaign and assignment.responsible_unit  # loaded beforehand
        with helpers.statements() as sent:
            notify.approvers(assignment)
        assert len(sent) == 1, sent
        with helpers.statements() as sent:
            managers = notify.managers_above(assignment.responsible_unit)
        assert len(sent) == 1, sent
    assert {u.username for u in managers} == {"manager", "m-d04", "m-koseki"}
