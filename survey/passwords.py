"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106's recommendation)."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


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
