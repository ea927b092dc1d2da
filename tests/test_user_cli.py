"""An administrator creates accounts from the command line."""

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Contractor, OrgUnit, User
from survey.passwords import verify_password


def test_add_respondent_with_password_from_stdin(runner):
    db.session.add(OrgUnit(code="D01-01", name="秘書課"))
    db.session.commit()
    result = runner.invoke(
        args=[
            "user",
            "add",
            "tanaka",
            "--role",
            "respondent",
            "--unit",
            "D01-01",
            "--password-stdin",
        ],
        input="correct horse battery staple\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "tanaka"))
    assert user.unit.name == "秘書課"
    assert verify_password(user.password_hash, "correct horse battery staple")
    assert user.password_hash.startswith("$argon2id$")


def test_contractor_needs_a_known_company(runner):
    result = runner.invoke(
        args=[
            "user",
            "add",
            "vendor",
            "--role",
            "contractor",
            "--contractor",
            "C999",
            "--password-stdin",
        ],
        input="pw-pw-pw-pw-pw\n",
    )
    assert result.exit_code == 1 and "C999" in result.output
    db.session.add(Contractor(code="C999", name="株式会社テスト"))
    db.session.commit()
    ok = runner.invoke(
        args=[
            "user",
            "add",
            "vendor",
            "--role",
            "contractor",
            "--contractor",
            "C999",
            "--password-stdin",
        ],
        input="pw-pw-pw-pw-pw\n",
    )
    assert ok.exit_code == 0, ok.output


def test_duplicate_username_and_missing_unit_are_refused(runner):
    runner.invoke(
        args=["user", "add", "boss", "--role", "admin", "--password-stdin"],
        input="pw-pw-pw-pw-pw\n",
    )
    again = runner.invoke(
        args=["user", "add", "boss", "--role", "admin", "--password-stdin"],
        input="pw-pw-pw-pw-pw\n",
    )
    assert again.exit_code == 1 and "既に使われています" in again.output
    no_unit = runner.invoke(
        args=["user", "add", "m", "--role", "manager", "--password-stdin"], input="pw-pw-pw-pw-pw\n"
    )
    assert no_unit.exit_code == 1 and "--unit" in no_unit.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
