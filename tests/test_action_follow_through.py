"""After the fix: the office sends the item back to its target to answer again, overdue
actions join the daily reminders, and the morning dashboard shows the contractor panels."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from survey import access, clock
from survey.extensions import db
from survey.models import AssignmentEvent, ReminderLog, Role, User
from survey.models.campaigns import AssignmentStatus
from survey.services import evaluations, reminders
from tests.helpers import login
from tests.test_corrective_actions import noncompliant, open_from_answer


def reopen(client, action, reason="措置が済んだので回答し直してください。", due=None):
    due = due or date.today() + timedelta(days=10)
    return client.post(
        f"/followup/actions/{action.id}/reopen",
        data={"reason": reason, "due_on": due.isoformat()},
    )


def test_admin_sends_the_item_back_to_its_target_after_the_fix(demo_app):
    assignment, item = noncompliant("国民年金課")
    admin = login(demo_app, "admin")
    action = open_from_answer(admin, assignment, item)
    assignment.status = AssignmentStatus.APPROVED
    db.session.commit()

    page = admin.get(f"/followup/actions/{action.id}").get_data(as_text=True)
    assert "この項目を再回答に戻す" in page
    response = reopen(admin, action)

    assert response.status_code == 302
    db.session.refresh(assignment)
    assert assignment.status == AssignmentStatus.RETURNED
    assert assignment.open_until == date.today() + timedelta(days=10)
    event = db.session.scalar(
        sa.select(AssignmentEvent)
        .where(AssignmentEvent.assignment_id == assignment.id)
        .order_by(AssignmentEvent.id.desc())
    )
    assert event.action == "reopen" and "回答し直して" in event.comment
    respondent = db.session.scalar(
        sa.select(User).where(
            User.unit_id == assignment.responsible_unit_id, User.role == Role.RESPONDENT
        )
    )
    assert access.can(respondent, "answer", assignment)


def test_a_reopen_without_a_reason_changes_nothing(demo_app):
    assignment, item = noncompliant("国民年金課")
    admin = login(demo_app, "admin")
    action = open_from_answer(admin, assignment, item)
    before = assignment.status

    response = reopen(admin, action, reason="")

    assert response.status_code == 302
    assert "理由" in admin.get(f"/followup/actions/{action.id}").get_data(as_text=True)
    db.session.refresh(assignment)
    assert assignment.status == before and assignment.open_until is None


def test_only_the_office_reopens_from_an_action(demo_app):
    assignment, item = noncompliant("国民年金課")
    action = open_from_answer(login(demo_app, "manager"), assignment, item)
    manager = login(demo_app, "manager")

    assert "この項目を再回答に戻す" not in manager.get(f"/followup/actions/{action.id}").get_data(
        as_text=True
    )
    assert reopen(manager, action).status_code == 403
    db.session.refresh(assignment)
    assert assignment.open_until is None


def test_owners_of_an_overdue_action_are_reminded_once_a_day(demo_app):
    assignment, item = noncompliant("国民年金課")
    late = open_from_answer(
        login(demo_app, "admin"), assignment, item, due=date.today() - timedelta(days=2)
    )
    key = f"action:{late.id}"

    letters = reminders.send(date.today())
    reminded = [r for letter in letters for r in letter.reminders if r.key == key]
    assert reminded and "是正措置" in reminded[0].line
    again = reminders.send(date.today())
    assert not [r for letter in again for r in letter.reminders if r.key == key]
    logged = db.session.scalars(sa.select(ReminderLog.recipient).where(ReminderLog.key == key))
    assert sorted(logged) == sorted({r.email.lower() for r in reminded})


def test_a_reported_action_waits_for_the_office_not_the_owner(demo_app):
    assignment, item = noncompliant("国民年金課")
    late = open_from_answer(
        login(demo_app, "admin"), assignment, item, due=date.today() - timedelta(days=2)
    )
    late.status = "reported"
    db.session.commit()

    planned = reminders.plan(date.today())
    assert f"action:{late.id}" not in {r.key for letter in planned for r in letter.reminders}


def test_the_dashboard_shows_overdue_recommendations(demo_app):
    late = evaluations.recommendations_overdue(clock.today())
    assert late, "the demo has a recommendation past its deadline"

    page = login(demo_app, "admin").get("/followup/").get_data(as_text=True)

    for recommendation in late:
        assert recommendation.evaluation.contractor.name in page
