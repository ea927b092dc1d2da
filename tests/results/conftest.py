"""Helpers for the results tests: the demo ward, signed in as one of its people."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from survey import demo
from survey.extensions import db
from survey.models import OrgUnit


def unit(name: str) -> OrgUnit:
    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == name))


@pytest.fixture
def signed_in(demo_app):
    """signed_in("manager") -> a test client signed in as that demo user."""

    def sign_in(username: str):
        client = demo_app.test_client()
        response = client.post(
            "/auth/login", data={"username": username, "password": demo.DEMO_PASSWORD}
        )
        assert response.status_code == 302, response.data[:500]
        return client

    return sign_in
