"""Accounts: creating users and checking passwords."""

from __future__ import annotations

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Contractor, OrgUnit, Role, User
from survey.models.types import utcnow
from survey.passwords import DUMMY_HASH, hash_password, verify_password


class AccountError(ValueError):
    """A user cannot be created as asked; the message is meant for the person asking."""


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(sa.select(User).where(User.username == username.strip()))
    if user is None:
        verify_password(DUMMY_HASH, password)
        return None
    if not user.active or not verify_password(user.password_hash, password):
        return None
    user.last_login_at = utcnow()
    return user


def add_user(
    username: str,
    role: str,
    *,
    password: str | None = None,
    display_name: str | None = None,
    email: str | None = None,
    unit_code: str | None = None,
    contractor_code: str | None = None,
) -> User:
    if role not in set(Role):
        raise AccountError(
            f"役割 {role!r} は不明です。{', '.join(Role)} のいずれかを指定してください。"
        )
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise AccountError(f"ユーザー名 {username!r} は既に使われています。")
    if role == Role.CONTRACTOR and not contractor_code:
        raise AccountError(
            "委託事業者のユーザーには --contractor で事業者コードを指定してください。"
        )
    if role != Role.CONTRACTOR and contractor_code:
        raise AccountError("--contractor を指定できるのは役割 contractor のときだけです。")
    if role in (Role.MANAGER, Role.RESPONDENT) and not unit_code:
        raise AccountError(f"役割 {role} のユーザーには --unit で所属コードを指定してください。")
    user = User(
        username=username,
        role=role,
        display_name=display_name or username,
        email=email,
        password_hash=hash_password(password) if password else None,
    )
    if unit_code:
        user.unit = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == unit_code))
        if user.unit is None:
            raise AccountError(f"所属コード {unit_code!r} は登録されていません。")
    if contractor_code:
        user.contractor = db.session.scalar(
            sa.select(Contractor).where(Contractor.code == contractor_code)
        )
        if user.contractor is None:
            raise AccountError(f"事業者コード {contractor_code!r} は登録されていません。")
    db.session.add(user)
    return user
