"""The outbox (送信メール): every mail the system queued, whether and when it left, why it
failed, and a retry. For the security office only; everyone else gets a 404.

Mail bodies can hold invitation links, which are passwords in all but name: the page shows a
body only with MAIL_BACKEND=outbox (development, where the outbox is the mail), never when the
mail really goes out.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from survey import access
from survey.admin import bp
from survey.extensions import db
from survey.malformed import db_int
from survey.models import OutgoingMail
from survey.services import mailer, trail
from survey.services import outbox as outbox_service

bp.add_app_template_global(access.can_manage_mail, "can_manage_mail")

STATE_LABELS = {
    "queued": _l("未送信"),
    "failing": _l("再送待ち"),
    "failed": _l("送信失敗（再送停止）"),
    "sent": _l("送信済み"),
}
STATE_CLASSES = {
    "queued": "status-draft",
    "failing": "status-returned",
    "failed": "status-returned",
    "sent": "status-approved",
}


mail_admin_only = access.guard(access.can_manage_mail, record="outgoing_mail", id_arg="mail_id")


def _shows_bodies() -> bool:
    return current_app.config["MAIL_BACKEND"] == "outbox"


@bp.route("/outbox/")
@mail_admin_only
def outbox():
    text = request.args.get("q", "")
    state = request.args.get("state", "")
    state = state if state in outbox_service.STATES else ""
    found = outbox_service.search(text, state, request.args.get("page", 1, type=db_int))
    args = {k: v for k, v in (("q", text), ("state", state)) if v}
    return render_template(
        "admin/outbox/index.html",
        found=found,
        text=text,
        state=state,
        args=args,
        counts=outbox_service.counts(),
        backend=current_app.config["MAIL_BACKEND"],
        state_labels=STATE_LABELS,
        state_classes=STATE_CLASSES,
    )


def _mail_or_404(mail_id: int) -> OutgoingMail:
    mail = db.session.get(OutgoingMail, mail_id)
    if mail is None:
        abort(404)
    return mail


@bp.route("/outbox/<int:mail_id>")
@mail_admin_only
def outbox_mail(mail_id: int):
    mail = _mail_or_404(mail_id)
    return render_template(
        "admin/outbox/show.html",
        mail=mail,
        shows_body=_shows_bodies(),
        backend=current_app.config["MAIL_BACKEND"],
        state_labels=STATE_LABELS,
        state_classes=STATE_CLASSES,
    )


@bp.route("/outbox/<int:mail_id>/retry", methods=["POST"])
@mail_admin_only
def outbox_retry(mail_id: int):
    mail = _mail_or_404(mail_id)
    if mail.state not in ("failing", "failed"):
        flash(
            _("このメールは再送の対象ではありません（送信済みか、まだ送信を試みていません）。"),
            "error",
        )
        return redirect(url_for("admin.outbox_mail", mail_id=mail.id))
    mailer.retry_now(mail)
    trail.record("mail.retry", mail, summary=mail.recipient, after={"attempts": mail.attempts})
    db.session.commit()
    report = mailer.deliver_queued(ids=[mail.id])
    if report.sent:
        flash(_("メールを送信しました。"), "success")
    elif report.failed:
        flash(_("送信できませんでした: %(error)s", error=report.failed[0].last_error), "error")
    else:
        flash(_("再送を予約しました。次回の送信処理（flask mail send）で送信します。"), "info")
    return redirect(url_for("admin.outbox_mail", mail_id=mail.id))
