"""One password policy wherever a password is set: `flask user add`, accepting an invitation,
changing one's own password."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Contract, Invitation, OrgUnit, User
from survey.passwords import common_passwords, password_problem, verify_password
from survey.services import invitations
from tests import helpers

SHORT = "パスワードは12文字以上にしてください"
SAME = "ユーザー名と同じパスワードは使えません"
CONTAINS = "ユーザー名を含むパスワードは使えません"
COMMON = "よく使われていて推測されやすいため使えません"

# (password for the user "sato-hanako-ward", the message it gets)
REFUSED = [
    ("short-pw-11", SHORT),
    ("SATO-HANAKO-WARD", SAME),
    ("sato-hanako-ward-2026", CONTAINS),
    ("password1234", COMMON),
    ("PassWord1234", COMMON),  # the list is compared without regard to case
    ("qwertyuiop123", COMMON),
]
GOOD = "ume-no-hana-saku-koro"


@pytest.mark.parametrize(("password", "message"), REFUSED)
def test_the_policy_refuses(app, password, message):
    assert message in password_problem(password, "sato-hanako-ward")


def test_the_policy_accepts_a_long_uncommon_password(app):
    assert password_problem(GOOD, "sato-hanako-ward") is None
    assert password_problem("a" * 256, "ab") is None  # a 2-letter username is not looked for


def test_the_minimum_length_is_a_setting(app):
    app.config["PASSWORD_MIN_LENGTH"] = 24
    assert "24文字以上" in password_problem(GOOD, "sato-hanako-ward")


def test_the_shipped_list_is_large_and_lower_case():
    words = common_passwords()
    assert len(words) > 10_000
    assert "password1234" in words and "1qaz2wsx3edc" in words
    assert all(word == word.lower() for word in words)
    assert not any(word.startswith("#") for word in words)


# --- flask user add -------------------------------------------------------------------------


def add(runner, password: str):
    return runner.invoke(
        args=[
            "user",
            "add",
            "sato-hanako-ward",
            "--role",
            "respondent",
            "--unit",
            "D01-01",
            "--password-stdin",
        ],
        input=password + "\n",
    )


@pytest.mark.parametrize(("password", "message"), REFUSED)
def test_user_add_refuses_a_weak_password(runner, password, message):
    db.session.add(OrgUnit(code="D01-01", name="秘書課"))
    db.session.commit()
    result = add(runner, password)
    assert result.exit_code == 1
    assert message in result.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_user_add_accepts_a_good_password(runner):
    db.session.add(OrgUnit(code="D01-01", name="秘書課"))
    db.session.commit()
    result = add(runner, GOOD)
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User))
    assert verify_password(user.password_hash, GOOD)
    assert user.password_changed_at is not None


# --- accepting an invitation ----------------------------------------------------------------


@pytest.fixture
def invitation_path(demo_app):
    target = db.session.scalar(sa.select(Contract).where(Contract.code == "K28-027"))
    assignment = helpers.open_campaign(
        helpers.checklist("emergency-contracts"), [target], code="test-contracts"
    )[0]
    _, token = invitations.invite(assignment, "hanako@meisei.example.co.jp", None)
    db.session.commit()
    return f"/auth/invite/{token}"


@pytest.mark.parametrize(("password", "message"), REFUSED)
def test_accepting_an_invitation_refuses_a_weak_password(
    demo_client, invitation_path, password, message
):
    form = {
        "username": "sato-hanako-ward",
        "display_name": "佐藤 花子",
        "password": password,
        "confirm": password,
    }
    response = demo_client.post(invitation_path, data=form)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert db.session.scalar(sa.select(User).filter_by(username="sato-hanako-ward")) is None
    assert db.session.scalar(sa.select(Invitation)).used_at is None
    assert "よく使われるパスワードは使えません" in page  # the rule is stated up front


def test_the_service_applies_the_policy_too(demo_app, invitation_path):
    invitation = db.session.scalar(sa.select(Invitation))
    with pytest.raises(invitations.InvitationError) as refused:
        invitations.accept(invitation, "sato-hanako-ward", "佐藤 花子", "password1234")
    assert COMMON in refused.value.message and refused.value.field == "password"


# --- changing one's own password ------------------------------------------------------------


def change(client, current, new, confirm=None):
    return client.post(
        "/auth/account/password",
        data={"pw-current": current, "pw-password": new, "pw-confirm": confirm or new},
    )


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("tenken-demo-2026", "short", None, SHORT),
        ("tenken-demo-2026", "Respondent-2026-x", None, CONTAINS),
        ("tenken-demo-2026", "password123456", None, COMMON),
        ("tenken-demo-2026", GOOD, GOOD + "!", "確認用のパスワードが一致しません"),
        ("not-my-password", GOOD, None, "現在のパスワードが正しくありません"),
    ],
)
def test_changing_the_password_applies_the_policy(
    auth, demo_client, current, new, confirm, message
):
    auth.login("respondent")
    response = change(demo_client, current, new, confirm)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert new not in page  # passwords are never sent back
    db.session.expire_all()
    assert verify_password(helpers.user("respondent").password_hash, "tenken-demo-2026")


def test_a_wrong_current_password_counts_as_a_failed_sign_in(auth, demo_client):
    auth.login("respondent")
    change(demo_client, "not-my-password", GOOD)
    db.session.expire_all()
    assert helpers.user("respondent").failed_logins == 1
