"""Tokens for the API tests: made through the service, as the account page makes them."""

from __future__ import annotations

from survey.extensions import db
from survey.services import tokens
from tests.helpers import user


def token_for(username: str, scopes=("answers",), days: int | None = None) -> str:
    made = tokens.create(user(username), f"test {username}", list(scopes), days)
    db.session.commit()
    return made.secret


def bearer(secret: str, lang: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {secret}"}
    if lang:
        headers["Accept-Language"] = lang
    return headers
