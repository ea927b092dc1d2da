"""The security office's log pages: log sources (register, change), importing a file (upload →
check → import), the imports, and review rounds (start one: its sample is drawn and counted).
For everyone else the pages do not exist (404, recorded as refused)."""

from __future__ import annotations

import io
from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from reports.accesslogs.messages import ProblemsFound
from survey import access, clock
from survey.extensions import db
from survey.followup.forms import choices
from survey.logreview import bp
from survey.logreview.forms import ImportForm, RoundForm, RouteForm, SourceForm, UploadForm
from survey.models import InformationSystem, LogSource
from survey.services import log_reviews, logs, register_uploads

bp.add_app_template_global(access.can_review_logs, "can_review_logs")

office = access.guard(access.can_review_logs, record="log_source")


def _lang() -> str:
    return str(get_locale() or "ja")


def _source(code: str) -> LogSource:
    source = logs.source_by_code(code)
    if source is None:
        abort(404)
    return source


@bp.route("/")
@office
def index():
    return render_template(
        "logreview/index.html",
        stats=logs.source_stats(),
        imports=logs.imports()[:5],
        rounds=logs.rounds(),
        sampled=logs.sampled_counts(),
        retention=logs.retention_days(),
    )


# --- sources ----------------------------------------------------------------------------------


def _systems() -> list:
    systems = db.session.scalars(
        db.select(InformationSystem)
        .where(InformationSystem.active.is_(True))
        .order_by(InformationSystem.code)
    )
    return choices((s.id, f"{s.code} {s.name}（{s.unit.name}）") for s in systems)


def _edit_source(form: SourceForm, source: LogSource, template_args: dict):
    form.system_id.choices = _systems()
    if form.validate_on_submit():
        if db.session.get(InformationSystem, form.system_id.data or 0) is None:
            form.system_id.errors.append(_("情報システムを選んでください。"))
        else:
            form.populate_obj(source)
            try:
                logs.save_source(source)
            except ProblemsFound as found:
                db.session.rollback()
                for problem in found.problems:
                    target = getattr(form, problem.where, None) or getattr(
                        form, f"{problem.where}_column", None
                    )
                    (target or form.code).errors.append(problem.message(_lang()))
            else:
                db.session.commit()
                flash(_("ログの種類「%(name)s」を保存しました。", name=source.name), "success")
                return redirect(url_for("logreview.index"))
    return render_template("logreview/source_form.html", form=form, **template_args), (
        422 if form.errors else 200
    )


@bp.route("/sources/new", methods=["GET", "POST"])
@office
def source_new():
    return _edit_source(SourceForm(), LogSource(), {"source": None})


@bp.route("/sources/<code>/edit", methods=["GET", "POST"])
@office
def source_edit(code: str):
    source = _source(code)
    # A post carries the whole source: a field left out is empty, not what was stored.
    form = SourceForm(obj=source if request.method == "GET" else None)
    return _edit_source(form, source, {"source": source})


# --- importing a file -------------------------------------------------------------------------


def _kind(source: LogSource) -> str:
    return f"log:{source.id}"  # by id: a code may be longer than the upload's kind column


@bp.route("/sources/<code>/upload", methods=["GET", "POST"])
@office
def upload(code: str):
    source = _source(code)
    form = UploadForm()
    if form.validate_on_submit():
        file = form.file.data
        token = register_uploads.save(
            current_user.id,
            _kind(source),
            file.filename or "",
            file.read(),
        )
        db.session.commit()  # the preview may be opened on another node
        return redirect(url_for("logreview.preview", code=code, token=token))
    return render_template(
        "logreview/upload.html", source=source, form=form, mapping=logs.mapping(source)
    ), (422 if form.errors else 200)


def _upload_or_gone(source: LogSource, token: str):
    found = register_uploads.load(token, current_user.id, _kind(source))
    if found is None:
        flash(
            _(
                "この取り込みは完了したか、期限が切れています。もう一度ファイルをアップロードしてください。"
            ),
            "info",
        )
    return found


def _render_preview(source, found, checked, form, status=200):
    return render_template(
        "logreview/preview.html",
        source=source,
        filename=found.filename,
        checked=checked,
        form=form,
        token=found.token,
        lang=_lang(),
    ), (status if checked.ok else 422)


@bp.route("/sources/<code>/upload/<token>")
@office
def preview(code: str, token: str):
    source = _source(code)
    found = _upload_or_gone(source, token)
    if found is None:
        return redirect(url_for("logreview.upload", code=code))
    checked = logs.check_file(source, io.BytesIO(found.data))
    db.session.rollback()  # a check writes nothing
    return _render_preview(source, found, checked, ImportForm())


@bp.route("/sources/<code>/upload/<token>/import", methods=["POST"])
@office
def do_import(code: str, token: str):
    source = _source(code)
    found = _upload_or_gone(source, token)
    if found is None:
        return redirect(url_for("logreview.imports"))
    form = ImportForm()
    if not form.validate_on_submit():
        return _render_preview(
            source, found, logs.check_file(source, io.BytesIO(found.data)), form, 422
        )
    checked = logs.import_file(source, io.BytesIO(found.data), found.filename)
    if not checked.ok:
        db.session.rollback()
        return _render_preview(source, found, checked, form, 422)
    # The upload goes in the same transaction as the rows: a second click finds it gone.
    if not register_uploads.discard(token):
        db.session.rollback()
        return redirect(url_for("logreview.imports"))
    db.session.commit()
    flash(
        _(
            "%(name)s を取り込みました（%(rows)s 行）。",
            name=found.filename,
            rows=format(checked.result.rows, ","),
        ),
        "success",
    )
    return redirect(url_for("logreview.imports"))


@bp.route("/imports")
@office
def imports():
    return render_template(
        "logreview/imports.html", imports=logs.imports(), retention=logs.retention_days()
    )


# --- review rounds ----------------------------------------------------------------------------


@bp.route("/rounds/new", methods=["GET", "POST"])
@office
def round_new():
    form = RoundForm()
    sources = [(s.id, f"{s.code} {s.name}") for s in logs.sources() if s.active]
    form.source_id.choices = choices(sources)
    form.rule_set_id.choices = choices(
        (r.id, f"{r.label} {r.title}") for r in reversed(logs.rule_sets())
    )
    if not form.is_submitted():
        last = clock.today().replace(day=1) - timedelta(days=1)
        form.period_from.data, form.period_to.data = last.replace(day=1), last
    if form.validate_on_submit():
        made = logs.start_round(
            form.source_id.data,
            form.rule_set_id.data,
            form.period_from.data,
            form.period_to.data,
            code=form.code.data or "",
            title=form.title.data or "",
            seed=form.seed.data or None,
        )
        if made.problems:
            db.session.rollback()
            for name, message in made.problems:
                getattr(form, name).errors.append(message)
        else:
            db.session.commit()
            flash(_("ログ点検「%(title)s」を開始しました。", title=made.round.title), "success")
            return redirect(url_for("logreview.round_detail", code=made.round.code))
    return render_template("logreview/round_form.html", form=form), (422 if form.errors else 200)


def render_round(round_, route_form: RouteForm | None = None) -> str:
    """The round's page: its settings, the sample per unit and reason, and once routed the
    sheets and the review's figures (or the form that routes it)."""
    if route_form is None:
        route_form = RouteForm()
        route_form.due_on.data = clock.today() + timedelta(days=14)
    routed = round_.routed_at is not None
    trend = log_reviews.trend(round_) if routed else []
    return render_template(
        "logreview/round.html",
        round=round_,
        ruleset=logs.rules_of(round_.rule_set),
        figures=logs.figures(round_),
        sheets=log_reviews.sheets_of(round_) if routed else [],
        review=log_reviews.review_figures(round_) if routed else None,
        unit_labels=log_reviews.unit_labels(round_) if routed else {},
        route_form=route_form,
        trend=trend,
        trend_units=sorted({unit for r in trend for unit in r.figures.by_unit}),
        trend_reasons=list(dict.fromkeys(x for r in reversed(trend) for x in r.figures.reasons)),
        today=clock.today(),
        lang=_lang(),
    )


@bp.route("/rounds/<code>")
@office
def round_detail(code: str):
    round_ = logs.round_by_code(code)
    if round_ is None:
        abort(404)
    return render_round(round_)
