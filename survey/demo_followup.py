"""Demo follow-up: corrective actions opened from real いいえ answers, in every status, and an
on-site audit of a contractor with its findings and measures. Deterministic: the answers are
picked by campaign, unit and item order, the dates are fixed."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from survey.demo_data import office_time
from survey.extensions import db
from survey.models import (
    ActionEvent,
    Answer,
    Assignment,
    Audit,
    AuditFinding,
    Campaign,
    Contract,
    CorrectiveAction,
    FindingMeasure,
    Item,
    Option,
    OrgUnit,
    Role,
    User,
)
from survey.models.audits import AuditKind, FindingKind, MeasureResult
from survey.models.followup import ActionSource, ActionStatus


def _at(day: date, hour: int = 10) -> datetime:
    return office_time(day, hour)


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def _noncompliant(campaign: str, *, unit: str | None = None, contractor_id: int | None = None):
    """The first いいえ answer of a campaign (in a unit, or on a company's contract)."""
    stmt = (
        sa.select(Answer)
        .join(Assignment, Assignment.id == Answer.assignment_id)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .join(Option, Option.id == Answer.option_id)
        .join(Item, Item.id == Answer.item_id)
        .where(Campaign.code == campaign, Option.klass == "noncompliant")
        .order_by(Assignment.id, Item.number)
        .limit(1)
    )
    if unit is not None:
        stmt = stmt.join(OrgUnit, OrgUnit.id == Assignment.responsible_unit_id).where(
            OrgUnit.name == unit
        )
    if contractor_id is not None:
        stmt = stmt.join(Contract, Contract.id == Assignment.contract_id).where(
            Contract.contractor_id == contractor_id
        )
    return db.session.scalar(stmt)


def _action(answer: Answer, opened: date, due: date, by: User, **extra) -> CorrectiveAction:
    assignment = answer.assignment
    contract = assignment.contract
    action = CorrectiveAction(
        title=f"項目{answer.item.number} の是正（{assignment.target_name}）",
        description=f"{assignment.campaign.title}\n項目{answer.item.number}: {answer.item.text}\n"
        f"回答: {answer.option.label}\nコメント: {answer.comment}",
        source=ActionSource.ANSWER,
        campaign_id=assignment.campaign_id,
        assignment_id=assignment.id,
        item_id=answer.item_id,
        unit_id=assignment.responsible_unit_id,
        contractor_id=contract.contractor_id if contract else None,
        due_on=due,
        created_by_id=by.id,
        created_at=_at(opened),
        **extra,
    )
    db.session.add(action)
    return action


def _steps(action: CorrectiveAction, steps: list[tuple[str, str, str, User, date, str]]) -> None:
    for kind, before, after, who, day, comment in steps:
        db.session.add(
            ActionEvent(
                action=action,
                kind=kind,
                from_status=before,
                to_status=after,
                user_id=who.id,
                # The opening is the action's own creation: one time on its header and history.
                at=action.created_at if kind == "open" else _at(day, 11),
                comment=comment,
            )
        )


OPEN, STARTED, REPORTED, VERIFIED = (
    ActionStatus.OPEN,
    ActionStatus.IN_PROGRESS,
    ActionStatus.REPORTED,
    ActionStatus.VERIFIED,
)


def load() -> None:
    admin, manager = _user("admin"), _user("manager")
    _closed_round(admin)
    _this_round(admin, manager)
    _audit(admin)
    db.session.flush()


def _closed_round(admin: User) -> None:
    """2017: an action on the emergency inspection, fixed and verified long ago."""
    answer = _noncompliant("2017-emergency-assets", unit="戸籍住民課")
    owner = _owner(answer)
    opened = date(2017, 2, 10)
    measure = "USBメモリの持出しを台帳で管理し、所属長が月末に現物と照合する運用を始めました。"
    action = _action(
        answer,
        opened,
        date(2017, 3, 31),
        admin,
        status=VERIFIED,
        measure=measure,
        reported_at=_at(date(2017, 3, 24)),
        verified_at=_at(date(2017, 3, 28)),
        verified_by_id=admin.id,
    )
    _steps(
        action,
        [
            ("open", "", OPEN, admin, opened, ""),
            ("start", OPEN, STARTED, owner, date(2017, 2, 14), ""),
            ("report", STARTED, REPORTED, owner, date(2017, 3, 24), measure),
            ("verify", REPORTED, VERIFIED, admin, date(2017, 3, 28), "照合記録を確認しました。"),
        ],
    )


def _owner(answer: Answer) -> User:
    unit_id = answer.assignment.responsible_unit_id
    return db.session.scalar(
        sa.select(User).where(User.role == Role.RESPONDENT, User.unit_id == unit_id).limit(1)
    )


def _this_round(admin: User, manager: User) -> None:
    """2026: open, in progress (sent back once), reported, and one past its due date."""
    reported = _noncompliant("2026-annual-assets", unit="保険医療課")
    owner = _owner(reported)
    # The いいえ it answers is item 3, 機密性の高い情報資産は施錠保管している.
    measure = "機密性の高い書類を施錠できる書庫へ移し、鍵の貸出簿を係長が週1回確認しています。"
    action = _action(
        reported,
        date(2026, 11, 16),
        date(2026, 12, 18),
        manager,
        status=REPORTED,
        measure=measure,
        reported_at=_at(date(2026, 11, 20)),
    )
    _steps(
        action,
        [
            ("open", "", OPEN, manager, date(2026, 11, 16), ""),
            ("start", OPEN, STARTED, owner, date(2026, 11, 17), ""),
            ("report", STARTED, REPORTED, owner, date(2026, 11, 20), measure),
        ],
    )

    overdue = _noncompliant("2026-annual-assets", unit="納税課")
    action = _action(overdue, date(2026, 11, 9), date(2026, 11, 20), manager, status=OPEN)
    _steps(action, [("open", "", OPEN, manager, date(2026, 11, 9), "")])

    company = db.session.scalar(sa.select(User.contractor_id).where(User.username == "contractor"))
    contracted = _noncompliant("2026-annual-contracts", contractor_id=company)
    worker = _user("contractor")
    first = "作業場所への私物の持込を禁止しました。"
    action = _action(contracted, date(2026, 11, 12), date(2026, 12, 25), admin, status=STARTED)
    _steps(
        action,
        [
            ("open", "", OPEN, admin, date(2026, 11, 12), ""),
            ("start", OPEN, STARTED, worker, date(2026, 11, 13), ""),
            ("report", STARTED, REPORTED, worker, date(2026, 11, 18), first),
            (
                "send_back",
                REPORTED,
                STARTED,
                admin,
                date(2026, 11, 19),
                "禁止したことの周知方法と、守られているかの確認方法も報告してください。",
            ),
        ],
    )
    action.measure = first


def _audit(admin: User) -> None:
    """An on-site audit of the demo contractor's work for its owning division."""
    contract = db.session.scalar(
        sa.select(Contract)
        .join(User, User.contractor_id == Contract.contractor_id)
        .where(User.username == "contractor")
        .order_by(Contract.id)
        .limit(1)
    )
    held = date(2026, 7, 9)
    audit = Audit(
        kind=AuditKind.ONSITE,
        title=f"令和8年度 個人情報取扱事務 実地監査（{contract.title}）",
        held_on=held,
        unit_id=contract.unit_id,
        contractor_id=contract.contractor_id,
        auditors="情報政策課 情報 守、監査事務局 監査 正",
        scope="委託業務の作業場所、入退室管理、紙媒体の管理、システムの利用記録",
        created_by_id=admin.id,
        created_at=_at(held + timedelta(days=14)),
    )
    db.session.add(audit)
    findings = [
        (
            FindingKind.OPINION,
            "作業場所への私物の持込について",
            "契約で持込を認めた物以外の私物が作業場所に置かれていた。持込禁止の原則を"
            "すべての従事者に徹底されたい。",
            [
                (
                    "持込を認める物を飲み物と財布に限り、全従事者に書面で周知した。",
                    date(2026, 8, 5),
                    MeasureResult.DONE,
                    "委託先の責任者が週1回抜き打ちで確認している。",
                    date(2026, 9, 30),
                )
            ],
        ),
        (
            FindingKind.OPINION,
            "電話受付メモの管理について",
            "個人情報を書き留めるメモに番号がなく、紛失や持出しがあっても分からない。"
            "連番を付けた様式で管理することが望ましい。",
            [
                (
                    "連番付きの受付票に様式を統一するよう委託先に指示した。",
                    date(2026, 8, 20),
                    MeasureResult.PARTLY,
                    "様式は統一済み。廃棄時の照合は10月から開始予定。",
                    date(2026, 9, 30),
                )
            ],
        ),
        (
            FindingKind.PROPOSAL,
            "アクセスログの定期的な確認",
            "アクセスログは保存されているが、障害時にしか見ていない。不正な持出しの抑止と"
            "早期発見のため、定期的な抜き取り確認を検討されたい。",
            [],
        ),
    ]
    for number, (kind, heading, text, measures) in enumerate(findings, start=1):
        finding = AuditFinding(audit=audit, number=number, kind=kind, heading=heading, text=text)
        db.session.add(finding)
        for measure, taken, result, note, checked in measures:
            db.session.add(
                FindingMeasure(
                    finding=finding,
                    text=measure,
                    unit_id=contract.unit_id,
                    taken_on=taken,
                    result=result,
                    result_note=note,
                    result_on=checked,
                    created_by_id=admin.id,
                )
            )
        if not measures:
            _finding_action(finding, contract, admin)


def _finding_action(finding: AuditFinding, contract: Contract, admin: User) -> None:
    opened = date(2026, 11, 2)
    action = CorrectiveAction(
        title=finding.heading,
        description=finding.text,
        source=ActionSource.FINDING,
        finding=finding,
        unit_id=contract.unit_id,
        contractor_id=contract.contractor_id,
        due_on=date(2027, 1, 29),
        status=OPEN,
        created_by_id=admin.id,
        created_at=_at(opened),
    )
    db.session.add(action)
    _steps(action, [("open", "", OPEN, admin, opened, "")])
