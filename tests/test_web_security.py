"""The web surface: security headers, CSRF, escaping, and arbitrary input never breaking things."""

import string

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checklists.loader import ChecklistFileError, load_file
from survey.extensions import db
from survey.models import AnswerHistory, Assignment, Attachment, Checklist, OrgUnit
from tests import helpers
from tests.helpers import form_data, login


def test_every_page_sends_security_headers(client):
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_nothing_a_signed_in_user_is_sent_may_be_kept_in_a_cache(demo_app):
    client = login(demo_app, "respondent")
    mine = helpers.assignment_of("戸籍住民課")
    evidence = Attachment(
        assignment_id=mine.id,
        item_id=mine.campaign.checklist.items[0].id,
        filename="e.pdf",
        file=helpers.stored_file(),
        content_type="application/pdf",
        size=8,
        sha256="0" * 64,
    )
    db.session.add(evidence)
    db.session.commit()
    responses = {
        "page": client.get(f"/assignments/{mine.id}"),
        "json": client.post(f"/assignments/{mine.id}/autosave", data=form_data(mine, {1: "yes"})),
        "answer sheet": client.get(f"/assignments/{mine.id}/sheet.xlsx"),
        "evidence": client.get(f"/assignments/{mine.id}/evidence/{evidence.id}"),
        "account": client.get("/auth/account"),
    }
    for what, response in responses.items():
        assert response.status_code == 200, what
        assert response.headers["Cache-Control"] == "no-store", what
        assert response.headers["Pragma"] == "no-cache", what
        response.close()
    # The package's own CSS and JS may be cached: they hold nothing of anyone's.
    static = client.get("/static/css/tenken.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()


def test_post_without_csrf_token_is_refused_in_japanese(app):
    app.config["WTF_CSRF_ENABLED"] = True
    response = app.test_client().post("/auth/login", data={"username": "a", "password": "b"})
    assert response.status_code == 400
    assert "画面の有効期限が切れました" in response.get_data(as_text=True)


HOSTILE = """\
code: hostile
version: 1
title: 攻撃的な<script>alert('t')</script>
target: unit
categories:
  - code: A
    title: <img src=x onerror=alert(1)>
    items:
      - number: 1
        text: "<script>alert('item')</script>"
        help: '" onmouseover="alert(1)'
"""


def test_hostile_item_text_and_comment_are_escaped(demo_app, tmp_path):
    checklist = helpers.import_checklist(tmp_path, HOSTILE)
    unit = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "戸籍住民課"))
    mine = helpers.open_campaign(checklist, [unit], code="hostile")[0]
    client = login(demo_app, "respondent")
    comment = '<script>alert("comment")</script>" onmouseover="alert(2)'
    client.post(f"/assignments/{mine.id}", data=form_data(mine, {1: "no"}, {1: comment}))
    for path in ("", "/print", "/history"):
        page = client.get(f"/assignments/{mine.id}{path}").get_data(as_text=True)
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert '" onmouseover="' not in page
    assert "&lt;script&gt;alert(&#39;item&#39;)&lt;/script&gt;" in page or "&lt;script&gt;" in page


codes = st.one_of(st.sampled_from(["yes", "no", "na", ""]), st.text(max_size=12))
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=200)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    answers=st.dictionaries(st.integers(1, 21), codes, max_size=6),
    comments=st.dictionaries(st.integers(1, 21), texts, max_size=4),
    action=st.sampled_from(["save", "submit", "", "delete"]),
)
def test_arbitrary_answers_never_give_a_500_or_store_part_of_a_bad_post(
    demo_app, answers, comments, action
):
    mine = helpers.assignment_of("戸籍住民課")
    client = login(demo_app, "respondent")
    before = db.session.scalar(sa.select(sa.func.count(AnswerHistory.id)))
    data = form_data(mine, answers, comments, action=action)
    response = client.post(f"/assignments/{mine.id}", data=data)
    assert response.status_code < 500
    valid = all(code in ("yes", "no", "na", "") for code in answers.values()) and all(
        len(text.strip()) <= 4000 for text in comments.values()
    )
    if not valid:
        assert response.status_code == 422
        assert db.session.scalar(sa.select(sa.func.count(AnswerHistory.id))) == before
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Assignment, mine.id) is not None


yaml_chars = st.sampled_from(list(string.printable) + ["あ", "項", "：", "\u3000", "\t"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(yaml_chars, max_size=300) | st.binary(max_size=200))
def test_arbitrary_checklist_files_are_refused_cleanly(app, tmp_path, text):
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    try:
        load_file(path)
    except ChecklistFileError as error:
        assert error.problems and all(p.render().startswith(str(path)) for p in error.problems)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["checklist", "import", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if result.exit_code != 0:
        assert db.session.scalar(sa.select(sa.func.count(Checklist.id))) == 0


@pytest.mark.parametrize("role", ["respondent", "contractor", "manager"])
def test_error_pages_do_not_leak_details(demo_app, role):
    client = login(demo_app, role)
    page = client.get("/assignments/999999").get_data(as_text=True)
    assert "Traceback" not in page and "ページが見つかりません" in page


def test_control_characters_in_a_comment_are_dropped_not_a_server_error(demo_app):
    mine = helpers.assignment_of("戸籍住民課")
    client = login(demo_app, "respondent")
    data = form_data(mine, {21: "no"}, {21: "未実施\x00です\x07\n来月"})
    assert client.post(f"/assignments/{mine.id}", data=data).status_code == 302
    item = mine.campaign.checklist.items[20]
    stored = db.session.scalar(
        sa.select(AnswerHistory.new_comment).where(AnswerHistory.item_id == item.id)
    )
    assert stored == "未実施です\n来月"
