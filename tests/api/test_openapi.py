"""The OpenAPI document: served by the app, equal to the one checked in, valid OpenAPI 3.1;
and schemathesis's generated calls against the app, as the demo office and a contractor, find
no server error and no response outside the document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from survey.api import document
from tests.api.helpers import bearer, token_for

CHECKED_IN = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_served_document_is_the_checked_in_one(app):
    served = app.test_client().get("/api/v1/openapi.json")
    assert served.status_code == 200
    with app.test_request_context():
        assert document() == CHECKED_IN.read_text(encoding="utf-8"), "run `make openapi`"
    assert served.get_json() == json.loads(CHECKED_IN.read_text(encoding="utf-8"))


def test_the_document_is_valid_openapi_3_1():
    spec = json.loads(CHECKED_IN.read_text(encoding="utf-8"))
    assert spec["openapi"].startswith("3.1")
    validate(spec)


SCHEMA = schemathesis.openapi.from_path(CHECKED_IN)
CHECKS = (not_a_server_error, response_schema_conformance)


@pytest.mark.parametrize("username", ["admin", "contractor"])
def test_generated_calls_find_no_error_outside_the_document(demo_app, username):
    """Bounded: a few examples per operation (the writes among them really write, on this
    test's own copy of the demo)."""
    demo_app.config["API_RATE_LIMIT"] = "100000 per minute"
    scopes = ("answers", "admin") if username == "admin" else ("answers",)
    headers = bearer(token_for(username, scopes))
    SCHEMA.app = demo_app
    failures = []

    for operation in SCHEMA.get_all_operations():
        _explore(operation.ok(), demo_app, headers, failures)
    assert failures == []


def _explore(operation, app, headers, failures) -> None:
    @settings(
        max_examples=4,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(case=operation.as_strategy())
    def run(case):
        response = case.call(app=app, headers=headers)
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as error:  # noqa: BLE001  collected: one report for every operation
            failures.append((operation.label, str(error)[:400]))

    run()
