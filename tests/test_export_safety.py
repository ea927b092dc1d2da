"""No download turns a name, a title or a comment into a spreadsheet formula.

Someone who can name a unit, a company, a contract or write a comment could otherwise make the
office's own Excel fetch a link or run a command when it opens an export (OWASP "CSV
Injection"). Every download route of the app is walked here with such text in every field the
exports write; a new download route without a case here fails the first test.
"""

from __future__ import annotations

import csv
import inspect
import io
import itertools
import json
import re
from collections.abc import Iterator
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa
import yaml
from hypothesis import given
from hypothesis import strategies as st

from reports.safe import csv_text, from_csv_text, starts_like_formula
from survey.demo_logs import ROUND as LOG_ROUND
from survey.extensions import db
from survey.models import (
    Answer,
    Assignment,
    Audit,
    AuditFinding,
    Campaign,
    Category,
    Checklist,
    Contract,
    Contractor,
    CorrectiveAction,
    Course,
    FindingMeasure,
    InformationSystem,
    Item,
    Option,
    OrgUnit,
    Pledge,
    User,
)
from survey.services import registers, trail
from tests.helpers import job_download, login

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "＝1"]

# Every field a user (or an imported register) fills in that some export writes.
FIELDS = [
    (OrgUnit, "name"),
    (User, "display_name"),
    (Contractor, "name"),
    (Contract, "title"),
    (InformationSystem, "name"),
    (InformationSystem, "kind"),
    (Campaign, "title"),
    (Checklist, "title"),
    (Category, "title"),
    (Item, "text"),
    (Item, "help"),
    (Option, "label"),
    (Answer, "comment"),
    (CorrectiveAction, "title"),
    (CorrectiveAction, "measure"),
    (Audit, "title"),
    (Audit, "auditors"),
    (Audit, "scope"),
    (AuditFinding, "heading"),
    (AuditFinding, "text"),
    (FindingMeasure, "text"),
    (Pledge, "title"),
    (Course, "title"),
]

CLOSED = "2017-emergency-assets"  # answered and handed in: every results table has rows
OPEN = "2026-annual-assets"  # still open: the not-yet-submitted list has rows
# Files people uploaded (evidence) go back byte for byte, as they came: tenken writes nothing.
SERVED_AS_UPLOADED = {"respond.evidence_file", "followup.action_evidence", "training.material"}
# The API's own description, read by tools: written by tenken, no user text in it.
NOT_A_DOWNLOAD = {"api-docs.openapi_json"}


def _discovered_downloads(app) -> set[str]:
    """Endpoints that answer with a file: a URL ending in an extension, or a view that sends a
    file (Flask's send_file, or send_stored for a file kept in the database) or names one for
    the browser to save."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods:
            continue
        source = inspect.getsource(inspect.unwrap(app.view_functions[rule.endpoint]))
        sends = re.search(
            r"send_file|send_stored|as_attachment|Content-Disposition|content_disposition", source
        )
        if sends or re.search(r"\.(\w+|<\w+>)$", rule.rule):
            found.add(rule.endpoint)
    return found


def _downloads(ids: dict) -> dict[str, list[tuple[str, str, bool]]]:
    """endpoint -> (who downloads, path, whether the file holds text from users)."""
    tables = ["items", "departments", "compare", "trend", "respondents", "remarks", "pending"]
    # The pending list has rows while a campaign is open; the rounds, from its second round on.
    opened = {"pending", "compare", "trend"}
    checklist = f"/admin/checklists/{ids['checklist']}/download"
    return {
        "admin.register_export": [
            ("admin", f"/admin/registers/{kind}/export.{fmt}", True)
            for kind in registers.KINDS
            for fmt in ("csv", "xlsx")
        ],
        # The examples of the import format, written by tenken itself.
        "admin.register_template": [
            ("admin", f"/admin/registers/{kind}/template.{fmt}", False)
            for kind in registers.KINDS
            for fmt in ("csv", "xlsx")
        ],
        "admin.checklist_download": [
            ("admin", f"{checklist}.xlsx", True),
            ("admin", f"{checklist}.yaml", True),
        ],
        # Made by export jobs (survey.services.jobs): a POST to the export, then the job's file.
        "jobs.file": [
            ("admin", "POST /audit/export.xlsx", True),
            ("admin", f"POST /results/{CLOSED}/export.xlsx", True),
            ("manager", f"POST /results/{CLOSED}/export.xlsx", True),
            ("admin", f"POST /results/{CLOSED}/export/answers.xlsx", True),
            ("manager", f"POST /results/{CLOSED}/export/answers.xlsx", True),
            ("admin", f"POST /campaigns/{OPEN}/progress/pending.xlsx", True),
            ("manager", f"POST /campaigns/{OPEN}/progress/pending.xlsx", True),
        ],
        "results.export_table": [
            (
                "admin",
                f"/results/{OPEN if table in opened else CLOSED}/export/{table}.{fmt}",
                True,
            )
            for table in tables
            for fmt in ("csv", "json")
        ]
        + [("admin", f"/results/{CLOSED}/export/remarks.csv?encoding=cp932", True)],
        "respond.sheet_download": [
            ("respondent", f"/assignments/{ids['own']}/sheet.xlsx", True),
            ("contractor", f"/assignments/{ids['contract']}/sheet.xlsx", True),
            ("admin", f"/assignments/{ids['own']}/sheet.xlsx", True),
        ],
        "followup.action_csv": [
            ("admin", "/followup/actions.csv", True),
            ("respondent", "/followup/actions.csv", True),
            ("contractor", "/followup/actions.csv", True),
        ],
        # The demo's routed log review round: its figures name the reviewing units.
        "logreview.figures_xlsx": [("admin", f"/logs/rounds/{LOG_ROUND}/figures.xlsx", True)],
        "logreview.figures_csv": [("admin", f"/logs/rounds/{LOG_ROUND}/figures.csv", True)],
        # A pledge's completion: the units, the companies and the people not yet signed.
        "pledges.completion_xlsx": [
            ("admin", "/pledges/staff/completion.xlsx", True),
            ("manager", "/pledges/staff/completion.xlsx", True),
            ("admin", "/pledges/contractors/completion.xlsx", True),
        ],
        # … and its trend beside September's round.
        "logreview.trend_csv": [("admin", f"/logs/rounds/{LOG_ROUND}/trend.csv", True)],
        "followup.audit_export": [("admin", f"/followup/audits/{ids['audit']}/status.xlsx", True)],
        # A course's completion: units, companies, people and the course's and test's titles.
        "training.completion_xlsx": [
            ("admin", f"/training/courses/{ids['course']}/completion.xlsx", True),
            ("manager", f"/training/courses/{ids['course']}/completion.xlsx", True),
        ],
        "contractors.rounds_export": [
            ("admin", f"/contractors/{ids['company']}/rounds.csv", True),
            ("admin", f"/contractors/{ids['company']}/rounds.csv?encoding=cp932", True),
            ("admin", f"/contractors/{ids['company']}/rounds.json", True),
            ("contractor", f"/contractors/{ids['company']}/rounds.csv", True),
        ],
    }


@pytest.fixture
def hostile(demo_app) -> dict:
    """The demo ward with formula-like text in every field the exports write; returns the ids
    the download paths need (found before the names change)."""
    own = db.session.scalar(
        sa.select(Assignment.id)
        .join(Campaign)
        .join(OrgUnit, OrgUnit.id == Assignment.unit_id)
        .where(Campaign.code == OPEN, OrgUnit.name == "戸籍住民課")
    )
    contract = db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .join(Contract, Contract.id == Assignment.contract_id)
        .where(Campaign.code == "2026-annual-contracts", Contract.title.like("区長日程管理%"))
    )
    contract.status = "draft"
    checklist = db.session.scalar(sa.select(Campaign).where(Campaign.code == OPEN)).checklist
    finding = db.session.scalar(sa.select(FindingMeasure).order_by(FindingMeasure.id)).finding
    # A second measure for a finding: its cells are merged over both rows.
    db.session.add(FindingMeasure(finding=finding, text="second", taken_on=date(2026, 8, 1)))
    values = itertools.cycle(HOSTILE)
    for model, column in FIELDS:
        for row in db.session.scalars(sa.select(model)):
            setattr(row, column, next(values))
    finding.heading = HOSTILE[0]  # merged cells are written another way than single ones
    for value in HOSTILE:
        trail.record("test.hostile", object_type="unit", object_id=value, summary=value)
    db.session.commit()
    return {
        "own": own,
        "contract": contract.id,
        "company": contract.contract.contractor_id,
        "checklist": f"{checklist.code}/{checklist.version}",
        "audit": finding.audit_id,
        "course": db.session.scalar(sa.select(Course.id)),
    }


def test_every_download_route_is_walked(demo_app):
    ids = {"checklist": "", "own": 0, "contract": 0, "audit": 0, "company": 0, "course": 0}
    covered = set(_downloads(ids))
    assert _discovered_downloads(demo_app) - NOT_A_DOWNLOAD == covered | SERVED_AS_UPLOADED


def test_no_download_writes_user_text_as_a_formula(demo_app, hostile):
    clients = {}
    wrong, unquoted = [], []
    for endpoint, cases in _downloads(hostile).items():
        for who, path, has_user_text in cases:
            if who not in clients:
                clients[who] = login(demo_app, who)
            with _download(clients[who], path) as response:
                assert response.status_code == 200, (endpoint, who, path, response.status_code)
                assert response.headers["Content-Disposition"].startswith("attachment;"), path
                found, problems = _check(path, response.data)
            wrong += [(who, path, problem) for problem in problems]
            if has_user_text and not found:
                unquoted.append((who, path))  # the hostile text never reached the file
    assert wrong == []
    assert unquoted == []


def _download(client, path: str):
    if path.startswith("POST "):
        _page, response = job_download(client, path.removeprefix("POST "))
        return response
    return client.get(path)


def _check(path: str, data: bytes) -> tuple[int, list[str]]:
    """(how many formula-like texts the file holds, safely; what is wrong in it)."""
    kind = path.split("?")[0].rsplit(".", 1)[-1]
    if kind == "xlsx":
        return _check_xlsx(data)
    if kind == "csv":
        return _check_csv(data.decode("cp932" if "cp932" in path else "utf-8-sig"))
    # JSON and YAML are read by programs: the text is kept exactly as it was typed.
    data = json.loads(data) if kind == "json" else yaml.safe_load(data)
    return sum(starts_like_formula(s) for s in _strings(data)), []


def _check_xlsx(data: bytes) -> tuple[int, list[str]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    found, problems = 0, []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                where = f"{sheet.title}!{cell.coordinate} {cell.value!r}"
                if cell.data_type == "f":
                    problems.append(f"formula {where}")
                elif isinstance(cell.value, str) and starts_like_formula(cell.value):
                    if cell.quotePrefix:
                        found += 1
                    else:
                        problems.append(f"no quote prefix {where}")
    return found, problems


# A number written by tenken, signed where it is a change in points (+1.6): a number to Excel.
NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")


def _check_csv(text: str) -> tuple[int, list[str]]:
    found, problems = 0, []
    for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        for field in row:
            if starts_like_formula(field) and not NUMBER.fullmatch(field):
                problems.append(f"line {number}: {field!r}")
            elif field.startswith("'") and starts_like_formula(field[1:]):
                found += 1
    return found, problems


def _strings(data) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


# --- the rule itself ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE + ["－", "＋1", "＠x", "\r=1"])
def test_text_starting_like_a_formula_is_quoted_in_csv(text):
    assert csv_text(text) == "'" + text


@pytest.mark.parametrize("text", ["総務部", "1-2", "a=b", "", "'quoted", "株式会社＝"])
def test_other_text_is_written_to_csv_as_it_is(text):
    assert csv_text(text) == text


@given(st.text())
def test_a_csv_field_reads_back_as_the_text_written(text):
    assert from_csv_text(csv_text(text)) == text


# --- an export imports back -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_register_with_formula_like_names_imports_back_unchanged(demo_app, fmt):
    names = [*HOSTILE[:4], "＝1", "'=already quoted"]
    for company, name in zip(
        db.session.scalars(sa.select(Contractor).order_by(Contractor.id)), names, strict=False
    ):
        company.name = name
    db.session.commit()
    with demo_app.test_request_context():
        result = registers.preview("contractors", registers.export_file("contractors", fmt))
        assert result.ok, [p.render() for p in result.problems]
        assert not result.has_changes


def test_the_ratios_command_writes_formula_like_item_texts_quoted_to_csv(demo_app, demo_runner):
    checklist = db.session.scalar(sa.select(Campaign).where(Campaign.code == CLOSED)).checklist
    for item, text in zip(checklist.items, HOSTILE, strict=False):
        item.text = text
    db.session.commit()
    result = demo_runner.invoke(args=["report", "ratios", CLOSED, "--format", "csv"])
    assert result.exit_code == 0, result.output
    found, problems = _check_csv(result.output)
    assert problems == [] and found == len(HOSTILE)
