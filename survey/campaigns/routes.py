"""Thin views over survey.services.campaigns and .progress: parse, call, commit, redirect."""

from __future__ import annotations

import math

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from survey import access, clock
from survey.campaigns import bp
from survey.campaigns.forms import (
    AssignmentExtendForm,
    CampaignForm,
    ConfirmForm,
    ExtendForm,
    ReopenForm,
    StepsForm,
)
from survey.extensions import db
from survey.jobs.routes import to_page
from survey.malformed import db_int
from survey.models import Assignment, Campaign, OrgUnit
from survey.models.campaigns import AssignmentStatus, CampaignStatus
from survey.services import answering, escalation, jobs, levels
from survey.services import campaigns as service
from survey.services import progress as progress_service
from survey.services.campaigns import CampaignError
from survey.services.overview import campaign_summaries

PAGE_SIZE = 50
TARGET_PAGE_SIZE = 100

bp.add_app_template_global(access.can_view_progress, "can_view_progress")
bp.add_app_template_global(access.can_manage_campaigns, "can_manage_campaigns")


access.guard_blueprint(bp)
# The management pages: the security office acts, the auditors read.
admins = access.guard(does=access.can_manage_campaigns)
readers = access.guard(does=access.sees_all)


# --- helpers --------------------------------------------------------------------------------


def _campaign(code: str) -> Campaign:
    campaign = service.by_code(code)
    if campaign is None:
        abort(404)
    return campaign


def _admin_campaign(code: str, *, draft: bool = False) -> Campaign | None:
    """The campaign for an admin action; None (with a message) when its state forbids it."""
    campaign = _campaign(code)
    if draft and campaign.status != CampaignStatus.DRAFT:
        flash(
            _("実施中または終了した点検は変更・削除できません。準備中の点検だけが対象です。"),
            "error",
        )
        return None
    return campaign


def _back(campaign: Campaign):
    return redirect(url_for("campaigns.detail", code=campaign.code))


def _page() -> int:
    return max(1, request.args.get("page", 1, type=db_int))


def _show_problems(form, error: CampaignError) -> None:
    placed = False
    for name, message in error.problems.items():
        if name in form:
            form[name].errors = [*form[name].errors, message]
            placed = True
    if not placed:
        flash(error.message, "error")


def _checklist_choices(form: CampaignForm, code: str | None = None) -> None:
    choices = [(None, _("選んでください"))]
    for checklist in service.published_checklists():
        if code is None or checklist.code == code:
            label = f"{checklist.title}（{checklist.code} 第{checklist.version}版）"
            choices.append((checklist.id, label))
    form.checklist_id.choices = choices


def _parsed(form) -> bool:
    """Run the field parsers (dates); False when one failed. Rules come after, from the
    service, so that every problem is shown at once."""
    form.validate()
    return not any(field.errors for field in form)


# --- the list and one campaign ----------------------------------------------------------------


@bp.route("/")
def index():
    if not access.can_view_progress(current_user):
        abort(403)
    summaries = campaign_summaries(current_user)
    drafts = []
    if current_user.role in access.SEE_ALL:
        drafts = db.session.scalars(
            sa.select(Campaign)
            .where(Campaign.status == CampaignStatus.DRAFT)
            .order_by(Campaign.opens_on.desc(), Campaign.code)
        ).all()
    return render_template("campaigns/index.html", summaries=summaries, drafts=drafts)


@bp.route("/new", methods=["GET", "POST"])
@admins
def new():
    form = CampaignForm()
    _checklist_choices(form)
    if request.method == "GET":
        form.fill_steps(escalation.office_steps())
    if request.method == "POST":
        if _parsed(form):
            try:
                campaign = service.create_campaign(form.settings(), current_user)
            except CampaignError as error:
                _show_problems(form, error)
            else:
                db.session.commit()
                flash(
                    _(
                        "点検「%(title)s」を作成しました。次に対象を選んでください。",
                        title=campaign.title,
                    ),
                    "success",
                )
                return redirect(url_for("campaigns.targets", code=campaign.code))
        return render_template("campaigns/form.html", form=form, mode="new"), 422
    return render_template("campaigns/form.html", form=form, mode="new")


@bp.route("/<code>")
@readers
def detail(code: str):
    campaign = _campaign(code)
    search = request.args.get("q", "").strip()
    status = request.args.get("status") or None
    if status is not None and status not in tuple(AssignmentStatus):
        abort(404)
    stmt = sa.select(Assignment).where(Assignment.campaign_id == campaign.id)
    if status:
        stmt = stmt.where(Assignment.status == status)
    if search:
        unit = sa.select(OrgUnit.id).where(OrgUnit.name.contains(search, autoescape=True))
        stmt = stmt.where(
            sa.or_(Assignment.unit_id.in_(unit), Assignment.responsible_unit_id.in_(unit))
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    page = _page()
    assignments = db.session.scalars(
        stmt.order_by(Assignment.id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "campaigns/detail.html",
        campaign=campaign,
        target_count=service.target_count(campaign),
        assignments=assignments,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        search=search,
        status=status,
        statuses=tuple(AssignmentStatus),
    )


@bp.route("/<code>/edit", methods=["GET", "POST"])
@admins
def edit(code: str):
    campaign = _admin_campaign(code, draft=True)
    if campaign is None:
        return _back(_campaign(code))
    form = CampaignForm()
    _checklist_choices(form)
    if request.method == "GET":
        form.fill(
            service.Settings(
                campaign.code,
                campaign.title,
                campaign.checklist_id,
                campaign.opens_on,
                campaign.closes_on,
                escalation.campaign_steps(campaign),
            )
        )
        return render_template("campaigns/form.html", form=form, mode="edit", campaign=campaign)
    if _parsed(form):
        try:
            dropped = service.update_campaign(campaign, form.settings(), current_user)
        except CampaignError as error:
            db.session.rollback()
            _show_problems(form, error)
        else:
            db.session.commit()
            flash(_("点検の設定を保存しました。"), "success")
            if dropped:
                flash(
                    _("チェックリストの対象の種類が変わったため、選んでいた対象を外しました。"),
                    "info",
                )
            return _back(campaign)
    campaign = _campaign(code)
    return render_template("campaigns/form.html", form=form, mode="edit", campaign=campaign), 422


@bp.route("/<code>/escalation", methods=["GET", "POST"])
@admins
def escalation_steps(code: str):
    """A campaign's escalation steps, also once it runs (the settings form is for drafts)."""
    campaign = _campaign(code)
    form = StepsForm()
    if request.method == "GET":
        form.fill_steps(escalation.campaign_steps(campaign))
        return render_template("campaigns/escalation.html", form=form, campaign=campaign)
    if _parsed(form):
        try:
            escalation.change_campaign_steps(campaign, form.steps())
        except escalation.StepsError as error:
            db.session.rollback()
            for step, message in error.problems.items():
                form[service.step_field(step)].errors = [message]
        else:
            db.session.commit()
            flash(_("督促の段階を保存しました。次のお知らせから使われます。"), "success")
            return _back(campaign)
    campaign = _campaign(code)
    return render_template("campaigns/escalation.html", form=form, campaign=campaign), 422


@bp.route("/<code>/delete", methods=["GET", "POST"])
@admins
def delete(code: str):
    campaign = _admin_campaign(code, draft=True)
    if campaign is None:
        return _back(_campaign(code))
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        title = campaign.title
        service.delete_campaign(campaign, current_user)
        db.session.commit()
        flash(_("点検「%(title)s」を削除しました。", title=title), "success")
        return redirect(url_for("campaigns.index"))
    return render_template(
        "campaigns/confirm.html",
        campaign=campaign,
        form=form,
        action="delete",
        count=service.target_count(campaign),
    )


# --- targets ----------------------------------------------------------------------------------


@bp.route("/<code>/targets")
@admins
def targets(code: str):
    campaign = _admin_campaign(code, draft=True)
    if campaign is None:
        return _back(_campaign(code))
    kind = campaign.checklist.target_kind
    search = request.args.get("q", "").strip()
    page = _page()
    total, rows = service.candidate_page(kind, search, page=page, per_page=TARGET_PAGE_SIZE)
    return render_template(
        "campaigns/targets.html",
        campaign=campaign,
        kind=kind,
        count=service.target_count(campaign),
        chosen=service.target_ids(campaign),
        rows=rows,
        total=total,
        search=search,
        page=page,
        pages=max(1, math.ceil(total / TARGET_PAGE_SIZE)),
        departments=service.departments() if kind != "contractor" else [],
        system_kinds=service.system_kinds() if kind == "system" else [],
    )


def _ids(name: str) -> list[int]:
    return [int(v) for v in request.form.getlist(name) if v.isdigit()]


@bp.route("/<code>/targets/filter", methods=["POST"])
@admins
def targets_filter(code: str):
    campaign = _admin_campaign(code, draft=True)
    if campaign is None:
        return _back(_campaign(code))
    name = request.form.get("filter", "")
    values = request.form.getlist(name if name != "system_kind" else "system_kind")
    if name == "departments":
        values = request.form.getlist("department")
    try:
        ids = service.filtered(campaign.checklist.target_kind, name, values)
        added, _removed = service.change_targets(campaign, add=ids)
    except CampaignError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(
            _(
                "%(found)d件が条件に合い、%(added)d件を対象に加えました（対象は合計%(total)d件）。",
                found=len(ids),
                added=added,
                total=service.target_count(campaign),
            ),
            "success",
        )
    return redirect(url_for("campaigns.targets", code=campaign.code))


@bp.route("/<code>/targets/pick", methods=["POST"])
@admins
def targets_pick(code: str):
    """The checkbox list: the boxes shown on the page (`shown`) are set to what was ticked."""
    campaign = _admin_campaign(code, draft=True)
    if campaign is None:
        return _back(_campaign(code))
    shown, ticked = set(_ids("shown")), set(_ids("target"))
    added, removed = service.change_targets(
        campaign, add=sorted(ticked & shown), remove=sorted(shown - ticked)
    )
    db.session.commit()
    flash(
        _(
            "%(added)d件を加え、%(removed)d件を外しました（対象は合計%(total)d件）。",
            added=added,
            removed=removed,
            total=service.target_count(campaign),
        ),
        "success",
    )
    return redirect(
        url_for(
            "campaigns.targets",
            code=campaign.code,
            q=request.form.get("q") or None,
            page=request.form.get("page", type=db_int) or None,
        )
    )


@bp.route("/<code>/targets/clear", methods=["POST"])
@admins
def targets_clear(code: str):
    campaign = _admin_campaign(code, draft=True)
    if campaign is None:
        return _back(_campaign(code))
    _added, removed = service.change_targets(campaign, remove=sorted(service.target_ids(campaign)))
    db.session.commit()
    flash(_("対象をすべて外しました（%(n)d件）。", n=removed), "success")
    return redirect(url_for("campaigns.targets", code=campaign.code))


# --- opening, extending, closing, copying -------------------------------------------------------


@bp.route("/<code>/open", methods=["GET", "POST"])
@admins
def open_campaign(code: str):
    campaign = _admin_campaign(code)
    if campaign.status != CampaignStatus.DRAFT:
        flash(_("この点検は既に開始しています。"), "info")
        return _back(campaign)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            opened = service.open_campaign(campaign, current_user, clock.today())
        except CampaignError as error:
            db.session.rollback()
            flash(error.message, "error")
            return _back(_campaign(code))
        db.session.commit()
        flash(
            _(
                "点検を開始しました。%(n)d件の回答を依頼し、%(mails)d通の依頼メールを送信待ちにしました。",
                n=opened.assignments,
                mails=opened.mails,
            ),
            "success",
        )
        if opened.without_recipient:
            flash(
                _(
                    "メールアドレスのある回答者がいないため、"
                    "依頼メールを送れなかった所属: %(units)s",
                    units="、".join(opened.without_recipient),
                ),
                "error",
            )
        return redirect(url_for("campaigns.progress", code=campaign.code))
    return render_template(
        "campaigns/confirm.html",
        campaign=campaign,
        form=form,
        action="open",
        count=service.target_count(campaign),
    )


@bp.route("/<code>/extend", methods=["GET", "POST"])
@admins
def extend(code: str):
    campaign = _admin_campaign(code)
    if campaign.status != CampaignStatus.OPEN:
        flash(_("期限を延長できるのは実施中の点検だけです。"), "error")
        return _back(campaign)
    form = ExtendForm()
    if request.method == "POST":
        if _parsed(form):
            try:
                extended = service.extend_campaign(
                    campaign, form.closes_on.data, form.reason.data, current_user
                )
            except CampaignError as error:
                db.session.rollback()
                _show_problems(form, error)
            else:
                db.session.commit()
                flash(
                    _(
                        "締切日を延長しました（%(n)d件の回答期限を変更し、%(m)d人にメールで"
                        "知らせます）。",
                        n=extended.assignments,
                        m=extended.mails,
                    ),
                    "success",
                )
                return redirect(url_for("campaigns.progress", code=campaign.code))
        campaign = _campaign(code)
        return render_template("campaigns/extend.html", campaign=campaign, form=form), 422
    return render_template("campaigns/extend.html", campaign=campaign, form=form)


@bp.route("/<code>/close", methods=["GET", "POST"])
@admins
def close(code: str):
    campaign = _admin_campaign(code)
    if campaign.status != CampaignStatus.OPEN:
        flash(_("終了できるのは実施中の点検だけです。"), "info")
        return _back(campaign)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            service.close_campaign(campaign, current_user)
        except CampaignError as error:
            db.session.rollback()
            flash(error.message, "error")
            return _back(_campaign(code))
        db.session.commit()
        flash(_("点検を終了しました。回答は変更できなくなりました。"), "success")
        return _back(campaign)
    overview = progress_service.overview(campaign, current_user)
    return render_template(
        "campaigns/confirm.html",
        campaign=campaign,
        form=form,
        action="close",
        count=overview.totals.total,
        pending=overview.totals.total - overview.totals.handed_in,
    )


@bp.route("/<code>/copy", methods=["GET", "POST"])
@admins
def copy(code: str):
    source = _campaign(code)
    form = CampaignForm()
    _checklist_choices(form, source.checklist.code)
    if request.method == "GET":
        form.fill(service.suggested_copy(source))
        return render_template("campaigns/form.html", form=form, mode="copy", source=source)
    if _parsed(form):
        try:
            campaign = service.copy_campaign(source, form.settings(), current_user)
        except CampaignError as error:
            db.session.rollback()
            _show_problems(form, error)
        else:
            db.session.commit()
            flash(
                _(
                    "点検「%(title)s」を準備中として作成しました（対象%(n)d件を引き継ぎ）。",
                    title=campaign.title,
                    n=service.target_count(campaign),
                ),
                "success",
            )
            return _back(campaign)
    source = _campaign(code)
    return render_template("campaigns/form.html", form=form, mode="copy", source=source), 422


# --- progress -------------------------------------------------------------------------------


def _progress_campaign(code: str) -> Campaign:
    campaign = _campaign(code)
    if not access.can_view_progress(current_user, campaign):
        # Roles that never follow progress are told so; a manager outside the campaign learns
        # nothing about it.
        abort(404 if access.can_view_progress(current_user) else 403)
    return campaign


def _whole_ward() -> bool:
    return current_user.role in access.SEE_ALL or current_user.unit is None


def _scope_label(level: levels.Level) -> str:
    whole = (
        _("全体")
        if _whole_ward()
        else _("%(unit)s（配下の所属を含む）", unit=current_user.unit.name)
    )
    if level.chosen is None:
        return whole
    return _("%(scope)sのうち%(department)s", scope=whole, department=level.chosen[1])


@bp.route("/<code>/progress")
def progress(code: str):
    campaign = _progress_campaign(code)
    today = clock.today()
    sort = request.args.get("sort", "department")
    if sort not in progress_service.OVERDUE_SORTS:
        sort = "department"
    descending = request.args.get("dir") == "desc"
    page = _page()
    level = levels.level_or_404(current_user, request.args.get("dept", type=db_int))
    total, overdue = progress_service.overdue(
        campaign,
        current_user,
        today,
        sort=sort,
        descending=descending,
        page=page,
        per_page=PAGE_SIZE,
        level=level,
    )
    return render_template(
        "campaigns/progress.html",
        campaign=campaign,
        overview=progress_service.overview(campaign, current_user, level),
        level=level,
        statuses=tuple(AssignmentStatus),
        overdue=overdue,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        sort=sort,
        descending=descending,
        scope=_scope_label(level),
        today=today,
    )


@bp.route("/<code>/progress/pending.xlsx", methods=["POST"])
def pending_xlsx(code: str):
    """The 未提出一覧 workbook, made by an export job (survey.services.jobs): a campaign of
    100,000 respondents can have tens of thousands pending."""
    campaign = _progress_campaign(code)
    dept = request.args.get("dept", type=db_int)
    level = levels.level_or_404(current_user, dept)
    with force_locale("ja"):  # the workbook is Japanese, whatever the screen's language
        scope = _scope_label(level)
    name = f"{_file_title(campaign)}_未提出一覧_{clock.today():%Y%m%d}.xlsx"
    unit = level.chosen[1] if level.chosen else None
    if unit is None and not _whole_ward():
        unit = current_user.unit.name
    if unit:
        name = name.replace("_未提出一覧_", f"_未提出一覧_{unit}_")
    job, _new = jobs.submit(
        current_user,
        "progress_pending",
        {
            "code": campaign.code,
            "owner_id": current_user.id,
            "dept": dept,
            "scope": scope,
            "filename": name,
            "generated_by": f"{current_user.display_name}（{current_user.username}）",
        },
    )
    return to_page(job)


def _file_title(campaign: Campaign) -> str:
    return "".join("_" if ch in '\\/:*?"<>|' or ord(ch) < 32 else ch for ch in campaign.title)


# --- one assignment -------------------------------------------------------------------------


def _assignment(assignment_id: int) -> Assignment:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        abort(404)
    return assignment


def _assignment_page(assignment, extend_form=None, reopen_form=None, status=200):
    campaign = assignment.campaign
    may_extend = campaign.status == CampaignStatus.OPEN and assignment.status in access.EDITABLE
    return (
        render_template(
            "campaigns/assignment.html",
            assignment=assignment,
            campaign=campaign,
            events=answering.events(assignment),
            extend_form=(extend_form or AssignmentExtendForm(prefix="extend"))
            if may_extend
            else None,
            reopen_form=reopen_form or ReopenForm(prefix="reopen"),
            may_manage=access.can_manage_campaigns(current_user),
        ),
        status,
    )


@bp.route("/assignments/<int:assignment_id>")
@readers
def assignment(assignment_id: int):
    return _assignment_page(_assignment(assignment_id))


@bp.route("/assignments/<int:assignment_id>/extend", methods=["POST"])
@admins
def assignment_extend(assignment_id: int):
    assignment = _assignment(assignment_id)
    form = AssignmentExtendForm(prefix="extend")
    if _parsed(form):
        try:
            told = service.extend_assignment(
                assignment, form.due_on.data, form.reason.data, current_user, clock.today()
            )
        except CampaignError as error:
            db.session.rollback()
            _show_problems(form, error)
        else:
            db.session.commit()
            flash(_("回答期限を延長しました（%(m)d人にメールで知らせます）。", m=told), "success")
            return redirect(url_for("campaigns.assignment", assignment_id=assignment_id))
    return _assignment_page(_assignment(assignment_id), extend_form=form, status=422)


@bp.route("/assignments/<int:assignment_id>/reopen", methods=["POST"])
@admins
def assignment_reopen(assignment_id: int):
    assignment = _assignment(assignment_id)
    form = ReopenForm(prefix="reopen")
    if _parsed(form):
        try:
            reopened = service.reopen_assignment(
                assignment, current_user, form.reason.data, form.due_on.data
            )
        except CampaignError as error:
            db.session.rollback()
            _show_problems(form, error)
        else:
            db.session.commit()
            if reopened:
                flash(
                    _("回答を再開しました。担当者に連絡のメールを送信待ちにしました。"), "success"
                )
            else:
                flash(_("この回答はすでにその期限まで再開しています。"), "info")
            return redirect(url_for("campaigns.assignment", assignment_id=assignment_id))
    return _assignment_page(_assignment(assignment_id), reopen_form=form, status=422)
