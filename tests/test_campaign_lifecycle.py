"""The security office runs an inspection from start to finish: creates it, chooses the
divisions of one department, opens it, answers arrive, extends it, closes it, reopens one
division and copies the whole for next year."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from reports.dates import wareki
from survey import access, clock
from survey.extensions import db
from survey.models import (
    Assignment,
    AssignmentEvent,
    AuditEntry,
    Campaign,
    CampaignTarget,
    OrgUnit,
    OutgoingMail,
    Role,
    User,
)
from survey.models.campaigns import AssignmentStatus, CampaignStatus
from survey.services import answering
from tests import helpers
from tests.helpers import login

CODE = "2027-kumin-assets"


def department(name: str) -> OrgUnit:
    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == name))


def divisions_of(dept: OrgUnit) -> set[int]:
    """What "all divisions and offices of this department" must pick, read from the database."""
    return set(
        db.session.scalars(
            sa.select(OrgUnit.id).where(
                OrgUnit.id.in_(access.subtree_ids(dept.id)),
                OrgUnit.kind.in_(("division", "office")),
                OrgUnit.active.is_(True),
            )
        )
    )


def campaign(code: str = CODE) -> Campaign:
    db.session.expire_all()
    return db.session.scalar(sa.select(Campaign).where(Campaign.code == code))


def audited(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def answer_everything(app, assignment: Assignment, user: User) -> None:
    inputs = {
        item.id: answering.ItemInput("yes", "確認済み")
        for item in assignment.campaign.checklist.items
    }
    with app.test_request_context():  # the rules speak Japanese: they need a locale
        answering.save(assignment, inputs, user, revision=assignment.revision)
        db.session.commit()  # as the form does: the draft is stored, then handed in
        answering.submit(assignment, user)
    db.session.commit()


def test_the_office_runs_an_inspection_from_start_to_finish(demo_app):
    admin = login(demo_app, "admin")
    today = clock.today()
    opens, closes = today, today + timedelta(days=30)
    checklist = helpers.checklist("emergency-assets")

    # 1. Create from the published checklist.
    assert admin.get("/campaigns/new").status_code == 200
    created = admin.post(
        "/campaigns/new",
        data={
            "code": CODE,
            "title": "令和9年度 区民部 情報資産の点検",
            "checklist_id": str(checklist.id),
            "opens_on": opens.isoformat(),
            "closes_on": closes.isoformat(),
        },
    )
    assert created.status_code == 302
    assert created.headers["Location"].endswith(f"/campaigns/{CODE}/targets")
    assert campaign().status == CampaignStatus.DRAFT
    assert len(audited("campaign.create")) == 1

    # 2. Choose every division and office of 区民部, and see the count before opening.
    kumin = department("区民部")
    expected = divisions_of(kumin)
    assert expected
    chosen = admin.post(
        f"/campaigns/{CODE}/targets/filter",
        data={"filter": "departments", "department": str(kumin.id)},
    )
    assert chosen.status_code == 302
    stored = set(
        db.session.scalars(
            sa.select(CampaignTarget.unit_id).where(CampaignTarget.campaign_id == campaign().id)
        )
    )
    assert stored == expected
    page = admin.get(f"/campaigns/{CODE}/targets").get_data(as_text=True)
    assert f"選んだ対象: {len(expected)}件" in page
    confirm = admin.get(f"/campaigns/{CODE}/open").get_data(as_text=True)
    assert f"{len(expected)}件の対象に回答を依頼します" in confirm

    # 3. Open: one assignment per division, due on the close date, one mail per respondent.
    opened = admin.post(f"/campaigns/{CODE}/open")
    assert opened.status_code == 302
    assert opened.headers["Location"].endswith(f"/campaigns/{CODE}/progress")
    made = list(
        db.session.scalars(sa.select(Assignment).where(Assignment.campaign_id == campaign().id))
    )
    assert {a.unit_id for a in made} == expected
    assert all(a.responsible_unit_id == a.unit_id and a.due_on == closes for a in made)
    assert campaign().status == CampaignStatus.OPEN
    respondents = list(
        db.session.scalars(
            sa.select(User).where(
                User.role == Role.RESPONDENT, User.unit_id.in_(expected), User.email.is_not(None)
            )
        )
    )
    mails = list(db.session.scalars(sa.select(OutgoingMail)))
    assert sorted(m.recipient for m in mails) == sorted(u.email for u in respondents)
    clerk_mail = next(m for m in mails if m.recipient == "respondent@example.jp")
    own = next(a for a in made if a.unit.name == "戸籍住民課")
    assert wareki(closes) in clerk_mail.body
    base = demo_app.config["SURVEY_BASE_URL"]
    assert f"{base}/assignments/{own.id}" in clerk_mail.body
    assert len(audited("campaign.open")) == 1

    # A second click (or a retry) creates nothing twice.
    again = admin.post(f"/campaigns/{CODE}/open")
    assert again.status_code == 302
    assert db.session.scalar(
        sa.select(sa.func.count()).where(Assignment.campaign_id == campaign().id)
    ) == len(expected)
    assert db.session.scalar(sa.select(sa.func.count(OutgoingMail.id))) == len(mails)
    assert len(audited("campaign.open")) == 1

    progress = admin.get(f"/campaigns/{CODE}/progress")
    assert progress.status_code == 200
    assert "区民部" in progress.get_data(as_text=True)

    # 4. Answers arrive: 戸籍住民課 hands in; another division has started a draft.
    clerk = helpers.user("respondent")
    answer_everything(demo_app, db.session.get(Assignment, own.id), clerk)
    other = next(a for a in made if a.unit.name == "税務課")
    draft_by = helpers.user("r-" + other.unit.code.lower())
    first_item = other.campaign.checklist.items[0]
    with demo_app.test_request_context():
        answering.save(
            db.session.get(Assignment, other.id),
            {first_item.id: answering.ItemInput("no", "研修未受講が2名")},
            draft_by,
            revision=0,
        )
    db.session.commit()
    body = admin.get(f"/campaigns/{CODE}/progress").get_data(as_text=True)
    assert f"1/{len(expected)}" in body

    # 5. Extend for everyone: the close date and every unsubmitted due date move on.
    later = closes + timedelta(days=14)
    extended = admin.post(
        f"/campaigns/{CODE}/extend",
        data={"closes_on": later.isoformat(), "reason": "人事異動の時期と重なったため"},
    )
    assert extended.status_code == 302
    assert campaign().closes_on == later
    due = {a.id: (a.status, a.due_on) for a in campaign().assignments}
    assert due[own.id] == (AssignmentStatus.SUBMITTED, closes)
    assert all(d == later for s, d in due.values() if s != AssignmentStatus.SUBMITTED)
    assert audited("campaign.extend")[0].after_json.count("人事異動") == 1

    # 6. Close: answers freeze, even for a crafted POST.
    closed = admin.post(f"/campaigns/{CODE}/close")
    assert closed.status_code == 302
    assert campaign().status == CampaignStatus.CLOSED
    assert len(audited("campaign.close")) == 1
    drafter = login(demo_app, draft_by.username)
    frozen = db.session.get(Assignment, other.id)
    before = [(a.item_id, a.option_id, a.comment) for a in frozen.answers]
    crafted = helpers.form_data(frozen, answers={1: "yes"}, comments={1: "閉じた後に変更"})
    assert drafter.post(f"/assignments/{other.id}", data=crafted).status_code == 403
    crafted["action"] = "submit"
    assert drafter.post(f"/assignments/{other.id}", data=crafted).status_code == 403
    db.session.expire_all()
    frozen = db.session.get(Assignment, other.id)
    assert [(a.item_id, a.option_id, a.comment) for a in frozen.answers] == before
    assert frozen.status == AssignmentStatus.DRAFT

    # 7. Reopen 戸籍住民課 after the close, with a reason and a new due date.
    new_due = today + timedelta(days=7)
    mails_before = db.session.scalar(sa.select(sa.func.count(OutgoingMail.id)))
    reopened = admin.post(
        f"/campaigns/assignments/{own.id}/reopen",
        data={"reopen-due_on": new_due.isoformat(), "reopen-reason": "項目3の回答に誤り"},
    )
    assert reopened.status_code == 302
    mine = db.session.get(Assignment, own.id)
    assert (mine.status, mine.due_on, mine.open_until) == (
        AssignmentStatus.RETURNED,
        new_due,
        new_due,
    )
    event = db.session.scalar(
        sa.select(AssignmentEvent).where(
            AssignmentEvent.assignment_id == own.id, AssignmentEvent.action == "reopen"
        )
    )
    assert event.comment == "項目3の回答に誤り"
    assert db.session.scalar(sa.select(sa.func.count(OutgoingMail.id))) > mails_before
    assert len(audited("assignment.reopen")) == 1
    # Its people answer and hand in again, though the campaign is closed.
    clerk_client = login(demo_app, "respondent")
    resubmit = helpers.form_data(mine, answers={3: "no"}, comments={3: "鍵の管理簿を整備中"})
    resubmit["action"] = "submit"
    assert clerk_client.post(f"/assignments/{own.id}", data=resubmit).status_code == 302
    db.session.expire_all()
    assert db.session.get(Assignment, own.id).status == AssignmentStatus.SUBMITTED
    # The division whose answers were not reopened still cannot.
    assert drafter.post(f"/assignments/{other.id}", data=crafted).status_code == 403

    # 8. Copy for next year's round: same targets, dates a year on, a suggested code.
    form = admin.get(f"/campaigns/{CODE}/copy").get_data(as_text=True)
    assert 'value="2028-kumin-assets"' in form
    copied = admin.post(
        f"/campaigns/{CODE}/copy",
        data={
            "code": "2028-kumin-assets",
            "title": "令和10年度 区民部 情報資産の点検",
            "checklist_id": str(checklist.id),
            "opens_on": opens.replace(year=opens.year + 1).isoformat(),
            "closes_on": later.replace(year=later.year + 1).isoformat(),
        },
    )
    assert copied.status_code == 302
    copy = campaign("2028-kumin-assets")
    assert copy.status == CampaignStatus.DRAFT
    assert {t.unit_id for t in copy.targets} == expected
    assert copy.closes_on == later.replace(year=later.year + 1)
    assert len(audited("campaign.copy")) == 1


def test_the_service_refuses_to_open_a_campaign_twice(demo_app):
    """The service itself refuses a second opening (the view's check aside)."""
    from survey.services import campaigns as service

    with demo_app.test_request_context():
        admin = helpers.user("admin")
        draft = service.create_campaign(
            service.Settings(
                "twice",
                "二度押し",
                helpers.checklist("emergency-assets").id,
                date.today(),
                date.today() + timedelta(days=10),
            ),
            admin,
        )
        service.change_targets(draft, add=sorted(divisions_of(department("区長室"))))
        service.open_campaign(draft, admin, date.today())
        db.session.commit()
        count = db.session.scalar(
            sa.select(sa.func.count()).where(Assignment.campaign_id == draft.id)
        )
        try:
            service.open_campaign(draft, admin, date.today())
        except service.CampaignError as refused:
            assert "既に開始" in refused.message
        else:
            raise AssertionError("opened twice")
        db.session.rollback()
        assert (
            db.session.scalar(sa.select(sa.func.count()).where(Assignment.campaign_id == draft.id))
            == count
        )
