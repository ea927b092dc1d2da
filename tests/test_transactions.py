"""A request that only read ends its transaction with COMMIT (psycopg keeps its prepared
statements then: survey/transactions.py); one that failed, or left changes behind, rolls back."""

import pytest
from flask import g
from sqlalchemy import event

from survey.extensions import db
from survey.transactions import end_reading
from tests.helpers import assignment_of, form_data, login


@pytest.fixture
def endings(demo_app):
    """How the requests' transactions ended (the test's own session, which the test client
    commits after each request, is marked and left out)."""
    seen = []
    g.test_side = True

    def ended(kind):
        return lambda _connection: None if g.get("test_side") else seen.append(kind)

    listeners = [("commit", ended("commit")), ("rollback", ended("rollback"))]
    for name, listener in listeners:
        event.listen(db.engine, name, listener)
    yield seen
    for name, listener in listeners:
        event.remove(db.engine, name, listener)


def test_a_page_that_only_reads_ends_with_a_commit(demo_app, endings):
    client = login(demo_app, "respondent")
    mine = assignment_of("戸籍住民課")
    endings.clear()
    assert client.get(f"/assignments/{mine.id}").status_code == 200
    assert endings == ["commit"]


def test_a_page_refused_ends_with_a_rollback(demo_app, endings):
    client = login(demo_app, "respondent")
    other = assignment_of("税務課")
    endings.clear()
    assert client.get(f"/assignments/{other.id}").status_code == 404
    assert endings[0] == "rollback"  # then the refusal's own audit entry, committed apart


def test_a_refused_post_ends_with_a_rollback(demo_app, endings):
    client = login(demo_app, "respondent")
    mine = assignment_of("戸籍住民課")
    endings.clear()
    response = client.post(f"/assignments/{mine.id}/autosave", data=form_data(mine, {1: "?"}))
    assert response.status_code == 422
    assert "commit" not in endings


def test_a_read_that_left_changes_in_the_session_does_not_commit_them(demo_app):
    from survey.models import User

    with demo_app.test_request_context("/"):
        user = db.session.scalar(db.select(User).limit(1))
        user.display_name = "書き換え"
        end_reading(demo_app.response_class("ok"))
        db.session.rollback()
        assert db.session.get(User, user.id).display_name != "書き換え"


def test_a_read_after_a_database_error_the_view_dealt_with_is_left_to_roll_back(demo_app):
    from sqlalchemy.exc import IntegrityError

    from survey.models import User

    with demo_app.test_request_context("/"):
        first = db.session.scalar(db.select(User).limit(1))
        twin = User(username=first.username, display_name="重複", role=first.role)
        db.session.add(twin)
        with pytest.raises(IntegrityError):
            db.session.flush()
        # The view gives up on the new account and shows a page all the same.
        response = end_reading(demo_app.response_class("ok"))  # no error of its own
        assert response.status_code == 200
        db.session.rollback()
