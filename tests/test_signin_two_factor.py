"""Two-factor sign-in with an authenticator app (TOTP): enrolling, signing in with a code or a
recovery code, and the requirement for admins and auditors (SURVEY_REQUIRE_2FA)."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models.org import RecoveryCode
from tests import helpers

CODE_RE = re.compile(r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>")
WRONG_CODE = "確認コードが正しくありません"


def enroll(client, clock) -> tuple[str, list[str]]:
    """Open the set-up page, read the secret off it, confirm with a code: secret, codes."""
    page = client.get("/auth/2fa/setup").get_data(as_text=True)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    assert f"otpauth://totp/tenken:{username_of(page)}?secret={secret}" in page
    response = client.post("/auth/2fa/setup", data={"code": pyotp.TOTP(secret).at(clock.now)})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    codes = CODE_RE.findall(response.get_data(as_text=True))
    return secret, codes


def username_of(page: str) -> str:
    return re.search(r'<dd class="code">([^<]+)</dd>', page).group(1)


def test_a_respondent_enrolls_and_then_needs_a_code(auth, demo_client, clock):
    auth.login("respondent")
    secret, codes = enroll(demo_client, clock)
    assert len(codes) == 10 and len(set(codes)) == 10
    db.session.expire_all()
    user = helpers.user("respondent")
    assert user.totp_enabled and user.totp_secret == secret
    stored = db.session.scalars(sa.select(RecoveryCode.code_hash).filter_by(user_id=user.id)).all()
    assert len(stored) == 10
    assert not set(codes) & set(stored)  # hashed, not in clear
    assert hashlib.sha256(codes[0].replace("-", "").encode()).hexdigest() in stored
    auth.logout()

    # The password alone does not sign in: it leads to the second step, and nowhere else.
    response = auth.login("respondent")
    assert response.headers["Location"] == "/auth/2fa"
    assert not helpers.signed_in(demo_client)
    assert demo_client.get("/").headers["Location"] == "/auth/2fa"
    assert demo_client.get("/assignments/").headers["Location"] == "/auth/2fa"
    assert "認証アプリ" in demo_client.get("/auth/2fa").get_data(as_text=True)

    clock.advance(minutes=2)
    code = pyotp.TOTP(secret).at(clock.now)
    assert pyotp.TOTP(secret).verify(code, for_time=clock.now)
    response = auth.second_step(code)
    assert response.headers["Location"] == "/"
    assert demo_client.get("/").status_code == 200


def test_the_second_step_keeps_the_page_asked_for(auth, demo_client, clock):
    auth.login("respondent")
    secret, _ = enroll(demo_client, clock)
    auth.logout()
    demo_client.post(
        "/auth/login?next=/assignments/",
        data={"username": "respondent", "password": "tenken-demo-2026"},
    )
    clock.advance(minutes=1)
    assert auth.second_step(pyotp.TOTP(secret).at(clock.now)).headers["Location"] == (
        "/assignments/"
    )


def test_wrong_old_and_reused_codes_are_refused(auth, demo_client, clock):
    auth.login("respondent")
    secret, _ = enroll(demo_client, clock)
    auth.logout()
    totp = pyotp.TOTP(secret)
    clock.advance(minutes=5)
    auth.login("respondent")
    wrong = f"{(int(totp.at(clock.now)) + 1) % 1_000_000:06d}"
    too_old = totp.at(clock.now - timedelta(seconds=60))  # two steps back: beyond the drift
    for code in (wrong, too_old, "abcdef", ""):
        response = auth.second_step(code)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert WRONG_CODE in page or "確認コードを入力してください" in page
        assert not helpers.signed_in(demo_client)
    code = totp.at(clock.now)
    assert auth.second_step(code).headers["Location"] == "/"
    auth.logout()
    # The same code, within its 30 seconds, is not accepted a second time.
    auth.login("respondent")
    assert WRONG_CODE in auth.second_step(code).get_data(as_text=True)
    # One step of clock drift is allowed.
    clock.advance(seconds=30)
    assert auth.second_step(totp.at(clock.now + timedelta(seconds=30))).status_code == 302


def test_a_recovery_code_works_once(auth, demo_client, clock):
    auth.login("respondent")
    _, codes = enroll(demo_client, clock)
    auth.logout()
    auth.login("respondent")
    response = auth.second_step(codes[3].upper())
    assert response.headers["Location"] == "/"
    assert "残りの回復コードは9個" in demo_client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login("respondent")
    assert WRONG_CODE in auth.second_step(codes[3]).get_data(as_text=True)
    assert not helpers.signed_in(demo_client)
    assert auth.second_step(codes[4]).status_code == 302


def test_wrong_codes_count_towards_the_lockout(auth, demo_client, clock):
    auth.login("respondent")
    secret, _ = enroll(demo_client, clock)
    auth.logout()
    auth.login("respondent")
    for _ in range(4):
        assert WRONG_CODE in auth.second_step("000000").get_data(as_text=True)
    response = auth.second_step("000000")
    assert response.headers["Location"] == "/auth/login"
    assert "しばらくしてから" in demo_client.get("/auth/login").get_data(as_text=True)
    # Locked: even the password and a right code do not get in until the lock ends.
    assert auth.login("respondent").status_code == 200
    clock.advance(minutes=16)
    assert auth.login("respondent").headers["Location"] == "/auth/2fa"
    assert auth.second_step(pyotp.TOTP(secret).at(clock.now)).status_code == 302


def test_the_second_step_expires(auth, demo_client, clock):
    auth.login("respondent")
    secret, _ = enroll(demo_client, clock)
    auth.logout()
    auth.login("respondent")
    clock.advance(minutes=11)
    response = auth.second_step(pyotp.TOTP(secret).at(clock.now))
    assert response.headers["Location"] == "/auth/login"
    assert demo_client.get("/").status_code == 302


def test_a_wrong_code_at_enrollment_changes_nothing(auth, demo_client, clock):
    auth.login("respondent")
    demo_client.get("/auth/2fa/setup")
    response = demo_client.post("/auth/2fa/setup", data={"code": "123456"})
    assert WRONG_CODE in response.get_data(as_text=True)
    db.session.expire_all()
    assert not helpers.user("respondent").totp_enabled


def test_the_set_up_page_shows_a_qr_code_made_on_the_server(auth, demo_client):
    auth.login("respondent")
    page = demo_client.get("/auth/2fa/setup").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page


def test_an_optional_user_can_turn_two_factor_off_with_the_password(auth, demo_client, clock):
    auth.login("respondent")
    enroll(demo_client, clock)
    page = demo_client.get("/auth/account").get_data(as_text=True)
    assert "未使用の回復コード: 10個" in page
    wrong = demo_client.post("/auth/2fa/disable", data={"off-password": "not-it"})
    assert "現在のパスワードが正しくありません" in wrong.get_data(as_text=True)
    response = demo_client.post("/auth/2fa/disable", data={"off-password": "tenken-demo-2026"})
    assert response.headers["Location"] == "/auth/account"
    db.session.expire_all()
    user = helpers.user("respondent")
    assert not user.totp_enabled and user.recovery_codes == []
    auth.logout()
    assert auth.login("respondent").headers["Location"] == "/"


def test_new_recovery_codes_replace_the_old_ones(auth, demo_client, clock):
    auth.login("respondent")
    _, old = enroll(demo_client, clock)
    response = demo_client.post(
        "/auth/2fa/recovery-codes", data={"rc-password": "tenken-demo-2026"}
    )
    new = CODE_RE.findall(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    auth.logout()
    auth.login("respondent")
    assert WRONG_CODE in auth.second_step(old[0]).get_data(as_text=True)
    assert auth.second_step(new[0]).status_code == 302


# --- required for admins and auditors -------------------------------------------------------


@pytest.fixture
def required(demo_app):
    demo_app.config["REQUIRE_2FA"] = True


@pytest.mark.parametrize("username", ["admin", "auditor"])
def test_a_required_user_cannot_reach_anything_before_enrolling(
    auth, demo_client, clock, required, username
):
    response = auth.login(username)
    assert response.headers["Location"] == "/auth/2fa/setup"
    assert not helpers.signed_in(demo_client)
    for path in ("/", "/assignments/", "/results/", "/auth/account"):
        assert demo_client.get(path).headers["Location"] == "/auth/2fa/setup", path
    page = demo_client.get("/auth/2fa/setup").get_data(as_text=True)
    assert "2段階認証を設定しないと利用できません" in page

    _, codes = enroll(demo_client, clock)
    assert len(codes) == 10
    assert demo_client.get("/").status_code == 200  # enrolled: signed in
    auth.logout()
    assert auth.login(username).headers["Location"] == "/auth/2fa"


def test_a_required_user_cannot_turn_two_factor_off(auth, demo_client, clock, required):
    auth.login("admin")
    enroll(demo_client, clock)
    page = demo_client.get("/auth/account").get_data(as_text=True)
    assert "2段階認証を無効にできません" in page and 'name="off-password"' not in page
    response = demo_client.post("/auth/2fa/disable", data={"off-password": "tenken-demo-2026"})
    assert response.status_code == 403
    db.session.expire_all()
    assert helpers.user("admin").totp_enabled


def test_an_admin_signed_in_before_the_requirement_is_sent_to_enroll(demo_app, auth, demo_client):
    assert auth.login("admin").headers["Location"] == "/"
    demo_app.config["REQUIRE_2FA"] = True
    assert demo_client.get("/results/").headers["Location"] == "/auth/2fa/setup"
    assert not helpers.signed_in(demo_client)


def test_other_roles_are_not_required_to_enroll(auth, demo_client, required):
    assert auth.login("respondent").headers["Location"] == "/"
    assert demo_client.get("/").status_code == 200


def test_without_the_requirement_admins_sign_in_with_the_password(auth, demo_client):
    assert auth.login("admin").headers["Location"] == "/"
