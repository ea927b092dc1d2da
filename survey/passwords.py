"""Passwords: hashing with argon2id, and the one policy every new password must meet.

argon2-cffi's defaults follow RFC 9106's recommendation. The policy (`password_problem`) is used
wherever a password is set — `flask user add`, accepting an invitation, changing one's own
password — so the rules cannot drift apart:

- at least `PASSWORD_MIN_LENGTH` characters (SURVEY_PASSWORD_MIN_LENGTH, 12 by default),
- not the username, and not containing it (case-insensitive),
- not in the list of common passwords shipped in survey/data/common-passwords.txt
  (case-insensitive).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context, has_request_context
from flask_babel import gettext

_hasher = PasswordHasher()

DEFAULT_MIN_LENGTH = 12
MAX_LENGTH = 256
# A username shorter than this is not looked for inside passwords ("ab" is in too many words).
USERNAME_MIN_FOR_CONTAINS = 3
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against this when the user does not exist keeps the response time the same, so the
# login form does not reveal which usernames exist.
DUMMY_HASH = hash_password("not-a-real-password")


# --- policy ---------------------------------------------------------------------------------


def _(message: str, **values) -> str:
    """The message in the user's language on a page; in Japanese on the command line, where
    there is no request to choose a language from."""
    if has_request_context():
        return gettext(message, **values)
    return message % values if values else message


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def min_length() -> int:
    if has_app_context():
        return int(current_app.config.get("PASSWORD_MIN_LENGTH", DEFAULT_MIN_LENGTH))
    return DEFAULT_MIN_LENGTH


def password_problem(password: str | None, username: str | None = None) -> str | None:
    """Why this password cannot be used by this user, or None when it can."""
    password = password or ""
    minimum = min_length()
    if len(password) < minimum:
        return _("パスワードは%(min)s文字以上にしてください。", min=minimum)
    if len(password) > MAX_LENGTH:
        return _("パスワードは256文字以内にしてください。")
    folded = password.strip().casefold()
    name = (username or "").strip().casefold()
    if name and folded == name:
        return _("ユーザー名と同じパスワードは使えません。")
    if len(name) >= USERNAME_MIN_FOR_CONTAINS and name in folded:
        return _("ユーザー名を含むパスワードは使えません。")
    if folded in common_passwords():
        return _(
            "このパスワードはよく使われていて推測されやすいため使えません。"
            "別のパスワードにしてください。"
        )
    return None
