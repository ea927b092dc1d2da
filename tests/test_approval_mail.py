"""When something is handed in, the people who may approve it hear of it: by a mail at once, or,
when the office chooses, in one digest a day. Nobody who had a hand in it is mailed to approve."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from config import ConfigError, load
from survey.extensions import db
from survey.models import Assignment, OutgoingMail
from survey.services import notify
from tests import test_four_eyes
from tests.helpers import assignment_of, form_data, login, user
from tests.test_four_eyes import company_account, hand_in


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


contract = pytest.fixture(test_four_eyes.contract.__wrapped__)  # a contract of 戸籍住民課


def test_what_a_contractor_hands_in_asks_the_owning_division_and_its_managers(demo_app, contract):
    company = company_account(contract)
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
