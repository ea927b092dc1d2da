"""Sessions end when idle, when too old, and everywhere at the user's request; cookies are
locked down in production."""

from __future__ import annotations

import pytest

import config
from survey import create_app
from survey.extensions import db
from tests import helpers

IDLE = "しばらく操作がなかったため"
EXPIRED = "ログインの有効期限が切れました"
EVERYWHERE = "すべてのセッションが終了されたため"


def shift(client, key: str, seconds: int) -> None:
    """Move a timestamp of the client's session into the past."""
    with client.session_transaction() as session:
        session[key] -= seconds


def test_an_idle_session_ends_after_thirty_minutes(auth, demo_client):
    auth.login("respondent")
    shift(demo_client, "seen_at", 29 * 60)
    assert demo_client.get("/").status_code == 200  # still in, and the clock starts again
    shift(demo_client, "seen_at", 29 * 60)
    assert demo_client.get("/").status_code == 200
    shift(demo_client, "seen_at", 30 * 60 + 1)
    response = demo_client.get("/assignments/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/assignments/"
    assert IDLE in demo_client.get("/auth/login").get_data(as_text=True)
    with demo_client.session_transaction() as session:
        assert "_user_id" not in session
    assert demo_client.get("/").status_code == 302


def test_the_idle_timeout_follows_the_setting(demo_app, auth, demo_client):
    demo_app.config["SESSION_IDLE_MINUTES"] = 5
    auth.login("respondent")
    shift(demo_client, "seen_at", 5 * 60 + 1)
    assert demo_client.get("/").status_code == 302


def test_a_session_ends_after_twelve_hours_however_active(auth, demo_client):
    auth.login("respondent")
    shift(demo_client, "signed_in_at", 12 * 3600 - 60)
    assert demo_client.get("/").status_code == 200
    shift(demo_client, "signed_in_at", 61)
    response = demo_client.get("/")
    assert response.headers["Location"].startswith("/auth/login")
    assert EXPIRED in demo_client.get("/auth/login").get_data(as_text=True)


def test_scripts_are_told_in_json_that_the_session_ended(auth, demo_client):
    auth.login("respondent")
    shift(demo_client, "seen_at", 31 * 60)
    mine = helpers.assignment_of("戸籍住民課")
    response = demo_client.post(
        f"/assignments/{mine.id}/autosave",
        data=helpers.form_data(mine),
        headers={"X-Requested-With": "fetch"},
    )
    assert response.status_code == 401
    assert IDLE in response.get_json()["message"]


def test_signing_in_starts_a_new_session(auth, demo_client):
    with demo_client.session_transaction() as session:
        session["planted"] = "by someone else"
        session["lang"] = "en"
    auth.login("respondent")
    with demo_client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"
        assert session["signed_in_at"] == session["seen_at"]
        assert session["epoch"] == 0


def test_sign_out_everywhere_ends_the_other_sessions_only(demo_app, auth, demo_client):
    other = helpers.login(demo_app, "respondent")  # another browser, signed in first
    assert other.get("/").status_code == 200
    auth.login("respondent")
    page = demo_client.get("/auth/account").get_data(as_text=True)
    assert "他のすべての端末からログアウト" in page
    response = demo_client.post("/auth/account/sign-out-everywhere")
    assert response.headers["Location"] == "/auth/account"
    assert demo_client.get("/").status_code == 200  # this one stays
    response = other.get("/")
    assert response.status_code == 302
    assert EVERYWHERE in other.get("/auth/login").get_data(as_text=True)
    # Signing in again works, in the new epoch.
    assert helpers.login(demo_app, "respondent").get("/").status_code == 200


def test_changing_the_password_ends_the_other_sessions(demo_app, auth, demo_client):
    other = helpers.login(demo_app, "respondent")
    auth.login("respondent")
    response = demo_client.post(
        "/auth/account/password",
        data={
            "pw-current": "tenken-demo-2026",
            "pw-password": "ryokucha-to-senbei-42",
            "pw-confirm": "ryokucha-to-senbei-42",
        },
    )
    assert response.headers["Location"] == "/auth/account"
    assert demo_client.get("/").status_code == 200
    assert other.get("/").status_code == 302
    db.session.expire_all()
    assert helpers.user("respondent").password_changed_at is not None
    auth.logout()
    assert auth.login("respondent").status_code == 200  # the old password
    assert auth.login("respondent", "ryokucha-to-senbei-42").status_code == 302


def test_a_deactivated_account_is_signed_out(demo_app, auth, demo_client):
    auth.login("respondent")
    helpers.user("respondent").active = False
    db.session.commit()
    assert demo_client.get("/").status_code == 302


def test_logout_ends_the_session(auth, demo_client):
    auth.login("respondent")
    auth.logout()
    with demo_client.session_transaction() as session:
        assert not {"_user_id", "signed_in_at", "seen_at", "epoch"} & set(session)


# --- settings -------------------------------------------------------------------------------


@pytest.fixture
def production(monkeypatch, tmp_path):
    monkeypatch.setenv("SURVEY_ENV", "production")
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("SURVEY_DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    monkeypatch.setenv("SMTP_HOST", "mail.example.jp")
    monkeypatch.setenv("MAIL_FROM", "tenken@example.jp")
    for name in (
        "FLASK_DEBUG",
        "SURVEY_REQUIRE_2FA",
        "SURVEY_SESSION_IDLE_MINUTES",
        "SURVEY_SESSION_MAX_HOURS",
        "SURVEY_PASSWORD_MIN_LENGTH",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_production_locks_cookies_down_and_requires_two_factor(production):
    settings = config.load()
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_HTTPONLY"] is True
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert settings["REMEMBER_COOKIE_SECURE"] is True
    assert settings["REMEMBER_COOKIE_HTTPONLY"] is True
    assert settings["REQUIRE_2FA"] is True
    assert (settings["SESSION_IDLE_MINUTES"], settings["SESSION_MAX_HOURS"]) == (30, 12)
    assert settings["PASSWORD_MIN_LENGTH"] == 12


def test_production_session_cookie_is_secure_httponly_and_samesite(production):
    app = create_app()
    response = app.test_client().get("/auth/login")  # the CSRF token starts a session
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with app.app_context():
        db.engine.dispose()


def test_development_does_not_require_two_factor_unless_asked(production):
    production.setenv("SURVEY_ENV", "development")
    assert config.load()["REQUIRE_2FA"] is False
    production.setenv("SURVEY_REQUIRE_2FA", "1")
    assert config.load()["REQUIRE_2FA"] is True
    production.setenv("SURVEY_ENV", "production")
    production.setenv("SURVEY_REQUIRE_2FA", "0")
    assert config.load()["REQUIRE_2FA"] is False


def test_session_and_password_settings_are_read_and_checked(production):
    production.setenv("SURVEY_SESSION_IDLE_MINUTES", "10")
    production.setenv("SURVEY_SESSION_MAX_HOURS", "8")
    production.setenv("SURVEY_PASSWORD_MIN_LENGTH", "16")
    settings = config.load()
    assert (settings["SESSION_IDLE_MINUTES"], settings["SESSION_MAX_HOURS"]) == (10, 8)
    assert settings["PASSWORD_MIN_LENGTH"] == 16
    production.setenv("SURVEY_PASSWORD_MIN_LENGTH", "6")
    with pytest.raises(config.ConfigError, match="SURVEY_PASSWORD_MIN_LENGTH"):
        config.load()
    production.setenv("SURVEY_PASSWORD_MIN_LENGTH", "twelve")
    with pytest.raises(config.ConfigError, match="SURVEY_PASSWORD_MIN_LENGTH"):
        config.load()


def test_an_unchanged_session_is_not_signed_and_sent_again_within_the_minute(auth, demo_client):
    auth.login("respondent")
    demo_client.get("/")  # shows (and so removes) the welcome message kept in the session
    assert "Set-Cookie" not in demo_client.get("/").headers
    shift(demo_client, "seen_at", 61)
    assert "Set-Cookie" in demo_client.get("/").headers  # seen again: the clock restarts
