"""What an export job can make (survey.services.jobs): each kind is a plain function
`(conn, params, progress) -> Made` that writes its file from `params` alone (JSON: the request
that asked for it is long gone when a worker runs it) and reports `progress(done, total)`.

`params` holds what the request decided: the campaign, the scope already resolved to unit ids,
the names for the file. `requested_at` (ISO 8601, added by the runner) is when it was asked for:
the workbook says it was made then, as a direct download would have.

The exports that stay direct downloads: the CSV and JSON tables (streamed row by row as they
are read, holding nothing), and those bounded by one object (one audit's status, one company's
rounds, one questionnaire's answer sheet), which take well under a second.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from reports import answers, excel, tables
from reports import progress as progress_book
from survey import clock
from survey.extensions import db
from survey.models import Campaign, User
from survey.services import levels, trail
from survey.services import progress as progress_service

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Progress = Callable[[int, int], None]


class JobRefused(Exception):
    """The export cannot be made as asked; the message (Japanese) is shown to its owner."""


@dataclass(frozen=True)
class Made:
    handle: IO[bytes]  # the file, closed by the runner once stored
    filename: str  # as the browser should name it (Japanese)
    fallback: str  # the ASCII name for old clients
    mimetype: str


@dataclass(frozen=True)
class Kind:
    title: str  # what the job's page calls it (lazy: the screen's language)
    make: Callable[[sa.Connection, dict, Progress], Made]
    # The audit trail's record of the file's download (trail.record's arguments): made when
    # the file leaves, each time it does, as a direct download was.
    recorded: Callable[[dict], dict]


def _requested(params: dict) -> datetime:
    return datetime.fromisoformat(params["requested_at"])


def results_summary(conn: sa.Connection, params: dict, progress: Progress) -> Made:
    """The Excel summary of a campaign's results (reports/excel.py) on the owner's scope."""
    code = params["code"]
    report = tables.build(
        conn,
        code,
        units=params["units"],
        generated_by=params["generated_by"],
        scope=params["scope"],
        parent=params["parent"],
        now=_requested(params),
        tz=clock.zone(),
    )
    handle = tempfile.TemporaryFile()
    excel.write_report(report, handle, progress=progress)
    return Made(
        handle, excel.filename(report, params["suffix"], "xlsx"), f"{code}_summary.xlsx", XLSX
    )


def results_answers(conn: sa.Connection, params: dict, progress: Progress) -> Made:
    """The respondents' answers (reports/answers.py: 回答一覧, いいえ・コメント一覧) on the
    owner's scope; refused with a pointer to CSV when they would not fit on one sheet."""
    code = params["code"]
    report = tables.build(
        conn,
        code,
        units=params["units"],
        generated_by=params["generated_by"],
        scope=params["scope"],
        parent=params["parent"],
        now=_requested(params),
        tz=clock.zone(),
        figures=False,
    )
    handle = tempfile.TemporaryFile()
    progress(0, 1)
    try:
        answers.write_xlsx(report, handle)
    except answers.TooManyRespondents as too_many:
        handle.close()
        raise JobRefused(
            _(
                "回答者が%(count)s人いるため、回答一覧はExcelの1シート（最大%(rows)s行）に"
                "入りません。回答一覧・いいえ・コメント一覧はCSVで出力してください。",
                count=f"{too_many.respondents:,}",
                rows=f"{too_many.max_rows:,}",
            )
        ) from None
    progress(1, 1)
    return Made(
        handle, excel.filename(report, params["suffix"], "xlsx"), f"{code}_answers.xlsx", XLSX
    )


AUDIT_HEADERS = (
    _l("ID"),
    _l("日時"),
    _l("ユーザーID"),
    _l("ユーザー名"),
    _l("接続元"),
    _l("操作コード"),
    _l("操作"),
    _l("対象の種類"),
    _l("対象ID"),
    _l("概要"),
    _l("変更前"),
    _l("変更後"),
    _l("直前のハッシュ"),
    _l("ハッシュ"),
)


def audit_filters(args: dict) -> trail.Filters:
    """The filters `trail.Filters.args()` wrote, read back."""

    def day(name: str) -> date | None:
        return date.fromisoformat(args[name]) if args.get(name) else None

    return trail.Filters(
        user=args.get("user", ""),
        addr=args.get("addr", ""),
        action=args.get("action", ""),
        object_type=args.get("object_type", ""),
        object_id=args.get("object_id", ""),
        date_from=day("date_from"),
        date_to=day("date_to"),
        since=trail.parse_moment(args.get("since")),
        until=trail.parse_moment(args.get("until")),
        text=args.get("text", ""),
        off_hours=bool(args.get("off_hours")),
        descending=args.get("sort") != "asc",
    )


def audit_log(conn: sa.Connection, params: dict, progress: Progress) -> Made:
    """The audit trail as filtered, in the language of the screen it was asked from."""
    filters = audit_filters(params["filters"])
    requested = clock.local(_requested(params))
    handle = tempfile.TemporaryFile()
    with force_locale(params["lang"]):
        conditions = [
            (_("出力日時"), requested.strftime("%Y-%m-%d %H:%M:%S")),
            (_("出力者"), params["username"]),
            (_("件数"), str(params["rows"])),
        ] + [(name, str(value)) for name, value in params["filters"].items()]
        trail.write_xlsx(
            filters, handle, headers=[str(h) for h in AUDIT_HEADERS], conditions=conditions
        )
    stamp = requested.strftime("%Y%m%d-%H%M%S")
    name = f"audit-log_{stamp}.xlsx"
    return Made(handle, name, name, XLSX)


def _results_recorded(params: dict) -> dict:
    code = params["code"]
    return {
        "action": "export.results",
        "object_type": "campaign",
        "object_id": code,
        "summary": f"{code} xlsx {params['scope']}",
    }


def _answers_recorded(params: dict) -> dict:
    code = params["code"]
    return {
        "action": "export.results",
        "object_type": "campaign",
        "object_id": code,
        "summary": f"{code} answers.xlsx {params['scope']}",
    }


def _audit_recorded(params: dict) -> dict:
    rows = params["rows"]
    return {
        "action": "export.audit",
        "summary": str(rows),
        "after": {"filters": params["filters"], "rows": rows},
    }


def progress_pending(conn: sa.Connection, params: dict, progress: Progress) -> Made:
    """The 未提出一覧 workbook of a campaign's progress, on its owner's scope as it is now (a
    unit the owner no longer oversees is refused, as the page would refuse it)."""
    owner = db.session.get(User, params["owner_id"])
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == params["code"]))
    level = levels.level(owner, params["dept"])
    if level is None or campaign is None:
        raise JobRefused(_("この範囲の一覧は作成できなくなりました。画面から開き直してください。"))
    rows = progress_service.pending_rows(
        progress_service.pending(campaign, owner, clock.today(), level)
    )
    progress(1, 2)
    heading = progress_book.Heading(
        title=campaign.title,
        campaign=f"{campaign.code}（締切 {campaign.closes_on.isoformat()}）",
        scope=params["scope"],
        generated_at=clock.local(_requested(params)),
        generated_by=params["generated_by"],
    )
    handle = tempfile.TemporaryFile()
    progress_book.write_pending(rows, heading, handle)
    return Made(handle, params["filename"], f"{campaign.code}_pending.xlsx", XLSX)


def _pending_recorded(params: dict) -> dict:
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == params["code"]))
    return {
        "action": "export.progress",
        "obj": campaign,
        "summary": f"{params['code']} pending {params['scope']}",
    }


KINDS: dict[str, Kind] = {
    "results_summary": Kind(_l("集計結果（Excel）"), results_summary, _results_recorded),
    "results_answers": Kind(_l("回答データ（Excel）"), results_answers, _answers_recorded),
    "audit_log": Kind(_l("監査ログ（Excel）"), audit_log, _audit_recorded),
    "progress_pending": Kind(_l("未提出一覧（Excel）"), progress_pending, _pending_recorded),
}
