"""Results pages and downloads. Every figure comes from reports/ on the user's scope: a manager's
numbers are computed on their subtree, not filtered from the whole (survey.access)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Response, abort, render_template, request
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from checklists import scoring
from reports import aggregate, excel, pages, queries, rounds, tables
from reports import answers as answer_export
from survey import access, clock
from survey.access import can_view_results, results_units
from survey.downloads import content_disposition
from survey.extensions import db
from survey.jobs.routes import to_page
from survey.malformed import db_int
from survey.models import Campaign, OrgUnit
from survey.results import bp, charts
from survey.services import escalation, jobs, levels, trail
from survey.services.overview import campaign_summaries
from survey.urls import list_url

PAGE_SIZE = 50

bp.add_app_template_global(can_view_results, "can_view_results")


@dataclass(frozen=True)
class Scope:
    units: queries.Units
    departments: list[tuple[int, str]]  # the groups of the breakdown's level, to step down to
    department: tuple[int, str] | None  # the unit chosen (?dept=), if any
    label: str  # for the title block of downloads (Japanese: the workbook is)
    shown: str  # the same, in the screen's language
    parent: int | None = None  # the breakdown's level: None, the 部局; else this unit's children
    path: tuple[tuple[int | None, str], ...] = ()  # from the top of the user's scope down to it


def _campaign_or_abort(code: str) -> Campaign:
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == code))
    if campaign is None:
        abort(404)
    if not can_view_results(current_user, campaign):
        # Roles that never see results are told so; a manager outside the campaign learns
        # nothing about it.
        abort(404 if can_view_results(current_user) else 403)
    return campaign


def _conn() -> sa.Connection:
    return db.session.connection()


def _scope_label(unit_name: str | None, department: str | None) -> str:
    """What the figures cover: the whole ward, a manager's subtree, or one department of it."""
    whole = _("全体") if unit_name is None else _("%(unit)s（配下の所属を含む）", unit=unit_name)
    if department is None:
        return whole
    if unit_name is None:
        return department
    return _("%(scope)sのうち%(department)s", scope=whole, department=department)


def _scope(conn: sa.Connection, campaign: aggregate.Campaign) -> Scope:
    """The user's figures and the level their breakdown shows (survey.services.levels)."""
    at = levels.level_or_404(current_user, request.args.get("dept", type=db_int))
    units, parent, chosen = at.units, at.parent, at.chosen
    manager = results_units(current_user) is not None and current_user.unit
    unit_name = current_user.unit.name if manager else None
    departments = aggregate.departments_in_scope(conn, campaign, units, parent)
    department = chosen[1] if chosen else None
    with force_locale("ja"):  # downloads are Japanese, whatever the screen's language
        label = _scope_label(unit_name, department)
    shown = _scope_label(unit_name, department)
    return Scope(units, departments, chosen, label, shown, parent, at.path)


def _open(code: str) -> tuple[Campaign, sa.Connection, aggregate.Campaign, Scope]:
    """The campaign the user may see, its figures' source and the user's scope, or an abort."""
    stored = _campaign_or_abort(code)
    conn = _conn()
    report = aggregate.load(conn, code)
    return stored, conn, report, _scope(conn, report)


def _page() -> int:
    return max(1, request.args.get("page", 1, type=db_int))


def _sort(allowed: tuple[str, ...], default: str) -> tuple[str, bool]:
    sort = request.args.get("sort", default)
    return (sort if sort in allowed else default), request.args.get("dir") == "desc"


@bp.route("/")
@access.guard(does=can_view_results)
def index():
    summaries = campaign_summaries(current_user)
    return render_template("results/index.html", summaries=summaries)


@bp.route("/<code>")
@access.guard()
def campaign(code: str):
    stored, conn, report, scope = _open(code)
    category = request.args.get("category") or None
    try:
        page = pages.campaign_page(conn, report, scope.units, scope.parent, category)
    except pages.UnknownCategory:
        abort(404)
    args = {"dept": scope.department[0] if scope.department else None}
    bars = [
        charts.Bar(
            label=f"{row['number']} {row['text']}",
            title=f"{row['number']}. {row['text']}",
            percent=row["percent"],
            previous=row.get("previous_percent"),
            href=list_url("results.answers", code=code, item=row["number"], **args),
        )
        for row in page.items
    ]
    return render_template(
        "results/campaign.html",
        campaign=stored,
        report=report,
        scope=scope,
        category=category,
        page=page,
        chart=charts.bar_chart(bars),
        option_sections=pages.option_sections(
            aggregate.option_counts(conn, report, scope.units), category, str(get_locale())
        ),
        legend=charts.legend(),
        band=charts.band,
        level_name=_("部局") if scope.parent is None else _("所属"),
        answers_fit=answer_export.fits(page.figures["handed_in"]),
        args=args,
        url_for=list_url,
    )


@bp.route("/<code>/answers")
@access.guard()
def answers(code: str):
    """The respondents behind a figure: who answered an item (how), with their comments."""
    stored, conn, report, scope = _open(code)
    number = request.args.get("item", type=db_int)
    item = next((r for r in report.items if r.number == number), None)
    if item is None:
        abort(404)
    klass = request.args.get("klass") or None
    if klass is not None and klass not in report.listed_classes:
        abort(404)
    sort, descending = _sort(queries.ANSWER_SORTS, "department")
    page = _page()
    total, frame = aggregate.answers_behind(
        conn,
        report,
        number,
        scope.units,
        klass=klass,
        sort=sort,
        descending=descending,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    row = pages.item_figures(conn, report, scope.units, number)
    return render_template(
        "results/answers.html",
        campaign=stored,
        report=report,
        scope=scope,
        item=item,
        figures=row,
        klass=klass,
        shortfall=scoring.SHORTFALL,
        rows=pages.records(frame),
        total=total,
        page=page,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        sort=sort,
        descending=descending,
        args={"dept": scope.department[0] if scope.department else None, "item": number},
        url_for=list_url,
    )


@bp.route("/<code>/respondents")
@access.guard()
def respondents(code: str):
    """One row per respondent: handed in (with their figures) or still to hand in."""
    stored, conn, report, scope = _open(code)
    view = "pending" if request.args.get("view") == "pending" else "handed_in"
    page = _page()
    offset = (page - 1) * PAGE_SIZE
    sort, descending = _sort(queries.RESPONDENT_SORTS, "department")
    if view == "pending":
        total, frame = aggregate.pending(conn, report, scope.units, limit=PAGE_SIZE, offset=offset)
    else:
        total, frame = aggregate.per_respondent(
            conn,
            report,
            scope.units,
            sort=sort,
            descending=descending,
            limit=PAGE_SIZE,
            offset=offset,
        )
    return render_template(
        "results/respondents.html",
        campaign=stored,
        report=report,
        scope=scope,
        view=view,
        rows=pages.records(frame),
        total=total,
        page=page,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        sort=sort,
        descending=descending,
        items=len(report.items),
        # The escalation step each one not handed in has reached (reports.escalation).
        steps=escalation.campaign_steps(stored),
        today=clock.today(),
        args={"dept": scope.department[0] if scope.department else None, "view": view},
        url_for=list_url,
    )


@bp.route("/<code>/trend")
@access.guard()
def trend(code: str):
    """Every round of the campaign's checklist up to this one, item by item, on the user's
    scope (a manager's subtree, or the unit chosen with ?dept=)."""
    stored, conn, report, scope = _open(code)
    sort, descending = _sort(pages.TREND_SORTS, "number")
    page = pages.trend_page(rounds.trend(conn, report, scope.units), sort, descending)
    return render_template(
        "results/trend.html",
        campaign=stored,
        report=report,
        scope=scope,
        page=page,
        viewable=_viewable([r["code"] for r in page.rounds]),
        sort=sort,
        descending=descending,
        args={"dept": scope.department[0] if scope.department else None},
        url_for=list_url,
    )


def _viewable(codes: list[str]) -> set[str]:
    """The campaigns among `codes` whose results the user may open (to link to them)."""
    found = db.session.scalars(sa.select(Campaign).where(Campaign.code.in_(codes)))
    return {c.code for c in found if can_view_results(current_user, c)}


# --- downloads --------------------------------------------------------------------------------

TABLE_NAMES = {
    "items": "集計",
    "departments": "部局別",
    "compare": "前回比較",
    "trend": "推移",
    "options": "選択肢別",
    "grades": "評価段階",
    "respondents": "回答一覧",
    "remarks": "いいえ・コメント一覧",
    "pending": "未提出一覧",
}


def _scale_codes(conn, report: aggregate.Campaign) -> set[str]:
    return {s.code for s in queries.scales(conn, report.info.checklist_id)}


def _report(conn, report: aggregate.Campaign, scope: Scope, figures=True) -> tables.Report:
    """The report on the user's scope; without `figures`, for its long tables only."""
    return tables.build(
        conn,
        report.info.code,
        units=scope.units,
        generated_by=f"{current_user.display_name}（{current_user.username}）",
        scope=scope.label,
        parent=scope.parent,
        tz=clock.zone(),
        figures=figures,
    )


def _filename(built: tables.Report, scope: Scope, name: str, extension: str) -> str:
    """`2017情報セキュリティに係る緊急一斉点検（情報資産）_集計.xlsx`, with the department or
    the manager's unit after it when the figures cover only that."""
    return excel.filename(built, _suffix(scope, name), extension)


def _suffix(scope: Scope, name: str) -> str:
    if scope.label == "全体":
        return name
    return f"{name}_{scope.department[1] if scope.department else _unit_name()}"


def _unit_name() -> str:
    unit = db.session.get(OrgUnit, current_user.unit_id) if current_user.unit_id else None
    return unit.name if unit else ""


@bp.route("/<code>/export.xlsx", methods=["POST"])
@access.guard()
def export_xlsx(code: str):
    """The Excel summary, made by an export job (survey.services.jobs): a 100,000-respondent
    campaign takes half a minute, too long to hold a web worker."""
    _, conn, report, scope = _open(code)
    job, _new = jobs.submit(current_user, "results_summary", _job_params(conn, scope, code, "集計"))
    return to_page(job)


def _job_params(conn, scope: Scope, code: str, suffix: str) -> dict:
    """What an export job of the results needs from the request: the scope resolved to units."""
    return {
        "code": code,
        "units": queries.unit_ids(conn, scope.units),
        "parent": scope.parent,
        "scope": scope.label,
        "suffix": _suffix(scope, suffix),
        "generated_by": f"{current_user.display_name}（{current_user.username}）",
    }


@bp.route("/<code>/export/answers.xlsx", methods=["POST"])
@access.guard()
def export_answers(code: str):
    """The respondents' answers (回答一覧, いいえ・コメント一覧) on the user's scope, for those
    who may download the summary, made by an export job like it; past a sheet's row limit the
    job says to take the CSV instead."""
    _, conn, report, scope = _open(code)
    job, _new = jobs.submit(
        current_user, "results_answers", _job_params(conn, scope, code, "回答データ")
    )
    return to_page(job)


@bp.route("/<code>/export/<table>.<fmt>")
@access.guard()
def export_table(code: str, table: str, fmt: str):
    _campaign_or_abort(code)
    if table not in TABLE_NAMES or fmt not in ("csv", "json"):
        abort(404)
    encoding = "cp932" if request.args.get("encoding") == "cp932" else "utf-8"
    conn = _conn()
    report = aggregate.load(conn, code)
    if table == "compare" and rounds.previous_round(conn, report) is None:
        abort(404)  # the first round: nothing to compare with
    if table == "grades" and not report.grades:
        abort(404)  # the checklist has no grades
    scale = request.args.get("scale") or None
    if scale is not None and (table != "options" or scale not in _scale_codes(conn, report)):
        abort(404)
    scope = _scope(conn, report)
    name = _filename(_report(conn, report, scope, figures=False), scope, TABLE_NAMES[table], fmt)
    generated_by = f"{current_user.display_name}（{current_user.username}）"
    engine = db.engine
    office = clock.zone()  # read here: the rows stream outside the app's context

    def body():
        # The rows stream after this view has returned, outside any Flask context: on a
        # connection of their own, so nothing here needs the request.
        with tables.snapshot(engine) as own:
            built = tables.build(
                own,
                code,
                units=scope.units,
                generated_by=generated_by,
                scope=scope.label,
                parent=scope.parent,
                tz=office,
                figures=table not in tables.LISTS,
            )
            data = tables.table(built, table, scale)
            if fmt == "csv":
                yield from tables.encode_csv(tables.csv_lines(data), encoding)
            else:
                for chunk in tables.json_chunks(built, data):
                    yield chunk.encode("utf-8")

    if fmt == "csv":
        mimetype = f"text/csv; charset={'Shift_JIS' if encoding == 'cp932' else 'utf-8'}"
    else:
        mimetype = "application/json"
    response = Response(body(), content_type=mimetype)
    response.headers["Content-Disposition"] = content_disposition(name, f"{code}_{table}.{fmt}")
    response.headers["Cache-Control"] = "no-store"
    trail.record_export(code, f"{table}.{fmt} {scope.label}", encoding=encoding)
    return response
