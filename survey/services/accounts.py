"""Accounts: creating users, checking and changing passwords.

Every password set here meets the one policy of survey.passwords; checking one goes through
survey.services.signin, which counts failures and locks the account after too many.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from survey.extensions import db
from survey.models import Contractor, OrgUnit, Role, User
from survey.passwords import hash_password, password_problem, verify_password
from survey.services import directory, signin

DIRECTORY_PASSWORD = _l(
    "このアカウントのパスワードはディレクトリ（庁内のアカウント）で管理されています。"
    "変更はディレクトリで行ってください。"
)


class AccountError(ValueError):
    """A user cannot be created as asked; the message is meant for the person asking."""


def authenticate(username: str, password: str) -> User | None:
    """The user if the password is right and the account may sign in now (see
    `signin.check_password`: unknown, inactive, locked and wrong all give None alike). With
    two-factor sign-in on, this is only the first step.

    An account with a password of its own signs in here, whether or not the directory answers
    (the break-glass admin, contractors); any other name goes to the directory when one is
    configured (survey.services.directory), which raises `directory.Unavailable` when it cannot
    be asked and `directory.Refused` when the password was right but gives no access."""
    user = signin.find_user(username)
    local = user is not None and not user.from_directory and bool(user.password_hash)
    if local or not directory.configured():
        return signin.check_password(username, password)
    return _directory_sign_in(username, password)


def _directory_sign_in(username: str, password: str) -> User | None:
    known = directory.directory_account(username)
    if known is not None and (not known.active or signin.is_locked(known)):
        return None  # as for a local account: refused without asking, nothing counted
    person = directory.authenticate(username, password)
    if person is None:
        if known is not None:
            signin.record_failure(known)
        return None
    user = directory.account_for(person)
    return None if signin.is_locked(user) else user


def set_password(user: User, password: str) -> None:
    """Check the password against the policy, store its hash and end all the user's sessions (a
    user changing their own keeps theirs: survey.auth.sessions.keep_this_session). A directory
    account has no password here: the directory keeps it."""
    if user.from_directory:
        raise AccountError(str(DIRECTORY_PASSWORD))
    problem = password_problem(password, user.username)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(password)
    user.password_changed_at = signin.now()
    signin.clear_failures(user)
    if user.id is not None:
        signin.end_all_sessions(user, signin.SessionEnd.PASSWORD)


def confirm_current_password(user: User, password: str) -> bool:
    """Before a change to one's own account: the current password, checked like a sign-in (a
    wrong one counts as a failed sign-in, and a locked account is refused), so these forms
    cannot be used to guess it. A directory account's is checked by the directory (raises
    `directory.Unavailable` when it cannot be asked)."""
    if user.from_directory:
        return directory.check_password(user, password)
    if signin.is_locked(user):
        return False
    if verify_password(user.password_hash, password or ""):
        return True
    signin.record_failure(user)
    return False


def change_password(user: User, current: str, new: str) -> None:
    """The user changes their own password; the current one is checked first."""
    if user.from_directory:
        raise AccountError(str(DIRECTORY_PASSWORD))
    if not confirm_current_password(user, current):
        raise AccountError(gettext("現在のパスワードが正しくありません。"))
    set_password(user, new)


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
    if role not in (Role.CONTRACTOR, Role.STAFF) and contractor_code:
        raise AccountError(
            "--contractor を指定できるのは役割 contractor と staff（自社の担当者）のときだけです。"
        )
    if role == Role.STAFF and unit_code and contractor_code:
        raise AccountError(
            "役割 staff のユーザーには --unit（区の職員）か --contractor（委託事業者の担当者）の"
            "どちらか一方を指定してください。"
        )
    if role in (Role.MANAGER, Role.RESPONDENT) and not unit_code:
        raise AccountError(f"役割 {role} のユーザーには --unit で所属コードを指定してください。")
    if role == Role.STAFF and not (unit_code or contractor_code):
        raise AccountError(
            "役割 staff のユーザーには --unit で所属コードを、委託事業者の担当者なら "
            "--contractor で事業者コードを指定してください。"
        )
    if password is not None:
        problem = password_problem(password, username)
        if problem:
            raise AccountError(problem)
    user = User(
        username=username,
        role=role,
        display_name=display_name or username,
        email=email,
        password_hash=hash_password(password) if password else None,
        password_changed_at=signin.now() if password else None,
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
