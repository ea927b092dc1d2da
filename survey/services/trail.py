"""The audit trail: recording entries, checking the hash chain, searching, reviewing, exporting.

Recording (`record`) is one INSERT after reading the newest entry's id and hash under a lock:
a PostgreSQL advisory lock held until the transaction ends, on SQLite the database's write
lock, taken up front. Two requests recording at once therefore append one after the other and
never fork the chain. The entry joins the caller's transaction, so it commits (or rolls back)
with the change it describes.

`verify` streams the whole chain and names the first entry that was altered or removed, and
checks it against anchors (an entry's id and hash kept elsewhere, survey.services.anchors):
what reveals entries cut off the end of the trail, or a chain rewritten with fresh hashes.
`review` looks for patterns an auditor should look at (bursts of downloads, use at night or on
holidays, attempts to open other units' objects, repeated failed sign-ins).
"""

from __future__ import annotations

import getpass
import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Any, BinaryIO

import sqlalchemy as sa
from flask import after_this_request, current_app, g, has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Session

from reports.accesslogs import hours
from reports.streambook import Book, Field
from survey import clock
from survey.extensions import db
from survey.models.trail import GENESIS_HASH, AuditEntry
from survey.models.types import utcnow

# --- what is recorded -----------------------------------------------------------------------

ACTIONS = {
    "auth.login": _l("ログイン"),
    "auth.login_failed": _l("ログイン失敗"),
    "auth.directory_unavailable": _l("ディレクトリサーバーに接続できないログイン"),
    "auth.lockout": _l("アカウントのロック"),
    "auth.logout": _l("ログアウト"),
    "auth.password_change": _l("パスワードの変更"),
    "auth.password_reset_request": _l("パスワード再設定の申請"),
    "auth.password_reset": _l("パスワードの再設定（メールのリンク）"),
    "auth.password_reset_refused": _l("使えないパスワード再設定リンク"),
    "auth.2fa_enable": _l("2段階認証の有効化"),
    "pledge.create": _l("誓約書の作成"),
    "pledge.draft": _l("誓約書の下書きの保存"),
    "pledge.publish": _l("誓約書の公開"),
    "pledge.acknowledge": _l("誓約書への同意"),
    "auth.2fa_disable": _l("2段階認証の無効化"),
    "auth.recovery_codes": _l("回復コードの再発行"),
    "auth.sign_out_everywhere": _l("すべてのセッションの終了"),
    "auth.session_end": _l("ほかの端末のセッションの終了"),
    "backup.create": _l("バックアップの作成"),
    "backup.restore": _l("バックアップからの復元"),
    "files.load": _l("移行のときに見つからなかった証跡ファイルの取り込み"),
    "counts.repair": _l("結果の集計の数え直し"),
    "invitation.accept": _l("招待の受諾（アカウント作成）"),
    "answer.save": _l("回答の保存"),
    "answer.autosave": _l("回答の自動保存"),
    "answer.sheet_import": _l("回答シートの取り込み"),
    "answer.sheet_overwrite": _l("回答シートの取り込み（画面での変更を確認のうえ上書き）"),
    "evidence.upload": _l("証跡ファイルの添付"),
    "assignment.submit": _l("提出"),
    "assignment.approve": _l("承認"),
    "assignment.return": _l("差し戻し"),
    "delegation.create": _l("回答の依頼（委任）"),
    "delegation.done": _l("依頼された回答の完了"),
    "delegation.withdraw": _l("回答の依頼の取消し"),
    "invitation.create": _l("委託事業者の招待"),
    "invitation.request": _l("委託事業者の招待の申請（台帳にないアドレス）"),
    "invitation.request_approved": _l("招待の申請の承認"),
    "invitation.request_refused": _l("招待の申請の不承認"),
    "download.sheet": _l("回答シートのダウンロード"),
    "download.evidence": _l("証跡ファイルのダウンロード"),
    "export.results": _l("集計結果のダウンロード"),
    "export.pledge_completion": _l("誓約書の提出状況のダウンロード"),
    "export.contractor_rounds": _l("委託先の自己点検の推移のダウンロード"),
    "export.audit": _l("監査ログのエクスポート"),
    "access.denied": _l("権限外の対象へのアクセス"),
    "checklist.import": _l("チェックリストの取り込み"),
    "checklist.publish": _l("チェックリストの公開"),
    "checklist.copy": _l("チェックリストの新しい版の作成（複製）"),
    "checklist.discard": _l("チェックリストの下書きの削除"),
    "download.checklist": _l("チェックリストのダウンロード"),
    "user.create": _l("ユーザーの作成"),
    "user.password_set": _l("パスワードの設定（管理者）"),
    "user.directory_update": _l("ディレクトリからの利用者情報の更新"),
    "user.directory_deactivate": _l("ディレクトリにない利用者の無効化"),
    "directory.sync": _l("ディレクトリとの照合"),
    "demo.load": _l("デモデータの読み込み"),
    "action.open": _l("是正措置の登録"),
    "campaign.create": _l("点検の作成"),
    "campaign.update": _l("点検の設定の変更"),
    "campaign.delete": _l("点検の削除"),
    "campaign.targets": _l("点検の対象の変更"),
    "campaign.open": _l("点検の開始"),
    "campaign.extend": _l("点検の期限の延長"),
    "campaign.close": _l("点検の終了"),
    "campaign.copy": _l("点検のコピー（次回の点検）"),
    "assignment.extend": _l("回答期限の個別延長"),
    "assignment.reopen": _l("回答の再開"),
    "export.progress": _l("未提出一覧のダウンロード"),
    "evaluation.start": _l("委託先評価の開始"),
    "evaluation.complete": _l("委託先評価の確定"),
    "recommendation.issue": _l("是正勧告"),
    "recommendation.end_notice": _l("委託終了の通知"),
    "subcontract.request": _l("再委託の承認申請"),
    "subcontract.approve": _l("再委託の承認"),
    "subcontract.reject": _l("再委託の不承認"),
    "register.import": _l("台帳の取り込み"),
    "export.register": _l("台帳のエクスポート"),
    "reminder.send": _l("期限のお知らせメールの作成"),
    "escalation.defaults": _l("督促の段階の既定値の変更"),
    "campaign.escalation": _l("点検の督促の段階の変更"),
    "mail.retry": _l("送信メールの再送"),
    "action.start": _l("是正措置の対応開始"),
    "action.report": _l("是正措置の措置報告"),
    "action.evidence": _l("是正措置の証跡ファイルの添付"),
    "action.verify": _l("是正措置の確認・完了"),
    "action.send_back": _l("是正措置の差し戻し"),
    "download.action_evidence": _l("是正措置の証跡ファイルのダウンロード"),
    "audit.anchor": _l("監査ログの控えの送付"),
    "audit.create": _l("監査の記録"),
    "audit.finding": _l("指摘事項の記録"),
    "audit.measure": _l("指摘事項への措置の記録"),
    "audit.result": _l("措置結果の記録"),
    "export.audit_findings": _l("措置状況表のダウンロード"),
    "export.actions": _l("是正措置一覧のダウンロード"),
    "log.source": _l("ログの種類の登録・変更"),
    "log.import": _l("アクセスログの取り込み"),
    "log.purge": _l("保存期間を過ぎたアクセスログの削除"),
    "log.rules": _l("ログ点検の抽出ルールの登録"),
    "log.districts": _l("担当地区の一覧の更新"),
    "log.households": _l("職員世帯の一覧の更新"),
    "log.round": _l("ログ点検の作成"),
    "log.sample": _l("ログ点検の抽出"),
    "log.incident": _l("ログ点検からのインシデントの記録"),
    "log.incident_status": _l("インシデントの状況の更新"),
    "evidence.log_summary": _l("ログ点検の集計の証跡としての添付"),
    "training.course_create": _l("研修の作成"),
    "training.targets": _l("研修の対象の変更"),
    "training.course_open": _l("研修の開始"),
    "training.course_close": _l("研修の終了"),
    "training.read": _l("研修資料の既読"),
    "training.attempt_start": _l("理解度テストの受験開始"),
    "training.attempt_submit": _l("理解度テストの提出"),
    "export.training_completion": _l("研修の受講状況のダウンロード"),
    "download.training_material": _l("研修資料のダウンロード"),
}

# Filter values that stand for several actions.
DOWNLOADS = "downloads"
DOWNLOAD_PREFIXES = ("download.", "export.")
ACTION_GROUPS = {
    DOWNLOADS: _l("ダウンロード・エクスポート（すべて）"),
    "auth.*": _l("ログイン・ログアウト（すべて）"),
    "answer.*": _l("回答の変更（すべて）"),
    "assignment.*": _l("提出・承認・差し戻し（すべて）"),
    "campaign.*": _l("点検の作成・開始・延長・終了（すべて）"),
    "subcontract.*": _l("再委託の申請・承認・不承認（すべて）"),
    "action.*": _l("是正措置（すべて）"),
    "audit.*": _l("監査・指摘事項（すべて）"),
    "log.*": _l("ログ点検（すべて）"),
    "training.*": _l("研修・理解度テスト（すべて）"),
}

OBJECT_TYPES = {
    "assignment": _l("点検の回答"),
    "attachment": _l("証跡ファイル"),
    "campaign": _l("点検"),
    "checklist": _l("チェックリスト"),
    "invitation": _l("招待"),
    "invitation_request": _l("招待の申請"),
    "user_account": _l("ユーザー"),
    "audit_entry": _l("監査ログ"),
    "contractor": _l("委託事業者"),
    "contract": _l("委託契約"),
    "contractor_evaluation": _l("委託先評価"),
    "recommendation": _l("是正勧告"),
    "subcontract_request": _l("再委託の承認申請"),
    "register": _l("台帳"),
    "outgoing_mail": _l("送信メール"),
    "corrective_action": _l("是正措置"),
    "action_evidence": _l("是正措置の証跡ファイル"),
    "audit": _l("監査"),
    "audit_finding": _l("指摘事項"),
    "finding_measure": _l("指摘事項への措置"),
    "log_source": _l("ログの種類"),
    "log_import": _l("アクセスログの取り込み"),
    "sampling_rule_set": _l("ログ点検の抽出ルール"),
    "served_district": _l("担当地区"),
    "review_round": _l("ログ点検"),
    "incident": _l("インシデント"),
    "export_job": _l("ファイルの作成（出力ジョブ）"),
    "directory": _l("ディレクトリ（LDAP）"),
    "course": _l("研修"),
    "enrolment": _l("研修の受講者"),
    "test_attempt": _l("理解度テストの受験"),
}

COMMENT_CHARS = 200  # answer comments are cut to this in before/after (history keeps them whole)

# --- what the review flags (module constants; tests may change them) ------------------------

NIGHT_STARTS = 22  # 22:00 …
NIGHT_ENDS = 6  # … to 06:00, local time
DOWNLOAD_BURST = 20  # downloads and exports by one user …
DOWNLOAD_WINDOW = timedelta(minutes=10)  # … within this time
FAILED_SIGN_INS = 5  # failed sign-ins for one username, or from one address …
FAILED_WINDOW = timedelta(minutes=15)  # … within this time
REVIEW_DAYS = 30  # the review covers this many days up to today unless told otherwise

# Any constant 64-bit number: the PostgreSQL advisory lock that serializes appends.
CHAIN_LOCK = 0x74656E6B656E01  # "tenken" + 1

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 200_000  # Excel holds 1,048,576 rows; past this the auditor narrows down


class _Current:
    def __repr__(self) -> str:
        return "CURRENT"


CURRENT: Any = _Current()  # default actor and address: the request's signed-in user and peer


@dataclass(frozen=True)
class Recorded:
    id: int
    hash: str
    at: datetime


# --- hashing --------------------------------------------------------------------------------

# The fields of an entry that its hash covers, besides the previous entry's hash.
HASHED = (
    "id",
    "at",
    "user_id",
    "username",
    "remote_addr",
    "action",
    "object_type",
    "object_id",
    "summary",
    "before_json",
    "after_json",
)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored in UTC); PostgreSQL aware ones in any zone."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    return str(value)


def canonical(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain
    )


def entry_hash(prev_hash: str, values: dict[str, Any]) -> str:
    """sha256(previous hash + canonical JSON of this entry's fields)."""
    fields = {name: values[name] for name in HASHED}
    fields["at"] = _iso(values["at"])
    return hashlib.sha256((prev_hash + canonical(fields)).encode("utf-8")).hexdigest()


# --- recording ------------------------------------------------------------------------------


def _lock_chain(session: Session) -> None:
    """Serialize appends until this transaction ends."""
    conn = session.connection()
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    elif dialect == "sqlite":
        # Python's sqlite3 starts a transaction only at the first INSERT/UPDATE/DELETE, which
        # takes the write lock. Without one yet, take the write lock now, before reading the
        # newest entry: otherwise another connection could append between the read and the
        # INSERT.
        if not conn.connection.dbapi_connection.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def hold_chain(session: Session | None = None) -> None:
    """Take the lock of appends now, for a change recorded later in this transaction that locks
    rows of its own first (services/kept_counts.py): every such transaction then takes the
    locks in the same order and none waits for another that waits for it."""
    _lock_chain(session or db.session)


def _newest(session: Session | sa.Connection, *, lock: bool) -> tuple[int, str]:
    table = AuditEntry.__table__
    stmt = sa.select(table.c.id, table.c.hash).order_by(table.c.id.desc()).limit(1)
    if lock and session.connection().dialect.name not in ("postgresql", "sqlite"):
        stmt = stmt.with_for_update()  # elsewhere: at least lock the newest row
    last = session.execute(stmt).first()
    return (last.id, last.hash) if last else (0, GENESIS_HASH)


def newest_entry(session: Session | sa.Connection) -> tuple[int, str]:
    """The id and hash of the newest entry (0 and the genesis hash for an empty trail)."""
    return _newest(session, lock=False)


def _json(value: Any) -> str | None:
    return None if value is None else canonical(value)


def _actor(user: Any) -> tuple[int | None, str]:
    if user is CURRENT:
        user = None
        if has_request_context() and current_user and current_user.is_authenticated:
            user = current_user
    if user is not None:
        return user.id, user.username
    if has_request_context():
        return None, ""
    try:
        return None, f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return None, "cli"


def who(user: Any = CURRENT) -> tuple[int | None, str]:
    """(user id, name) of whoever acts: the signed-in user, or on the command line the OS
    user as `cli:NAME`: what an entry records as its actor."""
    return _actor(user)


def _text(value: str | None, limit: int) -> str:
    # PostgreSQL text cannot hold NUL; typed input (an attempted username, say) may.
    return (value or "").replace("\x00", "\ufffd")[:limit]


def _append(
    session: Session,
    *,
    action: str,
    user_id: int | None,
    username: str,
    remote_addr: str | None,
    object_type: str,
    object_id: str,
    summary: str,
    before: Any,
    after: Any,
    at: datetime | None,
) -> Recorded:
    _lock_chain(session)
    last_id, prev_hash = _newest(session, lock=True)
    values = {
        "id": last_id + 1,
        "at": as_utc(at) if at is not None else utcnow(),
        "user_id": user_id,
        "username": _text(username, 64),
        "remote_addr": _text(remote_addr, 64) or None,
        "action": _text(action, 40),
        "object_type": _text(object_type, 32),
        "object_id": _text(object_id, 64),
        "summary": _text(summary, 500),
        "before_json": _json(before),
        "after_json": _json(after),
    }
    digest = entry_hash(prev_hash, values)
    session.execute(
        sa.insert(AuditEntry.__table__).values(prev_hash=prev_hash, hash=digest, **values)
    )
    return Recorded(values["id"], digest, values["at"])


def record(
    action: str,
    obj: Any = None,
    *,
    summary: str = "",
    before: Any = None,
    after: Any = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    user: Any = CURRENT,
    username: str | None = None,
    remote_addr: Any = CURRENT,
    at: datetime | None = None,
    commit: bool = False,
    session: Session | None = None,
) -> Recorded:
    """Append one entry to the trail, in the caller's transaction (`commit=True`: commit now).

    `obj` is the model instance acted on (its table and id are kept); `user` defaults to the
    signed-in user of the request (None: nobody, as for a failed sign-in, whose attempted name
    goes in `username`); outside a request the actor is the command line's OS user. `at` is
    for tests and imports only: entries are otherwise stamped when they are appended.
    """
    session = session or db.session
    if obj is not None:
        if getattr(obj, "id", None) is None:
            session.flush()  # a new object gets its id
        object_type = object_type or obj.__tablename__
        object_id = obj.id if object_id is None else object_id
    user_id, name = _actor(user)
    if remote_addr is CURRENT:
        remote_addr = request.remote_addr if has_request_context() else None
    recorded = _append(
        session,
        action=action,
        user_id=user_id,
        username=name if username is None else username,
        remote_addr=remote_addr,
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id),
        summary=summary,
        before=before,
        after=after,
        at=at,
    )
    if commit:
        session.commit()
    return recorded


def record_denied(
    object_type: str, object_id: Any, user: Any, *, found: Any = None, reason: str | None = None
) -> None:
    """A refused attempt to open an object outside the user's scope (answered with a 404).

    `found` is the object if it exists (reason "scope") or None ("missing": a guessed id).
    The request is about to abort, and its transaction will be rolled back: the entry is
    written after the response is made, in a transaction of its own.
    """
    reason = reason or ("scope" if found is not None else "missing")
    user_id, name = _actor(user)
    details = {
        "action": "access.denied",
        "user_id": user_id,
        "username": name,
        "object_type": object_type,
        "object_id": "" if object_id is None else str(object_id),
        "summary": f"{object_type} {object_id}",
        "before": None,
        "at": None,
    }
    if not has_request_context():
        with Session(db.engine) as own:
            _append(own, remote_addr=None, after={"reason": reason}, **details)
            own.commit()
        return
    details["remote_addr"] = request.remote_addr
    details["after"] = {"reason": reason, "method": request.method, "path": request.path[:200]}
    pending = g.setdefault("audit_denied", [])
    if not pending:
        after_this_request(_write_denied)
    pending.append(details)


def _write_denied(response):
    pending = g.pop("audit_denied", [])
    try:
        # The refused request changes nothing: end its transaction (its locks too) first.
        db.session.rollback()
        for details in pending:
            _append(db.session, **details)
        db.session.commit()
    except Exception:  # the 404 must still go out; the failure is logged loudly
        db.session.rollback()
        current_app.logger.exception("audit: a refused access could not be recorded")
    return response


# --- helpers for the callers: one line each -------------------------------------------------


def assignment_summary(assignment) -> str:
    return f"{assignment.campaign.code} #{assignment.id} {assignment.target_name}"


def _cut(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= COMMENT_CHARS else text[:COMMENT_CHARS] + "…"


def record_assignment(action: str, assignment, *, commit: bool = False, **after: Any) -> Recorded:
    """An action on one assignment (a download, say), with optional details."""
    summary = assignment_summary(assignment)
    return record(action, assignment, summary=summary, after=after or None, commit=commit)


def record_file(action: str, attachment, *, commit: bool = False) -> Recorded:
    """An evidence file stored or downloaded."""
    details = {
        "assignment_id": attachment.assignment_id,
        "item_id": attachment.item_id,
        "size": attachment.size,
        "sha256": attachment.sha256,
    }
    return record(action, attachment, summary=attachment.filename, after=details, commit=commit)


def record_invitation(invitation, assignment) -> Recorded:
    """A contractor invited to answer (the token is never recorded: only its owner has it)."""
    details = {
        "assignment_id": assignment.id,
        "email": invitation.email,
        "expires_at": invitation.expires_at,
    }
    return record(
        "invitation.create", invitation, summary=assignment_summary(assignment), after=details
    )


def record_export(campaign_code: str, what: str, **details: Any) -> Recorded:
    """A campaign's results downloaded or exported (a workbook, a table); commits at once, as
    a download changes nothing else."""
    summary = f"{campaign_code} {what}"
    return record(
        "export.results",
        object_type="campaign",
        object_id=campaign_code,
        summary=summary,
        after=details or None,
        commit=True,
    )


def record_contractor_export(contractor_code: str, what: str, **details: Any) -> Recorded:
    """A company's self-inspections across rounds downloaded or exported; commits at once."""
    return record(
        "export.contractor_rounds",
        object_type="contractor",
        object_id=contractor_code,
        summary=f"{contractor_code} {what}",
        after=details or None,
        commit=True,
    )


def record_imports(outcomes) -> None:
    """Checklist versions imported (created, replaced or published; unchanged ones are not)."""
    for outcome in outcomes:
        if outcome.action == "unchanged":
            continue
        checklist = outcome.checklist
        details = {
            "code": checklist.code,
            "version": checklist.version,
            "result": outcome.action,
            "published": checklist.published_at is not None,
            "content_hash": checklist.content_hash,
            "source": checklist.source_name,
        }
        summary = f"{checklist.code}@{checklist.version}: {outcome.action}"
        record("checklist.import", checklist, summary=summary, after=details)


def record_answers(assignment, action: str, changes) -> Recorded:
    """The answers a save just changed, before → after (`changes`: what save() returned; none:
    it changed nothing, and the revision did not move)."""
    before, after = {}, {}
    for change in changes:
        key = str(change.number)
        before[key] = {"option": change.old.option, "comment": _cut(change.old.comment)}
        after[key] = {"option": change.new.option, "comment": _cut(change.new.comment)}
    after_all = {"revision": assignment.revision, "answers": after}
    return record(
        action,
        assignment,
        summary=f"{assignment_summary(assignment)}: {len(changes)}",
        before={"answers": before},
        after=after_all,
    )


def record_event(assignment) -> Recorded:
    """The newest review step of the assignment (submit, approve, return), with its status."""
    from survey.models import AssignmentEvent

    event = db.session.scalar(
        sa.select(AssignmentEvent)
        .where(AssignmentEvent.assignment_id == assignment.id)
        .order_by(AssignmentEvent.id.desc())
        .limit(1)
    )
    after = {"status": event.to_status}
    if event.comment:
        after["comment"] = _cut(event.comment)
    return record(
        f"assignment.{event.action}",
        assignment,
        summary=assignment_summary(assignment),
        before={"status": event.from_status},
        after=after,
    )


# --- verifying the chain --------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    kind: str  # altered | removed | relinked
    entry_id: int  # the entry altered, or the first one missing
    at: datetime | None  # when it was recorded (None: removed)
    previous: tuple[int, datetime] | None = None  # removed: the entries around the gap
    following: tuple[int, datetime] | None = None
    last_missing: int | None = None


@dataclass(frozen=True)
class Anchor:
    """An entry's id and hash handed out earlier (`flask audit anchor`): that entry must still
    be there and carry that hash. The chain alone cannot show entries cut off its end, nor a
    chain rewritten with fresh hashes; an anchor kept elsewhere can."""

    entry_id: int
    hash: str
    source: str  # where the anchor comes from, for the message


@dataclass(frozen=True)
class AnchorProblem:
    anchor: Anchor
    found: str | None  # the hash the entry carries now; None: there is no such entry


@dataclass(frozen=True)
class ChainReport:
    count: int
    last_id: int | None = None
    last_at: datetime | None = None
    last_hash: str | None = None
    problem: ChainProblem | None = None
    anchor_problems: tuple[AnchorProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.anchor_problems


def verify(
    engine: sa.Engine | None = None, *, batch: int = 1000, anchors: Iterable[Anchor] = ()
) -> ChainReport:
    """Walk the whole chain in id order, streaming, and stop at the first problem; check each
    anchor against the entry it names on the way."""
    engine = engine or db.engine
    table = AuditEntry.__table__
    columns = (table.c[name] for name in (*HASHED, "prev_hash", "hash"))
    stmt = sa.select(*columns).order_by(table.c.id)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(stmt)
        try:
            return _walk(result, anchors)
        finally:
            result.close()  # a server-side cursor left open at the first problem


def _link_problem(row, expected: int, prev_hash: str, previous) -> ChainProblem | None:
    if row.id != expected:
        return ChainProblem(
            "removed",
            expected,
            None,
            previous=previous,
            following=(row.id, row.at),
            last_missing=row.id - 1,
        )
    if entry_hash(row.prev_hash, row._asdict()) != row.hash:
        return ChainProblem("altered", row.id, row.at)
    if row.prev_hash != prev_hash:
        # This entry is intact but does not follow the one before: that one was rewritten,
        # hash and all (or, for the first entry, this one was).
        if previous is None:
            return ChainProblem("altered", row.id, row.at)
        return ChainProblem("relinked", previous[0], previous[1], following=(row.id, row.at))
    return None


def _walk(rows, anchors: Iterable[Anchor]) -> ChainReport:
    pending: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        pending.setdefault(anchor.entry_id, []).append(anchor)
    wrong: list[AnchorProblem] = []
    expected, prev_hash, previous, count = 1, GENESIS_HASH, None, 0
    for row in rows:
        problem = _link_problem(row, expected, prev_hash, previous)
        if problem is not None:
            # Anchors past this point are left unchecked: the trail has failed already.
            return ChainReport(count, problem=problem, anchor_problems=tuple(wrong))
        wrong += [AnchorProblem(a, row.hash) for a in pending.pop(row.id, ()) if a.hash != row.hash]
        prev_hash, previous = row.hash, (row.id, row.at)
        expected += 1
        count += 1
    # Whatever is still pending names an entry past the end of the trail: cut off.
    wrong += [AnchorProblem(a, None) for key in sorted(pending) for a in pending[key]]
    if previous is None:
        return ChainReport(0, anchor_problems=tuple(wrong))
    return ChainReport(count, previous[0], previous[1], prev_hash, anchor_problems=tuple(wrong))


# --- time of day, holidays ------------------------------------------------------------------


# Office hours and days off are the office's (survey.clock); holidays are Japan's (jpholiday).
# The SQL conditions are shared with the access-log rules (reports.accesslogs.hours).
zone, local = clock.zone, clock.local
holiday_name, is_day_off = hours.holiday_name, hours.is_day_off


def day_start(day: date) -> datetime:
    """00:00 local time of a day, in UTC (what the database compares with)."""
    return datetime.combine(day, time(), zone()).astimezone(UTC)


def is_off_hours(moment: datetime) -> bool:
    """At night (22:00–06:00) or on a weekend or Japanese public holiday, local time."""
    moment = local(moment)
    return moment.hour >= NIGHT_STARTS or moment.hour < NIGHT_ENDS or is_day_off(moment.date())


def _local_parts(dialect: str):
    """(hour, day of week with 0 = Sunday, local date) of the entry's time, in SQL."""
    return hours.local_parts(AuditEntry.__table__.c.at, dialect, zone())


def off_hours_clause(dialect: str, first: date, last: date) -> sa.ColumnElement[bool]:
    column = AuditEntry.__table__.c.at
    return hours.off_hours_clause(column, dialect, zone(), first, last, NIGHT_STARTS, NIGHT_ENDS)


# --- searching ------------------------------------------------------------------------------


@dataclass
class Filters:
    user: str = ""
    addr: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: date | None = None
    date_to: date | None = None
    since: datetime | None = None  # exact bounds, for the review's links
    until: datetime | None = None
    text: str = ""
    off_hours: bool = False
    descending: bool = True

    def args(self) -> dict[str, Any]:
        """The same filters as query arguments."""
        values = {
            "user": self.user,
            "addr": self.addr,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "since": _iso(self.since) if self.since else None,
            "until": _iso(self.until) if self.until else None,
            "text": self.text,
            "off_hours": "y" if self.off_hours else None,
            "sort": "asc" if not self.descending else None,
        }
        return {k: v for k, v in values.items() if v not in (None, "")}


def parse_moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return as_utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except ValueError:
        return None


def action_clause(action: str) -> sa.ColumnElement[bool]:
    column = AuditEntry.__table__.c.action
    if action == DOWNLOADS:
        return sa.or_(*(column.startswith(prefix) for prefix in DOWNLOAD_PREFIXES))
    if action.endswith(".*"):
        return column.startswith(action[:-1])
    return column == action


def _date_bounds(session: Session, filters: Filters) -> tuple[date, date]:
    """The local days the filter covers, or those of the whole trail."""
    table = AuditEntry.__table__
    first, last = filters.date_from, filters.date_to
    if first is None or last is None:
        lo, hi = session.execute(sa.select(sa.func.min(table.c.at), sa.func.max(table.c.at))).one()
        today = clock.today()
        first = first or (local(lo).date() if lo else today)
        last = last or (local(hi).date() if hi else today)
    return first, max(first, last)


def statement(filters: Filters, session: Session | None = None) -> sa.Select:
    """SELECT AuditEntry … with every filter, ordered by time."""
    session = session or db.session
    table = AuditEntry.__table__
    stmt = sa.select(AuditEntry)
    if filters.user:
        stmt = stmt.where(table.c.username == filters.user)
    if filters.addr:
        stmt = stmt.where(table.c.remote_addr == filters.addr)
    if filters.action:
        stmt = stmt.where(action_clause(filters.action))
    if filters.object_type:
        stmt = stmt.where(table.c.object_type == filters.object_type)
    if filters.object_id:
        stmt = stmt.where(table.c.object_id == filters.object_id)
    if filters.date_from:
        stmt = stmt.where(table.c.at >= day_start(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(table.c.at < day_start(filters.date_to + timedelta(days=1)))
    if filters.since:
        stmt = stmt.where(table.c.at >= filters.since)
    if filters.until:
        stmt = stmt.where(table.c.at <= filters.until)
    if filters.text:
        stmt = stmt.where(
            sa.or_(
                *(
                    table.c[name].icontains(filters.text, autoescape=True)
                    for name in (
                        "summary",
                        "username",
                        "remote_addr",
                        "object_id",
                        "before_json",
                        "after_json",
                    )
                )
            )
        )
    if filters.off_hours:
        first, last = _date_bounds(session, filters)
        stmt = stmt.where(off_hours_clause(session.connection().dialect.name, first, last))
    order = (
        (table.c.at.desc(), table.c.id.desc()) if filters.descending else (table.c.at, table.c.id)
    )
    return stmt.order_by(*order)


@dataclass(frozen=True)
class Page:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int


def search(filters: Filters, page: int = 1) -> Page:
    stmt = statement(filters)
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    )
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    entries = db.session.scalars(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return Page(list(entries), total, page, pages)


def count(filters: Filters) -> int:
    stmt = statement(filters).order_by(None)
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))


# --- reviewing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    kind: str  # downloads | off_hours | denied | failed_by_user | failed_by_address
    who: str  # a username or an address
    count: int
    first: datetime
    last: datetime
    link: dict[str, str]  # search filters that list the entries behind the flag
    day: date | None = None  # off_hours: the local day
    day_off: str | None = None  # off_hours: the holiday's name, "weekend", or None (a night)


@dataclass
class Review:
    date_from: date
    date_to: date
    downloads: list[Flag] = field(default_factory=list)
    off_hours: list[Flag] = field(default_factory=list)
    denied: list[Flag] = field(default_factory=list)
    failed_sign_ins: list[Flag] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (
            len(self.downloads) + len(self.off_hours) + len(self.denied) + len(self.failed_sign_ins)
        )


def bursts(times: list[datetime], threshold: int, window: timedelta) -> list[tuple[int, int]]:
    """Index ranges (first, last) of the runs where `threshold` or more times fall within
    `window`; overlapping runs are merged into one. `times` must be sorted."""
    found: list[tuple[int, int]] = []
    start = 0
    for end, moment in enumerate(times):
        while moment - times[start] > window:
            start += 1
        if end - start + 1 >= threshold:
            if found and start <= found[-1][1]:
                found[-1] = (found[-1][0], end)
            else:
                found.append((start, end))
    return found


def _window_flags(
    rows: Iterator, key: str, kind: str, threshold: int, window: timedelta, link: dict[str, str]
) -> list[Flag]:
    flags = []
    for who, group in itertools.groupby(rows, key=lambda row: getattr(row, key)):
        if not who:
            continue
        times = [as_utc(row.at) for row in group]
        for first, last in bursts(times, threshold, window):
            args = {
                **link,
                "user" if key == "username" else "addr": who,
                "since": _iso(times[first]),
                "until": _iso(times[last]),
            }
            flags.append(Flag(kind, who, last - first + 1, times[first], times[last], args))
    return flags


def review(date_from: date, date_to: date, session: Session | None = None) -> Review:
    session = session or db.session
    table = AuditEntry.__table__
    dialect = session.connection().dialect.name
    period = sa.and_(
        table.c.at >= day_start(date_from), table.c.at < day_start(date_to + timedelta(days=1))
    )
    found = Review(date_from, date_to)

    def stream(stmt):
        return session.execute(stmt.execution_options(yield_per=1000))

    downloads = (
        sa.select(table.c.username, table.c.at)
        .where(period, action_clause(DOWNLOADS))
        .order_by(table.c.username, table.c.at, table.c.id)
    )
    found.downloads = _window_flags(
        stream(downloads),
        "username",
        "downloads",
        DOWNLOAD_BURST,
        DOWNLOAD_WINDOW,
        {"action": DOWNLOADS},
    )

    failed = table.c.action == "auth.login_failed"
    for key, kind in (("username", "failed_by_user"), ("remote_addr", "failed_by_address")):
        rows = (
            sa.select(table.c[key], table.c.at)
            .where(period, failed)
            .order_by(table.c[key], table.c.at, table.c.id)
        )
        found.failed_sign_ins += _window_flags(
            stream(rows),
            key,
            kind,
            FAILED_SIGN_INS,
            FAILED_WINDOW,
            {"action": "auth.login_failed"},
        )

    denied = (
        sa.select(
            table.c.username,
            sa.func.count().label("n"),
            sa.func.min(table.c.at).label("first"),
            sa.func.max(table.c.at).label("last"),
        )
        .where(period, table.c.action == "access.denied")
        .group_by(table.c.username)
        .order_by(sa.func.count().desc(), table.c.username)
    )
    for row in session.execute(denied):
        first, last = as_utc(row.first), as_utc(row.last)
        link = {"action": "access.denied", "user": row.username, "since": _iso(first)}
        link["until"] = _iso(last)
        found.denied.append(Flag("denied", row.username, row.n, first, last, link))

    _hour, _dow, day = _local_parts(dialect)
    off = (
        sa.select(
            table.c.username,
            day.label("day"),
            sa.func.count().label("n"),
            sa.func.min(table.c.at).label("first"),
            sa.func.max(table.c.at).label("last"),
        )
        .where(
            period,
            table.c.user_id.is_not(None),
            off_hours_clause(dialect, date_from - timedelta(days=1), date_to + timedelta(days=1)),
        )
        .group_by(table.c.username, day)
        .order_by(day, table.c.username)
    )
    for row in session.execute(off):
        on = hours.as_date(row.day)
        day_off = holiday_name(on) or ("weekend" if on.weekday() >= 5 else None)
        link = {
            "user": row.username,
            "date_from": on.isoformat(),
            "date_to": on.isoformat(),
            "off_hours": "y",
        }
        flag = Flag(
            "off_hours", row.username, row.n, as_utc(row.first), as_utc(row.last), link, on, day_off
        )
        found.off_hours.append(flag)
    return found


# --- export ---------------------------------------------------------------------------------

# Characters that cannot be stored in an .xlsx file (control characters but tab and newlines).
ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
CELL_MAX = 32_767


def write_xlsx(
    filters: Filters, out: BinaryIO, *, headers: list[str], conditions: list[tuple[str, str]]
) -> int:
    """The filtered entries, one row each, oldest first or as sorted; returns the row count.

    Streamed from the query into the sheet (reports/streambook.py): memory stays flat whatever
    the count. Every text is a text cell: never a formula, and quote-prefixed when it starts
    like one (reports/safe.py), so that editing the cell cannot turn it into one either.
    """
    widths = [8, 20, 8, 16, 16, 20, 24, 14, 10, 40, 40, 40, 66, 66]
    kinds = ["int", "timestamp", "int"] + ["text"] * 11
    fields = [
        Field(title, kind, width) for title, kind, width in zip(headers, kinds, widths, strict=True)
    ]

    def text(value: str | None) -> str:
        # Characters an .xlsx cannot hold, shown as such rather than escaped.
        return ILLEGAL_XML.sub("\ufffd", value or "")[:CELL_MAX]

    def rows():
        stmt = statement(filters).execution_options(yield_per=500)
        for entry in db.session.scalars(stmt):
            yield (
                entry.id,
                local(entry.at).replace(tzinfo=None),
                entry.user_id,
                text(entry.username),
                text(entry.remote_addr),
                text(entry.action),
                text(str(ACTIONS.get(entry.action, entry.action))),
                text(entry.object_type),
                text(entry.object_id),
                text(entry.summary),
                text(entry.before_json),
                text(entry.after_json),
                text(entry.prev_hash),
                text(entry.hash),
            )

    with Book(out, title="audit") as book:
        count = book.sheet("audit", fields, rows())
        book.notes(
            "conditions",
            [(text(name), text(value)) for name, value in conditions],
            titles=(str(_l("条件")), str(_l("値"))),
        )
    return count
