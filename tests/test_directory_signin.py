"""Signing in through the office's directory, against a real OpenLDAP server (tests/ldap_server.py):
the bind over StartTLS or LDAPS, role and unit from the directory's groups, an account made at the
first sign-in and updated at the next, the nightly `flask register sync-ldap`, a wrong password,
the directory down (a clear message, the break-glass admin still signs in locally), and the
second step still asked of a directory user who enrolled."""

from __future__ import annotations

import socket
import threading

import pyotp
import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import User
from survey.models.pledges import Pledge, PledgeAcknowledgement, PledgeVersion
from survey.models.trail import AuditEntry
from survey.services import directory as directory_service
from tests import helpers
from tests.ldap_server import group_dn, person_dn

WRONG = "ユーザー名またはパスワードが正しくありません"
DOWN = "ディレクトリサーバーに接続できません"


@pytest.fixture(autouse=True)
def no_pledge(demo_app):
    """The demo's published pledges stop a new account at its first sign-in (a directory one
    too: tests/test_pledges.py); here a directory sign-in lands where a local one would."""
    with demo_app.app_context():
        for model in (PledgeAcknowledgement, PledgeVersion, Pledge):
            db.session.execute(sa.delete(model))
        db.session.commit()


def entries(action: str) -> list[AuditEntry]:
    stmt = sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    return list(db.session.scalars(stmt))


def account(username: str) -> User | None:
    db.session.expire_all()
    return helpers.user(username)


def test_a_directory_user_signs_in_and_gets_role_and_unit_from_groups(directory, auth, demo_client):
    assert account("yamada") is None
    response = auth.login("yamada", "yamada-directory-pw")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert helpers.signed_in(demo_client)

    yamada = account("yamada")
    assert (yamada.role, yamada.unit.code, yamada.unit.name) == (
        "respondent",
        "D04-01",
        "戸籍住民課",
    )
    assert (yamada.display_name, yamada.email) == ("山田 花子", "yamada@city.example.jp")
    assert yamada.directory_dn == person_dn("yamada")
    assert yamada.password_hash is None  # nothing to fall back on
    assert "戸籍住民課" in demo_client.get("/").get_data(as_text=True)
    created = entries("user.create")[-1]
    assert created.username == "yamada" and created.after["source"] == "directory"
    assert entries("auth.login")[-1].username == "yamada"

    # The account page says where the password lives, and offers no form to change it here.
    page = demo_client.get("/auth/account").get_data(as_text=True)
    assert "ディレクトリ（庁内のアカウント）で管理されています" in page
    assert 'name="pw-current"' not in page


def test_the_unit_may_come_from_an_attribute_and_admins_need_none(directory, demo_app):
    client = demo_app.test_client()
    assert (
        client.post(
            "/auth/login", data={"username": "sato", "password": "sato-directory-pw"}
        ).headers["Location"]
        == "/"
    )
    sato = account("sato")
    assert (sato.role, sato.unit.code) == ("manager", "D04")  # departmentNumber: D04

    other = demo_app.test_client()
    other.post("/auth/login", data={"username": "suzuki", "password": "suzuki-directory-pw"})
    suzuki = account("suzuki")
    assert (suzuki.role, suzuki.unit) == ("admin", None)


def test_names_are_matched_without_case_as_the_directory_does(directory, auth):
    assert auth.login("Yamada", "yamada-directory-pw").status_code == 302
    assert account("yamada") is not None
    assert (
        db.session.scalar(sa.select(sa.func.count(User.id)).where(User.username.ilike("yamada")))
        == 1
    )


def test_over_ldaps_too(directory, demo_app, auth):
    demo_app.config.update(directory.settings(tls="ldaps"))
    assert auth.login("yamada", "yamada-directory-pw").headers["Location"] == "/"


def test_a_server_whose_certificate_is_not_trusted_is_not_used(directory, demo_app, auth, tmp_path):
    import trustme

    stranger = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(stranger))
    demo_app.config.update(LDAP_CA_FILE=str(stranger))
    response = auth.login("yamada", "yamada-directory-pw")
    assert response.status_code == 503 and DOWN in response.get_data(as_text=True)
    assert account("yamada") is None
    assert "CERTIFICATE_VERIFY_FAILED" in entries("auth.directory_unavailable")[-1].after["error"]


def test_a_wrong_password_reads_as_for_a_local_account_and_counts(directory, auth, clock):
    auth.login("yamada", "yamada-directory-pw")
    auth.logout()
    response = auth.login("yamada", "not-the-password")
    assert response.status_code == 200 and WRONG in response.get_data(as_text=True)
    assert account("yamada").failed_logins == 1
    assert entries("auth.login_failed")[-1].username == "yamada"
    # Unknown to the directory: the same answer.
    assert WRONG in auth.login("nobody", "whatever-it-is").get_data(as_text=True)
    # An empty password would be an anonymous bind, which the directory accepts: never sent.
    assert auth.login("yamada", "").status_code == 200
    assert directory_service.authenticate("yamada", "") is None

    # Five wrong passwords lock the directory account as they lock a local one.
    for _ in range(4):
        auth.login("yamada", "not-the-password")
    assert account("yamada").locked_until is not None
    assert WRONG in auth.login("yamada", "yamada-directory-pw").get_data(as_text=True)
    clock.advance(minutes=16)
    assert auth.login("yamada", "yamada-directory-pw").headers["Location"] == "/"


def test_the_directory_down_says_so_counts_nothing_and_break_glass_still_works(
    directory, demo_app, auth, refused_port
):
    auth.login("yamada", "yamada-directory-pw")
    auth.logout()
    demo_app.config.update(
        LDAP_URL=f"ldap://127.0.0.1:{refused_port}", LDAP_TIMEOUT=2, LOGIN_RATE_LIMIT="5 per minute"
    )

    for _ in range(6):  # more than the lockout's five, and than the client's limit
        response = auth.login("yamada", "yamada-directory-pw")
        assert response.status_code == 503
        page = response.get_data(as_text=True)
        assert DOWN in page and WRONG not in page
        assert 'value="yamada"' in page  # what was typed is kept
    yamada = account("yamada")
    assert (yamada.failed_logins, yamada.locked_until) == (0, None)
    down = entries("auth.directory_unavailable")
    assert len(down) == 6 and down[-1].username == "yamada" and down[-1].after["error"]
    assert not [e for e in entries("auth.login_failed") if e.username == "yamada"]

    # The break-glass admin's local password needs no directory.
    assert auth.login("admin").headers["Location"] == "/"


@pytest.fixture
def echo_server():
    """A server on the directory's address that is not LDAP: it sends back what it is sent,
    which the client decodes as a reply it has no decoder for."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                peer, _ = listener.accept()
            except TimeoutError:
                continue
            with peer:
                peer.settimeout(2)
                try:
                    while data := peer.recv(4096):
                        peer.sendall(data)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    listener.close()


def test_a_directory_that_answers_garbage_is_down_not_a_server_error(
    directory, demo_app, auth, echo_server
):
    demo_app.config.update(LDAP_URL=f"ldap://127.0.0.1:{echo_server}", LDAP_TIMEOUT=2)
    response = auth.login("yamada", "yamada-directory-pw")
    assert response.status_code == 503
    assert DOWN in response.get_data(as_text=True)
    assert entries("auth.directory_unavailable")[-1].after["error"]


def test_a_directory_account_never_falls_back_to_a_local_password(
    directory, demo_app, auth, refused_port
):
    from survey.passwords import hash_password

    auth.login("yamada", "yamada-directory-pw")
    auth.logout()
    yamada = account("yamada")
    yamada.password_hash = hash_password("a-local-password-2026")  # say, set by mistake
    db.session.commit()
    demo_app.config.update(LDAP_URL=f"ldap://127.0.0.1:{refused_port}", LDAP_TIMEOUT=2)
    assert auth.login("yamada", "a-local-password-2026").status_code == 503
    # And an admin cannot give it one.
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["user", "password", "yamada", "--password-stdin"], input="x" * 20)
    assert result.exit_code == 1 and "ディレクトリ" in result.output


def test_a_local_account_of_the_same_name_is_never_taken_over(directory, demo_app, auth):
    directory.add_person(
        "admin", "なりすまし", "directory-admin-pw", "x@example.jp", groups=["tenken-admins"]
    )
    response = auth.login("admin", "directory-admin-pw")
    assert WRONG in response.get_data(as_text=True)  # checked as the local account it is
    assert account("admin").directory_dn is None
    # A typed name that differs only by case from a local account still never adopts it.
    response = auth.login("ADMIN", "directory-admin-pw")
    assert "ローカルアカウントがあるため" in response.get_data(as_text=True)
    assert entries("auth.login_failed")[-1].after == {"reason": "local_account"}
    assert account("admin").directory_dn is None


def test_no_tenken_group_no_access(directory, auth):
    response = auth.login("tanaka", "tanaka-directory-pw")
    assert "tenken の利用が認められていません" in response.get_data(as_text=True)
    assert account("tanaka") is None
    assert entries("auth.login_failed")[-1].after == {"reason": "no_role"}


def test_a_user_moved_to_another_unit_is_updated_at_the_next_sign_in(directory, auth):
    auth.login("yamada", "yamada-directory-pw")
    auth.logout()
    directory.leave("yamada", "koseki")
    directory.join("yamada", "zeimu")
    assert auth.login("yamada", "yamada-directory-pw").status_code == 302
    assert account("yamada").unit.code == "D04-02"
    update = entries("user.directory_update")[-1]
    assert update.before == {"unit": "D04-01"} and update.after["unit"] == "D04-02"
    assert update.after["source"] == "sign_in"


def sign_in(app, username: str, password: str):
    client = app.test_client()
    assert (
        client.post("/auth/login", data={"username": username, "password": password}).status_code
        == 302
    )
    return client


def test_the_nightly_sync_moves_and_deactivates(directory, demo_app):
    yamada_browser = sign_in(demo_app, "yamada", "yamada-directory-pw")
    sato_browser = sign_in(demo_app, "sato", "sato-directory-pw")
    sign_in(demo_app, "suzuki", "suzuki-directory-pw")
    local_admin = sign_in(demo_app, "admin", "tenken-demo-2026")

    directory.leave("yamada", "koseki")
    directory.join("yamada", "zeimu")
    directory.remove_person("sato")  # left the office
    directory.leave("suzuki", "tenken-admins")  # still employed, no longer in tenken

    result = demo_app.test_cli_runner().invoke(args=["register", "sync-ldap"])
    assert result.exit_code == 0, result.output
    assert "対象 3人、更新 1人、無効化 2人、変更なし 0人" in result.output
    assert "更新: yamada  所属: D04-01 → D04-02" in result.output
    assert "無効化: sato（ディレクトリにありません）" in result.output
    assert "無効化: suzuki（tenken の役割を与えるグループにありません）" in result.output

    assert account("yamada").unit.code == "D04-02" and account("yamada").active
    assert not account("sato").active and not account("suzuki").active
    # Their sessions ended at once; the others' go on.
    response = sato_browser.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    assert yamada_browser.get("/").status_code == 200
    assert local_admin.get("/").status_code == 200
    gone = entries("user.directory_deactivate")
    assert {(e.username, e.after["reason"]) for e in gone} == {
        ("sato", "left"),
        ("suzuki", "no_role"),
    }
    assert next(e for e in gone if e.username == "sato").after["sessions_ended"] == 1
    summary = entries("directory.sync")[-1]
    assert summary.after["deactivated"] == 2 and summary.after["updated"] == 1

    # Someone who left cannot sign in again, even with a password the directory once knew.
    assert WRONG in demo_app.test_client().post(
        "/auth/login", data={"username": "sato", "password": "sato-directory-pw"}
    ).get_data(as_text=True)

    # A second run finds nothing more to do.
    again = demo_app.test_cli_runner().invoke(args=["register", "sync-ldap"])
    assert "対象 1人、更新 0人、無効化 0人、変更なし 1人" in again.output


def test_the_sync_changes_nothing_when_the_directory_cannot_be_read(
    directory, demo_app, refused_port
):
    sign_in(demo_app, "yamada", "yamada-directory-pw")
    demo_app.config.update(LDAP_URL=f"ldap://127.0.0.1:{refused_port}", LDAP_TIMEOUT=2)
    result = demo_app.test_cli_runner().invoke(args=["register", "sync-ldap"])
    assert result.exit_code == 1 and "ディレクトリサーバーに接続できない" in result.output
    assert account("yamada").active
    assert "error" in entries("directory.sync")[-1].after

    # A search base that finds nobody must not deactivate everybody either.
    demo_app.config.update(
        directory.settings(LDAP_USER_BASE=group_dn("koseki").replace("cn=koseki,", ""))
    )
    result = demo_app.test_cli_runner().invoke(args=["register", "sync-ldap"])
    assert result.exit_code == 1 and account("yamada").active


def test_a_directory_user_who_enrolled_still_gets_the_second_step(
    directory, auth, demo_client, clock
):
    auth.login("yamada", "yamada-directory-pw")
    page = demo_client.get("/auth/2fa/setup").get_data(as_text=True)
    secret = page.split('<code id="totp-secret">')[1].split("</code>")[0]
    demo_client.post("/auth/2fa/setup", data={"code": pyotp.TOTP(secret).at(clock.now)})
    assert account("yamada").totp_enabled
    auth.logout()

    response = auth.login("yamada", "yamada-directory-pw")
    assert response.headers["Location"] == "/auth/2fa"
    assert not helpers.signed_in(demo_client)
    clock.advance(minutes=1)
    assert auth.second_step(pyotp.TOTP(secret).at(clock.now)).headers["Location"] == "/"
    assert helpers.signed_in(demo_client)

    # Turning it off asks for the directory password, checked by the directory.
    wrong = demo_client.post("/auth/2fa/disable", data={"off-password": "not-the-password"})
    assert "現在のパスワードが正しくありません" in wrong.get_data(as_text=True)
    assert account("yamada").totp_enabled
    demo_client.post("/auth/2fa/disable", data={"off-password": "yamada-directory-pw"})
    assert not account("yamada").totp_enabled


def test_a_dn_template_signs_in_without_a_service_account(directory, demo_app, auth):
    demo_app.config.update(
        LDAP_BIND_DN="",
        LDAP_BIND_PASSWORD="",
        LDAP_USER_DN_TEMPLATE=person_dn("{username}"),
    )
    assert auth.login("yamada", "yamada-directory-pw").headers["Location"] == "/"
    assert account("yamada").unit.code == "D04-01"
    auth.logout()
    assert WRONG in auth.login("yamada", "not-the-password").get_data(as_text=True)
    # Without a search base the user reads their own entry at the DN.
    demo_app.config.update(LDAP_USER_BASE="")
    assert auth.login("yamada", "yamada-directory-pw").headers["Location"] == "/"


def test_a_directory_that_stops_answering_is_down_after_the_timeout(
    directory, demo_app, auth, silent_port
):
    import time

    demo_app.config.update(LDAP_URL=f"ldap://127.0.0.1:{silent_port}", LDAP_TIMEOUT=1)
    started = time.monotonic()
    response = auth.login("yamada", "yamada-directory-pw")
    assert response.status_code == 503 and DOWN in response.get_data(as_text=True)
    assert time.monotonic() - started < 10  # a worker is not held for minutes
