"""Audits of a unit or a contractor and their findings, each followed by its measures.

The security office records what the audit found (意見 / 提案事項), what was done about each
finding (措置内容, by which unit, when) and how it turned out (措置結果). The 措置状況 table
(reports/followup.py) is built from `status_rows`. Nothing here commits.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from reports import followup as sheet
from survey.extensions import db
from survey.labels import AUDIT_KINDS, FINDING_KINDS, MEASURE_RESULTS, label
from survey.models import Audit, AuditFinding, Contractor, FindingMeasure, OrgUnit, User
from survey.models.audits import FindingKind
from survey.services import trail, transitions


class AuditInputError(ValueError):
    pass


def create_audit(
    *,
    kind: str,
    title: str,
    held_on: date,
    unit: OrgUnit | None,
    contractor: Contractor | None,
    auditors: str,
    scope: str,
    user: User,
) -> Audit:
    if unit is None and contractor is None:
        raise AuditInputError(_("監査の対象（所属または委託事業者）を選んでください。"))
    record = Audit(
        kind=kind,
        title=title.strip(),
        held_on=held_on,
        unit=unit,
        contractor=contractor,
        auditors=auditors.strip(),
        scope=scope.strip(),
        created_by=user,
    )
    db.session.add(record)
    trail.record(
        "audit.create",
        record,
        summary=record.title,
        after={"kind": kind, "held_on": held_on, "subject": record.subject_name},
    )
    return record


def add_finding(record: Audit, *, kind: str, heading: str, text: str) -> AuditFinding:
    number = (
        db.session.scalar(
            sa.select(sa.func.max(AuditFinding.number)).where(AuditFinding.audit_id == record.id)
        )
        or 0
    ) + 1
    finding = AuditFinding(
        audit=record, number=number, kind=kind, heading=heading.strip(), text=text.strip()
    )
    db.session.add(finding)
    trail.record(
        "audit.finding",
        finding,
        summary=f"{record.title} #{number}",
        after={"kind": kind, "heading": finding.heading},
    )
    return finding


def add_measure(
    finding: AuditFinding,
    *,
    text: str,
    unit: OrgUnit | None,
    taken_on: date | None,
    user: User,
    result: str = "",
    result_note: str = "",
    result_on: date | None = None,
) -> FindingMeasure:
    measure = FindingMeasure(
        finding=finding,
        text=text.strip(),
        unit=unit,
        taken_on=taken_on,
        result=result,
        result_note=result_note.strip(),
        result_on=result_on,
        created_by_id=user.id,
    )
    db.session.add(measure)
    trail.record(
        "audit.measure",
        measure,
        summary=f"{finding.audit.title} #{finding.number}",
        after={"unit": unit.name if unit else "", "taken_on": taken_on, "result": result},
    )
    return measure


def record_result(
    measure: FindingMeasure, *, result: str, note: str, result_on: date | None
) -> bool:
    """The measure's result (措置結果); False when the same result was posted again."""
    note = note.strip()
    before = {"result": measure.result, "note": measure.result_note, "on": measure.result_on}
    after = {"result": result, "note": note, "on": result_on}
    if before == after:
        return False
    # Only if the stored result still differs: of identical posts at once, one records it.
    if not transitions.claim(
        measure,
        sa.or_(
            FindingMeasure.result.is_distinct_from(result),
            FindingMeasure.result_note.is_distinct_from(note),
            FindingMeasure.result_on.is_distinct_from(result_on),
        ),
        result=result,
        result_note=note,
        result_on=result_on,
    ):
        return False
    finding = measure.finding
    trail.record(
        "audit.result",
        measure,
        summary=f"{finding.audit.title} #{finding.number}",
        before=before,
        after=after,
    )
    return True


# --- the 措置状況 table -----------------------------------------------------------------------


def status_rows(record: Audit) -> list[sheet.StatusRow]:
    """One row per measure (a finding without a measure yet: one row with the measure empty),
    意見 before 提案事項, as the reports list them."""
    rows = []
    order = {FindingKind.OPINION: 0, FindingKind.PROPOSAL: 1}
    findings = sorted(record.findings, key=lambda f: (order.get(f.kind, 2), f.number))
    for finding in findings:
        text = f"{finding.heading}\n{finding.text}" if finding.heading else finding.text
        common = {
            "number": finding.number,
            "kind": label(FINDING_KINDS, finding.kind),
            "finding": text,
        }
        if not finding.measures:
            rows.append(sheet.StatusRow(**common))
        for measure in finding.measures:
            result = label(MEASURE_RESULTS, measure.result)
            if measure.result_note:
                result = f"{result}\n{measure.result_note}"
            rows.append(
                sheet.StatusRow(
                    **common,
                    measure=measure.text,
                    unit=measure.unit.name if measure.unit else "",
                    taken_on=measure.taken_on,
                    result=result,
                    result_on=measure.result_on,
                )
            )
    return rows


def status_header(record: Audit, generated_by: str, generated_on: date) -> sheet.Header:
    return sheet.Header(
        title=record.title,
        kind=label(AUDIT_KINDS, record.kind),
        held_on=record.held_on,
        subject=record.subject_name,
        auditors=record.auditors,
        scope=record.scope,
        generated_by=generated_by,
        generated_on=generated_on,
    )
