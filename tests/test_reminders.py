"""Daily deadline reminders: one mail per person listing what is due soon or overdue, never the
same thing twice a day, delivered at once and kept for the next run if the server is down."""

from __future__ import annotations

import socket
import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from reports.dates import wareki
from survey.extensions import db
from survey.models import (
    Assignment,
    AuditEntry,
    Campaign,
    Contract,
    DailyRun,
    OutgoingMail,
    ReminderLog,
    Role,
    User,
)
from survey.models.campaigns import AssignmentStatus
from survey.models.types import utcnow
from survey.services import daily, mailer, reminders
from tests.conftest import make_app
from tests.helpers import assignment_of
from tests.smtp_server import smtp_settings

TODAY = date(2026, 11, 20)  # the demo's campaigns run until 2026-12-11
CONTRACT = "区長日程管理システム運用保守業務委託"  # C001's, owned by 秘書課


def _addresses(stmt) -> set[str]:
    return {u.email for u in db.session.scalars(stmt)}


def respondents_of(unit_id: int) -> set[str]:
    return _addresses(
        sa.select(User).where(
            User.unit_id == unit_id, User.role == Role.RESPONDENT, User.active.is_(True)
        )
    )


def contract_assignment() -> Assignment:
    return db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .join(Contract, Contract.id == Assignment.contract_id)
        .where(Campaign.code == "2026-annual-contracts", Contract.title == CONTRACT)
    )


class World:
    """Within the window: 戸籍住民課's draft (due in 2 days) and C001's contract (overdue).
    Also due, but handed in: 秘書課's approved questionnaire. Everything else is due later."""

    def __init__(self):
        self.own = assignment_of("戸籍住民課")
        self.own.due_on = TODAY + timedelta(days=2)
        self.contract = contract_assignment()
        self.contract.status = AssignmentStatus.RETURNED
        self.contract.due_on = TODAY - timedelta(days=1)
        self.done = assignment_of("秘書課")
        self.done.status = AssignmentStatus.APPROVED
        self.done.due_on = TODAY
        db.session.commit()
        self.own_people = respondents_of(self.own.responsible_unit_id)
        self.contract_people = respondents_of(self.contract.responsible_unit_id) | _addresses(
            # The company's contacts: its staff accounts answer only parts handed to them.
            sa.select(User).where(
                User.contractor_id == self.contract.contract.contractor_id,
                User.role == Role.CONTRACTOR,
            )
        )


@pytest.fixture
def world(demo_app, smtp, monkeypatch):
    smtp_settings(demo_app, smtp.port)
    # These stories are about questionnaires: the demo's overdue corrective actions, the other
    # source, would join the same mails (test_action_follow_through covers them).
    monkeypatch.setattr(reminders, "SOURCES", [reminders.assignment_reminders])
    return World()


def run(app, *args):
    return app.test_cli_runner().invoke(args=["reminders", "send", *args])


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_each_person_gets_one_mail_listing_their_assignments(demo_app, world, smtp):
    result = run(demo_app, "--today", TODAY.isoformat())

    assert result.exit_code == 0, result.output
    got = {r.recipients[0] for r in smtp.received}
    assert got == world.own_people | world.contract_people
    assert "respondent@example.jp" in got and "contractor@example.jp" in got
    assert len(smtp.received) == len(got)  # one mail each
    message = smtp.handler.to("respondent@example.jp")[0]
    assert message["Subject"] == "【情報セキュリティ自己点検】期限のお知らせ（1件）"
    body = message.get_content()
    assert "戸籍住民課" in body and wareki(world.own.due_on) in body
    assert "あと2日" in body and "回答中" in body
    assert f"/assignments/{world.own.id}" in body
    # One mail for every kind of deadline (courses, pledges, log reviews too), worded for all.
    assert "次の事項の期限が近づいているか、過ぎています" in body
    contractor = smtp.handler.to("contractor@example.jp")[0].get_content()
    assert CONTRACT in contractor and "期限を1日過ぎています" in contractor
    assert "差戻し" in contractor


def test_a_person_with_two_assignments_gets_them_in_one_mail(demo_app, world, smtp):
    # 戸籍住民課 also answers for one of its systems, due tomorrow.
    other = db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .where(
            Campaign.code == "2026-annual-contracts",
            Assignment.id != world.contract.id,
        )
        .order_by(Assignment.id)
    )
    other.responsible_unit_id = world.own.responsible_unit_id
    other.status = AssignmentStatus.NOT_STARTED
    other.due_on = TODAY + timedelta(days=1)
    db.session.commit()

    reminders.send(TODAY)

    [mail] = db.session.scalars(
        sa.select(OutgoingMail).where(OutgoingMail.recipient == "respondent@example.jp")
    )
    assert "（2件）" in mail.subject
    # Soonest first.
    assert mail.body.index(other.target_name) < mail.body.index("戸籍住民課")


def test_a_second_run_the_same_day_sends_nothing_twice(demo_app, world, smtp):
    assert run(demo_app, "--today", TODAY.isoformat()).exit_code == 0
    sent = len(smtp.received)
    mails, logs = count(OutgoingMail), count(ReminderLog)

    again = run(demo_app, "--today", TODAY.isoformat())

    assert again.exit_code == 0
    assert "作成済み" in again.output
    assert len(smtp.received) == sent
    assert (count(OutgoingMail), count(ReminderLog)) == (mails, logs)


def test_the_next_day_brings_a_new_mail(demo_app, world, smtp):
    run(demo_app, "--today", TODAY.isoformat())
    first = sent_to(smtp)

    result = run(demo_app, "--today", (TODAY + timedelta(days=1)).isoformat())

    assert result.exit_code == 0
    # Everyone mailed yesterday has today's mail (the demo's early questionnaire joins too).
    again = sent_to(smtp)
    assert all(again.count(address) == 2 for address in first)
    body = smtp.handler.to("respondent@example.jp")[1].get_content()
    assert "あと1日" in body


def test_handed_in_work_and_later_deadlines_are_not_reminded(demo_app, world):
    letters = reminders.plan(TODAY)

    keys = {r.key for letter in letters for r in letter.reminders}
    assert keys == {f"assignment:{world.own.id}", f"assignment:{world.contract.id}"}


def test_dry_run_lists_and_changes_nothing(demo_app, world, smtp):
    before = (count(OutgoingMail), count(ReminderLog))

    result = run(demo_app, "--dry-run", "--today", TODAY.isoformat())

    assert result.exit_code == 0
    assert "respondent@example.jp" in result.output and "contractor@example.jp" in result.output
    assert f"assignment:{world.own.id}" in result.output
    assert (count(OutgoingMail), count(ReminderLog)) == before
    assert smtp.received == []


def test_server_down_fails_loudly_and_the_next_run_sends_once(
    demo_app,
    world,
    smtp,
    monkeypatch,
    refused_port,
):
    demo_app.config["SMTP_PORT"] = refused_port

    down = run(demo_app, "--today", TODAY.isoformat())

    assert down.exit_code == 1
    assert "次の実行で再送します" in down.output
    unsent = list(db.session.scalars(sa.select(OutgoingMail)))
    assert unsent and all(m.sent_at is None and m.last_error for m in unsent)
    queued = len(unsent)

    demo_app.config["SMTP_PORT"] = smtp.port
    later = utcnow() + timedelta(hours=1)
    monkeypatch.setattr(mailer, "now", lambda: later)
    up = run(demo_app, "--today", TODAY.isoformat())

    assert up.exit_code == 0, up.output
    assert count(OutgoingMail) == queued  # nothing queued again
    assert len(smtp.received) == queued
    assert len({r.recipients[0] for r in smtp.received}) == queued
    assert run(demo_app, "--today", TODAY.isoformat()).exit_code == 0
    assert len(smtp.received) == queued


def test_another_source_joins_the_same_mail(demo_app, world):
    def actions(today):
        yield reminders.Reminder(
            "Respondent@example.jp", "住民 記録", "action:7", "■ 是正措置 #7", today
        )

    reminders.send(TODAY, sources=[*reminders.SOURCES, actions])

    [mail] = db.session.scalars(
        sa.select(OutgoingMail).where(OutgoingMail.recipient == "respondent@example.jp")
    )
    assert "■ 是正措置 #7" in mail.body and "戸籍住民課" in mail.body
    assert "（2件）" in mail.subject


# --- once a day, however many nodes run it -------------------------------------------------


@pytest.fixture
def other_node(demo_app, smtp, tmp_path):
    """A second app instance on the same database, as on another server."""
    other = make_app(demo_app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "other-node")
    smtp_settings(other, smtp.port)
    yield other
    with other.app_context():
        db.engine.dispose()


def run_on(app, *args):
    with app.app_context():  # the command runs in this app, not in the test's
        return run(app, *args)


def sent_to(smtp) -> list[str]:
    return sorted(r.recipients[0] for r in smtp.received)


def test_two_nodes_running_the_daily_job_send_each_mail_once(demo_app, world, smtp, other_node):
    first = run_on(demo_app, "--today", TODAY.isoformat())
    made = len(smtp.received)
    mails, logs = count(OutgoingMail), count(ReminderLog)
    # Something falls due after the first run: the day's mails are made all the same.
    world.done.status = AssignmentStatus.DRAFT
    db.session.commit()

    second = run_on(other_node, "--today", TODAY.isoformat())

    assert (first.exit_code, second.exit_code) == (0, 0), second.output
    assert made == len(world.own_people | world.contract_people)
    assert sent_to(smtp) == sorted(world.own_people | world.contract_people)
    assert (count(OutgoingMail), count(ReminderLog)) == (mails, logs)
    assert "作成済み" in second.output and socket.gethostname() in second.output
    sends = sa.select(sa.func.count()).where(AuditEntry.action == "reminder.send")
    assert db.session.scalar(sends) == 1


def test_two_nodes_at_the_same_instant_make_the_days_mails_once(demo_app, world, other_node):
    start = threading.Barrier(2)
    results = {}

    def node(app, name):
        with app.app_context():
            start.wait()
            results[name] = reminders.send_daily(TODAY)

    nodes = ((demo_app, "a"), (other_node, "b"))
    threads = [threading.Thread(target=node, args=pair) for pair in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    made = [r for r in results.values() if r.taken_by is None]
    refused = [r for r in results.values() if r.taken_by is not None]
    assert len(made) == 1 and len(refused) == 1 and refused[0].letters == []
    recipients = db.session.scalars(sa.select(OutgoingMail.recipient)).all()
    assert sorted(recipients) == sorted(world.own_people | world.contract_people)


def test_a_run_that_fails_gives_the_day_back(demo_app, world, monkeypatch):
    def broken(*_args):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(reminders, "send", broken)
    with pytest.raises(RuntimeError):
        reminders.send_daily(TODAY)
    assert count(DailyRun) == 0
    monkeypatch.undo()

    assert reminders.send_daily(TODAY).letters  # the next run makes them


def test_again_makes_what_a_run_that_died_left_undone(demo_app, world, smtp):
    daily.claim(reminders.JOB, TODAY)  # a run took the day, and was killed before any mail

    refused = run(demo_app, "--today", TODAY.isoformat())
    assert "作成済み" in refused.output and smtp.received == []

    again = run(demo_app, "--today", TODAY.isoformat(), "--again")
    assert again.exit_code == 0, again.output
    assert sent_to(smtp) == sorted(world.own_people | world.contract_people)
    run(demo_app, "--today", TODAY.isoformat(), "--again")
    assert len(smtp.received) == len(world.own_people | world.contract_people)  # none twice
