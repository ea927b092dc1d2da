"""Auditor pages: the trail searched and filtered, one entry, the review, the Excel export.

Only the security office (admin) and auditors see them; for everyone else they do not exist
(404, and the attempt is recorded like any other refused access).
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, timedelta

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from survey import access, clock
from survey.extensions import db
from survey.formatting import time_element
from survey.malformed import db_int
from survey.models import AuditEntry
from survey.models.types import utcnow
from survey.services import trail, trail_diff
from survey.trail import bp
from survey.trail.forms import ReviewForm, SearchForm
from survey.urls import list_url

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


bp.add_app_template_global(access.can_view_audit, "can_view_audit")
# The audit trail's pages exist only for the security office and the auditors.
access.guard_blueprint(bp, access.can_view_audit, record="audit_entry")


@bp.app_template_filter("audit_time")
def audit_time(moment: datetime | None) -> Markup:
    """Local time to the second: 2026-11-23 21:05:33."""
    if moment is None:
        return Markup("")
    moment = clock.local(moment)
    return time_element(
        moment.isoformat(timespec="seconds"), moment.date().isoformat(), f"{moment:%H:%M:%S}"
    )


def _labels(entry: AuditEntry) -> dict:
    return {
        "action": str(trail.ACTIONS.get(entry.action, entry.action)),
        "object": str(trail.OBJECT_TYPES.get(entry.object_type, entry.object_type)),
        "off_hours": trail.is_off_hours(entry.at),
    }


@bp.route("/")
def index():
    form = SearchForm(request.args)
    form.validate()
    filters = form.filters()
    found = trail.search(filters, request.args.get("page", 1, type=db_int))
    args = filters.args()
    return render_template(
        "trail/index.html",
        form=form,
        found=found,
        rows=[(entry, _labels(entry)) for entry in found.entries],
        args=args,
        filters=filters,
        descending=filters.descending,
        url_for=list_url,
    )


@bp.route("/entries/<int:entry_id>")
def entry(entry_id: int):
    found = db.session.get(AuditEntry, entry_id)
    if found is None:
        abort(404)

    def pretty(value):
        return None if value is None else json.dumps(value, ensure_ascii=False, indent=2)

    before, after = found.before, found.after
    return render_template(
        "trail/entry.html",
        entry=found,
        labels=_labels(found),
        changes=trail_diff.changes(before, after),
        before=pretty(before),
        after=pretty(after),
    )


@bp.route("/review")
def review():
    form = ReviewForm(request.args)
    form.validate()
    today = clock.today()
    date_to = (form.date_to.data if not form.date_to.errors else None) or today
    date_from = (form.date_from.data if not form.date_from.errors else None) or (
        date_to - timedelta(days=trail.REVIEW_DAYS - 1)
    )
    if date_from > date_to:
        date_from = date_to
    form.date_from.data, form.date_to.data = date_from, date_to
    return render_template(
        "trail/review.html",
        form=form,
        review=trail.review(date_from, date_to),
        thresholds={
            "downloads": trail.DOWNLOAD_BURST,
            "download_minutes": int(trail.DOWNLOAD_WINDOW.total_seconds() // 60),
            "failed": trail.FAILED_SIGN_INS,
            "failed_minutes": int(trail.FAILED_WINDOW.total_seconds() // 60),
            "night_starts": trail.NIGHT_STARTS,
            "night_ends": trail.NIGHT_ENDS,
        },
        url_for=list_url,
    )


@bp.route("/export.xlsx")
def export():
    form = SearchForm(request.args)
    form.validate()
    filters = form.filters()
    total = trail.count(filters)
    if total > trail.EXPORT_MAX_ROWS:
        flash(
            _(
                "該当する記録が %(n)d 件あり、一度に出力できる %(max)d 件を超えています。"
                "条件を絞り込んでください。",
                n=total,
                max=trail.EXPORT_MAX_ROWS,
            ),
            "error",
        )
        return redirect(url_for("trail.index", **filters.args()))
    handle = tempfile.TemporaryFile()
    conditions = [
        (_("出力日時"), clock.local(utcnow()).strftime("%Y-%m-%d %H:%M:%S")),
        (_("出力者"), current_user.username),
        (_("件数"), str(total)),
    ] + [(name, str(value)) for name, value in filters.args().items()]
    rows = trail.write_xlsx(
        filters,
        handle,
        headers=[
            _("ID"),
            _("日時"),
            _("ユーザーID"),
            _("ユーザー名"),
            _("接続元"),
            _("操作コード"),
            _("操作"),
            _("対象の種類"),
            _("対象ID"),
            _("概要"),
            _("変更前"),
            _("変更後"),
            _("直前のハッシュ"),
            _("ハッシュ"),
        ],
        conditions=conditions,
    )
    trail.record(
        "export.audit",
        summary=str(rows),
        after={"filters": filters.args(), "rows": rows},
        commit=True,
    )
    handle.seek(0)
    stamp = clock.local(utcnow()).strftime("%Y%m%d-%H%M%S")
    response = send_file(
        handle, mimetype=XLSX, as_attachment=True, download_name=f"audit-log_{stamp}.xlsx"
    )
    response.headers["Cache-Control"] = "no-store"
    return response
