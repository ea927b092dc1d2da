"""Hostile input gets a refusal (400, 404, 422), never a server error: ids no row can have, in
URLs, query strings and forms; JSON bodies, nested or not; workbooks that unpack to millions of
cells; file names with control characters; evidence whose file is gone from the disk.

The URL tests walk the app's own url_map, so a route added later is attacked too."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.routing import IntegerConverter

from survey.extensions import db
from survey.models import (
    ActionEvidence,
    Attachment,
    AuditEntry,
    CorrectiveAction,
    StoredFile,
    StoredFileChunk,
)
from survey.services import registers
from tests import helpers
from tests.helpers import ANNUAL, login
from tests.workbook_bombs import bomb

SOURCE = Path(__file__).resolve().parent.parent / "survey"

# Past what each layer holds: int4 (PostgreSQL's INTEGER), int8 (SQLite), 64 bits, and more
# digits than Python's int() reads.
HUGE_IDS = [str(2**31), str(2**63), str(2**64), "9" * 5000]
STRING_ARGS = {
    "code": ANNUAL,
    "kind": "units",
    "fmt": "csv",
    "table": "items",
    "token": "not-a-token-but-long-enough",
    "verb": "start",
    "filename": "css/tenken.css",
    "preview_id": "0" * 32,  # a register upload's id (the API's import preview)
}
ROLES = ["admin", "respondent", "manager", "contractor", "auditor"]


def _path(rule, ints: str) -> str:
    def value(match):
        converter, name = match.group(1) or "", match.group(2)
        if converter.startswith("int"):
            return ints
        return STRING_ARGS[name]

    return re.sub(r"<(?:([a-z]+)(?:\([^)]*\))?:)?(\w+)>", value, rule.rule)


def _rules(app, with_ints: bool):
    for rule in app.url_map.iter_rules():
        has_ints = any(isinstance(c, IntegerConverter) for c in rule._converters.values())
        if rule.endpoint != "static" and has_ints == with_ints:
            yield rule


def _methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def _status(client, path: str, method: str = "GET", **kwargs) -> int:
    with client.open(path, method=method, **kwargs) as response:  # downloads stream a file
        return response.status_code


def _denied(**where) -> list[AuditEntry]:
    return db.session.scalars(
        sa.select(AuditEntry).filter_by(action="access.denied", **where)
    ).all()


# --- ids in URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "respondent"])
def test_an_id_no_row_can_have_is_a_404_on_every_route_never_a_500(demo_app, role):
    client = login(demo_app, role)
    answers = {}
    for rule in _rules(demo_app, with_ints=True):
        for method in _methods(rule):
            for value in [*HUGE_IDS, "-1"]:
                path = _path(rule, value)
                answers[method, rule.rule, value[:12]] = _status(client, path, method)
    assert {key: status for key, status in answers.items() if status != 404} == {}


def test_a_respondent_guessing_a_huge_id_is_recorded_like_any_guessed_id(demo_app):
    client = login(demo_app, "respondent")
    response = client.get(f"/assignments/{2**64}")
    assert response.status_code == 404
    (entry,) = _denied(object_id=str(2**64))
    assert entry.username == "respondent" and entry.object_type == "assignment"
    assert entry.after["reason"] == "out_of_range"


def test_a_visitor_not_signed_in_gets_a_404_and_nothing_is_recorded(demo_app):
    response = demo_app.test_client().get(f"/assignments/{2**64}/print")
    assert response.status_code == 404
    assert _denied() == []


# --- numbers in query strings and forms -----------------------------------------------------


def _numeric_names() -> set[str]:
    """Every query argument and form field the app reads as a number, found in its source."""
    names = set()
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r'\.get\(\s*"(\w+)"[^)\n]*type=\w*int', text))
        names |= set(re.findall(r'(\w+) = SelectField\(\s*_l\("[^"]*"\),\s*coerce=_int', text))
    return names | {"revision"}


def test_every_number_is_read_with_the_bound_of_the_database():
    offenders = []
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        offenders += [
            f"{path.name}: {m}"
            for m in re.findall(r"type=int\b|\bint\((?:request|form|values)\b[^)]*\)", text)
        ]
    assert offenders == []


@pytest.mark.parametrize("role", ["admin", "respondent"])
@pytest.mark.parametrize("number", [str(2**31), "-" + str(2**64)])
def test_huge_numbers_in_query_strings_never_give_a_500(demo_app, role, number):
    names = _numeric_names()
    assert {"page", "dept", "item", "old", "new", "unit", "campaign"} <= names
    client = login(demo_app, role)
    query = {name: number for name in names}
    failures = {}
    for rule in _rules(demo_app, with_ints=False):
        if "GET" in rule.methods and rule.endpoint not in ("auth.logout",):
            status = _status(client, _path(rule, "1"), query_string=query)
            if status >= 500:
                failures[rule.rule] = status
    assert failures == {}


def test_a_list_page_asked_for_a_page_past_the_database_shows_its_last_page(demo_app):
    client = login(demo_app, "admin")
    for path in ["/campaigns/", "/admin/checklists/", "/audit/", "/followup/actions/"]:
        response = client.get(path, query_string={"page": str(2**64)})
        assert response.status_code == 200, path


def test_a_revision_past_the_database_is_a_bad_request(demo_app):
    client = login(demo_app, "respondent")
    own = helpers.assignment_of("戸籍住民課")
    data = helpers.form_data(own)
    data["revision"] = str(2**64)
    assert client.post(f"/assignments/{own.id}", data=data).status_code == 400
    autosave = client.post(f"/assignments/{own.id}/autosave", data=data)
    assert autosave.status_code == 400


# --- JSON bodies ----------------------------------------------------------------------------

NESTED = "[" * 100_000


@pytest.mark.parametrize("role", [None, "admin", "respondent"])
def test_deeply_nested_json_is_a_bad_request_on_every_post_route(demo_app, role):
    client = login(demo_app, role) if role else demo_app.test_client()
    answers = {}
    for with_ints in (True, False):
        for rule in _rules(demo_app, with_ints):
            if "POST" in rule.methods:
                answers[rule.rule] = _status(
                    client, _path(rule, "1"), "POST", data=NESTED, content_type="application/json"
                )
    assert "/auth/login" in answers
    # The API answers a call without a token 401 before it reads the body (with one: 400,
    # tests/api/test_api_tokens.py).
    expected = {rule: 401 if rule.startswith("/api/") else 400 for rule in answers}
    assert {rule: status for rule, status in answers.items() if status != expected[rule]} == {}


@pytest.mark.parametrize("body", ['{"username": {"a": 1}, "password": 5}', "[[1]]", "5"])
def test_json_of_any_shape_at_the_sign_in_form_is_a_bad_request(demo_app, body):
    response = demo_app.test_client().post(
        "/auth/login", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "送信された内容を読み取れません" in response.get_data(as_text=True)


# --- workbooks that unpack to millions of cells ---------------------------------------------

CELLS = "セルが多すぎます（上限 {} 個）"
RATIO = "ブックの圧縮率が Excel のファイルとしては極端に高いため、読み込みません"


def test_an_answer_sheet_of_a_million_and_a_half_cells_is_refused_by_its_count(demo_app):
    client = login(demo_app, "respondent")
    own = helpers.assignment_of("戸籍住民課")
    before = own.revision
    for data, message in [
        (bomb(padding=100_000), CELLS.format("20,000")),
        (bomb(), RATIO),
    ]:
        response = client.post(
            f"/assignments/{own.id}/sheet",
            data={"sheet": (io.BytesIO(data), "回答シート.xlsx")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert own.revision == before


def test_a_checklist_workbook_of_a_million_and_a_half_cells_is_refused(demo_app):
    client = login(demo_app, "admin")
    response = client.post(
        "/admin/checklists/upload",
        data={"file": (io.BytesIO(bomb("項目", padding=100_000)), "checklist.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert CELLS.format("100,000") in response.get_data(as_text=True)


def test_a_register_workbook_of_a_million_and_a_half_cells_is_refused(demo_app):
    with demo_app.test_request_context():
        result = registers.preview("units", bomb("所属", padding=100_000), "所属.xlsx")
    (problem,) = result.problems
    assert CELLS.format("600,000") in problem.message


def test_the_limits_of_each_kind_are_settings(demo_app):
    demo_app.config["WORKBOOK_LIMITS"]["register"]["cells"] = 1_000
    with demo_app.test_request_context():
        result = registers.preview("units", bomb("所属", rows=30, columns=50), "所属.xlsx")
    (problem,) = result.problems
    assert CELLS.format("1,000") in problem.message


# --- stored file names, and files gone from the disk ----------------------------------------


@pytest.fixture
def attached(demo_app, tmp_path):
    """A respondent's questionnaire with one evidence file, uploaded under a name holding a NUL,
    other control characters and folders."""
    assignment = helpers.conditional_assignment(tmp_path)
    client = login(demo_app, "respondent")
    item = assignment.campaign.checklist.items[2]  # asks for evidence
    data = helpers.form_data(assignment, {3: "yes"})
    data[f"evidence_{item.id}"] = (io.BytesIO(b"%PDF-1.4 minimal"), "..\\../証跡\x00\t\x1b記録.pdf")
    response = client.post(
        f"/assignments/{assignment.id}", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    (attachment,) = db.session.scalars(sa.select(Attachment)).all()
    return client, attachment


def test_an_evidence_name_with_control_characters_is_stored_clean_and_downloads(attached):
    client, attachment = attached
    assert attachment.filename == "証跡___記録.pdf"
    with client.get(
        f"/assignments/{attachment.assignment_id}/evidence/{attachment.id}"
    ) as download:
        assert download.status_code == 200
        assert download.data == b"%PDF-1.4 minimal"


def test_an_evidence_file_gone_from_the_database_is_a_recorded_404(attached):
    client, attachment = attached
    db.session.execute(sa.delete(StoredFileChunk).filter_by(file_id=attachment.file_id))
    db.session.commit()
    response = client.get(f"/assignments/{attachment.assignment_id}/evidence/{attachment.id}")
    assert response.status_code == 404
    (entry,) = _denied(object_type="attachment")
    assert entry.after["reason"] == "file_missing"
    downloads = db.session.scalars(sa.select(AuditEntry).filter_by(action="download.evidence"))
    assert downloads.all() == []


def test_an_action_evidence_file_recorded_missing_is_a_recorded_404(demo_app):
    """As the upgrade that moved files into the database records one it did not find."""
    admin = login(demo_app, "admin")
    action = db.session.scalars(sa.select(CorrectiveAction)).first()
    saved = ActionEvidence(
        action_id=action.id,
        uploaded_by_id=action.created_by_id,
        filename="消えた.pdf",
        file=StoredFile(size=1, sha256="0" * 64, origin="0" * 32),
        content_type="application/pdf",
        size=1,
        sha256="0" * 64,
    )
    db.session.add(saved)
    db.session.commit()
    response = admin.get(f"/followup/actions/{action.id}/evidence/{saved.id}")
    assert response.status_code == 404
    (entry,) = _denied(object_type="action_evidence")
    assert entry.after["reason"] == "file_missing"
