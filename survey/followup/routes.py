"""Corrective actions and the security office's dashboard: parse, call the services, commit,
redirect. Who may do what is decided in survey.access."""

from __future__ import annotations

import csv
import io
import math
from datetime import timedelta

import sqlalchemy as sa
from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from checklists import scoring
from reports.safe import csv_text
from survey import access, clock
from survey.downloads import content_disposition, send_stored
from survey.extensions import db
from survey.followup import bp
from survey.followup.forms import ActionForm, FilterForm, ReopenForm, StepForm, choices
from survey.formatting import parenthesized
from survey.labels import (
    ACTION_EVENTS,
    ACTION_SOURCES,
    ACTION_STATUSES,
    AUDIT_KINDS,
    FINDING_KINDS,
    MEASURE_RESULTS,
    label,
)
from survey.malformed import db_int
from survey.models import (
    ActionEvidence,
    Answer,
    Assignment,
    AuditFinding,
    Campaign,
    Contract,
    Contractor,
    CorrectiveAction,
    Item,
    OrgUnit,
    Role,
)
from survey.models.campaigns import CampaignStatus
from survey.models.followup import ActionSource
from survey.services import actions, escalation, evaluations, evidence, trail, uploads
from survey.services.campaigns import CampaignError, reopen_assignment
from survey.services.overview import campaign_summaries
from survey.urls import list_url

DEFAULT_DAYS = 30  # a new action is due this many days later unless the opener says otherwise

for _name, _table in (
    ("action_status_label", ACTION_STATUSES),
    ("action_source_label", ACTION_SOURCES),
    ("action_event_label", ACTION_EVENTS),
    ("audit_kind_label", AUDIT_KINDS),
    ("finding_kind_label", FINDING_KINDS),
    ("measure_result_label", MEASURE_RESULTS),
):
    bp.add_app_template_global(lambda code, table=_table: label(table, code), _name)
bp.add_app_template_global(access.can_view_followup_dashboard, "can_view_followup")
bp.add_app_template_global(access.may_open_actions, "may_open_actions")


@bp.app_template_global("action_escalation_step")
def action_escalation_step(action, today):
    """The step an overdue action has reached, for its status badge; the office's steps are
    read once per request, however many actions a list shows."""
    if "office_steps" not in g:
        g.office_steps = escalation.office_steps()
    return escalation.action_step(action, today, g.office_steps)


access.guard_blueprint(bp)


# --- choices within the user's scope -----------------------------------------------------------


def unit_choices(user) -> list[tuple[int | None, str]]:
    stmt = sa.select(OrgUnit.id, OrgUnit.name, OrgUnit.code).where(OrgUnit.active.is_(True))
    if user.role not in access.SEE_ALL:
        if user.unit_id is None:
            return []
        stmt = stmt.where(OrgUnit.id.in_(access.subtree_ids(user.unit_id)))
    rows = db.session.execute(stmt.order_by(OrgUnit.code))
    return [(row.id, row.name + parenthesized(row.code)) for row in rows]


def contractor_choices(user) -> list[tuple[int | None, str]]:
    stmt = sa.select(Contractor.id, Contractor.name).where(Contractor.active.is_(True))
    if user.role == Role.CONTRACTOR:
        stmt = stmt.where(Contractor.id == user.contractor_id)
    elif user.role not in access.SEE_ALL:
        if user.unit_id is None:
            return []
        # Only the companies carrying out contracts of the user's units.
        stmt = stmt.where(
            Contractor.id.in_(
                sa.select(Contract.contractor_id).where(
                    Contract.unit_id.in_(access.subtree_ids(user.unit_id))
                )
            )
        )
    return [(row.id, row.name) for row in db.session.execute(stmt.order_by(Contractor.code))]


def _with_blank(pairs, blank: str):
    return choices([("", blank)] + [(str(value), name) for value, name in pairs])


# --- dashboard ---------------------------------------------------------------------------------


@bp.route("/")
@access.guard(does=access.can_view_followup_dashboard)
def dashboard():
    day = clock.today()
    scoped = access.scope_actions(current_user, sa.select(CorrectiveAction))
    ids = access.scope_actions(current_user, sa.select(CorrectiveAction.id))
    running = [
        s for s in campaign_summaries(current_user) if s.campaign.status == CampaignStatus.OPEN
    ]
    return render_template(
        "followup/dashboard.html",
        counts=actions.counts(ids, day),
        urgent=actions.most_urgent(scoped, day),
        campaigns=running,
        evaluations_due=evaluations.evaluations_due(day),
        recommendations_overdue=evaluations.recommendations_overdue(day),
        today=day,
    )


# --- the list ------------------------------------------------------------------------------


def _filters(form: FilterForm) -> actions.Filters:
    def ok(field):
        return None if field.errors else field.data

    return actions.Filters(
        campaign_id=ok(form.campaign),
        unit_id=ok(form.unit),
        contractor_id=ok(form.contractor),
        status=ok(form.status) or None,
        due_from=ok(form.due_from),
        due_to=ok(form.due_to),
        overdue=bool(form.overdue.data),
        sort=form.sort.data if form.sort.data in actions.SORTS else "due_on",
        descending=form.dir.data == "desc",
        today=clock.today(),
    )


def _campaign_choices():
    ids = access.scope_actions(current_user, sa.select(CorrectiveAction.campaign_id))
    rows = db.session.execute(
        sa.select(Campaign.id, Campaign.title)
        .where(Campaign.id.in_(ids))
        .order_by(Campaign.opens_on.desc())
    )
    return [(row.id, row.title) for row in rows]


@bp.route("/actions/")
def action_list():
    form = FilterForm(request.args)
    form.campaign.choices = _with_blank(_campaign_choices(), _("すべて"))
    form.unit.choices = _with_blank(unit_choices(current_user), _("すべて"))
    form.contractor.choices = _with_blank(contractor_choices(current_user), _("すべて"))
    form.validate()
    filters = _filters(form)
    page = max(1, request.args.get("page", 1, type=db_int))
    scoped = access.scope_actions(current_user, actions.statement(filters))
    total, rows = actions.search(scoped, filters, page)
    args = {k: v for k, v in request.args.items() if k not in ("page", "sort", "dir") and v}
    return render_template(
        "followup/actions.html",
        form=form,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / actions.PAGE_SIZE)),
        filters=filters,
        args=args,
        today=filters.today,
        url_for=list_url,
    )


@bp.route("/actions.csv")
def action_csv():
    """The list as filtered, every page, as CSV (UTF-8 with BOM, for Excel)."""
    form = FilterForm(request.args)
    form.validate()
    filters = _filters(form)
    scoped = access.scope_actions(current_user, actions.statement(filters))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(actions.CSV_HEADER)
    count = 0
    with force_locale("ja"):
        for row in actions.csv_rows(scoped, filters.today):
            writer.writerow([csv_text(v) if isinstance(v, str) else v for v in row])
            count += 1
    trail.record(
        "export.actions",
        summary=str(count),
        after={"filters": {k: v for k, v in request.args.items() if v}, "rows": count},
        commit=True,
    )
    response = Response("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = content_disposition(
        f"是正措置_{filters.today.isoformat()}.csv", "corrective-actions.csv"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- opening an action -------------------------------------------------------------------------


def _shortfall_answer(assignment: Assignment, item_id) -> Answer:
    """The answer an action is opened from: いいえ, 一部実施 or わからない; 404 for anything else
    (a made-up link; an informational answer is never turned into an action)."""
    answer = db.session.scalar(
        sa.select(Answer).where(Answer.assignment_id == assignment.id, Answer.item_id == item_id)
    )
    if answer is None or answer.option is None or answer.option.klass not in scoring.SHORTFALL:
        abort(404)
    return answer


def _source(form: ActionForm, values) -> dict:
    """What the action is opened from (an answer, a finding, or nothing), from the query string
    or the posted hidden fields, each checked against the user's scope."""
    assignment_id = values.get("assignment", type=db_int) or _int(form.assignment_id.data)
    finding_id = values.get("finding", type=db_int) or _int(form.finding_id.data)
    if assignment_id:
        assignment = access.assignment_or_404(assignment_id, current_user)
        item_id = values.get("item", type=db_int) or _int(form.item_id.data)
        answer = _shortfall_answer(assignment, item_id)
        contractor = assignment.contractor or (
            assignment.contract.contractor if assignment.contract else None
        )
        return {
            "source": ActionSource.ANSWER,
            "assignment": assignment,
            "item": answer.item,
            "answer": answer,
            "unit": assignment.responsible_unit,
            "contractor": contractor,
        }
    if finding_id:
        finding = db.session.get(AuditFinding, finding_id)
        if finding is None:
            abort(404)
        access.audit_or_404(finding.audit_id, current_user)
        return {
            "source": ActionSource.FINDING,
            "finding": finding,
            "unit": finding.audit.unit,
            "contractor": finding.audit.contractor,
        }
    return {"source": ActionSource.MANUAL}


def _int(value):
    try:
        return db_int(value) if value else None
    except (TypeError, ValueError):
        return None


def _prefill(form: ActionForm, origin: dict) -> None:
    form.due_on.data = clock.today() + timedelta(days=DEFAULT_DAYS)
    form.unit.data = origin["unit"].id if origin.get("unit") else None
    form.contractor.data = origin["contractor"].id if origin.get("contractor") else None
    if origin["source"] == ActionSource.ANSWER:
        assignment, item, answer = origin["assignment"], origin["item"], origin["answer"]
        form.assignment_id.data, form.item_id.data = str(assignment.id), str(item.id)
        form.title.data = _(
            "項目%(n)s の是正（%(target)s）", n=item.number, target=assignment.target_name
        )[:300]
        lines = [
            f"{assignment.campaign.title}",
            _("項目%(n)s: %(text)s", n=item.number, text=item.text),
            _("回答: %(answer)s", answer=answer.option.label),
        ]
        if answer.comment:
            lines.append(_("コメント: %(comment)s", comment=answer.comment))
        form.description.data = "\n".join(lines)
    elif origin["source"] == ActionSource.FINDING:
        finding = origin["finding"]
        form.finding_id.data = str(finding.id)
        form.title.data = (finding.heading or finding.text.split("\n")[0])[:300]
        form.description.data = finding.text


def _owner_problem(form: ActionForm) -> str | None:
    """The owner must be within reach: a manager names a unit of their subtree (and may add a
    company working for it); the office names a unit, a company or both."""
    units = {value for value, _n in unit_choices(current_user)}
    companies = {value for value, _n in contractor_choices(current_user)}
    unit, company = form.unit.data, form.contractor.data
    if unit is None and company is None:
        return _("所管の所属か委託事業者を選んでください。")
    if unit is not None and unit not in units:
        return _("選んだ所属には是正措置を登録できません。")
    if company is not None and company not in companies:
        return _("選んだ委託事業者には是正措置を登録できません。")
    if current_user.role != Role.ADMIN and unit is None:
        return _("所管の所属を選んでください。")
    return None


def _action_page(form: ActionForm, origin: dict, status: int = 200):
    form.unit.choices = _with_blank(unit_choices(current_user), _("（選択してください）"))
    form.contractor.choices = _with_blank(contractor_choices(current_user), _("（なし）"))
    return render_template("followup/action_new.html", form=form, origin=origin), status


@bp.route("/actions/new", methods=["GET", "POST"])
@access.guard(does=access.may_open_actions)
def action_new():
    form = ActionForm()
    origin = _source(form, request.args)
    if origin.get("unit") is not None and not access.may_open_actions(
        current_user, origin["unit"].id
    ):
        abort(403)
    if request.method == "GET":
        _prefill(form, origin)
        return _action_page(form, origin)
    problem = None if not form.validate_on_submit() else _owner_problem(form)
    if form.errors or problem:
        if problem:
            form.unit.errors = [*form.unit.errors, problem]
        return _action_page(form, origin, 422)
    action = actions.open_action(
        title=form.title.data,
        description=(form.description.data or "").strip(),
        due_on=form.due_on.data,
        created_by=current_user,
        unit=db.session.get(OrgUnit, form.unit.data) if form.unit.data else None,
        contractor=db.session.get(Contractor, form.contractor.data)
        if form.contractor.data
        else None,
        source=origin["source"],
        assignment=origin.get("assignment"),
        item=origin.get("item"),
        finding=origin.get("finding"),
    )
    db.session.commit()
    flash(_("是正措置を登録しました。担当者にメールで依頼しました。"), "success")
    return redirect(url_for("followup.action_detail", action_id=action.id))


# --- one action ------------------------------------------------------------------------------


def _verbs(action: CorrectiveAction) -> list[str]:
    """The steps the user may take now, in the order the page offers them."""
    return [
        verb
        for verb, (sources, _target) in actions.STEPS.items()
        if action.status in sources and access.can_action(current_user, verb, action)
    ]


@bp.route("/actions/<int:action_id>")
def action_detail(action_id: int):
    action = access.action_or_404(action_id, current_user)
    form = StepForm()
    form.expected.data = action.status
    return render_template(
        "followup/action.html",
        action=action,
        form=form,
        verbs=_verbs(action),
        today=clock.today(),
        item=db.session.get(Item, action.item_id) if action.item_id else None,
        reopen_form=_reopen_form(action),
    )


REOPEN_DAYS = 14  # a reopened questionnaire is due this many days later unless changed


def _reopen_form(action: CorrectiveAction) -> ReopenForm | None:
    """The one-click "answer this item again" after the fix: the office, on an action that
    came from an answer."""
    if action.assignment_id is None or not access.can_manage_campaigns(current_user):
        return None
    form = ReopenForm(formdata=None)
    form.reason.data = _(
        "是正措置「%(title)s」の対応後の状況で、項目を回答し直してください。", title=action.title
    )
    form.due_on.data = clock.today() + timedelta(days=REOPEN_DAYS)
    return form


@bp.route("/actions/<int:action_id>/reopen", methods=["POST"])
def action_reopen(action_id: int):
    action = access.action_or_404(action_id, current_user)
    if action.assignment is None or not access.can_manage_campaigns(current_user):
        abort(403)
    form = ReopenForm()
    if form.validate_on_submit():
        try:
            done = reopen_assignment(
                action.assignment, current_user, form.reason.data, form.due_on.data
            )
        except CampaignError as refused:
            db.session.rollback()
            flash(refused.message, "error")
        else:
            db.session.commit()
            if done:
                flash(_("回答を再開しました。対象の担当者に再回答を依頼しました。"), "success")
            else:
                flash(_("この回答はすでにその期限まで再開しています。"), "info")
            return redirect(url_for("followup.action_detail", action_id=action.id))
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("followup.action_detail", action_id=action.id))


def _step_message(verb: str) -> str:
    return {
        "start": _("対応中にしました。"),
        "report": _("措置を報告しました。情報政策課が確認します。"),
        "verify": _("措置を確認し、この是正措置を完了にしました。"),
        "send_back": _("差し戻しました。担当者に再対応を依頼しました。"),
    }[verb]


@bp.route("/actions/<int:action_id>/<any(start, report, verify, send_back):verb>", methods=["POST"])
def action_step(action_id: int, verb: str):
    action = access.action_or_404(action_id, current_user, verb)
    form = StepForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("followup.action_detail", action_id=action.id))
    uploads = (form.evidence.data or []) if verb == "report" else []
    try:
        taken = actions.take_step(
            action,
            verb,
            current_user,
            expected=form.expected.data or "",
            comment=form.comment.data or "",
            measure=form.measure.data or "",
            uploads=uploads,
        )
    except (actions.StepRefused, evidence.EvidenceRefused) as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return _step_refused(action_id, form)
    db.session.commit()
    if taken:
        flash(_step_message(verb), "success")
    else:
        flash(_("この操作はすでに済んでいます。"), "info")
    return redirect(url_for("followup.action_detail", action_id=action.id))


def _step_refused(action_id: int, form: StepForm):
    """The page again, keeping what was typed (a measure can be long)."""
    action = db.session.get(CorrectiveAction, action_id)
    form.expected.data = action.status
    return (
        render_template(
            "followup/action.html",
            action=action,
            form=form,
            verbs=_verbs(action),
            today=clock.today(),
            item=db.session.get(Item, action.item_id) if action.item_id else None,
            reopen_form=_reopen_form(action),
        ),
        409,
    )


@bp.route("/actions/<int:action_id>/evidence/<int:evidence_id>")
def action_evidence(action_id: int, evidence_id: int):
    action = access.action_or_404(action_id, current_user)
    row = db.session.get(ActionEvidence, evidence_id)
    if row is None or row.action_id != action.id:
        trail.record_denied("action_evidence", evidence_id, current_user, found=row)
        abort(404)
    stored = evidence.file_or_404(row, "action_evidence")
    trail.record(
        "download.action_evidence",
        row,
        summary=row.filename,
        after={"action_id": action.id, "sha256": row.sha256},
        commit=True,
    )
    return send_stored(
        stored,
        # Names stored before they were cleaned may hold what a header cannot carry.
        uploads.clean_filename(row.filename, "evidence"),
        row.content_type,
    )
