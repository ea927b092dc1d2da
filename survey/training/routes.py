"""The training pages: parse, call survey.services.training, commit, redirect. Who may see
what is decided in survey.access (follows_training, manages_training, the *_or_404)."""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from reports import training as workbook
from survey import access, clock
from survey.downloads import content_disposition, send_stored
from survey.extensions import db
from survey.formatting import format_date
from survey.malformed import db_int
from survey.models import Contractor, Course, CourseStatus, Enrolment, OrgUnit
from survey.models.org import UnitKind
from survey.models.types import utcnow
from survey.services import trail
from survey.services import training as service
from survey.training import bp
from survey.training.forms import CourseForm, StepForm, TargetsForm

STATES = {
    service.NOT_STARTED: _l("未受講"),
    service.READ: _l("資料既読"),
    service.IN_PROGRESS: _l("受験中"),
    service.FAILED: _l("不合格（再受験してください）"),
    service.PASSED: _l("合格（受講完了）"),
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COURSE_STATUSES = {"draft": _l("準備中"), "open": _l("実施中"), "closed": _l("終了")}


def state_label(code: str) -> str:
    return str(STATES[code])


def course_status_label(code: str) -> str:
    return str(COURSE_STATUSES[code])


bp.add_app_template_global(access.takes_training, "takes_training")
bp.add_app_template_global(state_label, "training_state_label")
bp.add_app_template_global(course_status_label, "course_status_label")


def _fail(error: service.TrainingError) -> None:
    for message in error.problems.values():
        flash(message, "error")


# --- one's own courses ------------------------------------------------------------------------


@bp.route("/")
@access.guard()
def index():
    mine = service.my_enrolments(current_user)
    return render_template(
        "training/index.html",
        mine=mine,
        courses=service.courses(current_user) if access.follows_training(current_user) else [],
        states={e.id: service.state(e) for e in mine},
        today=clock.today(),
    )


@bp.route("/my/<int:enrolment_id>")
@access.guard()
def take(enrolment_id: int):
    enrolment = access.enrolment_or_404(enrolment_id, current_user)
    return render_template(
        "training/take.html",
        enrolment=enrolment,
        course=enrolment.course,
        state=service.state(enrolment),
        open_attempt=service.current_attempt(enrolment),
        may_work=service.takes_work(enrolment),
        form=StepForm(),
        today=clock.today(),
    )


@bp.route("/my/<int:enrolment_id>/read", methods=["POST"])
@access.guard()
def read(enrolment_id: int):
    enrolment = access.enrolment_or_404(enrolment_id, current_user)
    if not StepForm().validate_on_submit():
        abort(400)
    try:
        service.mark_read(enrolment)
    except service.TrainingError as error:
        _fail(error)
        return redirect(url_for("training.take", enrolment_id=enrolment.id))
    db.session.commit()
    return redirect(url_for("training.take", enrolment_id=enrolment.id))


@bp.route("/my/<int:enrolment_id>/start", methods=["POST"])
@access.guard()
def start(enrolment_id: int):
    enrolment = access.enrolment_or_404(enrolment_id, current_user)
    if not StepForm().validate_on_submit():
        abort(400)
    try:
        attempt = service.start_attempt(enrolment)
    except service.TrainingError as error:
        _fail(error)
        return redirect(url_for("training.take", enrolment_id=enrolment.id))
    db.session.commit()
    return redirect(url_for("training.attempt", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>", methods=["GET", "POST"])
@access.guard()
def attempt(attempt_id: int):
    """The test while it is taken; its result once handed in."""
    found = access.attempt_or_404(attempt_id, current_user)
    enrolment = found.enrolment
    test = enrolment.course.test
    given = service.chosen(found)
    problems = {}
    if request.method == "POST" and found.submitted_at is None:
        if not StepForm().validate_on_submit():
            abort(400)
        given = {}
        for item in test.items:
            value = request.form.get(f"item-{item.id}", "")
            if value:
                given[item.id] = value
        try:
            marked = service.submit_attempt(found, given)
        except service.TrainingError as error:
            problems = error.problems
        else:
            db.session.commit()
            if marked.taken:
                if found.passed:
                    flash(_("合格です。この研修の受講は完了しました。"), "success")
                else:
                    flash(
                        _("不合格でした。研修資料を読み直して、もう一度受験してください。"), "error"
                    )
            return redirect(url_for("training.attempt", attempt_id=found.id))
    elif request.method == "POST":
        flash(_("この回答は提出済みです。"), "info")
        return redirect(url_for("training.attempt", attempt_id=found.id))
    missing = {item.id for item in service.unanswered(test, given)} if problems else set()
    return (
        render_template(
            "training/attempt.html",
            attempt=found,
            enrolment=enrolment,
            course=enrolment.course,
            test=test,
            given=given,
            problems=problems,
            missing=missing,
            form=StepForm(),
        ),
        422 if problems else 200,
    )


# --- the security office's courses -----------------------------------------------------------


def _course_form_choices(form: CourseForm) -> None:
    form.test_id.choices = [("", _("選んでください"))] + [
        (test.id, f"{test.title}（{test.label}）") for test in service.tests()
    ]


@bp.route("/courses/new", methods=["GET", "POST"])
@access.guard(access.follows_training, access.manages_training)
def course_new():
    form = CourseForm()
    _course_form_choices(form)
    if request.method == "GET":
        form.opens_on.data = clock.today()
    if form.validate_on_submit():
        upload = form.material_file.data if form.material_file.data else None
        settings = service.Settings(
            code=(form.code.data or "").strip(),
            version=form.version.data,
            title=form.title.data or "",
            test_id=form.test_id.data,
            opens_on=form.opens_on.data,
            due_on=form.due_on.data,
            material_text=form.material_text.data or "",
        )
        try:
            course = service.create_course(settings, upload, current_user)
        except service.TrainingError as error:
            db.session.rollback()  # the material stored before a twin took the version
            for name, message in error.problems.items():
                form[name].errors = [*form[name].errors, message]
        else:
            db.session.commit()
            flash(_("研修を作成しました。対象を選んで開始してください。"), "success")
            return redirect(url_for("training.course", course_id=course.id))
    status = 422 if request.method == "POST" else 200
    return render_template("training/course_new.html", form=form), status


def _target_form(course: Course) -> TargetsForm:
    form = TargetsForm()
    units = db.session.scalars(
        sa.select(OrgUnit)
        .where(OrgUnit.active.is_(True), OrgUnit.kind != UnitKind.SECTION)
        .order_by(OrgUnit.code)
    )
    form.units.choices = [(u.id, u.name) for u in units]
    companies = db.session.scalars(
        sa.select(Contractor).where(Contractor.active.is_(True)).order_by(Contractor.code)
    )
    form.contractors.choices = [(c.id, c.name) for c in companies]
    if request.method == "GET":
        form.units.data = [t.unit_id for t in course.targets if t.unit_id]
        form.contractors.data = [t.contractor_id for t in course.targets if t.contractor_id]
    return form


def _scope(user) -> str:
    if user.role in access.SEE_ALL:
        return _("全庁")
    return user.unit.name if user.unit else ""


@bp.route("/courses/<int:course_id>")
@access.guard(access.follows_training, id_arg="course_id", record="course")
def course(course_id: int):
    return _course_page(access.course_or_404(course_id, current_user))


def _course_page(found: Course, close_error: str = ""):
    rows = service.completion(found, current_user)
    return render_template(
        "training/course.html",
        course=found,
        rows=rows,
        totals=service.totals(rows),
        targets_form=_target_form(found) if access.manages_training(current_user) else None,
        form=StepForm(),
        close_error=close_error,
        scope=_scope(current_user),
        today=clock.today(),
    )


@bp.route("/courses/<int:course_id>/targets", methods=["POST"])
@access.guard(access.follows_training, access.manages_training)
def course_targets(course_id: int):
    found = access.course_or_404(course_id, current_user)
    form = _target_form(found)
    if not form.validate_on_submit():
        abort(422)
    try:
        service.set_targets(found, form.units.data or [], form.contractors.data or [], current_user)
    except service.TrainingError as error:
        _fail(error)
        return redirect(url_for("training.course", course_id=found.id))
    db.session.commit()
    flash(_("対象を保存しました。"), "success")
    return redirect(url_for("training.course", course_id=found.id))


@bp.route("/courses/<int:course_id>/open", methods=["POST"])
@access.guard(access.follows_training, access.manages_training)
def course_open(course_id: int):
    return _step(access.course_or_404(course_id, current_user), "open")


@bp.route("/courses/<int:course_id>/close", methods=["POST"])
@access.guard(access.follows_training, access.manages_training)
def course_close(course_id: int):
    # Closing shuts out everyone yet to pass, for good: the office ticks that it knows. A course
    # no longer open goes to the step, which says so (a second tab, a double click).
    found = access.course_or_404(course_id, current_user)
    unconfirmed = not request.form.get("confirm") and found.status == CourseStatus.OPEN
    if StepForm().validate_on_submit() and unconfirmed:
        error = _("研修を終了する場合は、確認の欄にチェックを入れてください。")
        return _course_page(found, close_error=error), 422
    return _step(found, "close")


def _step(found: Course, step: str):
    course_id = found.id  # read before a rollback expires it
    if not StepForm().validate_on_submit():
        abort(422)
    try:
        if step == "open":
            count = service.open_course(found, current_user)
            message = _("研修を開始しました（対象者 %(n)d 人に通知）。", n=count)
        else:
            service.close_course(found, current_user)
            message = _("研修を終了しました。")
    except service.TrainingError as error:
        db.session.rollback()
        _fail(error)
        return redirect(url_for("training.course", course_id=course_id))
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("training.course", course_id=course_id))


@bp.route("/courses/<int:course_id>/people")
@access.guard(access.follows_training, id_arg="course_id", record="course")
def people(course_id: int):
    found = access.course_or_404(course_id, current_user)
    unit_id = request.args.get("unit", type=db_int)
    company_id = request.args.get("company", type=db_int)
    where = None
    if unit_id is not None:
        where = db.session.get(OrgUnit, unit_id)
    elif company_id is not None:
        where = db.session.get(Contractor, company_id)
    rows = service.people(found, current_user, unit_id, company_id)
    return render_template(
        "training/people.html", course=found, rows=rows, where=where, scope=_scope(current_user)
    )


@bp.route("/courses/<int:course_id>/completion.xlsx")
@access.guard(access.follows_training, id_arg="course_id", record="course")
def completion_xlsx(course_id: int):
    found = access.course_or_404(course_id, current_user)
    units = service.completion(found, current_user)
    totals = service.totals(units)
    with force_locale("ja"):  # the workbook is Japanese, whatever the screen's language
        people = [
            (
                _department(row.enrolment),
                _place(row.enrolment),
                row.enrolment.user.display_name,
                row.enrolment.user.username,
                "○" if row.enrolment.user.temporary else "",
                state_label(row.state),
                _naive(row.enrolment.read_at),
                row.attempts,
                row.best,
                _naive(row.enrolment.passed_at),
            )
            for row in service.people(found, current_user)
        ]
        heading = workbook.Heading(
            course=f"{found.title}（{found.label}）",
            test=f"{found.test.title}（合格点 {found.test.pass_mark}%）",
            due=format_date(found.due_on),
            scope=_scope(current_user),
            generated_at=clock.local(utcnow()),
            generated_by=f"{current_user.display_name}（{current_user.username}）",
        )
        total_row = ("", str(totals.name), *_figures(totals))
    out = io.BytesIO()
    workbook.write_completion(
        [(row.department, row.name, *_figures(row)) for row in units],
        total_row,
        people,
        heading,
        out,
    )
    out.seek(0)
    name = f"{found.code}_受講状況_{clock.today():%Y%m%d}.xlsx"
    trail.record(
        "export.training_completion",
        found,
        summary=found.label,
        after={"units": len(units), "people": len(people)},
        commit=True,
    )
    response = send_file(out, mimetype=XLSX, as_attachment=True, download_name="completion.xlsx")
    response.headers["Content-Disposition"] = content_disposition(
        name, f"{found.code}_completion.xlsx"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _figures(row: service.UnitRow) -> tuple:
    return (row.enrolled, row.temporary, row.read, row.attempted, row.passed, row.percent)


def _department(enrolment: Enrolment) -> str:
    unit = enrolment.unit
    return unit.parent.name if unit is not None and unit.parent is not None else ""


def _place(enrolment: Enrolment) -> str:
    if enrolment.unit is not None:
        return enrolment.unit.name
    return enrolment.contractor.name if enrolment.contractor else ""


def _naive(moment):
    return clock.local(moment).replace(tzinfo=None) if moment else None


@bp.route("/courses/<int:course_id>/material")
@access.guard()
def material(course_id: int):
    """The course's PDF: for those enrolled on it, and the office and auditors."""
    found = db.session.get(Course, course_id)
    enrolled = found is not None and (
        current_user.role in access.SEE_ALL
        or (
            found.status != CourseStatus.DRAFT
            and db.session.scalar(
                sa.select(Enrolment.id).where(
                    Enrolment.course_id == found.id, Enrolment.user_id == current_user.id
                )
            )
        )
    )
    if not enrolled or found.material_file is None:
        trail.record_denied("course", course_id, current_user, found=found)
        abort(404)
    trail.record("download.training_material", found, summary=found.material_filename, commit=True)
    return send_stored(found.material_file, found.material_filename, "application/pdf")
