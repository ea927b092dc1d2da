"""Contractor accounts are the security office's decision: a division invites only the addresses
the contractor register holds for the company; any other address waits for the office, which
approves (the invitation goes out) or refuses with a reason the division is told."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEntry, Contractor, Invitation, InvitationRequest, OutgoingMail, User
from survey.services import invitation_requests
from tests.test_invitations import (
    OWN,
    count,
    flashes,
    invite,
    link_path,
    open_contract_campaign,
    user,
)

PUPPET = "kaitou@division-friends.example.jp"  # nobody the register knows for the company
REQUESTS = "/admin/invitation-requests/"


@pytest.fixture
def own(demo_app):
    return open_contract_campaign(OWN)[OWN]


@pytest.fixture
def filed(auth, demo_client, own) -> InvitationRequest:
    """戸籍住民課's respondent asked to invite PUPPET; nobody is signed in."""
    auth.login("respondent")
    invite(demo_client, own.id, PUPPET)
    auth.logout()
    return db.session.scalar(sa.select(InvitationRequest))


def mails_to(address: str) -> list[OutgoingMail]:
    stmt = sa.select(OutgoingMail).where(OutgoingMail.recipient == address)
    return list(db.session.scalars(stmt.order_by(OutgoingMail.id)))


def actions() -> list[str]:
    stmt = sa.select(AuditEntry.action).where(AuditEntry.action.like("invitation.%"))
    return list(db.session.scalars(stmt.order_by(AuditEntry.id)))


def decide(client, filed: InvitationRequest, **form):
    return client.post(f"{REQUESTS}{filed.id}", data=form)


# --- the division -----------------------------------------------------------------------------


def test_a_division_inviting_an_address_the_register_does_not_hold_only_asks_the_office(
    auth, demo_client, own
):
    auth.login("respondent")
    response = invite(demo_client, own.id, PUPPET)
    assert response.headers["Location"].endswith(f"/assignments/{own.id}")
    assert any("情報政策課に招待を申請しました" in m for _c, m in flashes(demo_client))
    assert count(Invitation) == 0 and count(OutgoingMail) == 0
    filed = db.session.scalar(sa.select(InvitationRequest))
    assert (filed.email, filed.status, filed.requested_by.username) == (
        PUPPET,
        "pending",
        "respondent",
    )
    assert actions() == ["invitation.request"]
    page = demo_client.get(f"/assignments/{own.id}").get_data(as_text=True)
    assert "招待の申請" in page and PUPPET in page and "承認待ち" in page
    assert "登録されているドメイン: meisei.example.co.jp" in page  # what it may invite at once


@pytest.mark.parametrize(
    "email",
    [
        "c-c028@example.jp",  # the register's contact for 明星 (the demo's c-c028)
        "Sato@MEISEI.example.co.jp",  # an address in 明星's domain, whatever its case
    ],
)
def test_an_address_the_register_holds_for_the_company_is_invited_at_once(
    auth, demo_client, own, email
):
    auth.login("respondent")
    invite(demo_client, own.id, email)
    assert count(Invitation) == 1 and count(InvitationRequest) == 0
    assert [m.recipient for m in db.session.scalars(sa.select(OutgoingMail))] == [email]


@pytest.mark.parametrize(
    "email",
    [
        "tanaka@mail.meisei.example.co.jp",  # a subdomain is not the registered domain
        "tanaka@meisei.example.co.jp.example.net",  # nor is a name that starts like it
        "c-c001@example.jp",  # another company's contact
        "tanaka@sakura-joho.example.co.jp",  # another company's domain
    ],
)
def test_an_address_near_the_registered_ones_still_needs_the_office(auth, demo_client, own, email):
    auth.login("manager")
    invite(demo_client, own.id, email)
    assert count(Invitation) == 0 and count(OutgoingMail) == 0
    assert db.session.scalar(sa.select(InvitationRequest.email)) == email


def test_an_address_waiting_for_the_office_is_not_asked_twice(auth, demo_client, own):
    auth.login("respondent")
    invite(demo_client, own.id, PUPPET)
    invite(demo_client, own.id, PUPPET.upper())
    assert count(InvitationRequest) == 1
    assert any("すでに申請中です" in m for c, m in flashes(demo_client) if c == "error")


def test_the_office_invites_any_address_itself_and_it_is_recorded(auth, demo_client, own):
    auth.login("admin")
    invite(demo_client, own.id, PUPPET)
    assert count(InvitationRequest) == 0
    assert [m.recipient for m in db.session.scalars(sa.select(OutgoingMail))] == [PUPPET]
    assert actions() == ["invitation.create"]


# --- the security office ----------------------------------------------------------------------


def test_the_office_sees_the_waiting_requests_from_its_home_page(auth, demo_client, filed):
    auth.login("admin")
    home = demo_client.get("/").get_data(as_text=True)
    assert "承認を待っている招待の申請が 1件あります。" in home and REQUESTS in home
    listing = demo_client.get(REQUESTS).get_data(as_text=True)
    assert PUPPET in listing and "株式会社明星エンジニアリング" in listing
    page = demo_client.get(f"{REQUESTS}{filed.id}").get_data(as_text=True)
    assert "meisei.example.co.jp" in page  # what the register holds, to compare with


def test_approving_sends_the_invitation_the_division_would_have_sent_once(auth, demo_client, filed):
    auth.login("admin")
    response = decide(demo_client, filed, approve="承認して招待メールを送る")
    assert response.headers["Location"].endswith(REQUESTS)
    assert any(m.startswith("招待メールを送信しました") for _c, m in flashes(demo_client))
    [invitation] = db.session.scalars(sa.select(Invitation))
    assert invitation.invited_by.username == "respondent"
    [mail] = mails_to(PUPPET)
    assert "ご回答のお願い" in mail.subject and "依頼者: 住民 記録（戸籍住民課）" in mail.body
    [told] = mails_to("respondent@example.jp")
    assert "招待の申請結果" in told.subject and "承認し、招待メールを送信しました" in told.body
    assert actions() == [
        "invitation.request",
        "invitation.request_approved",
        "invitation.create",
    ]
    auth.logout()
    assert demo_client.get(link_path(mail)).status_code == 200  # the link sets up an account
    auth.login("respondent")
    page = demo_client.get(f"/assignments/{filed.assignment_id}").get_data(as_text=True)
    assert PUPPET in page and "承認待ち" not in page


def test_a_second_approval_is_told_it_was_already_handled(auth, demo_client, filed):
    auth.login("admin")
    decide(demo_client, filed, approve="承認して招待メールを送る")
    with demo_client.session_transaction() as session:
        session.pop("_flashes", None)
    response = decide(demo_client, filed, approve="承認して招待メールを送る")
    assert response.status_code == 302
    assert ("error", "すでに処理されています。") in flashes(demo_client)
    assert count(Invitation) == 1 and len(mails_to(PUPPET)) == 1
    assert len(mails_to("respondent@example.jp")) == 1
    refused = decide(demo_client, filed, refuse="承認しない", reason="念のため")
    assert refused.status_code == 302 and db.session.get(InvitationRequest, filed.id).reason == ""


def test_refusing_needs_a_reason_which_the_division_is_told(auth, demo_client, filed):
    auth.login("admin")
    response = decide(demo_client, filed, refuse="承認しない", reason="  ")
    assert response.status_code == 422
    assert "招待しない理由を入力してください。" in response.get_data(as_text=True)
    assert db.session.get(InvitationRequest, filed.id).status == "pending"

    reason = "委託先の担当者であることを確認できません。事業者に連絡先を届け出てもらってください。"
    response = decide(demo_client, filed, refuse="承認しない", reason=reason)
    assert response.status_code == 302
    db.session.expire_all()
    assert (filed.status, filed.reason, filed.decided_by.username) == ("rejected", reason, "admin")
    assert count(Invitation) == 0 and mails_to(PUPPET) == []
    [told] = mails_to("respondent@example.jp")
    assert "承認しませんでした" in told.body and reason in told.body
    assert actions() == ["invitation.request", "invitation.request_refused"]
    auth.logout()
    auth.login("respondent")
    page = demo_client.get(f"/assignments/{filed.assignment_id}").get_data(as_text=True)
    assert "不承認" in page and reason in page


def test_a_refusal_keeps_the_reason_typed_when_the_form_is_refused(auth, demo_client, filed):
    auth.login("admin")
    response = decide(demo_client, filed, reason="x" * 2001, refuse="承認しない")
    assert response.status_code == 422
    assert "x" * 2001 in response.get_data(as_text=True)
    assert db.session.get(InvitationRequest, filed.id).status == "pending"


@pytest.mark.parametrize("username", ["respondent", "manager", "c-c028", "auditor"])
def test_only_the_office_decides_on_requests(auth, demo_client, filed, username):
    auth.login(username)
    assert demo_client.get(REQUESTS).status_code == 404
    assert demo_client.get(f"{REQUESTS}{filed.id}").status_code == 404
    response = decide(demo_client, filed, approve="承認して招待メールを送る")
    assert response.status_code == 404
    assert count(Invitation) == 0 and mails_to(PUPPET) == []
    assert db.session.get(InvitationRequest, filed.id).status == "pending"


def test_the_division_sees_its_requests_but_the_company_does_not(auth, demo_client, filed):
    path = f"/assignments/{filed.assignment_id}"
    auth.login("respondent")
    assert PUPPET in demo_client.get(path).get_data(as_text=True)
    auth.logout()
    auth.login("c-c028")
    page = demo_client.get(path).get_data(as_text=True)
    assert PUPPET not in page
    assert user("c-c028").contractor.name in page


def test_the_register_holds_every_demo_contractor_accounts_address(demo_app):
    accounts = db.session.scalars(sa.select(User).where(User.role == "contractor")).all()
    assert len(accounts) == 41
    assert all(invitation_requests.registered(a.contractor, a.email) for a in accounts)
    domains = db.session.scalars(sa.select(Contractor.domains)).all()
    assert len(set(domains)) == len(domains) == 40  # one domain of its own for each company
