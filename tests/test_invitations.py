"""A contract's owning division invites its contractor by mail; the single-use link sets up an
account that sees only its own company's contracts."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, timedelta

import pytest
import sqlalchemy as sa

from reports.dates import wareki
from survey.access import scope_assignments
from survey.extensions import db
from survey.models import (
    Assignment,
    Campaign,
    Contract,
    Invitation,
    OutgoingMail,
    User,
)
from survey.models.types import utcnow
from survey.passwords import verify_password
from tests import helpers

INVALID = "この招待リンクは使えません"
ASK_AGAIN = "招待メールの再送を依頼してください"
PASSWORD = "sakura-kaitou-2026"
CAMPAIGN_TITLE = "令和8年度 委託業務の個人情報取扱い 自己点検"
OWN = "K28-027"  # 住民記録システム運用保守業務委託: 戸籍住民課, 株式会社明星エンジニアリング (C028)
OTHERS = ("K28-028", "K28-051")  # other companies' contracts (C029; C001 of 納税課)


# --- helpers --------------------------------------------------------------------------------


def open_contract_campaign(*contract_codes: str) -> dict[str, Assignment]:
    """An open campaign on the published contracts checklist, one assignment per contract."""
    today = date.today()
    campaign = Campaign(
        code="test-contracts-open",
        title=CAMPAIGN_TITLE,
        checklist=helpers.checklist("emergency-contracts"),
        opens_on=today - timedelta(days=7),
        closes_on=today + timedelta(days=30),
        status="open",
    )
    db.session.add(campaign)
    made = {}
    for code in contract_codes:
        target = contract(code)
        made[code] = Assignment(
            campaign=campaign,
            target_kind="contract",
            contract_id=target.id,
            responsible_unit_id=target.unit_id,
        )
        db.session.add(made[code])
    db.session.commit()
    return made


def contract(code: str) -> Contract:
    return db.session.scalar(sa.select(Contract).where(Contract.code == code))


def user(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == username))


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def invite(client, assignment_id: int, email: str):
    return client.post(f"/assignments/{assignment_id}/invite", data={"invite-email": email})


def last_mail() -> OutgoingMail:
    return db.session.scalar(sa.select(OutgoingMail).order_by(OutgoingMail.id.desc()).limit(1))


def link_path(mail: OutgoingMail) -> str:
    return re.search(r"https?://[^/\s]+(/auth/invite/[A-Za-z0-9_-]+)", mail.body).group(1)


def flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def accept_form(
    username="meisei-tanaka", display_name="明星 田中", password=PASSWORD, confirm=None
):
    return {
        "username": username,
        "display_name": display_name,
        "password": password,
        "confirm": password if confirm is None else confirm,
    }


@pytest.fixture
def assignments(demo_app):
    return open_contract_campaign(OWN, *OTHERS)


@pytest.fixture
def invited(auth, demo_client, assignments):
    """戸籍住民課's respondent has invited the contractor of OWN; nobody is signed in."""
    auth.login("respondent")
    response = invite(demo_client, assignments[OWN].id, "tanaka@meisei.example.co.jp")
    assert response.status_code == 302
    auth.logout()
    with demo_client.session_transaction() as session:
        session.pop("_flashes", None)  # the assignment page would have shown them
    return link_path(last_mail())


# --- the journey ----------------------------------------------------------------------------


def test_division_invites_the_contractor_who_then_sees_only_its_own_contracts(
    auth, demo_client, assignments
):
    own = assignments[OWN]
    auth.login("respondent")
    response = invite(demo_client, own.id, "  tanaka@meisei.example.co.jp ")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/assignments/{own.id}")
    messages = [message for _category, message in flashes(demo_client)]
    assert any(m.startswith("招待メールを送信しました（有効期限: ") for m in messages)
    assert any("開発環境" in m and "/auth/invite/" in m for m in messages)

    mail = last_mail()
    assert mail.recipient == "tanaka@meisei.example.co.jp"
    assert "ご回答のお願い" in mail.subject and "住民記録システム運用保守業務委託" in mail.subject
    deadline = own.campaign.closes_on
    for text in (
        "株式会社明星エンジニアリング",
        contract(OWN).title,
        CAMPAIGN_TITLE,
        f"{wareki(deadline)} ({deadline.isoformat()})",
        "戸籍住民課",
        "一度だけ",
        "http://127.0.0.1:5000/auth/invite/",
    ):
        assert text in mail.body, text

    # Only the token's hash is stored.
    path = link_path(mail)
    token = path.rsplit("/", 1)[1]
    invitation = db.session.scalar(sa.select(Invitation))
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert invitation.contractor_id == contract(OWN).contractor_id
    assert invitation.invited_by_id == user("respondent").id
    expires = invitation.expires_at
    expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)  # SQLite: naive UTC
    assert abs(expires - (utcnow() + timedelta(days=14))) < timedelta(minutes=5)

    auth.logout()
    page = demo_client.get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "株式会社明星エンジニアリング" in text and "tanaka@meisei.example.co.jp" in text
    assert 'value="tanaka"' in text  # the username is suggested from the address
    assert page.headers["Referrer-Policy"] == "no-referrer"

    response = demo_client.post(path, data=accept_form())
    assert response.status_code == 302 and response.headers["Location"] == "/"
    account = user("meisei-tanaka")
    assert account.role == "contractor" and account.contractor_id == contract(OWN).contractor_id
    assert account.email == "tanaka@meisei.example.co.jp" and account.display_name == "明星 田中"
    assert verify_password(account.password_hash, PASSWORD)
    invitation = db.session.get(Invitation, invitation.id)
    assert invitation.used_at is not None and invitation.user_id == account.id

    home = demo_client.get("/").get_data(as_text=True)
    assert "明星 田中" in home  # signed in as the new account
    assert CAMPAIGN_TITLE in home and contract(OWN).title in home
    for code in OTHERS:
        assert contract(code).contractor_id != account.contractor_id
        assert contract(code).title not in home
    visible = db.session.scalars(scope_assignments(account, sa.select(Assignment)))
    assert {a.contract.contractor_id for a in visible} == {account.contractor_id}

    # The new account signs in with its password afterwards.
    auth.logout()
    assert auth.login("meisei-tanaka", PASSWORD).headers["Location"] == "/"


def test_an_address_with_an_account_of_the_same_company_sets_that_accounts_password(
    auth, demo_client, assignments
):
    auth.login("respondent")
    invite(demo_client, assignments[OWN].id, "C-C028@example.jp")  # the demo's c-c028
    auth.logout()
    path = link_path(last_mail())
    page = demo_client.get(path).get_data(as_text=True)
    assert "ユーザー名: c-c028" in page and 'name="username"' not in page
    users = count(User)
    response = demo_client.post(path, data={"password": PASSWORD, "confirm": PASSWORD})
    assert response.headers["Location"] == "/"
    assert count(User) == users
    auth.logout()
    assert auth.login("c-c028", PASSWORD).headers["Location"] == "/"


def test_an_invitation_does_not_bypass_the_accounts_second_factor(auth, demo_client, assignments):
    account = user("c-c028")
    account.totp_enabled_at = utcnow()
    account.totp_secret = "JBSWY3DPEHPK3PXP"
    db.session.commit()
    auth.login("respondent")
    invite(demo_client, assignments[OWN].id, "C-C028@example.jp")
    auth.logout()
    response = demo_client.post(
        link_path(last_mail()), data={"password": PASSWORD, "confirm": PASSWORD}
    )
    assert response.headers["Location"] == "/auth/2fa"
    assert demo_client.get("/").status_code == 302  # not signed in without the code


def test_a_staff_members_address_gets_a_new_contractor_account_not_the_staff_account(
    auth, demo_client, assignments
):
    auth.login("admin")  # a division could only ask: the address is not the company's
    invite(demo_client, assignments[OWN].id, "respondent@example.jp")
    auth.logout()
    response = demo_client.post(link_path(last_mail()), data=accept_form(username="r-contractor"))
    assert response.headers["Location"] == "/"
    assert user("r-contractor").role == "contractor"
    assert not verify_password(user("respondent").password_hash, PASSWORD)


# --- links that cannot be used --------------------------------------------------------------


def refused(response) -> str:
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert INVALID in text and ASK_AGAIN in text
    return text


def test_a_link_works_once(demo_client, auth, invited):
    assert demo_client.post(invited, data=accept_form()).status_code == 302
    auth.logout()
    refused(demo_client.get(invited))
    refused(demo_client.post(invited, data=accept_form(username="someone-else")))
    assert user("someone-else") is None


def test_an_expired_link_is_refused(demo_client, invited):
    invitation = db.session.scalar(sa.select(Invitation))
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    refused(demo_client.get(invited))
    refused(demo_client.post(invited, data=accept_form()))
    assert user("meisei-tanaka") is None


def test_sending_again_revokes_the_earlier_link(auth, demo_client, assignments, invited):
    auth.login("manager")
    invite(demo_client, assignments[OWN].id, "Tanaka@Meisei.example.co.jp")
    auth.logout()
    second = link_path(last_mail())
    assert second != invited
    first, latest = db.session.scalars(sa.select(Invitation).order_by(Invitation.id))
    assert first.revoked_at is not None and latest.revoked_at is None
    refused(demo_client.get(invited))
    assert demo_client.post(second, data=accept_form()).headers["Location"] == "/"


def test_every_unusable_link_gets_the_same_page(demo_client, invited):
    unknown = refused(demo_client.get("/auth/invite/" + "x" * 43))
    refused(demo_client.get("/auth/invite/" + "y" * 500))
    invitation = db.session.scalar(sa.select(Invitation))
    invitation.revoked_at = utcnow()
    db.session.commit()
    assert refused(demo_client.get(invited)) == unknown


def test_a_signed_in_user_is_asked_to_sign_out_first(auth, demo_client, invited):
    auth.login("admin")
    page = demo_client.get(invited).get_data(as_text=True)
    assert "ログアウトしてから" in page and 'name="password"' not in page
    demo_client.post(invited, data=accept_form())
    assert user("meisei-tanaka") is None
    auth.logout()
    assert demo_client.get(invited).status_code == 200  # the link still works


# --- who may invite -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("r-d04-02", 404),  # 税務課: not the owning division
        ("c-c028", 403),  # the contract's own contractor sees it but cannot invite
        ("contractor", 404),  # another company
        ("auditor", 403),
    ],
)
def test_others_cannot_invite(auth, demo_client, assignments, username, status):
    auth.login(username)
    assert invite(demo_client, assignments[OWN].id, "x@example.co.jp").status_code == status
    assert count(Invitation) == 0 and count(OutgoingMail) == 0


def test_an_assignment_that_is_not_a_contracts_cannot_get_an_invitation(auth, demo_client):
    own_unit = db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .where(
            Campaign.code == "2026-annual-assets",
            Assignment.responsible_unit_id == user("respondent").unit_id,
        )
    )
    auth.login("respondent")
    assert invite(demo_client, own_unit.id, "x@example.co.jp").status_code == 403
    assert count(Invitation) == 0


def test_a_closed_campaign_cannot_get_an_invitation(auth, demo_client, assignments):
    assignments[OWN].campaign.status = "closed"
    db.session.commit()
    auth.login("respondent")
    assert invite(demo_client, assignments[OWN].id, "x@example.co.jp").status_code == 403


@pytest.mark.parametrize("username", ["manager", "admin"])
def test_the_department_manager_and_the_security_office_can_invite(
    auth, demo_client, assignments, username
):
    auth.login(username)
    response = invite(demo_client, assignments[OWN].id, "x@meisei.example.co.jp")
    assert response.status_code == 302
    invitation = db.session.scalar(sa.select(Invitation))
    assert invitation.invited_by_id == user(username).id
    assert last_mail().recipient == "x@meisei.example.co.jp"


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["", "tanaka", "tanaka@", "tanaka@meisei", "a b@example.jp"])
def test_an_invalid_address_is_refused_and_kept(auth, demo_client, demo_app, assignments, email):
    own = assignments[OWN]
    auth.login("respondent")
    response = invite(demo_client, own.id, email)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/assignments/{own.id}")
    assert [c for c, _m in flashes(demo_client)] == ["error"]
    assert "メールアドレス" in flashes(demo_client)[0][1]
    assert count(Invitation) == 0 and count(OutgoingMail) == 0

    # The assignment page shows the refusal and the form again with what was typed, once.
    page = demo_client.get(f"/assignments/{own.id}").get_data(as_text=True)
    assert "flash-error" in page
    assert f'name="invite-email" spellcheck="false" type="text" value="{email.strip()}"' in page
    page = demo_client.get(f"/assignments/{own.id}").get_data(as_text=True)
    assert 'name="invite-email" spellcheck="false" type="text" value=""' in page


def test_the_invite_form_is_on_the_assignment_page_of_those_who_may_invite(
    auth, demo_client, assignments
):
    own = assignments[OWN]
    auth.login("respondent")
    page = demo_client.get(f"/assignments/{own.id}").get_data(as_text=True)
    assert f'action="/assignments/{own.id}/invite"' in page
    assert "株式会社明星エンジニアリング の担当者のメールアドレス" in page and "14日間有効" in page
    auth.logout()
    auth.login("c-c028")
    page = demo_client.get(f"/assignments/{own.id}").get_data(as_text=True)
    assert page and "/invite" not in page


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (accept_form(password="short-pw"), "パスワードは12文字以上にしてください"),
        (accept_form(password="Meisei-Tanaka"), "ユーザー名と同じパスワードは使えません"),
        (accept_form(confirm="sakura-kaitou-2027"), "確認用のパスワードが一致しません"),
        (accept_form(username="respondent"), "このユーザー名は既に使われています"),
        (accept_form(username="Respondent"), "このユーザー名は既に使われています"),
        (accept_form(username="田中"), "半角英数字"),
        (accept_form(display_name=" "), "表示名を入力してください"),
    ],
)
def test_bad_account_input_is_refused_and_the_form_kept(demo_client, invited, form, message):
    users = count(User)
    response = demo_client.post(invited, data=form)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert count(User) == users
    assert db.session.scalar(sa.select(Invitation)).used_at is None
    assert f'value="{form["username"]}"' in page
    if form["display_name"].strip():
        assert f'value="{form["display_name"]}"' in page
    assert form["password"] not in page  # passwords are never sent back
    assert demo_client.get("/").status_code == 302  # not signed in
    # The link still works after the refusal.
    assert demo_client.post(invited, data=accept_form()).headers["Location"] == "/"
