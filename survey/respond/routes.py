"""Thin views over survey.services.answering: parse, call, commit, redirect."""

from __future__ import annotations

from functools import partial

from flask import (
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from survey import access, clock
from survey.downloads import send_stored
from survey.extensions import db
from survey.malformed import db_int
from survey.models import Attachment, Delegation, Role
from survey.models.campaigns import AssignmentStatus
from survey.respond import bp, page
from survey.respond.forms import (
    ReviewForm,
    evidence_field,
    inputs_from,
    posted_inputs,
    questionnaire_form_class,
    questionnaire_view,
    view_key,
)
from survey.services import (
    answering,
    approval,
    delegations,
    evidence,
    inbox,
    log_evidence,
    trail,
    uploads,
)
from survey.services.own_result import own_result

access.guard_blueprint(bp)


@bp.route("/")
def index():
    today = clock.today()
    to_answer = inbox.to_answer(current_user, today)
    return render_template(
        "respond/inbox.html",
        to_answer=to_answer,
        handed_out=delegations.handed_out([row.assignment.id for row in to_answer]),
        to_review=inbox.to_review(current_user, today),
        handed_to=delegations.handed_to(current_user),
    )


def _page(
    assignment,
    values,
    revision,
    *,
    stored=None,
    problems=None,
    conflict=None,
    review_form=None,
    status=200,
):
    """The questionnaire showing `values` (stored, or as posted when refused) and the form's
    revision; the counter counts what is stored."""
    stored = answering.stored_inputs(assignment) if stored is None else stored
    checklist = assignment.campaign.checklist
    part = access.delegated_items(current_user, assignment)
    answered, asked = answering.progress(assignment, stored, part)
    problems = problems or {}
    editable = access.can(current_user, "answer", assignment)
    # A delegate with one part marked done and another still open edits the open one only.
    writable = access.delegated_items(current_user, assignment, answering=True)
    audience = answering.audience_of(current_user)
    sheet = _sheet(assignment, audience)
    if conflict and part is not None:
        conflict = [change for change in conflict if change.item_id in part]
    if review_form is None and access.can(current_user, "review", assignment):
        review_form = ReviewForm()
    items_html = partial(
        page.items_html,
        view_key(checklist, audience),
        values=values,
        problems=problems,
        attachments=_attachments(assignment),
        editable=editable,
        writable=writable,
        assignment=assignment,
        may_open_action=access.may_open_actions(current_user, assignment.responsible_unit_id),
        log_rounds=log_evidence.offered(assignment, current_user) if editable else {},
    )
    shown = [
        d for d in delegations.of_assignment(assignment) if access.sees_delegation(current_user, d)
    ]
    return (
        render_template(
            "respond/assignment.html",
            assignment=assignment,
            checklist=checklist,
            description=checklist.description_for(str(get_locale()), audience),
            sheet=sheet,
            items_html=items_html,
            revision=revision,
            problems=problems,
            conflict=conflict,
            answered=answered,
            asked=asked,
            editable=editable,
            writable=writable,
            review_form=review_form,
            review_summary=approval.summary(assignment, sheet, stored) if review_form else None,
            may_invite=access.can(current_user, "invite", assignment),
            returned=answering.last_return(assignment),
            review_note=_review_note(assignment, review_form),
            whole=part is None,
            may_submit=access.can(current_user, "submit", assignment),
            may_delegate=access.can(current_user, "delegate", assignment),
            may_withdraw=partial(access.withdraws, current_user),
            delegations=shown,
            unanswered={
                d.id: _unanswered(assignment, stored, sheet, d)
                for d in shown
                if d.delegate_id == current_user.id and d.done_at is None
            },
            handed=_handed(shown) if part is None else {},
            own_due=_own_due(shown) if part is not None else None,
        ),
        status,
    )


def _unanswered(assignment, stored, sheet, delegation) -> int:
    """How many asked items of a delegate's part are still unanswered (said beside the button
    that ends their part)."""
    codes = {c.code for c in delegation.categories}
    items = frozenset(item.id for c in sheet if c.code in codes for item in c.items)
    answered, asked = answering.progress(assignment, stored, items)
    return asked - answered


def _own_due(shown):
    """A delegate's due date: the nearest of the parts still open (of them all once done)."""
    parts = [d for d in shown if not d.done_at] or shown
    return min((d.due_on for d in parts), default=None)


def _handed(shown) -> dict[str, Delegation]:
    """Each category handed to someone, by code: its latest delegation not withdrawn (a part
    marked done may be handed over again)."""
    return {c.code: d for d in shown for c in d.categories}


def _sheet(assignment, audience):
    """The questionnaire's categories as the user sees them: a delegate, the part handed to
    them alone (the rest of the questionnaire is not theirs to read)."""
    sheet = questionnaire_view(assignment.campaign.checklist, audience)
    part = access.delegated_part(current_user, assignment)
    if part is None:
        return sheet
    codes = {c.code for c in assignment.campaign.checklist.categories if c.id in part}
    return tuple(category for category in sheet if category.code in codes)


def _own_part(assignment, posted):
    """What a delegate posted, cut to the items they may answer: the form reads every item of
    the checklist (empty where the page has none), which must not clear the others' answers.
    save() refuses a change outside the part whatever is posted."""
    allowed = access.delegated_items(current_user, assignment, answering=True)
    if allowed is None:
        return posted
    return {item_id: value for item_id, value in posted.items() if item_id in allowed}


def _review_note(assignment, review_form):
    """Who reviews a handed-in questionnaire, and why this user has no buttons (the page says
    so rather than leave them wondering)."""
    if review_form is not None or assignment.status != AssignmentStatus.SUBMITTED:
        return None
    return access.review_note(current_user, assignment)


# What a step posted again, or a step lost to another request, finds instead.
ALREADY = {
    AssignmentStatus.SUBMITTED: _l("すでに提出されています。"),
    AssignmentStatus.APPROVED: _l("すでに承認されています。"),
    AssignmentStatus.RETURNED: _l("すでに差し戻されています。"),
}


def _already(assignment):
    """The questionnaire's page with word that its status moved on before this request."""
    flash(str(ALREADY.get(assignment.status, _l("この回答の状態はすでに変わっています。"))), "info")
    return redirect(url_for("respond.assignment", assignment_id=assignment.id))


def _attachments(assignment) -> dict[int, list[Attachment]]:
    found: dict[int, list[Attachment]] = {}
    for attachment in db.session.scalars(
        db.select(Attachment).where(Attachment.assignment_id == assignment.id)
    ):
        found.setdefault(attachment.item_id, []).append(attachment)
    return found


def _stored_page(assignment, **kwargs):
    """The questionnaire as stored, for a page that was not posted to."""
    stored = answering.stored_inputs(assignment)
    return _page(assignment, stored, assignment.revision, stored=stored, **kwargs)


@bp.route("/<int:assignment_id>", methods=["GET"])
def assignment(assignment_id: int):
    assignment = access.assignment_or_404(assignment_id, current_user)
    return _stored_page(assignment)


def _posted_revision(form) -> int:
    try:
        return db_int(form.revision.data)
    except (TypeError, ValueError):
        abort(400)


def _store_evidence(assignment, checklist, form) -> dict[int, list[str]]:
    problems: dict[int, list[str]] = {}
    allowed = access.delegated_items(current_user, assignment, answering=True)
    for item in checklist.items:
        if allowed is not None and item.id not in allowed:
            continue  # a delegate attaches evidence to their own items only
        name = evidence_field(item)
        upload = form[name].data if name in form else None
        if upload and upload.filename:
            try:
                stored = evidence.store(assignment, item, upload, current_user)
            except evidence.EvidenceRefused as refused:
                problems.setdefault(item.id, []).append(str(refused))
            else:
                trail.record_file("evidence.upload", stored)
        # The unit's log review figures, offered next to the item on regular log checks.
        if request.form.get(f"log_evidence_{item.id}"):
            log_evidence.attach(assignment, item, current_user)
    return problems


@bp.route("/<int:assignment_id>", methods=["POST"])
def save(assignment_id: int):
    assignment = access.assignment_or_404(assignment_id, current_user)
    if not access.can(current_user, "answer", assignment):
        if _handed_in_again(assignment):
            return _already(assignment)
        abort(403)
    if request.form.get("action") == "submit" and not access.can(
        current_user, "submit", assignment
    ):
        abort(403)  # a delegate answers their part; the delegator hands the whole in
    checklist = assignment.campaign.checklist
    form = questionnaire_form_class(checklist)()
    posted = _own_part(assignment, inputs_from(form, checklist))
    if not form.validate_on_submit():
        problems = {
            int(name.split("_")[1]): errors
            for name, errors in form.errors.items()
            if name.split("_")[-1].isdigit()
        }
        return _page(assignment, posted, form.revision.data, problems=problems, status=422)
    try:
        changed = answering.save(assignment, posted, current_user, revision=_posted_revision(form))
    except answering.Conflict as conflict:
        return _page(assignment, posted, conflict.revision, conflict=conflict.changes, status=409)
    except answering.Invalid as invalid:
        db.session.rollback()
        return _page(assignment, posted, form.revision.data, problems=invalid.problems, status=422)
    problems = _store_evidence(assignment, checklist, form)
    if changed:
        trail.record_answers(assignment, "answer.save", changed)
    db.session.commit()  # the draft is safe before anything else can go wrong
    dropped = answering.dropped_message(changed)
    if dropped:
        flash(dropped, "info")
    if problems:
        return _page(assignment, posted, assignment.revision, problems=problems, status=422)
    if request.form.get("action") != "submit":
        # What is stored now, autosaved answers included: 「0 項目を更新」 after the page had
        # autosaved every answer read as if nothing was saved.
        answered, asked = answering.progress(
            assignment, part=access.delegated_items(current_user, assignment)
        )
        flash(
            _(
                "下書きを保存しました（%(answered)d/%(asked)d 項目 回答済み）。",
                answered=answered,
                asked=asked,
            ),
            "success",
        )
        return redirect(url_for("respond.assignment", assignment_id=assignment.id))
    try:
        answering.submit(assignment, current_user)
    except answering.Invalid as invalid:
        db.session.rollback()
        flash(_("下書きは保存しました。提出するには、次の項目を確認してください。"), "error")
        return _page(assignment, posted, assignment.revision, problems=invalid.problems, status=422)
    except answering.AlreadyMoved:
        return _already(assignment)
    trail.record_event(assignment)
    db.session.commit()
    if current_user.role == Role.CONTRACTOR:
        # The company's answers are confirmed by the ward's division that owns the contract.
        flash(_("回答を提出しました。契約を担当する区の担当課の確認をお待ちください。"), "success")
    else:
        flash(_("回答を提出しました。所属長の承認をお待ちください。"), "success")
    return redirect(url_for("respond.assignment", assignment_id=assignment.id))


def _handed_in_again(assignment) -> bool:
    """A 提出 posted by someone who answers it, after it was handed in (a double click)."""
    return (
        request.form.get("action") == "submit"
        and assignment.status in (AssignmentStatus.SUBMITTED, AssignmentStatus.APPROVED)
        and access.answers_for(current_user, assignment)
    )


@bp.route("/<int:assignment_id>/autosave", methods=["POST"])
def autosave(assignment_id: int):
    """The same save as the form's, answered in JSON for the page's script.

    It posts no files, so the fields are read straight from the request, without building the
    108-field WTForms form: save() checks every value, and CSRFProtect the token, as for the form
    (a third of an autosave's time went to the form: docs/performance.md)."""
    assignment = access.assignment_or_404(assignment_id, current_user, "answer")
    sheet = _sheet(assignment, answering.audience_of(current_user))
    try:
        revision = db_int(request.form.get("revision", ""))
    except ValueError:
        abort(400)
    posted = _own_part(assignment, posted_inputs(request.form, sheet))
    try:
        changed = answering.save(
            assignment, posted, current_user, revision=revision, source="autosave"
        )
    except answering.Conflict as conflict:
        return jsonify(
            ok=False,
            conflict=True,
            revision=conflict.revision,
            message=_(
                "ほかの人がこの回答を更新しました。入力内容は画面に残っています。"
                "「下書き保存」を押すと変更内容を確認できます。"
            ),
        ), 409
    except answering.Invalid:
        db.session.rollback()
        return jsonify(ok=False, message=_("入力内容を確認してください。")), 422
    # Saved, every item of the page is stored as posted: counted from the post, and before the
    # commit, which would expire the checklist and reload it.
    answered, asked = answering.progress(
        assignment, posted, access.delegated_items(current_user, assignment)
    )
    if changed:
        trail.record_answers(assignment, "answer.autosave", changed)
    revision = assignment.revision  # read before the commit expires it
    db.session.commit()
    dropped = answering.dropped_message(changed)
    return jsonify(ok=True, revision=revision, answered=answered, asked=asked, dropped=dropped)


@bp.route("/<int:assignment_id>/review", methods=["POST"])
def review(assignment_id: int):
    assignment = access.assignment_or_404(assignment_id, current_user)
    if not access.can(current_user, "review", assignment):
        if _reviewed_already(assignment):
            return _already(assignment)
        abort(403)
    form = ReviewForm()
    if not form.validate_on_submit():
        if not form.comment.errors:
            abort(400)
        return _stored_page(assignment, review_form=form, status=422)
    try:
        if form.send_back.data:
            answering.return_for_correction(assignment, current_user, form.comment.data or "")
            message = _("差し戻しました。回答者に修正を依頼しました。")
        else:
            answering.approve(assignment, current_user, form.comment.data or "")
            message = _("承認しました。回答は確定され、変更できなくなりました。")
    except answering.Invalid as invalid:
        # Next to the reason's field, with what was typed (spaces only) kept.
        form.comment.errors = list(invalid.problems[0])
        return _stored_page(assignment, review_form=form, status=422)
    except answering.AlreadyMoved:
        return _already(assignment)
    trail.record_event(assignment)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("respond.assignment", assignment_id=assignment.id))


def _reviewed_already(assignment) -> bool:
    """A review posted after the questionnaire was decided (a double click, a second reviewer)
    by someone who would have been allowed to take it."""
    return (
        assignment.status in (AssignmentStatus.APPROVED, AssignmentStatus.RETURNED)
        and access.accepts_work(assignment)
        and access.reviews(current_user, assignment)
    )


@bp.route("/<int:assignment_id>/history")
def history(assignment_id: int):
    assignment = access.assignment_or_404(assignment_id, current_user)
    part = access.delegated_items(current_user, assignment)
    return render_template(
        "respond/history.html",
        assignment=assignment,
        changes=[c for c in answering.history(assignment) if part is None or c.item_id in part],
        # A delegate's: the steps of what was handed to them, not the review's nor others' parts.
        events=answering.events(assignment, None if part is None else current_user),
    )


@bp.route("/<int:assignment_id>/print")
def print_view(assignment_id: int):
    assignment = access.assignment_or_404(assignment_id, current_user, "whole")
    stored = answering.stored_inputs(assignment)
    checklist = assignment.campaign.checklist
    audience = answering.audience_of(current_user)
    return render_template(
        "respond/print.html",
        assignment=assignment,
        checklist=checklist,
        description=checklist.description_for(str(get_locale()), audience),
        sheet=questionnaire_view(checklist, audience),
        inputs=stored,
        asked=answering.asked_items(assignment, stored),
        events=answering.events(assignment),
    )


@bp.route("/<int:assignment_id>/result")
def result(assignment_id: int):
    """The respondent's own result once handed in: score, grade, advice, what lowered it."""
    assignment = access.assignment_or_404(assignment_id, current_user, "result")
    checklist = assignment.campaign.checklist
    return render_template(
        "respond/result.html",
        assignment=assignment,
        checklist=checklist,
        result=own_result(assignment),
        english=str(get_locale()) == "en",
    )


@bp.route("/<int:assignment_id>/evidence/<int:attachment_id>")
def evidence_file(assignment_id: int, attachment_id: int):
    assignment = access.assignment_or_404(assignment_id, current_user)
    attachment = db.session.get(Attachment, attachment_id)
    part = access.delegated_items(current_user, assignment)
    if (
        attachment is None
        or attachment.assignment_id != assignment.id
        or (part is not None and attachment.item_id not in part)
    ):
        # Another questionnaire's file asked for through one the user may see, or for a delegate
        # a file of an item not handed to them: a guessed id.
        trail.record_denied("attachment", attachment_id, current_user, found=attachment)
        abort(404)
    stored = evidence.file_or_404(attachment, "attachment")
    trail.record_file("download.evidence", attachment, commit=True)
    return send_stored(
        stored,
        # Names stored before they were cleaned may hold what a header cannot carry.
        uploads.clean_filename(attachment.filename, "evidence"),
        attachment.content_type,
    )
