"""Delegation (委任) views: hand a part of a questionnaire to a colleague, mark it done,
withdraw it. Thin over survey.services.delegations; access.can decides who does what."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from survey import access, clock
from survey.extensions import db
from survey.respond import bp
from survey.services import delegations


class DelegationForm(FlaskForm):
    delegate = SelectField(_l("依頼する相手"), coerce=int, validate_choice=False)
    categories = SelectMultipleField(
        _l("依頼する分類"),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,  # the service refuses what is not the questionnaire's
    )
    due_on = DateField(_l("期限"), validators=[Optional()])
    note = TextAreaField(_l("連絡事項（任意）"))


def _form(assignment, taken: set[int]) -> DelegationForm:
    form = DelegationForm()
    form.delegate.choices = [(0, _("選んでください"))] + [
        (user.id, user.display_name) for user in delegations.candidates(assignment, current_user)
    ]
    form.categories.choices = [
        (c.id, f"{c.code} {c.title_for(str(get_locale()))}")
        for c in assignment.campaign.checklist.categories
        if c.id not in taken
    ]
    return form


@bp.route("/<int:assignment_id>/delegate", methods=["GET", "POST"])
def delegate(assignment_id: int):
    assignment = access.assignment_or_404(assignment_id, current_user, "delegate")
    taken = delegations.taken(assignment)
    form = _form(assignment, taken)
    if not form.is_submitted():
        form.due_on.data = max(assignment.due_on or assignment.campaign.closes_on, clock.today())
    elif form.validate():
        try:
            delegation = delegations.delegate(
                assignment,
                current_user,
                form.delegate.data,
                form.categories.data or [],
                form.due_on.data,
                form.note.data or "",
            )
        except delegations.Refused as refused:
            for name, message in refused.problems.items():
                form[name].errors = [*form[name].errors, message]
        except delegations.AlreadyMoved:
            flash(_("この依頼はすでに送っています。"), "info")
            return redirect(url_for("respond.assignment", assignment_id=assignment.id))
        else:
            name = delegation.delegate.display_name
            db.session.commit()
            flash(_("%(name)s さんに回答を依頼しました。", name=name), "success")
            return redirect(url_for("respond.assignment", assignment_id=assignment.id))
    status = 422 if any(f.errors for f in form) else 200
    return render_template(
        "respond/delegate.html",
        assignment=assignment,
        form=form,
        some_taken=bool(taken),
    ), status


def _delegation(assignment_id: int, delegation_id: int):
    assignment = access.assignment_or_404(assignment_id, current_user)
    return assignment, access.delegation_or_404(assignment, delegation_id, current_user)


@bp.route("/<int:assignment_id>/delegations/<int:delegation_id>/done", methods=["POST"])
def delegation_done(assignment_id: int, delegation_id: int):
    assignment, delegation = _delegation(assignment_id, delegation_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    if delegation.delegate_id != current_user.id:
        abort(403)
    # After this the part is read-only to its delegate: one click must not end it unanswered.
    if not request.form.get("confirm"):
        flash(_("知らせるときは、確認の欄にチェックを入れてください。"), "error")
        return redirect(url_for("respond.assignment", assignment_id=assignment.id))
    try:
        delegations.mark_done(delegation, current_user)
    except delegations.AlreadyMoved:
        flash(_("この依頼はすでに完了または取り消されています。"), "info")
    else:
        db.session.commit()
        flash(_("依頼された回答を終えたことを、依頼した人に知らせました。"), "success")
    return redirect(url_for("respond.assignment", assignment_id=assignment_id))


@bp.route("/<int:assignment_id>/delegations/<int:delegation_id>/withdraw", methods=["POST"])
def delegation_withdraw(assignment_id: int, delegation_id: int):
    assignment, delegation = _delegation(assignment_id, delegation_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    if not access.withdraws(current_user, delegation):
        abort(403)
    if not request.form.get("confirm"):
        flash(_("取り消すときは、確認の欄にチェックを入れてください。"), "error")
        return redirect(url_for("respond.assignment", assignment_id=assignment.id))
    try:
        delegations.withdraw(delegation, current_user)
    except delegations.AlreadyMoved:
        flash(_("この依頼はすでに取り消されています。"), "info")
    else:
        db.session.commit()
        flash(_("依頼を取り消しました。"), "success")
    return redirect(url_for("respond.assignment", assignment_id=assignment.id))
