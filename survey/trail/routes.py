"""Auditor pages: the trail searched and filtered, one entry, the review, the Excel export.

Only the security office (admin) and auditors see them; for everyone else they do not exist
(404, and the attempt is recorded like any other refused access).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from survey import access, clock
from survey.extensions import db
from survey.formatting import time_element
from survey.jobs.routes import to_page
from survey.malformed import db_int
from survey.models import AuditEntry
from survey.services import jobs, trail, trail_diff
from survey.trail import bp
from survey.trail.forms import ReviewForm, SearchForm
from survey.urls import list_url

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


@bp.route("/export.xlsx", methods=["POST"])
def export():
    """The trail as filtered, made by an export job (survey.services.jobs): up to
    EXPORT_MAX_ROWS entries, which takes longer than a web worker should be held."""
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
    job, _new = jobs.submit(
        current_user,
        "audit_log",
        {
            "filters": filters.args(),
            "rows": total,
            "username": current_user.username,
            "lang": get_locale().language,
        },
    )
    return to_page(job)
