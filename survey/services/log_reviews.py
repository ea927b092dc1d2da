"""The review of a round's sample by the people accountable (ログ点検の回答と承認).

The office routes a sampled round: each reviewing unit's entries become one ReviewSheet with a
deadline, answered by the unit's head — the managers of the unit, or of the nearest unit above
it that has one — entry by entry (業務上必要 with the request number and the purpose / 確認中 /
不適切な可能性, and a comment). The head may first ask the employee (a tenken user), or for
contractor staff the company, to explain an entry. The head hands the sheet in once every
entry has a final answer; the next level up (the managers above, or the office) approves it or
sends it back, never whoever answered it. Approval opens a corrective action for each entry
flagged 不適切な可能性.

Every status change is one conditional UPDATE (services.transitions), so a double click or two
approvers at once change it once. Answers are stored only where they differ from what is
stored, so the same form posted twice stores nothing the second time. Each page showing
entries records the view in the audit trail, with whether the record numbers were shown whole.
Nothing here commits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from reports.accesslogs import review as figures_of
from reports.accesslogs.review import FINAL, JUSTIFIED, SUSPECT, VERDICTS, Reviewed
from survey import access, clock
from survey.extensions import db
from survey.formatting import format_date
from survey.models import (
    EntryReview,
    Incident,
    OrgUnit,
    ReviewRound,
    ReviewSheet,
    Role,
    SampledEntry,
    SampleReason,
    SamplingRuleSet,
    User,
)
from survey.models.followup import ActionSource
from survey.models.logs import INCIDENT_STEPS, IncidentStatus, RoundStatus, SheetStatus
from survey.models.types import utcnow
from survey.services import actions, logs, mail_texts, notify, trail, transitions

TEXT_MAX = 2000
REQUEST_MAX = 64
ACTION_DAYS = 30  # a flagged look-up's corrective action is due a month after approval
EDITABLE = (SheetStatus.OPEN, SheetStatus.RETURNED)


class Refused(ValueError):
    """The step cannot be taken (the status moved on, the input is not enough); the message
    says why."""


# --- routing ----------------------------------------------------------------------------------


def head_unit(unit_id: int) -> int | None:
    """The unit whose managers answer for `unit_id`: itself or the nearest unit above it with
    an active manager (None: none anywhere above)."""
    seen: set[int] = set()
    current: int | None = unit_id
    while current is not None and current not in seen:
        seen.add(current)
        has_manager = db.session.scalar(
            sa.select(
                sa.exists().where(
                    User.unit_id == current, User.role == Role.MANAGER, User.active.is_(True)
                )
            )
        )
        if has_manager:
            return current
        current = db.session.scalar(sa.select(OrgUnit.parent_id).where(OrgUnit.id == current))
    return None


def route(round_: ReviewRound, due_on: date, today: date | None = None) -> int:
    """Send a sampled round's entries to the heads: one sheet per reviewing unit, due on
    `due_on`. Returns the number of sheets; Refused if the round is not sampled, already
    routed, or the deadline has passed."""
    today = today or clock.today()
    if round_.status == RoundStatus.ROUTED:
        raise Refused(_("この点検は既に所属長へ依頼しています。"))
    if round_.status != RoundStatus.SAMPLED:
        raise Refused(_("抽出が済んでいない点検は依頼できません。"))
    if due_on < today:
        raise Refused(_("回答期限は今日以降の日付にしてください。"))
    if not transitions.move(
        round_,
        [RoundStatus.SAMPLED],
        RoundStatus.ROUTED,
        routed_at=utcnow(),
        due_on=due_on,
        routed_by_name=trail.who()[1],
    ):
        raise Refused(_("この点検は既に所属長へ依頼しています。"))
    by_unit: dict[int, list[int]] = defaultdict(list)
    rows = db.session.execute(
        sa.select(SampledEntry.id, SampledEntry.review_unit_id)
        .where(SampledEntry.round_id == round_.id)
        .order_by(SampledEntry.id)
    )
    for sampled_id, unit_id in rows:
        by_unit[unit_id].append(sampled_id)
    sheets = []
    for unit_id, ids in sorted(by_unit.items()):
        sheet = ReviewSheet(
            round=round_, unit_id=unit_id, head_unit_id=head_unit(unit_id), due_on=due_on
        )
        db.session.add(sheet)
        db.session.flush()
        db.session.add_all(EntryReview(sampled_id=i, sheet_id=sheet.id) for i in ids)
        sheets.append(sheet)
    trail.record(
        "log.route",
        round_,
        summary=f"{round_.code}: {len(sheets)}",
        after={
            "sheets": len(sheets),
            "entries": sum(len(ids) for ids in by_unit.values()),
            "due_on": due_on,
            "without_head": sum(1 for s in sheets if s.head_unit_id is None),
        },
    )
    for sheet in sheets:
        _mail_heads(sheet)
    return len(sheets)


def _heads(sheet: ReviewSheet) -> list[User]:
    if sheet.head_unit_id is None:
        return []
    return notify.with_address(
        sa.select(User).where(User.unit_id == sheet.head_unit_id, User.role == Role.MANAGER)
    )


def _mail_heads(sheet: ReviewSheet) -> None:
    heads = _heads(sheet)
    if not heads:
        return
    unit = db.session.get(OrgUnit, sheet.unit_id)
    link = notify.external_url("logreview.sheet", sheet_id=sheet.id)
    notify.mail_users(
        heads, *mail_texts.log_review_requested(sheet.round.title, unit.name, sheet.due_on, link)
    )


def sheets_of(round_: ReviewRound) -> list[ReviewSheet]:
    return list(
        db.session.scalars(
            sa.select(ReviewSheet)
            .where(ReviewSheet.round_id == round_.id)
            .options(selectinload(ReviewSheet.unit), selectinload(ReviewSheet.head_unit))
            .join(OrgUnit, OrgUnit.id == ReviewSheet.unit_id)
            .order_by(OrgUnit.code)
        )
    )


# --- what a user sees -------------------------------------------------------------------------


@dataclass(frozen=True)
class Desk:
    to_answer: list[ReviewSheet]  # as head, still open or returned
    to_approve: list[ReviewSheet]  # handed in, this user may approve
    others: list[ReviewSheet]  # the rest in scope (done, or waiting for someone else)
    to_explain: list[EntryReview]  # entries the user is asked to explain


def desk(user: User) -> Desk:
    scoped = access.scope_sheets(user, sa.select(ReviewSheet)).options(
        selectinload(ReviewSheet.round), selectinload(ReviewSheet.unit)
    )
    to_answer, to_approve, others = [], [], []
    for sheet in db.session.scalars(scoped.order_by(ReviewSheet.due_on, ReviewSheet.id)):
        if access.heads(user, sheet) and sheet.status in EDITABLE:
            to_answer.append(sheet)
        elif sheet.status == SheetStatus.SUBMITTED and access.approves(user, sheet):
            to_approve.append(sheet)
        else:
            others.append(sheet)
    asked = access.scope_explanations(
        user, sa.select(EntryReview).join(EntryReview.sampled)
    ).options(selectinload(EntryReview.sampled))
    return Desk(
        to_answer,
        to_approve,
        others,
        list(db.session.scalars(asked.order_by(EntryReview.explain_asked_at))),
    )


@dataclass(frozen=True)
class Row:
    """A sampled entry on the sheet page: the copy, its reasons, the answer, the record number
    whole or masked."""

    entry: SampledEntry
    review: EntryReview
    record: str
    reasons: list[str]
    needs_request: bool
    askable: bool  # someone can be asked to explain it in tenken


def rows(sheet: ReviewSheet, user: User) -> list[Row]:
    ruleset = logs.rules_of(sheet.round.rule_set)
    whole = access.heads(user, sheet)
    found = db.session.scalars(
        sa.select(EntryReview)
        .where(EntryReview.sheet_id == sheet.id)
        .join(EntryReview.sampled)
        .options(
            selectinload(EntryReview.sampled).selectinload(SampledEntry.reasons),
            selectinload(EntryReview.sampled).selectinload(SampledEntry.contractor),
        )
        .order_by(SampledEntry.at, SampledEntry.id)
    )
    return [
        Row(
            review.sampled,
            review,
            review.sampled.record_id if whole else figures_of.mask(review.sampled.record_id),
            [r.rule for r in review.sampled.reasons],
            figures_of.requires_request(ruleset, review.sampled.operation),
            review.sampled.user_id is not None or review.sampled.contractor_id is not None,
        )
        for review in found
    ]


def record_view(sheet: ReviewSheet, shown: list[Row], user: User) -> None:
    """Every view of the entries, in the audit trail: which, and whether whole."""
    trail.record(
        "log.view",
        sheet,
        summary=f"{sheet.round.code} {sheet.unit.name}: {len(shown)}",
        after={
            "entries": [row.entry.id for row in shown],
            "records": "whole" if access.heads(user, sheet) else "masked",
        },
        user=user,
    )


def record_explanation_view(review: EntryReview, user: User) -> None:
    trail.record(
        "log.view",
        review.sampled,
        summary=f"{review.sheet.round.code} #{review.sampled_id}",
        after={"entries": [review.sampled_id], "records": "masked"},
        user=user,
    )


# --- answering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    verdict: str
    request_no: str
    comment: str


class Invalid(ValueError):
    """Answers that cannot be stored: sampled id -> messages. Nothing was stored."""

    def __init__(self, problems: dict[int, list[str]]):
        super().__init__("invalid answers")
        self.problems = problems


def _problems(row: Row, posted: Posted) -> list[str]:
    found = []
    if posted.verdict and posted.verdict not in VERDICTS:
        found.append(_("回答を選んでください。"))
    if len(posted.request_no) > REQUEST_MAX:
        found.append(_("申請書番号は %(n)s 文字以内で入力してください。", n=REQUEST_MAX))
    if len(posted.comment) > TEXT_MAX:
        found.append(_("コメントは %(n)s 文字以内で入力してください。", n=TEXT_MAX))
    if posted.verdict == JUSTIFIED:
        if row.needs_request and not posted.request_no:
            found.append(_("業務上必要とするには申請書番号を入力してください。"))
        if not posted.comment:
            found.append(_("業務上必要とするには用務（何のための照会か）を入力してください。"))
    if posted.verdict == SUSPECT and not posted.comment:
        found.append(_("不適切な可能性とする理由を入力してください。"))
    return found


def _clean(text: str | None) -> str:
    return (text or "").strip()


def save_answers(sheet: ReviewSheet, posted: dict[int, Posted], user: User) -> int:
    """Store the head's answers that differ from what is stored; returns how many changed.
    Invalid (nothing stored) if any is wrong; Refused if the sheet is not the user's to answer
    now. Entries not on the sheet are refused too."""
    if not access.heads(user, sheet):
        raise Refused(_("この点検票に回答できるのは所属長です。"))
    if sheet.status not in EDITABLE:
        raise Refused(_("この点検票は提出済みです。"))
    by_id = {row.entry.id: row for row in rows(sheet, user)}
    strange = set(posted) - set(by_id)
    if strange:
        raise Refused(_("この点検票にない記録への回答は受け付けられません。"))
    cleaned = {
        i: Posted(p.verdict.strip(), _clean(p.request_no), (p.comment or "").strip())
        for i, p in posted.items()
    }
    problems = {i: found for i, p in cleaned.items() if (found := _problems(by_id[i], p))}
    if problems:
        raise Invalid(problems)
    now = utcnow()
    changed = []
    for sampled_id, new in cleaned.items():
        review = by_id[sampled_id].review
        if (review.verdict, review.request_no, review.comment) == tuple(
            (new.verdict, new.request_no, new.comment)
        ):
            continue
        review.verdict, review.request_no, review.comment = (
            new.verdict,
            new.request_no,
            new.comment,
        )
        review.answered_by_id, review.answered_at = user.id, now
        changed.append({"entry": sampled_id, "verdict": new.verdict})
    if changed:
        trail.record(
            "log.answer",
            sheet,
            summary=f"{sheet.round.code} {sheet.unit.name}: {len(changed)}",
            after={"answers": changed},
            user=user,
        )
    return len(changed)


def ask_explanation(sheet: ReviewSheet, review: EntryReview, user: User) -> bool:
    """Ask the employee (or the contractor's company) to explain an entry first. False if it
    was asked already (a double click); Refused if nobody in tenken can be asked."""
    if not access.heads(user, sheet) or sheet.status not in EDITABLE:
        raise Refused(_("この点検票に回答できるのは所属長です。"))
    if review.sheet_id != sheet.id:
        raise Refused(_("この点検票にない記録への回答は受け付けられません。"))
    entry = review.sampled
    if entry.user_id is None and entry.contractor_id is None:
        raise Refused(_("この利用者IDは tenken の利用者と照合できないため、説明を依頼できません。"))
    asked = _explainers(entry)
    # One UPDATE only one request wins (transitions.claim's way; the row's key is sampled_id).
    claimed = db.session.execute(
        sa.update(EntryReview)
        .where(EntryReview.sampled_id == review.sampled_id, EntryReview.explain_asked_at.is_(None))
        .values(explain_asked_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return False
    db.session.refresh(review)
    trail.record(
        "log.ask",
        entry,
        summary=f"{sheet.round.code} #{entry.id}",
        after={"asked": [u.username for u in asked]},
        user=user,
    )
    link = notify.external_url("logreview.explain", sampled_id=entry.id)
    notify.mail_users(asked, *mail_texts.log_explanation_asked(link))
    return True


def _explainers(entry: SampledEntry) -> list[User]:
    if entry.user_id is not None:
        return notify.with_address(sa.select(User).where(User.id == entry.user_id))
    return notify.contractor_recipients(entry.contractor_id)


def explain(review: EntryReview, text: str, user: User) -> bool:
    """Store the employee's explanation; False if it is the one stored (a double post)."""
    text = (text or "").strip()
    if not text:
        raise Refused(_("説明を入力してください。"))
    if len(text) > TEXT_MAX:
        raise Refused(_("説明は %(n)s 文字以内で入力してください。", n=TEXT_MAX))
    if review.sheet.status not in EDITABLE:
        raise Refused(_("この記録の点検は提出済みのため、説明は受け付けられません。"))
    if review.explanation == text:
        return False
    review.explanation, review.explained_by_id, review.explained_at = text, user.id, utcnow()
    trail.record(
        "log.explain",
        review.sampled,
        summary=f"{review.sheet.round.code} #{review.sampled_id}",
        after={"length": len(text)},
        user=user,
    )
    link = notify.external_url("logreview.sheet", sheet_id=review.sheet_id)
    notify.mail_users(_heads(review.sheet), *mail_texts.log_explained(review.sheet.unit.name, link))
    return True


# --- handing in and approval ------------------------------------------------------------------


def submit(sheet: ReviewSheet, user: User) -> bool:
    """Hand the sheet in; False if this was done already (a double click)."""
    if sheet.status == SheetStatus.SUBMITTED and sheet.submitted_by_id == user.id:
        return False
    if not access.heads(user, sheet):
        raise Refused(_("この点検票を提出できるのは所属長です。"))
    if sheet.status not in EDITABLE:
        raise Refused(_("この点検票は提出済みです。"))
    open_ = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(EntryReview)
        .where(EntryReview.sheet_id == sheet.id, EntryReview.verdict.not_in(FINAL))
    )
    if open_:
        raise Refused(
            _(
                "未回答または確認中の記録が %(n)s 件あります。すべて"
                "「業務上必要」か「不適切な可能性」にしてから提出してください。",
                n=open_,
            )
        )
    if not transitions.move(
        sheet, EDITABLE, SheetStatus.SUBMITTED, submitted_at=utcnow(), submitted_by_id=user.id
    ):
        return False
    trail.record("log.submit", sheet, summary=f"{sheet.round.code} {sheet.unit.name}", user=user)
    approvers = [u for u in _approvers(sheet) if not access.answered_sheet(u.id, sheet)]
    link = notify.external_url("logreview.sheet", sheet_id=sheet.id)
    notify.mail_users(approvers, *mail_texts.log_sheet_submitted(sheet.unit.name, link))
    return True


def _approvers(sheet: ReviewSheet) -> list[User]:
    above = (
        db.session.scalar(sa.select(OrgUnit.parent_id).where(OrgUnit.id == sheet.head_unit_id))
        if sheet.head_unit_id is not None
        else None
    )
    if above is not None:
        managers = notify.managers_above(db.session.get(OrgUnit, above))
        if managers:
            return managers
    return notify.with_address(sa.select(User).where(User.role == Role.ADMIN))


def decide(sheet: ReviewSheet, user: User, approve: bool, comment: str = "") -> bool:
    """Approve the handed-in sheet (opening a corrective action for each flagged entry) or
    send it back with a reason. False if this very decision was taken already."""
    comment = (comment or "").strip()
    target = SheetStatus.APPROVED if approve else SheetStatus.RETURNED
    if sheet.status == target and sheet.decided_by_id == user.id:
        return False
    if not access.approves(user, sheet):
        raise Refused(
            _(
                "この点検票を承認・差し戻しできるのは上位の所属長か"
                "情報政策課です（回答した人を除く）。"
            )
        )
    if sheet.status != SheetStatus.SUBMITTED:
        raise Refused(_("この点検票は提出されていないか、既に処理されています。"))
    if not approve and not comment:
        raise Refused(_("差し戻す理由を入力してください。"))
    if len(comment) > TEXT_MAX:
        raise Refused(_("コメントは %(n)s 文字以内で入力してください。", n=TEXT_MAX))
    if not transitions.move(
        sheet,
        [SheetStatus.SUBMITTED],
        target,
        decided_at=utcnow(),
        decided_by_id=user.id,
        decision_comment=comment,
    ):
        return False
    trail.record(
        "log.approve" if approve else "log.return",
        sheet,
        summary=f"{sheet.round.code} {sheet.unit.name}",
        after={"comment": comment[:200]} if comment else None,
        user=user,
    )
    if approve:
        for review in db.session.scalars(
            sa.select(EntryReview).where(
                EntryReview.sheet_id == sheet.id, EntryReview.verdict == SUSPECT
            )
        ):
            _open_action(sheet, review, user)
    else:
        link = notify.external_url("logreview.sheet", sheet_id=sheet.id)
        notify.mail_users(
            _heads(sheet), *mail_texts.log_sheet_returned(sheet.unit.name, comment, link)
        )
    return True


def _open_action(sheet: ReviewSheet, review: EntryReview, user: User) -> None:
    entry = review.sampled
    local = entry.at.astimezone(clock.zone())
    with force_locale("ja"):  # stored text, read by the unit whatever its language
        title, description = _action_text(sheet, review, f"{local:%Y-%m-%d %H:%M}")
    action = actions.open_action(
        title=title,
        description=description,
        due_on=clock.today() + timedelta(days=ACTION_DAYS),
        created_by=user,
        unit=sheet.unit,
        contractor=entry.contractor,
        source=ActionSource.LOG_REVIEW,
    )
    db.session.flush()
    review.action_id = action.id


def _action_text(sheet: ReviewSheet, review: EntryReview, when: str) -> tuple[str, str]:
    entry = review.sampled
    title = _(
        "ログ点検 %(code)s: %(when)s の照会（%(user)s）",
        code=sheet.round.code,
        when=when,
        user=entry.user_code,
    )
    description = _(
        "所属長が「不適切な可能性」と判断した照会です。\n"
        "操作: %(op)s　記録: %(record)s\n所属長のコメント: %(comment)s",
        op=entry.operation,
        record=figures_of.mask(entry.record_id),
        comment=review.comment,
    )
    return title, description


# --- incidents --------------------------------------------------------------------------------


def incident_of(sampled_id: int) -> Incident | None:
    return db.session.scalar(sa.select(Incident).where(Incident.sampled_id == sampled_id))


def may_open_incident(sheet: ReviewSheet, review: EntryReview) -> bool:
    """A confirmed flag: 不適切な可能性 on a sheet the next level up approved."""
    return sheet.status == SheetStatus.APPROVED and review.verdict == SUSPECT


def open_incident(
    sheet: ReviewSheet, review: EntryReview, description: str, user: User
) -> Incident | None:
    """The office records a confirmed flag as an incident (besides the corrective action the
    approval opened): found on the day of the approval, the reviewing unit's, 調査中. None if
    the look-up has one already (a double click, or two of the office at once)."""
    if user.role != Role.ADMIN:
        raise Refused(_("インシデントを記録できるのは情報政策課です。"))
    if review.sheet_id != sheet.id or not may_open_incident(sheet, review):
        raise Refused(
            _("承認された点検票で「不適切な可能性」とされた照会だけをインシデントにできます。")
        )
    description = (description or "").strip()
    if not description:
        raise Refused(_("インシデントの内容を入力してください。"))
    if len(description) > TEXT_MAX:
        raise Refused(_("内容は %(n)s 文字以内で入力してください。", n=TEXT_MAX))
    if incident_of(review.sampled_id) is not None:
        return None
    local = review.sampled.at.astimezone(clock.zone())
    with force_locale("ja"):  # stored text, read by the office whatever its language
        title = _action_text(sheet, review, f"{local:%Y-%m-%d %H:%M}")[0]
    incident = Incident(
        title=title,
        description=description,
        found_on=clock.local(sheet.decided_at).date() if sheet.decided_at else clock.today(),
        unit_id=sheet.unit_id,
        sampled_id=review.sampled_id,
        sheet_id=sheet.id,
        opened_by_id=user.id,
    )
    try:
        with db.session.begin_nested():  # the unique look-up: a second request stores nothing
            db.session.add(incident)
    except IntegrityError:
        return None
    trail.record(
        "log.incident",
        incident,
        summary=f"{sheet.round.code} #{review.sampled_id}",
        after={"sheet": sheet.id, "entry": review.sampled_id, "unit": sheet.unit.name},
        user=user,
    )
    return incident


def advance_incident(incident: Incident, to_status: str, user: User) -> bool:
    """Move an incident on one step (調査中 → 対応済 → 報告済); False if it was moved already
    (a double click). Only the office does."""
    if user.role != Role.ADMIN:
        raise Refused(_("インシデントの状況を変更できるのは情報政策課です。"))
    before = next((s for s, after in INCIDENT_STEPS.items() if after == to_status), None)
    if before is None:
        raise Refused(_("その状況には変更できません。"))
    if incident.status == to_status:
        return False
    if incident.status != before:
        raise Refused(_("インシデントの状況は、調査中・対応済・報告済の順に進めます。"))
    if not transitions.move(
        incident, [before], to_status, changed_at=utcnow(), changed_by_id=user.id
    ):
        return False
    trail.record(
        "log.incident_status",
        incident,
        summary=f"#{incident.id} {to_status}",
        before={"status": str(before)},
        after={"status": to_status},
        user=user,
    )
    return True


def incidents() -> list[Incident]:
    """Every incident, those still open first, newest first."""
    return list(
        db.session.scalars(
            sa.select(Incident)
            .options(
                selectinload(Incident.unit),
                selectinload(Incident.sheet).selectinload(ReviewSheet.round),
                selectinload(Incident.sampled),
            )
            .order_by(
                (Incident.status == IncidentStatus.REPORTED).asc(),
                Incident.found_on.desc(),
                Incident.id.desc(),
            )
        )
    )


# --- reminders --------------------------------------------------------------------------------


def reminders(today: date, days_before: int):
    """The daily reminder run's source (services/reminders.py): each sheet of a routed round not
    handed in (open or sent back), due within `days_before` days or overdue, to its heads; and
    each look-up on such a sheet whose explanation was asked and not yet written, to whoever was
    asked (the employee, or the company's accounts), since the head waits for it."""
    from survey.services.reminders import Reminder

    due = sa.select(ReviewSheet).where(
        ReviewSheet.status.in_(EDITABLE), ReviewSheet.due_on <= today + timedelta(days=days_before)
    )
    open_counts = dict(
        db.session.execute(
            sa.select(EntryReview.sheet_id, sa.func.count())
            .where(EntryReview.sheet_id.in_(due.with_only_columns(ReviewSheet.id)))
            .where(EntryReview.verdict.not_in(FINAL))
            .group_by(EntryReview.sheet_id)
        ).all()
    )
    sheets = db.session.scalars(
        due.options(selectinload(ReviewSheet.round), selectinload(ReviewSheet.unit)).order_by(
            ReviewSheet.due_on, ReviewSheet.id
        )
    )
    for sheet in sheets:
        link = notify.external_url("logreview.sheet", sheet_id=sheet.id)
        line = mail_texts.log_sheet_reminder_line(sheet, open_counts.get(sheet.id, 0), today, link)
        for user in _heads(sheet):
            yield Reminder(
                user.email.strip(), user.display_name, f"logsheet:{sheet.id}", line, sheet.due_on
            )
        waiting = db.session.scalars(
            sa.select(EntryReview)
            .where(
                EntryReview.sheet_id == sheet.id,
                EntryReview.explain_asked_at.is_not(None),
                EntryReview.explanation == "",
            )
            .options(selectinload(EntryReview.sampled))
            .order_by(EntryReview.sampled_id)
        )
        for review in waiting:
            link = notify.external_url("logreview.explain", sampled_id=review.sampled_id)
            line = mail_texts.log_explanation_reminder_line(sheet, today, link)
            for user in _explainers(review.sampled):
                yield Reminder(
                    user.email.strip(),
                    user.display_name,
                    f"logexplain:{review.sampled_id}",
                    line,
                    sheet.due_on,
                )


# --- figures ----------------------------------------------------------------------------------


def unit_labels(round_: ReviewRound) -> dict[int, str]:
    """unit id -> how the figures name a reviewing unit: its name, with its code where two
    reviewing units share a name (庶務係 in several departments)."""
    units = db.session.execute(
        sa.select(OrgUnit.id, OrgUnit.code, OrgUnit.name).where(
            OrgUnit.id.in_(
                sa.select(SampledEntry.review_unit_id).where(SampledEntry.round_id == round_.id)
            )
        )
    ).all()
    names = Counter(name for _id, _code, name in units)
    return {
        unit_id: name if names[name] == 1 else f"{name}（{code}）" for unit_id, code, name in units
    }


def review_figures(
    round_: ReviewRound, today: date | None = None, units: Collection[int] | None = None
) -> figures_of.Figures:
    """Per reviewing unit and reason: sampled, justified, checking, flagged, unanswered and
    overdue (on a sheet not handed in past its deadline). `units`: only these reviewing units'
    entries (a head's own)."""
    today = today or clock.today()
    in_round = SampledEntry.round_id == round_.id
    if units is not None:
        in_round = sa.and_(in_round, SampledEntry.review_unit_id.in_(list(units)))
    reasons: dict[int, list[str]] = defaultdict(list)
    for sampled_id, rule in db.session.execute(
        sa.select(SampledEntry.id, SampleReason.rule)
        .join(SampleReason, SampleReason.sampled_id == SampledEntry.id)
        .where(in_round)
    ):
        reasons[sampled_id].append(rule)
    late = sa.and_(ReviewSheet.status.in_(EDITABLE), ReviewSheet.due_on < today)
    stmt = (
        sa.select(
            SampledEntry.id,
            SampledEntry.review_unit_id,
            sa.func.coalesce(EntryReview.verdict, ""),
            sa.func.coalesce(late, False),
        )
        .outerjoin(EntryReview, EntryReview.sampled_id == SampledEntry.id)
        .outerjoin(ReviewSheet, ReviewSheet.id == EntryReview.sheet_id)
        .where(in_round)
    )
    labels = unit_labels(round_)
    entries = (
        Reviewed(labels[unit], tuple(reasons[i]), verdict, bool(overdue))
        for i, unit, verdict, overdue in db.session.execute(stmt)
    )
    return figures_of.tally(entries, logs.rules_of(round_.rule_set))


# --- the trend across rounds ------------------------------------------------------------------


def _period(round_: ReviewRound) -> str:
    return f"{format_date(round_.period_from)}〜{format_date(round_.period_to)}"


def trend_rounds(round_: ReviewRound) -> list[ReviewRound]:
    """The routed rounds of the same source and rule set (any version of it) up to this one,
    oldest first: the rounds a trend sets side by side."""
    same_rules = sa.select(SamplingRuleSet.id).where(SamplingRuleSet.code == round_.rule_set.code)
    return list(
        db.session.scalars(
            sa.select(ReviewRound)
            .where(
                ReviewRound.source_id == round_.source_id,
                ReviewRound.rule_set_id.in_(same_rules),
                ReviewRound.routed_at.is_not(None),
                ReviewRound.period_from <= round_.period_from,
            )
            .order_by(ReviewRound.period_from, ReviewRound.id)
        )
    )


def trend(
    round_: ReviewRound, units: Collection[int] | None = None, today: date | None = None
) -> list[figures_of.RoundFigures]:
    """Each round of the trend with its figures (`units`: only those reviewing units')."""
    return [
        figures_of.RoundFigures(r.code, r.title, _period(r), review_figures(r, today, units))
        for r in trend_rounds(round_)
    ]


@dataclass(frozen=True)
class UnitRound:
    """One routed round as a unit's own figures show it: its sheet, and the counts of the
    unit's sampled look-ups."""

    round: ReviewRound
    sheet: ReviewSheet
    counts: figures_of.Counts


def unit_rounds(unit_ids: Collection[int], today: date | None = None) -> list[UnitRound]:
    """The rounds in which these units reviewed their look-ups, newest first, with only their
    own figures (sampled, justified, flagged, overdue) — never another unit's."""
    today = today or clock.today()
    ids = list(unit_ids)
    if not ids:
        return []
    sheets = db.session.scalars(
        sa.select(ReviewSheet)
        .join(ReviewRound)
        .where(ReviewSheet.unit_id.in_(ids))
        .options(selectinload(ReviewSheet.round), selectinload(ReviewSheet.unit))
        .order_by(ReviewRound.period_from.desc(), ReviewRound.id.desc(), ReviewSheet.unit_id)
    ).all()
    # As review_figures counts them: every entry of a sheet not handed in past its deadline.
    late = {s.id for s in sheets if s.status in EDITABLE and s.due_on < today}
    counts: dict[int, figures_of.Counts] = defaultdict(figures_of.Counts)
    for sheet_id, verdict in db.session.execute(
        sa.select(EntryReview.sheet_id, EntryReview.verdict).where(
            EntryReview.sheet_id.in_([s.id for s in sheets])
        )
    ):
        counts[sheet_id].add(verdict, sheet_id in late)
    return [UnitRound(sheet.round, sheet, counts[sheet.id]) for sheet in sheets]


def head_units(user: User) -> list[int]:
    """The reviewing units whose sheets a user sees (access.scope_sheets): a head's own."""
    return list(
        db.session.scalars(access.scope_sheets(user, sa.select(ReviewSheet.unit_id).distinct()))
    )
