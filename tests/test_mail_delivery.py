"""Queued mail is delivered over SMTP to a real server started by the test: proper Japanese
MIME, marked sent only once accepted, failures recorded and retried, never sent twice."""

from __future__ import annotations

import ssl
from datetime import timedelta

import pytest
import sqlalchemy as sa
import trustme

from survey.extensions import db
from survey.models import OutgoingMail
from survey.models.types import utcnow
from survey.services import mailer
from survey.services.notify import queue_mail
from tests.smtp_server import SMTPServer, smtp_settings

SUBJECT = "【情報セキュリティ自己点検】差し戻しのお知らせ（戸籍住民課）"
BODY = "差し戻しの理由:\n証跡ファイルが添付されていません。\n\n回答画面:\nhttps://tenken.example.jp/x\n"


@pytest.fixture
def mail_app(app, smtp):
    smtp_settings(app, smtp.port)
    return app


def _queue(*recipients: str) -> list[OutgoingMail]:
    mails = [queue_mail(r, SUBJECT, BODY) for r in recipients]
    db.session.commit()
    return mails


def test_queued_mail_arrives_as_readable_japanese_mime(mail_app, smtp):
    [mail] = _queue("tanaka@example.jp")

    report = mailer.deliver_queued()

    assert [m.id for m in report.sent] == [mail.id] and report.ok
    [received] = smtp.received
    assert received.recipients == ["tanaka@example.jp"]
    assert received.sender == "tenken@example.jp"
    message = received.message
    assert message["Subject"] == SUBJECT
    assert message.get_content().replace("\r\n", "\n") == BODY  # MIME text is CRLF
    assert message.get_content_charset() == "utf-8"
    assert message["To"] == "tanaka@example.jp"
    assert message["From"].addresses[0].display_name == "tenken 点検"
    assert message["Date"].datetime is not None
    assert message["Message-ID"].startswith(f"<tenken.{mail.id}.")
    raw = message.as_bytes(policy=message.policy.clone(utf8=False))
    assert b"=?utf-8?" in raw.split(b"\n\n", 1)[0].lower()  # RFC 2047 encoded-words
    db.session.refresh(mail)
    assert mail.sent_at is not None and mail.attempts == 0 and mail.claim is None


def test_a_second_run_sends_nothing_again(mail_app, smtp):
    _queue("a@example.jp", "b@example.jp")
    assert len(mailer.deliver_queued().sent) == 2
    assert mailer.deliver_queued().sent == []
    assert sorted(r.recipients[0] for r in smtp.received) == ["a@example.jp", "b@example.jp"]


def test_server_down_records_the_error_and_a_later_run_sends_once(mail_app, smtp, refused_port):
    [mail] = _queue("tanaka@example.jp")
    mail_app.config["SMTP_PORT"] = refused_port
    moment = utcnow()

    report = mailer.deliver_queued(moment)

    assert not report.ok and report.sent == []
    db.session.refresh(mail)
    assert mail.sent_at is None and mail.attempts == 1
    assert "Connection" in mail.last_error or "refused" in mail.last_error
    assert mail.next_attempt_at is not None and mail.state == "failing"
    mail_app.config["SMTP_PORT"] = smtp.port
    assert mailer.deliver_queued(moment + timedelta(minutes=1)).sent == []  # not due yet
    later = moment + mailer.backoff(1)
    assert [m.id for m in mailer.deliver_queued(later).sent] == [mail.id]
    assert mailer.deliver_queued(later + timedelta(days=1)).sent == []
    assert len(smtp.received) == 1


def test_a_refused_address_is_retried_and_the_others_are_sent(mail_app, smtp):
    smtp.handler.refuse.add("gone@example.jp")
    ok, refused = _queue("tanaka@example.jp", "gone@example.jp")

    report = mailer.deliver_queued()

    assert [m.id for m in report.sent] == [ok.id]
    assert [m.id for m in report.failed] == [refused.id]
    db.session.refresh(refused)
    assert refused.sent_at is None and "550" in refused.last_error
    assert [r.recipients for r in smtp.received] == [["tanaka@example.jp"]]


def test_retries_stop_after_the_last_attempt(mail_app, smtp, monkeypatch):
    monkeypatch.setattr(mailer, "MAX_ATTEMPTS", 2)
    smtp.handler.refuse.add("gone@example.jp")
    [mail] = _queue("gone@example.jp")
    moment = utcnow()
    mailer.deliver_queued(moment)
    mailer.deliver_queued(moment + mailer.backoff(1))
    db.session.refresh(mail)
    assert mail.attempts == 2 and mail.next_attempt_at is None and mail.state == "failed"
    assert mailer.deliver_queued(moment + timedelta(days=30)).failed == []

    smtp.handler.refuse.clear()
    mailer.retry_now(mail, moment + timedelta(days=30))
    db.session.commit()
    assert [m.id for m in mailer.deliver_queued(moment + timedelta(days=30)).sent] == [mail.id]


def test_starttls_is_required_when_asked_and_never_skipped(mail_app, smtp):
    mail_app.config["SMTP_SECURITY"] = "starttls"  # the test server offers no STARTTLS
    [mail] = _queue("tanaka@example.jp")

    report = mailer.deliver_queued()

    assert report.sent == [] and smtp.received == []
    db.session.refresh(mail)
    assert mail.sent_at is None and "STARTTLS" in mail.last_error


@pytest.fixture
def certificate_authority(tmp_path, monkeypatch):
    """A CA the client trusts (as an office trusts its own, through SSL_CERT_FILE) and the
    server's certificate for 127.0.0.1 signed by it."""
    authority = trustme.CA()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    return server_context


@pytest.mark.parametrize(
    "security, server_arguments",
    [
        ("starttls", lambda context: {"tls_context": context, "require_starttls": True}),
        ("ssl", lambda context: {"ssl_context": context}),
    ],
)
def test_mail_goes_out_encrypted_to_a_server_whose_certificate_is_trusted(
    app, certificate_authority, security, server_arguments
):
    server = SMTPServer(server_arguments(certificate_authority))
    server.start()
    try:
        smtp_settings(app, server.port)
        app.config["SMTP_SECURITY"] = security
        [mail] = _queue("tanaka@example.jp")
        report = mailer.deliver_queued()
        assert [m.id for m in report.sent] == [mail.id]
        [received] = server.received
        assert received.message["Subject"] == SUBJECT
    finally:
        server.stop()


def test_a_server_certificate_nobody_vouches_for_is_refused(
    app, certificate_authority, monkeypatch
):
    monkeypatch.delenv("SSL_CERT_FILE")  # the system's CAs never signed the test server's
    server = SMTPServer({"tls_context": certificate_authority, "require_starttls": True})
    server.start()
    try:
        smtp_settings(app, server.port)
        app.config["SMTP_SECURITY"] = "starttls"
        [mail] = _queue("tanaka@example.jp")
        assert mailer.deliver_queued().sent == [] and server.received == []
        db.session.refresh(mail)
        assert mail.sent_at is None and "CERTIFICATE_VERIFY_FAILED" in mail.last_error
    finally:
        server.stop()


def test_overlapping_runs_never_send_the_same_mail(mail_app, smtp):
    _queue("a@example.jp", "b@example.jp")
    moment = utcnow()
    first = mailer.claim(moment)  # a run that claimed the queue and is still sending

    second = mailer.deliver_queued(moment + timedelta(seconds=5))

    assert len(first) == 2 and second.sent == [] and second.failed == []
    assert smtp.received == []
    # The first run died: after the lease another run takes its mails over, once.
    taken_over = mailer.deliver_queued(moment + mailer.LEASE + timedelta(seconds=1))
    assert len(taken_over.sent) == 2
    assert len(smtp.received) == 2


def test_the_outbox_backend_keeps_mail_in_the_outbox(mail_app, smtp):
    mail_app.config["MAIL_BACKEND"] = "outbox"
    [mail] = _queue("tanaka@example.jp")

    report = mailer.deliver_queued()

    assert report.backend == "outbox" and report.sent == [] and report.ok
    assert smtp.received == []
    db.session.refresh(mail)
    assert mail.sent_at is None and mail.state == "queued"


def test_mail_send_command_reports_and_exits_nonzero_on_failure(mail_app, smtp, refused_port):
    _queue("tanaka@example.jp")
    runner = mail_app.test_cli_runner()
    port = mail_app.config["SMTP_PORT"]
    mail_app.config["SMTP_PORT"] = refused_port

    down = runner.invoke(args=["mail", "send"])

    assert down.exit_code == 1
    assert "失敗: 1 件" in down.output and "tanaka@example.jp" in down.output
    mail_app.config["SMTP_PORT"] = port
    db.session.execute(sa.update(OutgoingMail).values(next_attempt_at=utcnow()))
    db.session.commit()
    up = runner.invoke(args=["mail", "send"])
    assert up.exit_code == 0, up.output
    assert "送信しました: 1 件" in up.output
    assert len(smtp.received) == 1
