"""The access-log review as evidence for a checklist item on regular log checks
(「ログの内容を定期的に確認している」, emergency-systems' `log-review`).

On the questionnaire, whoever answers it sees, next to that item, the responding unit's own
log review figures round by round (services.log_reviews.unit_rounds: rounds, sampled,
justified, flagged, overdue, when approved) and may attach them as an evidence file, a small
workbook stored like any other evidence (services.files). Least privilege: only the unit's own
sheets, only counts — no look-up, no record number, no other unit's figures.
"""

from __future__ import annotations

import hashlib
import io
from datetime import date, datetime

import sqlalchemy as sa

from reports.accesslogs import review as report
from survey import access, clock, labels
from survey.extensions import db
from survey.formatting import format_date
from survey.models import Assignment, Attachment, Item, OrgUnit, User
from survey.services import files, log_reviews, trail, uploads

# (checklist code, item key): the items the log review answers for.
EVIDENCE_ITEMS = {("emergency-systems", "log-review")}
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def unit_of(assignment: Assignment) -> int | None:
    """The unit that answers: its figures are the ones offered."""
    return assignment.responsible_unit_id or assignment.unit_id


def items(assignment: Assignment) -> list[Item]:
    checklist = assignment.campaign.checklist
    # By the checklist's code first: any other questionnaire reads no item for this.
    if not any(code == checklist.code for code, _key in EVIDENCE_ITEMS):
        return []
    return [i for i in checklist.items if (checklist.code, i.key) in EVIDENCE_ITEMS]


def offered(assignment: Assignment, user: User) -> dict[int, list[log_reviews.UnitRound]]:
    """item id -> the unit's rounds, for each log-check item, when `user` answers the
    questionnaire now; nothing for anyone else (they see the file once it is attached)."""
    found = items(assignment)
    unit = unit_of(assignment)
    if not found or unit is None or not access.can(user, "answer", assignment):
        return {}
    rounds = log_reviews.unit_rounds([unit])
    return {item.id: rounds for item in found}


def _rows(rounds: list[log_reviews.UnitRound]) -> list[tuple]:
    return [
        (
            r.round.code,
            r.round.title,
            f"{format_date(r.round.period_from)}〜{format_date(r.round.period_to)}",
            str(labels.SHEET_STATUSES.get(r.sheet.status, r.sheet.status)),
            r.counts.sampled,
            r.counts.justified,
            r.counts.flagged,
            r.counts.overdue,
            format_date(clock.local(r.sheet.decided_at).date())
            if r.sheet.decided_at and r.sheet.status == "approved"
            else "",
        )
        for r in rounds
    ]


def summary(unit: OrgUnit, rounds: list[log_reviews.UnitRound], today: date) -> bytes:
    """The workbook: the unit's rounds, with a title block saying what it is and when."""
    lines = [
        f"{unit.name} ログ点検の実施状況",
        "アクセスログの抜き取り点検（ログ点検）で、この所属の所属長が確認した照会の件数です。",
        f"点検 {len(rounds)}回　作成日: {format_date(today)}",
    ]
    out = io.BytesIO()
    report.write_unit_rounds(
        lines, _rows(rounds), datetime(today.year, today.month, today.day), out
    )
    return out.getvalue()


def attach(assignment: Assignment, item: Item, user: User) -> Attachment | None:
    """Attach the unit's figures to the item as evidence; None when the same file is attached
    already (the same figures the same day: a double submit, or nothing new)."""
    if item.id not in offered(assignment, user):
        return None
    unit = db.session.get(OrgUnit, unit_of(assignment))
    today = clock.today()
    rounds = log_reviews.unit_rounds([unit.id])
    data = summary(unit, rounds, today)
    same = db.session.scalar(
        sa.select(
            sa.exists().where(
                Attachment.assignment_id == assignment.id,
                Attachment.item_id == item.id,
                Attachment.sha256 == hashlib.sha256(data).hexdigest(),
            )
        )
    )
    if same:
        return None
    stored = files.store(io.BytesIO(data))
    attachment = Attachment(
        assignment_id=assignment.id,
        item_id=item.id,
        uploaded_by_id=user.id,
        filename=uploads.clean_filename(
            f"ログ点検の実施状況_{unit.name}_{today:%Y%m%d}.xlsx", "log-review.xlsx"
        ),
        file=stored,
        content_type=CONTENT_TYPE,
        size=stored.size,
        sha256=stored.sha256,
    )
    db.session.add(attachment)
    trail.record(
        "evidence.log_summary",
        attachment,
        summary=f"{assignment.target_name}: {unit.name}",
        after={"item": item.key, "rounds": [r.round.code for r in rounds]},
        user=user,
    )
    return attachment
