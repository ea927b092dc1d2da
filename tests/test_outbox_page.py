"""The outbox page: the security office sees every mail and its delivery state, reads bodies
only where mail is not really sent, and retries failures; nobody else sees it exists."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEntry
from survey.models.types import utcnow
from survey.services import outbox
from survey.services.notify import queue_mail
from tests.helpers import login
from tests.smtp_server import smtp_settings

SECRET = "https://tenken.example.jp/auth/invite/SECRET-TOKEN"


@pytest.fixture
def mails(demo_app):
    queued = queue_mail("queued@example.jp", "【点検】招待", f"リンク: {SECRET}")
    failing = queue_mail("failing@example.jp", "【点検】差し戻し", "本文")
    failing.attempts, failing.last_error = 2, "ConnectionRefusedError: [Errno 111] refused"
    failing.next_attempt_at = utcnow() + timedelta(hours=1)
    sent = queue_mail("sent@example.jp", "【点検】承認", "本文")
    sent.sent_at = utcnow()
    db.session.commit()
    return {"queued": queued, "failing": failing, "sent": sent}


def test_admin_sees_every_mail_with_its_state_newest_first(demo_app, mails):
    page = login(demo_app, "admin").get("/admin/outbox/").get_data(as_text=True)

    assert page.index("sent@example.jp") < page.index("failing@example.jp")
    assert page.index("failing@example.jp") < page.index("queued@example.jp")
    for label in ("未送信", "再送待ち", "送信済み"):
        assert label in page
    assert "ConnectionRefusedError" in page
    assert "送信メール" in page  # the menu link


def test_admin_searches_by_recipient_subject_and_state(demo_app, mails):
    admin = login(demo_app, "admin")

    by_address = admin.get("/admin/outbox/?q=FAILING@").get_data(as_text=True)
    by_subject = admin.get("/admin/outbox/?q=承認").get_data(as_text=True)
    by_state = admin.get("/admin/outbox/?state=queued").get_data(as_text=True)
    nothing = admin.get("/admin/outbox/?q=100%25").get_data(as_text=True)

    assert "failing@example.jp" in by_address and "sent@example.jp" not in by_address
    assert "sent@example.jp" in by_subject and "queued@example.jp" not in by_subject
    assert "queued@example.jp" in by_state and "failing@example.jp" not in by_state
    assert "条件に合うメールはありません。" in nothing


def test_the_outbox_pages_through_many_mails(demo_app, monkeypatch):
    monkeypatch.setattr(outbox, "PAGE_SIZE", 2)
    for n in range(5):
        queue_mail(f"user{n}@example.jp", f"件名{n}", "本文")
    db.session.commit()
    admin = login(demo_app, "admin")

    last = admin.get("/admin/outbox/?page=3").get_data(as_text=True)

    assert "user0@example.jp" in last and "user1@example.jp" not in last
    assert "3 / 3 ページ" in last


def test_bodies_are_shown_only_where_mail_stays_in_the_outbox(demo_app, mails):
    admin = login(demo_app, "admin")
    path = f"/admin/outbox/{mails['queued'].id}"

    assert SECRET in admin.get(path).get_data(as_text=True)
    demo_app.config["MAIL_BACKEND"] = "smtp"
    page = admin.get(path).get_data(as_text=True)
    assert SECRET not in page
    assert "宛先・件名・送信状況のみ" in page and "queued@example.jp" in page


@pytest.mark.parametrize("role", ["auditor", "manager", "respondent", "contractor"])
def test_other_roles_are_refused_the_outbox(demo_app, mails, role):
    client = login(demo_app, role)
    mail = mails["failing"]

    assert client.get("/admin/outbox/").status_code == 404
    assert client.get(f"/admin/outbox/{mail.id}").status_code == 404
    assert client.post(f"/admin/outbox/{mail.id}/retry").status_code == 404
    assert "送信メール" not in client.get("/").get_data(as_text=True)
    db.session.refresh(mail)
    assert mail.attempts == 2 and mail.state == "failing"
    assert (
        db.session.scalar(sa.select(AuditEntry.id).where(AuditEntry.action == "mail.retry")) is None
    )
    denied = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "access.denied", AuditEntry.object_type == "outgoing_mail")
    )
    assert denied == 3


def test_anonymous_visitors_are_sent_to_sign_in(demo_client, mails):
    response = demo_client.get("/admin/outbox/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_retry_now_sends_a_failed_mail_at_once(demo_app, mails, smtp):
    smtp_settings(demo_app, smtp.port)
    mail = mails["failing"]

    response = login(demo_app, "admin").post(f"/admin/outbox/{mail.id}/retry")

    assert response.status_code == 302
    db.session.refresh(mail)
    assert mail.sent_at is not None
    assert [r.recipients for r in smtp.received] == [["failing@example.jp"]]
    assert (
        db.session.scalar(sa.select(AuditEntry.summary).where(AuditEntry.action == "mail.retry"))
        == "failing@example.jp"
    )


def test_retry_is_refused_for_a_mail_already_sent(demo_app, mails, smtp):
    smtp_settings(demo_app, smtp.port)
    admin = login(demo_app, "admin")

    response = admin.post(f"/admin/outbox/{mails['sent'].id}/retry", follow_redirects=True)

    assert "再送の対象ではありません" in response.get_data(as_text=True)
    assert smtp.received == []


def test_an_unknown_mail_is_not_found(demo_app):
    assert login(demo_app, "admin").get("/admin/outbox/999999").status_code == 404
