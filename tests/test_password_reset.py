"""Password reset by mail: the link arrives through the real SMTP path, works once and for a
limited time, a newer one replaces it, the page tells nothing about which addresses exist,
the new password ends every session and does not skip the second factor, and each step is in
the audit trail."""

from __future__ import annotations

import re

import pyotp
import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import OutgoingMail, PasswordReset
from survey.models.trail import AuditEntry
from survey.passwords import verify_password
from survey.services import mailer, signin
from tests import helpers
from tests.smtp_server import smtp_settings

NEW_PASSWORD = "kaki-no-tane-2026-autumn"
SENT = "入力されたメールアドレスのアカウントがあれば"
LINK_RE = re.compile(r"http://127\.0\.0\.1:5000(/auth/reset/[A-Za-z0-9_-]+)")


def ask(client, email: str, **kwargs):
    return client.post("/auth/forgot", data={"email": email}, **kwargs)


def mails_to(address: str) -> list[OutgoingMail]:
    stmt = sa.select(OutgoingMail).where(OutgoingMail.recipient == address)
    return list(db.session.scalars(stmt.order_by(OutgoingMail.id)))


def link_in(mail: OutgoingMail) -> str:
    return LINK_RE.search(mail.body).group(1)


def latest_link(address: str) -> str:
    return link_in(mails_to(address)[-1])


def set_new(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return client.post(path, data={"password": password, "confirm": confirm or password})


def entries(action: str) -> list[AuditEntry]:
    stmt = sa.select(AuditEntry).where(AuditEntry.action == action)
    return list(db.session.scalars(stmt.order_by(AuditEntry.id)))


def test_the_sign_in_page_links_to_the_request_form(demo_client):
    page = demo_client.get("/auth/login").get_data(as_text=True)
    assert 'href="/auth/forgot">パスワードをお忘れの方</a>' in page
    form = demo_client.get("/auth/forgot").get_data(as_text=True)
    assert "メールアドレス" in form and 'name="email"' in form


def test_the_mail_arrives_over_smtp_and_its_link_sets_the_password(demo_app, demo_client, smtp):
    smtp_settings(demo_app, smtp.port)
    response = ask(demo_client, "Respondent@Example.jp ")  # as typed: case and spaces
    assert response.status_code == 200 and SENT in response.get_data(as_text=True)

    assert mailer.deliver_queued().ok
    [message] = smtp.handler.to("respondent@example.jp")
    assert message["Subject"] == "【情報セキュリティ自己点検】パスワード再設定のご案内"
    body = message.get_content()
    assert "ユーザー名: respondent" in body and "一度だけ使えます" in body
    path = LINK_RE.search(body).group(1)

    form = demo_client.get(path)
    assert form.status_code == 200
    assert form.headers["Cache-Control"] == "no-store"
    assert form.headers["Referrer-Policy"] == "no-referrer"
    done = set_new(demo_client, path)
    assert done.status_code == 302 and done.headers["Location"] == "/auth/login"
    assert "パスワードを再設定しました" in demo_client.get("/auth/login").get_data(as_text=True)
    assert verify_password(helpers.user("respondent").password_hash, NEW_PASSWORD)
    assert helpers.session_token(demo_client) is None  # the link does not sign in

    assert mailer.deliver_queued().ok
    confirmation = smtp.handler.to("respondent@example.jp")[-1]
    assert confirmation["Subject"] == "【情報セキュリティ自己点検】パスワードを再設定しました"
    login = demo_client.post(
        "/auth/login", data={"username": "respondent", "password": NEW_PASSWORD}
    )
    assert login.status_code == 302 and login.headers["Location"] == "/"


def test_known_and_unknown_addresses_get_the_same_answer(demo_client):
    known = ask(demo_client, "respondent@example.jp")
    unknown = ask(demo_client, "nobody-here@example.jp")
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    assert len(mails_to("respondent@example.jp")) == 1
    assert mails_to("nobody-here@example.jp") == []


def test_an_inactive_account_or_one_without_a_password_gets_no_link(demo_client):
    helpers.user("manager").active = False
    helpers.user("auditor").password_hash = None  # signs in some other way
    db.session.commit()
    pages = {ask(demo_client, f"{name}@example.jp").get_data() for name in ("manager", "auditor")}
    assert pages == {ask(demo_client, "nobody@example.jp").get_data()}
    assert mails_to("manager@example.jp") == mails_to("auditor@example.jp") == []


def test_a_contractor_account_can_reset_too(demo_client):
    ask(demo_client, "contractor@example.jp")
    assert set_new(demo_client, latest_link("contractor@example.jp")).status_code == 302
    assert verify_password(helpers.user("contractor").password_hash, NEW_PASSWORD)


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "メールアドレスを入力してください。"),
        ("not-an-address", "メールアドレスの形式が正しくありません"),
        ("a" * 250 + "@example.jp", "メールアドレスの形式が正しくありません"),
    ],
)
def test_a_malformed_address_is_refused_and_kept(demo_client, email, message):
    response = ask(demo_client, email)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page and SENT not in page
    if email:
        assert f'value="{email}"' in page
    assert db.session.scalar(sa.select(sa.func.count(PasswordReset.id))) == 0


def test_a_link_works_once(demo_client):
    ask(demo_client, "respondent@example.jp")
    path = latest_link("respondent@example.jp")
    assert set_new(demo_client, path).status_code == 302
    again = demo_client.get(path)
    assert again.status_code == 410
    page = again.get_data(as_text=True)
    assert "既に使われています" in page and 'href="/auth/forgot"' in page
    assert set_new(demo_client, path, "another-long-passphrase").status_code == 410
    assert verify_password(helpers.user("respondent").password_hash, NEW_PASSWORD)


def test_a_link_expires_after_the_configured_minutes(demo_app, demo_client, clock):
    demo_app.config["PASSWORD_RESET_MINUTES"] = 30
    ask(demo_client, "respondent@example.jp")
    path = latest_link("respondent@example.jp")
    clock.advance(minutes=29, seconds=59)
    assert demo_client.get(path).status_code == 200
    clock.advance(seconds=1)
    response = set_new(demo_client, path)
    assert response.status_code == 410
    assert "有効期限が切れています" in response.get_data(as_text=True)
    assert not verify_password(helpers.user("respondent").password_hash, NEW_PASSWORD)


def test_a_newer_request_makes_the_older_link_unusable(demo_client):
    ask(demo_client, "respondent@example.jp")
    older = latest_link("respondent@example.jp")
    ask(demo_client, "respondent@example.jp")
    newer = latest_link("respondent@example.jp")
    assert older != newer
    response = set_new(demo_client, older)
    assert response.status_code == 410
    assert "新しいリンクが申請された" in response.get_data(as_text=True)
    assert set_new(demo_client, newer).status_code == 302


def test_an_unknown_link_says_so_and_offers_to_ask_again(demo_client):
    for path in ("/auth/reset/not-a-token", "/auth/reset/" + "x" * 500):
        response = demo_client.get(path)
        assert response.status_code == 404
        page = response.get_data(as_text=True)
        assert "リンクが正しくありません" in page and 'href="/auth/forgot"' in page


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short", "short", "パスワードは12文字以上にしてください。"),
        (
            "respondent-is-me-2026",
            "respondent-is-me-2026",
            "ユーザー名を含むパスワードは使えません。",
        ),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "確認用のパスワードが一致しません。"),
        ("", "", "パスワードを入力してください。"),
    ],
)
def test_a_refused_password_shows_why_keeps_nothing_and_leaves_the_link(
    demo_client, password, confirm, message
):
    ask(demo_client, "respondent@example.jp")
    path = latest_link("respondent@example.jp")
    before = helpers.user("respondent").password_hash
    response = set_new(demo_client, path, password, confirm)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page
    if password:
        assert f'value="{password}"' not in page
    assert NEW_PASSWORD not in page and "respondent-is-me" not in page
    assert helpers.user("respondent").password_hash == before
    assert set_new(demo_client, path).status_code == 302  # the link still works afterwards


def test_every_other_session_is_signed_out(demo_app, demo_client, auth):
    auth.login("respondent")
    elsewhere = demo_app.test_client()
    ask(elsewhere, "respondent@example.jp")
    assert set_new(elsewhere, latest_link("respondent@example.jp")).status_code == 302
    response = demo_client.get("/assignments/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert "すべてのセッションが終了されたため" in demo_client.get("/auth/login").get_data(
        as_text=True
    )


def test_the_second_factor_is_still_asked_for(demo_client, auth, clock):
    user = helpers.user("respondent")
    secret = pyotp.random_base32()
    signin.enable_totp(user, secret, pyotp.TOTP(secret).at(clock.now))
    db.session.commit()
    ask(demo_client, "respondent@example.jp")
    assert set_new(demo_client, latest_link("respondent@example.jp")).status_code == 302
    assert helpers.user("respondent").totp_enabled
    response = auth.login("respondent", NEW_PASSWORD)
    assert response.headers["Location"] == "/auth/2fa"
    assert demo_client.get("/").headers["Location"] == "/auth/2fa"


def test_a_reset_lifts_the_lock_of_failed_sign_ins(demo_client, auth):
    for _ in range(5):
        auth.login("respondent", "wrong-password-guess")
    assert signin.is_locked(helpers.user("respondent"))
    ask(demo_client, "respondent@example.jp")
    set_new(demo_client, latest_link("respondent@example.jp"))
    assert auth.login("respondent", NEW_PASSWORD).headers["Location"] == "/"


def test_requests_are_limited_per_address_whoever_asks(demo_app, demo_client):
    demo_app.config["PASSWORD_RESET_ADDRESS_LIMIT"] = "2 per hour"
    for _ in range(2):
        assert ask(demo_client, "respondent@example.jp").status_code == 200
    refused = ask(demo_client, " RESPONDENT@example.jp")  # the same address, typed otherwise
    assert refused.status_code == 429
    assert "パスワード再設定の申請が多すぎます" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 0
    other = ask(demo_client, "respondent@example.jp", environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert other.status_code == 429
    assert len(mails_to("respondent@example.jp")) == 2
    assert ask(demo_client, "manager@example.jp").status_code == 200


def test_requests_are_limited_per_client_whatever_the_address(demo_app, demo_client):
    demo_app.config["PASSWORD_RESET_CLIENT_LIMIT"] = "3 per hour"
    for name in ("respondent", "manager", "nobody"):
        assert ask(demo_client, f"{name}@example.jp").status_code == 200
    assert ask(demo_client, "admin@example.jp").status_code == 429
    assert mails_to("admin@example.jp") == []
    other = ask(demo_client, "admin@example.jp", environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert other.status_code == 200


def test_each_step_is_in_the_audit_trail(demo_client, clock):
    ask(demo_client, "respondent@example.jp")
    ask(demo_client, "nobody@example.jp")
    [known, unknown] = entries("auth.password_reset_request")
    assert known.user_id is None and known.summary == "respondent@example.jp"
    assert known.after == {"accounts": [helpers.user("respondent").id]}
    assert unknown.summary == "nobody@example.jp" and unknown.after == {"accounts": []}

    path = latest_link("respondent@example.jp")
    set_new(demo_client, path)
    [used] = entries("auth.password_reset")
    assert used.user_id == helpers.user("respondent").id and used.object_type == "user_account"

    demo_client.get(path)
    demo_client.get("/auth/reset/never-sent")
    ask(demo_client, "respondent@example.jp")
    expiring = latest_link("respondent@example.jp")
    clock.advance(minutes=31)
    demo_client.get(expiring)
    reasons = [(e.username, e.after["reason"]) for e in entries("auth.password_reset_refused")]
    assert reasons == [("respondent", "used"), ("", "unknown"), ("respondent", "expired")]
    # No entry holds a token or its link.
    for entry in db.session.scalars(sa.select(AuditEntry)):
        assert path.rsplit("/", 1)[1] not in (entry.after_json or "") + entry.summary


def test_a_signed_in_user_is_sent_to_the_account_page(demo_client, auth):
    ask(demo_client, "respondent@example.jp")
    path = latest_link("respondent@example.jp")
    auth.login("manager")
    for target in ("/auth/forgot", path):
        response = demo_client.get(target)
        assert response.status_code == 302 and response.headers["Location"] == "/auth/account"
    assert set_new(demo_client, path).headers["Location"] == "/auth/account"
    assert not verify_password(helpers.user("respondent").password_hash, NEW_PASSWORD)
