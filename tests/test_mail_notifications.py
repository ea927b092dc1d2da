"""Returned and approved assignments tell the people who answer them, in Japanese, with a link;
invitations go out by the same delivery."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Assignment, Campaign, Contract, OrgUnit, OutgoingMail, Role, User
from survey.models.campaigns import AssignmentStatus
from survey.services import answering, invitations, mailer
from tests.helpers import assignment_of, login, user
from tests.smtp_server import smtp_settings

CONTRACT = "区長日程管理システム運用保守業務委託"  # C001's, owned by 秘書課


def _addresses(stmt) -> set[str]:
    return {u.email for u in db.session.scalars(stmt)}


def respondents_of(unit_id: int) -> set[str]:
    return _addresses(sa.select(User).where(User.unit_id == unit_id, User.role == Role.RESPONDENT))


def contractor_staff(contractor_id: int) -> set[str]:
    """The company's contacts (its staff accounts hear only of the parts handed to them)."""
    return _addresses(
        sa.select(User).where(User.contractor_id == contractor_id, User.role == Role.CONTRACTOR)
    )


def contract_assignment() -> Assignment:
    return db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .join(Contract, Contract.id == Assignment.contract_id)
        .where(Campaign.code == "2026-annual-contracts", Contract.title == CONTRACT)
    )


def submitted(assignment: Assignment) -> Assignment:
    assignment.status = AssignmentStatus.SUBMITTED
    db.session.commit()
    return assignment


def queued() -> list[OutgoingMail]:
    return list(db.session.scalars(sa.select(OutgoingMail).order_by(OutgoingMail.id)))


@pytest.fixture
def mail_app(demo_app, smtp):
    smtp_settings(demo_app, smtp.port)
    demo_app.config["SURVEY_BASE_URL"] = "https://tenken.example.jp/ward"
    return demo_app


def test_a_return_mails_the_units_respondents_with_the_reason(mail_app, smtp):
    assignment = submitted(assignment_of("戸籍住民課"))
    manager = login(mail_app, "manager")
    manager.get("/?lang=en")  # the manager reads English; the mail is Japanese all the same

    response = manager.post(
        f"/assignments/{assignment.id}/review",
        data={"comment": "項目3の証跡が不足しています。", "send_back": "1"},
    )

    assert response.status_code == 302
    expected = respondents_of(assignment.responsible_unit_id)
    assert "respondent@example.jp" in expected
    assert {m.recipient for m in queued()} == expected
    assert mailer.deliver_queued().ok
    assert {r.recipients[0] for r in smtp.received} == expected
    message = smtp.handler.to("respondent@example.jp")[0]
    assert message["Subject"] == "【情報セキュリティ自己点検】差し戻しのお知らせ（戸籍住民課）"
    body = message.get_content()
    assert "項目3の証跡が不足しています。" in body
    assert "区民 部長（区民部）" in body
    assert f"https://tenken.example.jp/ward/assignments/{assignment.id}" in body
    assert "manager@example.jp" not in {r.recipients[0] for r in smtp.received}


def test_an_approval_mails_the_units_respondents(mail_app, smtp):
    assignment = submitted(assignment_of("戸籍住民課"))
    answering.approve(assignment, user("manager"), "ありがとうございました。")
    db.session.commit()

    assert mailer.deliver_queued().ok
    expected = respondents_of(assignment.responsible_unit_id)
    assert {r.recipients[0] for r in smtp.received} == expected
    message = smtp.handler.to("respondent@example.jp")[0]
    assert "承認のお知らせ" in message["Subject"]
    assert "ありがとうございました。" in message.get_content()


def test_a_returned_contract_also_mails_the_contractor_but_not_the_reviewer(mail_app, smtp):
    assignment = submitted(contract_assignment())
    contract = assignment.contract
    reviewer = db.session.scalar(
        sa.select(User)
        .where(User.unit_id == contract.unit_id, User.role == Role.RESPONDENT)
        .order_by(User.id)
    )

    answering.return_for_correction(assignment, reviewer, "再委託先の記載がありません。")
    db.session.commit()

    expected = (respondents_of(contract.unit_id) | contractor_staff(contract.contractor_id)) - {
        reviewer.email
    }
    assert "contractor@example.jp" in expected
    assert {m.recipient for m in queued()} == expected
    assert mailer.deliver_queued().ok
    body = smtp.handler.to("contractor@example.jp")[0].get_content()
    assert "再委託先の記載がありません。" in body and CONTRACT in body


def test_inactive_users_and_users_without_address_get_nothing(mail_app):
    assignment = submitted(assignment_of("戸籍住民課"))
    respondent = user("respondent")
    respondent.active = False
    others = db.session.scalars(
        sa.select(User).where(
            User.unit_id == assignment.responsible_unit_id, User.id != respondent.id
        )
    )
    for other in others:
        other.email = None
    db.session.commit()

    answering.approve(assignment, user("manager"))

    assert queued() == []


def test_the_invitation_mail_is_delivered_by_the_same_path(mail_app, smtp):
    assignment = contract_assignment()
    invitation, token = invitations.invite(assignment, "tanto@example.co.jp", user("admin"))
    db.session.commit()

    report = mailer.deliver_queued()

    assert report.ok and len(report.sent) == 1
    message = smtp.handler.to("tanto@example.co.jp")[0]
    assert "ご回答のお願い" in message["Subject"]
    assert invitations.link(token) in message.get_content()
    unit = db.session.get(OrgUnit, assignment.responsible_unit_id)
    assert unit.name in message.get_content()
