"""The pledges' pages: parse, call survey.services.pledges, commit, redirect. Who may do what is
decided in survey.access."""

from __future__ import annotations

import tempfile

import sqlalchemy as sa
from flask import flash, redirect, render_template, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from reports import pledges as workbook
from survey import access, clock
from survey.downloads import content_disposition
from survey.extensions import db
from survey.models import OrgUnit
from survey.models.pledges import Audience, Pledge
from survey.models.types import utcnow
from survey.pledges import bp
from survey.pledges.forms import DraftForm, PledgeForm, PublishForm
from survey.services import pledges, trail

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

bp.add_app_template_global(access.follows_pledges, "follows_pledges")
bp.add_app_template_global(access.has_pledges, "has_pledges")

follows = access.guard(access.follows_pledges, record="pledges")
manages = access.guard(access.follows_pledges, access.can_manage_pledges, record="pledges")


# --- everyone: their own acknowledgements -----------------------------------------------------


@bp.route("/mine")
@access.guard()
def mine():
    return render_template(
        "pledges/mine.html",
        acknowledgements=pledges.own_acknowledgements(current_user),
        due=pledges.renewal_due,
    )


@bp.route("/acknowledgements/<int:acknowledgement_id>/print")
@access.guard()
def print_view(acknowledgement_id: int):
    found = access.acknowledgement_or_404(acknowledgement_id, current_user)
    return render_template("pledges/print.html", ack=found, version=found.version)


# --- the office, auditors and managers --------------------------------------------------------


@bp.route("/")
@follows
def index():
    shown = db.session.scalars(
        access.scope_pledges(current_user, sa.select(Pledge)).order_by(Pledge.code)
    ).all()
    return render_template(
        "pledges/index.html",
        pledges=[(p, pledges.current_version(p), pledges.draft_of(p)) for p in shown],
        can_manage=access.can_manage_pledges(current_user),
    )


@bp.route("/new", methods=["GET", "POST"])
@manages
def new():
    form = PledgeForm()
    if form.validate_on_submit():
        try:
            made = pledges.create(
                form.code.data,
                form.title.data.strip(),
                form.audience.data,
                form.renewal.data,
                form.body.data,
            )
        except pledges.PledgeError as error:
            db.session.rollback()
            form.code.errors = [*form.code.errors, str(error)]
        else:
            db.session.commit()
            flash(
                _("誓約書の下書きを保存しました。内容を確かめてから公開してください。"), "success"
            )
            return redirect(url_for("pledges.show", code=made.code))
    status = 422 if form.errors else 200
    return render_template("pledges/new.html", form=form), status


@bp.route("/<code>")
@follows
def show(code: str):
    return _show(access.pledge_or_404(code, current_user), PublishForm())


def _show(pledge: Pledge, publish_form: PublishForm):
    return render_template(
        "pledges/show.html",
        pledge=pledge,
        current=pledges.current_version(pledge),
        draft=pledges.draft_of(pledge),
        can_manage=access.can_manage_pledges(current_user),
        publish_form=publish_form,
    )


@bp.route("/<code>/draft", methods=["GET", "POST"])
@manages
def draft(code: str):
    pledge = access.pledge_or_404(code, current_user)
    draft = pledges.draft_of(pledge)
    current = pledges.current_version(pledge)
    form = DraftForm()
    if not form.is_submitted():
        # The next version starts from the text in force.
        form.body.data = (draft or current).body if (draft or current) else ""
    if form.validate_on_submit():
        saved = pledges.save_draft(pledge, form.body.data)
        db.session.commit()
        flash(_("第%(version)s版の下書きを保存しました。", version=saved.version), "success")
        return redirect(url_for("pledges.show", code=pledge.code))
    status = 422 if form.errors else 200
    return render_template(
        "pledges/draft.html", pledge=pledge, draft=draft, current=current, form=form
    ), status


@bp.route("/<code>/publish", methods=["POST"])
@manages
def publish(code: str):
    pledge = access.pledge_or_404(code, current_user)
    if pledges.draft_of(pledge) is None:
        flash(_("公開する下書きはありません（公開済みです）。"), "info")
        return redirect(url_for("pledges.show", code=pledge.code))
    form = PublishForm()
    if not form.validate_on_submit():
        return _show(pledge, form), 422
    published = pledges.publish(pledge, current_user)
    db.session.commit()
    if published is None:  # a double click: the first one published it
        flash(_("公開する下書きはありません（公開済みです）。"), "info")
    else:
        flash(
            _(
                "第%(version)s版を公開しました。対象者には次のログインのときに同意を求めます。",
                version=published.version,
            ),
            "success",
        )
    return redirect(url_for("pledges.show", code=pledge.code))


def _completion(code: str):
    pledge = access.pledge_or_404(code, current_user)
    return pledges.completion(pledge, access.pledge_people(current_user))


def _scope() -> str:
    if current_user.role in access.SEE_ALL:
        return _("全体")
    unit = db.session.get(OrgUnit, current_user.unit_id)
    return _("%(unit)s以下", unit=unit.name)


@bp.route("/<code>/completion")
@follows
def completion(code: str):
    found = _completion(code)
    return render_template("pledges/completion.html", found=found, scope=_scope())


@bp.route("/<code>/completion.xlsx")
@follows
def completion_xlsx(code: str):
    found = _completion(code)
    pledge, version = found.pledge, found.version
    if version is None:
        flash(_("公開された版がないため、提出状況はありません。"), "info")
        return redirect(url_for("pledges.completion", code=pledge.code))
    with force_locale("ja"):  # the workbook is Japanese, whatever the screen's language
        scope = _scope()
    heading = workbook.Heading(
        pledge=pledge.title,
        version=version.version,
        published_at=clock.local(version.published_at),
        scope=scope,
        generated_at=clock.local(utcnow()),
        generated_by=f"{current_user.display_name}（{current_user.username}）",
        contractors=pledge.audience == Audience.CONTRACTORS,
    )
    total = found.total
    handle = tempfile.TemporaryFile()
    workbook.write_completion(
        [
            (r.group, r.name, r.people, r.acknowledged, r.missing, _percent(r.ratio))
            for r in found.rows
        ],
        [(m.group, m.name, m.display_name, m.username) for m in found.missing],
        ("合計", "", total.people, total.acknowledged, total.missing, _percent(total.ratio)),
        heading,
        handle,
    )
    handle.seek(0)
    trail.record(
        "export.pledge_completion",
        pledge,
        summary=f"{pledge.title} 第{version.version}版",
        after={"scope": scope, "rows": len(found.rows)},
        commit=True,
    )
    response = send_file(
        handle, mimetype=XLSX, as_attachment=True, download_name=f"pledge-{pledge.code}.xlsx"
    )
    response.headers["Content-Disposition"] = content_disposition(
        f"{pledge.title}_提出状況_{clock.today():%Y%m%d}.xlsx",
        f"pledge-{pledge.code}_completion.xlsx",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _percent(ratio: float | None) -> float | None:
    return None if ratio is None else ratio * 100
