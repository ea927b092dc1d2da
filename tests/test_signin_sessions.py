"""Sessions are held in the database and the cookie only names one: they end at sign-out (a
copied cookie with them), when idle, when too old, and everywhere at the user's request; cookies
are locked down in production."""

from __future__ import annotations

import json
import re

import pyotp
import pytest
import sqlalchemy as sa

import config
from survey import create_app
from survey.extensions import db
from survey.models.org import UserSession
from survey.services import signin
from tests import helpers
from tests.conftest import make_app

IDLE = "しばらく操作がなかったため"
EXPIRED = "ログインの有効期限が切れました"
EVERYWHERE = "すべてのセッションが終了されたため"
ENDED_ELSEWHERE = "別の端末から終了されたため"


def cookie(client) -> str:
    return client.get_cookie("session").value


def with_cookie(app, value: str):
    """Another browser, holding a copy of a session cookie."""
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def decoded(app, client) -> dict:
    """What the session cookie holds, read as the app reads it (signed, not encrypted)."""
    return app.session_interface.get_signing_serializer(app).loads(cookie(client))


def test_an_idle_session_ends_after_thirty_minutes(auth, demo_client, clock):
    auth.login("respondent")
    clock.advance(minutes=29)
    assert demo_client.get("/").status_code == 200  # still in, and the clock starts again
    clock.advance(minutes=29)
    assert demo_client.get("/").status_code == 200
    clock.advance(minutes=30, seconds=1)
    response = demo_client.get("/assignments/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/assignments/"
    assert IDLE in demo_client.get("/auth/login").get_data(as_text=True)
    assert helpers.session_token(demo_client) is None
    assert demo_client.get("/").status_code == 302


def test_the_idle_timeout_follows_the_setting(demo_app, auth, demo_client, clock):
    demo_app.config["SESSION_IDLE_MINUTES"] = 5
    auth.login("respondent")
    clock.advance(minutes=5, seconds=1)
    assert demo_client.get("/").status_code == 302


def test_a_session_ends_after_twelve_hours_however_active(auth, demo_client, clock):
    auth.login("respondent")
    for _ in range(28):  # 11 h 40 min, never idle
        clock.advance(minutes=25)
        assert demo_client.get("/").status_code == 200
    clock.advance(minutes=19)
    assert demo_client.get("/").status_code == 200
    clock.advance(seconds=61)
    response = demo_client.get("/")
    assert response.headers["Location"].startswith("/auth/login")
    assert EXPIRED in demo_client.get("/auth/login").get_data(as_text=True)


def test_scripts_are_told_in_json_that_the_session_ended(auth, demo_client, clock):
    auth.login("respondent")
    clock.advance(minutes=31)
    mine = helpers.assignment_of("戸籍住民課")
    response = demo_client.post(
        f"/assignments/{mine.id}/autosave",
        data=helpers.form_data(mine),
        headers={"X-Requested-With": "fetch"},
    )
    assert response.status_code == 401
    assert IDLE in response.get_json()["message"]


def test_signing_in_starts_a_new_session_known_only_by_its_hash(demo_app, auth, demo_client):
    with demo_client.session_transaction() as session:
        session["planted"] = "by someone else"
        session["lang"] = "en"
    auth.login("respondent")
    held = decoded(demo_app, demo_client)
    assert "planted" not in held and held["lang"] == "en"
    # The cookie names the session and nothing else about the sign-in: no user, no times.
    assert set(held) <= {"sid", "lang", "_flashes", "csrf_token"}
    row = helpers.session_row(demo_client)
    assert row.user.username == "respondent" and row.stage is None and row.ended_at is None
    assert row.id != held["sid"]  # only its SHA-256 is stored
    assert not db.session.scalar(sa.select(UserSession).where(UserSession.id == held["sid"]))


def test_a_cookie_copied_before_sign_out_is_refused_after_it(demo_app, auth, demo_client):
    auth.login("respondent")
    copy = with_cookie(demo_app, cookie(demo_client))
    assert copy.get("/assignments/").status_code == 200  # the same session, for now
    auth.logout()
    response = copy.get("/assignments/")
    assert response.headers["Location"] == "/auth/login?next=/assignments/"
    assert helpers.session_row(demo_client) is None  # the browser forgot it
    row = db.session.scalar(sa.select(UserSession).where(UserSession.end_reason == "logout"))
    assert row.ended_at is not None and row.user.username == "respondent"


def test_signing_out_on_one_browser_leaves_the_others_signed_in(demo_app, auth, demo_client):
    other = helpers.login(demo_app, "respondent")
    auth.login("respondent")
    auth.logout()
    assert other.get("/assignments/").status_code == 200
    assert helpers.signed_in(other)


def test_a_session_works_on_every_app_server_and_ends_on_all(demo_app, auth, demo_client):
    """Two app servers on one database: nothing about a session is kept in a process."""
    second = make_app(demo_app.config["SQLALCHEMY_DATABASE_URI"], demo_app.instance_path)
    try:
        auth.login("respondent")
        there = with_cookie(second, cookie(demo_client))
        assert there.get("/assignments/").status_code == 200
        auth.logout()
        assert there.get("/assignments/").status_code == 302
    finally:
        with second.app_context():
            db.engine.dispose()


def test_sign_out_everywhere_ends_the_other_sessions_only(demo_app, auth, demo_client):
    other = helpers.login(demo_app, "respondent")  # another browser, signed in first
    assert other.get("/").status_code == 200
    auth.login("respondent")
    before = helpers.session_row(demo_client)
    page = demo_client.get("/auth/account").get_data(as_text=True)
    assert "他のすべての端末からログアウト" in page
    response = demo_client.post("/auth/account/sign-out-everywhere")
    assert response.headers["Location"] == "/auth/account"
    assert demo_client.get("/").status_code == 200  # this one stays
    assert helpers.session_row(demo_client).id != before.id  # with a new session id
    response = other.get("/")
    assert response.status_code == 302
    assert EVERYWHERE in other.get("/auth/login").get_data(as_text=True)
    live = db.session.scalars(
        sa.select(UserSession).where(
            UserSession.user_id == helpers.user("respondent").id, UserSession.ended_at.is_(None)
        )
    ).all()
    assert [row.id for row in live] == [helpers.session_row(demo_client).id]
    # Signing in again works.
    assert helpers.login(demo_app, "respondent").get("/").status_code == 200


def test_a_user_ends_a_forgotten_session_from_the_account_page(demo_app, auth, demo_client):
    forgotten = helpers.login(demo_app, "respondent")  # left signed in on another PC
    someone_else = helpers.login(demo_app, "manager")
    auth.login("respondent")
    page = demo_client.get("/auth/account").get_data(as_text=True)
    assert page.count('name="end-session"') == 1 and "この端末" in page
    theirs = helpers.session_row(someone_else).id
    demo_client.post("/auth/account/sessions/end", data={"end-session": theirs})
    assert someone_else.get("/").status_code == 200  # only one's own sessions
    mine = helpers.session_row(demo_client).id
    demo_client.post("/auth/account/sessions/end", data={"end-session": mine})
    assert demo_client.get("/").status_code == 200  # this one ends by signing out
    response = demo_client.post(
        "/auth/account/sessions/end", data={"end-session": helpers.session_row(forgotten).id}
    )
    assert response.headers["Location"] == "/auth/account#sessions"
    assert forgotten.get("/").status_code == 302
    assert ENDED_ELSEWHERE in forgotten.get("/auth/login").get_data(as_text=True)
    assert demo_client.get("/").status_code == 200
    assert 'name="end-session"' not in demo_client.get("/auth/account").get_data(as_text=True)


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
    row = helpers.session_row(demo_client)
    auth.logout()
    assert helpers.session_token(demo_client) is None
    db.session.refresh(row)
    assert row.ended_at is not None and row.end_reason == "logout"


def test_the_enrolment_secret_and_the_second_step_stay_on_the_server(
    demo_app, auth, demo_client, clock
):
    auth.login("respondent")
    page = demo_client.get("/auth/2fa/setup").get_data(as_text=True)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    assert secret not in json.dumps(decoded(demo_app, demo_client))
    assert helpers.session_row(demo_client).totp_setup == secret
    response = demo_client.post("/auth/2fa/setup", data={"code": pyotp.TOTP(secret).at(clock.now)})
    assert response.status_code == 200
    assert helpers.session_row(demo_client).totp_setup is None  # confirmed: the user's now
    auth.logout()
    auth.login("respondent")  # waiting for the code
    held = decoded(demo_app, demo_client)
    assert set(held) <= {"sid", "lang", "_flashes", "csrf_token"}
    assert helpers.session_row(demo_client).stage == "totp"


def test_the_last_seen_time_is_written_at_most_once_a_minute(auth, demo_client, clock):
    auth.login("respondent")
    demo_client.get("/")  # shows (and so removes) the welcome message kept in the session
    assert updates_of_the_session(demo_client, "/") == 0
    clock.advance(seconds=61)
    assert updates_of_the_session(demo_client, "/") == 1  # seen again: the idle clock restarts
    assert signin._aware(helpers.session_row(demo_client).seen_at) == clock.now
    assert updates_of_the_session(demo_client, "/") == 0


def updates_of_the_session(client, path: str) -> int:
    """How many times a request wrote the session's row; its cookie is not sent again."""
    written = []

    def seen(_conn, _cursor, statement, *_args):
        if statement.startswith("UPDATE user_session"):
            written.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        response = client.get(path)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    return len(written)


def test_rows_of_sessions_past_their_lifetime_are_deleted_at_a_sign_in(demo_app, auth, clock):
    old = helpers.login(demo_app, "respondent")
    gone = helpers.session_row(old).id
    clock.advance(hours=11)
    recent = helpers.login(demo_app, "manager")
    clock.advance(hours=1, seconds=1)
    auth.login("admin")
    assert db.session.get(UserSession, gone) is None
    assert helpers.session_row(recent) is not None  # still within its twelve hours
    assert old.get("/").status_code == 302


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
