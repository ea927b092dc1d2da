"""Guessing passwords: an account locks after repeated failures, a client address is throttled,
and no answer tells whether a username exists."""

from __future__ import annotations

from datetime import timedelta

from survey.extensions import db
from survey.services import signin
from tests import helpers
from tests.conftest import make_app

WRONG = "ユーザー名またはパスワードが正しくありません"


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def test_five_failures_lock_the_account_for_fifteen_minutes(auth, demo_client, clock):
    for _ in range(4):
        assert WRONG in auth.login("respondent", "not-the-password").get_data(as_text=True)
    assert helpers.user("respondent").locked_until is None
    auth.login("respondent", "not-the-password")  # the fifth
    db.session.expire_all()
    locked_until = helpers.user("respondent").locked_until
    assert locked_until is not None
    assert signin._aware(locked_until) == clock.now + timedelta(minutes=15)

    # The right password does not help while the lock lasts, and the page says nothing more.
    clock.advance(minutes=14, seconds=59)
    response = auth.login("respondent")
    assert response.status_code == 200 and WRONG in response.get_data(as_text=True)
    assert not signed_in(demo_client)

    clock.advance(seconds=2)
    assert auth.login("respondent").headers["Location"] == "/"
    assert signed_in(demo_client)
    db.session.expire_all()
    user = helpers.user("respondent")
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_failures_spread_over_more_than_the_window_do_not_lock(auth, demo_client, clock):
    for _ in range(4):
        auth.login("respondent", "not-the-password")
    clock.advance(minutes=16)
    for _ in range(4):
        auth.login("respondent", "not-the-password")
    assert auth.login("respondent").headers["Location"] == "/"


def test_a_successful_sign_in_clears_the_count(auth, clock):
    for _ in range(4):
        auth.login("respondent", "not-the-password")
    assert auth.login("respondent").status_code == 302
    auth.logout()
    for _ in range(4):
        auth.login("respondent", "not-the-password")
    assert auth.login("respondent").status_code == 302


def test_the_lockout_follows_the_settings(demo_app, auth, clock):
    demo_app.config.update(SIGNIN_MAX_FAILURES=2, SIGNIN_LOCK_MINUTES=60)
    auth.login("respondent", "x" * 12)
    auth.login("respondent", "x" * 12)
    clock.advance(minutes=59)
    assert auth.login("respondent").status_code == 200
    clock.advance(minutes=2)
    assert auth.login("respondent").status_code == 302


def test_unknown_user_wrong_password_and_locked_account_look_the_same(
    demo_app, auth, clock, monkeypatch
):
    for _ in range(5):
        auth.login("manager", "not-the-password")  # locks `manager`
    verifications = []
    real_verify = signin.verify_password

    def counting_verify(password_hash, password):
        verifications.append(password_hash)
        return real_verify(password_hash, password)

    monkeypatch.setattr(signin, "verify_password", counting_verify)
    pages = {}
    for case, username, password in [
        ("unknown", "nobody-here", "not-the-password"),
        ("wrong", "respondent", "not-the-password"),
        ("locked, wrong password", "manager", "not-the-password"),
        ("locked, right password", "manager", "tenken-demo-2026"),
    ]:
        verifications.clear()
        response = auth.login(username, password)
        assert response.status_code == 200, case
        # Each costs exactly one argon2 verification, so the time taken tells nothing either.
        assert len(verifications) == 1, case
        pages[case] = response.get_data(as_text=True).replace(f'value="{username}"', "")
    assert len(set(pages.values())) == 1
    assert WRONG in pages["unknown"]
    assert "ロック" not in pages["unknown"]


def test_failures_of_one_address_are_throttled_with_a_japanese_page(demo_app, demo_client):
    demo_app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    for n in range(3):
        assert (
            demo_client.post(
                "/auth/login", data={"username": f"nobody{n}", "password": "whatever-password"}
            ).status_code
            == 200
        )
    response = demo_client.post(
        "/auth/login", data={"username": "respondent", "password": "tenken-demo-2026"}
    )
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert '<html lang="ja">' in page and "ログインの試行が多すぎます" in page
    assert int(response.headers["Retry-After"]) > 0
    # Another address is not affected, and the login page itself still shows.
    other = demo_app.test_client()
    assert other.get("/auth/login").status_code == 200
    assert (
        other.post(
            "/auth/login",
            data={"username": "respondent", "password": "tenken-demo-2026"},
            environ_base={"REMOTE_ADDR": "192.0.2.7"},
        ).status_code
        == 302
    )


def test_the_default_limit_is_twenty_failures_a_minute(demo_client):
    for n in range(20):
        data = {"username": f"guess{n}", "password": "whatever-password"}
        assert demo_client.post("/auth/login", data=data).status_code == 200
    data = {"username": "guess", "password": "whatever-password"}
    assert demo_client.post("/auth/login", data=data).status_code == 429


def test_successful_sign_ins_do_not_use_up_the_limit(demo_app, auth):
    # A whole office behind one proxy signs in at nine: only failures count.
    demo_app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    for username in ("respondent", "manager", "admin", "auditor", "contractor"):
        assert auth.login(username).status_code == 302
        auth.logout()


def test_behind_a_proxy_each_client_address_has_its_own_limit(databases, tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_PROXY_COUNT", "1")
    app = make_app(databases.new(), tmp_path / "instance")
    app.config["LOGIN_RATE_LIMIT"] = "1 per minute"
    with app.app_context():
        db.create_all()
        client = app.test_client()

        def attempt(address: str) -> int:
            data = {"username": "nobody", "password": "whatever-password"}
            return client.post(
                "/auth/login", data=data, headers={"X-Forwarded-For": address}
            ).status_code

        assert attempt("198.51.100.1") == 200
        assert attempt("198.51.100.1") == 429
        assert attempt("198.51.100.2") == 200
        db.session.remove()
        db.engine.dispose()
