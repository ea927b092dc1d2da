"""The load's data, made by the project's own code: the migrations, the demo, and open campaigns
on the 54-item systems checklist built with the demo's campaign helpers.

The demo's open rounds use the 21-item assets checklist; the target is stated for the 54-item
questionnaire, so two more rounds on emergency-systems give one questionnaire per information
system each (2 × 135), enough for the throughput phase's 64 and the 200 respondents without
two simulated people sharing one questionnaire (the two-node phase gets a database of its
own, prepared the same way, with one more questionnaire, of a one-item checklist asking for an
evidence file, for its upload).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import flask_migrate
import sqlalchemy as sa

from survey import create_app, demo
from survey.extensions import db
from survey.models import Assignment, Checklist
from survey.models.campaigns import CampaignStatus
from survey.services.answering import Shape, _requirement_applies, _version
from survey.services.checklists import import_files

CHECKLIST = "emergency-systems"
# The shipped checklists ask for no evidence file: the two-node phase's file is attached to a
# questionnaire of this one, which asks for one with every answer.
EVIDENCE_CHECKLIST = """\
code: load-evidence
version: 1
title: 負荷試験 証跡ファイル
target: system
categories:
  - code: A
    title: 証跡
    items:
      - number: 1
        text: 点検記録を添付している
        evidence: always
"""


@dataclass
class Plan:
    """What the client needs to answer like a person: whose questionnaire is whose, and for each
    item the options that need no evidence file (a submission then needs only comments)."""

    assignments: list[tuple[int, str]] = field(default_factory=list)  # (id, username)
    items: list[tuple[int, list[tuple[str, int]]]] = field(default_factory=list)
    # Which items are asked when: the client answers every item, as a page posts even the
    # hidden ones, and the server keeps no answer to an item not asked (tests/load/check.py).
    shapes: tuple[Shape, ...] = ()
    password: str = demo.DEMO_PASSWORD
    evidence: tuple[int, str] = (0, "")  # a questionnaire with an evidence field, its username


def _items(checklist: Checklist) -> list[tuple[int, list[tuple[str, int]]]]:
    return [
        (
            item.id,
            [
                (option.code, option.id)
                for option in item.scale.options
                if not _requirement_applies(item.evidence_rule, option)
            ],
        )
        for item in checklist.items
    ]


def prepare(database_url: str, rounds: int = 2, evidence: bool = False) -> Plan:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        flask_migrate.upgrade()
        ward = demo.load()
        checklist = db.session.scalar(
            sa.select(Checklist)
            .where(Checklist.code == CHECKLIST)
            .order_by(Checklist.version.desc())
        )
        plan = Plan(items=_items(checklist), shapes=_version(checklist).shapes)
        for n in range(1, rounds + 1):
            # The demo's own helpers (survey/demo.py): a campaign row and one assignment per
            # information system, with its owning division as the responsible unit.
            campaign = demo._campaign(
                f"load-systems-{n}",
                f"負荷試験 情報システム点検 {n}",
                checklist,
                date(2026, 11, 2),
                date(2026, 12, 11),
                CampaignStatus.OPEN,
            )
            for assignment in demo._assignments(ward, campaign):
                username = ward.respondents[assignment.responsible_unit_id].username
                plan.assignments.append((assignment.id, username))
        if evidence:
            plan.evidence = _evidence_questionnaire(ward)
        db.session.commit()
        _analyze(db.engine)
        db.engine.dispose()
    return plan


def _evidence_questionnaire(ward: demo.Ward) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "load-evidence.yaml"
        path.write_text(EVIDENCE_CHECKLIST, encoding="utf-8")
        outcomes, problems = import_files([path], publish=True)
    if problems:
        raise RuntimeError([problem.render() for problem in problems])
    campaign = demo._campaign(
        "load-evidence",
        "負荷試験 証跡ファイル",
        outcomes[0].checklist,
        date(2026, 11, 2),
        date(2026, 12, 11),
        CampaignStatus.OPEN,
    )
    system = ward.systems[0]
    assignment = Assignment(
        campaign_id=campaign.id,
        target_kind="system",
        system_id=system.id,
        responsible_unit_id=system.unit.id,
    )
    db.session.add(assignment)
    db.session.flush()
    return assignment.id, ward.respondents[system.unit.id].username


def _analyze(engine: sa.Engine) -> None:
    """Statistics gathered, as on a database that has been running for a while: otherwise
    autovacuum analyzes the freshly loaded tables in the middle of the measurements."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        analyze = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
        connection.execute(sa.text(analyze))
