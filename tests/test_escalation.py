"""Reminders that climb the organisation: a late questionnaire reaches its respondents from the
first step's day, its unit head from the second, the head of the unit above from the third;
everyone gets one digest a day whatever the number of campaigns and actions; the step shows on
the progress page and in the 未提出一覧 workbook; the office sets the steps."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import sqlalchemy as sa

from reports import excel, tables
from reports.progress import SHEET
from survey import clock, demo_escalation
from survey.extensions import db
from survey.models import (
    Assignment,
    AuditEntry,
    Campaign,
    CorrectiveAction,
    EscalationDefault,
    OrgUnit,
    OutgoingMail,
    ReminderLog,
    Role,
    User,
)
from survey.models.campaigns import AssignmentStatus
from survey.services import reminders
from tests.helpers import ANNUAL, job_download, login, user

DUE = demo_escalation.EARLY_DUE  # the demo's questionnaire brought forward (2026-11-24)
KUMIN = "区民部"


@pytest.fixture
def late(demo_app) -> Assignment:
    """The demo's early questionnaire, not handed in; its division gets a head of its own."""
    assignment = db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .where(Campaign.code == ANNUAL, Assignment.due_on == DUE)
    )
    db.session.add(
        User(
            username="m-head",
            display_name=f"{assignment.unit.name}長",
            email="head@example.jp",
            role=Role.MANAGER,
            unit_id=assignment.unit_id,
        )
    )
    db.session.commit()
    return assignment


def freeze(monkeypatch, day: date) -> None:
    monkeypatch.setattr(clock, "today", lambda: day)


def respondents(unit_id: int) -> set[str]:
    return set(
        db.session.scalars(
            sa.select(User.email).where(User.unit_id == unit_id, User.role == Role.RESPONDENT)
        )
    )


def managers_of(name: str) -> set[str]:
    unit = sa.select(OrgUnit.id).where(OrgUnit.name == name).scalar_subquery()
    return set(
        db.session.scalars(
            sa.select(User.email).where(User.unit_id == unit, User.role == Role.MANAGER)
        )
    )


def reminded(key: str) -> set[str]:
    """Who today's run (on the frozen clock) would remind of `key`."""
    letters = reminders.plan(clock.today(), reminders.sources())
    return {letter.email for letter in letters for r in letter.reminders if r.key == key}


def send(app, *args):
    return app.test_cli_runner().invoke(args=["reminders", "send", *args])


def mails_to(address: str) -> list[OutgoingMail]:
    return list(
        db.session.scalars(
            sa.select(OutgoingMail)
            .where(OutgoingMail.recipient == address)
            .order_by(OutgoingMail.id)
        )
    )


# --- the steps --------------------------------------------------------------------------------


def test_before_the_first_step_nobody_is_reminded(demo_app, late, monkeypatch):
    freeze(monkeypatch, DUE - timedelta(days=4))

    assert reminded(f"assignment:{late.id}") == set()


def test_three_days_before_the_due_date_the_respondents_are_reminded(demo_app, late, monkeypatch):
    freeze(monkeypatch, DUE - timedelta(days=3))

    assert reminded(f"assignment:{late.id}") == respondents(late.unit_id)


def test_three_days_after_it_the_unit_head_joins(demo_app, late, monkeypatch):
    freeze(monkeypatch, DUE + timedelta(days=2))
    assert "head@example.jp" not in reminded(f"assignment:{late.id}")

    freeze(monkeypatch, DUE + timedelta(days=3))

    assert reminded(f"assignment:{late.id}") == respondents(late.unit_id) | {"head@example.jp"}


def test_seven_days_after_it_the_department_head_joins(demo_app, late, monkeypatch, smtp):
    from tests.smtp_server import smtp_settings

    smtp_settings(demo_app, smtp.port)
    freeze(monkeypatch, DUE + timedelta(days=7))
    department_heads = managers_of(KUMIN)
    assert user("manager").email in department_heads

    assert send(demo_app).exit_code == 0  # on the frozen clock: no --today

    expected = respondents(late.unit_id) | {"head@example.jp"} | department_heads
    assert expected <= {r.recipients[0] for r in smtp.received}
    body = smtp.handler.to(user("manager").email)[0].get_content()
    assert late.target_name in body
    assert f"督促段階: 部局長（担当所属: {late.unit.name}）" in body
    assert "期限を7日過ぎています" in body


def test_a_campaigns_own_steps_are_followed(demo_app, late, monkeypatch):
    late.campaign.remind_respondent_days = None  # the office chose heads only, from day 1
    late.campaign.remind_unit_head_days = 1
    late.campaign.remind_department_head_days = None
    db.session.commit()
    freeze(monkeypatch, DUE + timedelta(days=1))

    assert reminded(f"assignment:{late.id}") == {"head@example.jp"}


def test_heads_of_other_units_are_never_reminded(demo_app, late, monkeypatch):
    freeze(monkeypatch, DUE + timedelta(days=30))
    managers = set(db.session.scalars(sa.select(User.email).where(User.role == Role.MANAGER)))

    got = reminded(f"assignment:{late.id}")

    # Only the division's own head and its department's: no other department's manager.
    assert got & managers == {"head@example.jp"} | managers_of(KUMIN)
    assert not got & (managers - managers_of(KUMIN) - {"head@example.jp"})


# --- one digest a day -------------------------------------------------------------------------


@pytest.fixture
def several(late) -> dict[str, int]:
    """For 区民部's head, on DUE + 7: the early questionnaire, a contract questionnaire of
    another campaign of one of its divisions, and 納税課's overdue corrective action."""
    contract = db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .where(Campaign.code == "2026-annual-contracts")
        .order_by(Assignment.id)
        .limit(1)
    )
    contract.responsible_unit_id = late.unit_id
    contract.status = AssignmentStatus.DRAFT
    contract.due_on = DUE
    db.session.commit()
    action = db.session.scalar(
        sa.select(CorrectiveAction)
        .join(OrgUnit, OrgUnit.id == CorrectiveAction.unit_id)
        .where(OrgUnit.name == "納税課", CorrectiveAction.status == "open")
    )
    return {"late": late.id, "contract": contract.id, "action": action.id}


def test_one_digest_a_day_lists_every_campaign_and_action(demo_app, several, monkeypatch):
    day = DUE + timedelta(days=7)
    freeze(monkeypatch, day)
    head = user("manager").email

    send(demo_app)
    send(demo_app)  # a second run the same day
    send(demo_app, "--again")  # even one told to make the day's mails again

    [mail] = mails_to(head)
    # The three above, and the demo's log review sheets of 区民部's divisions, which the head
    # reviews: each thing reminded once, all of them in the one mail.
    keys = db.session.scalars(
        sa.select(ReminderLog.key).where(ReminderLog.recipient == head.lower())
    ).all()
    assert len(keys) == len(set(keys))
    assert {f"assignment:{several['late']}", f"assignment:{several['contract']}"} <= set(keys)
    assert f"action:{several['action']}" in keys
    assert f"期限のお知らせ（{len(keys)}件）" in mail.subject
    assert "是正措置" in mail.body
    assert db.session.get(Assignment, several["contract"]).target_name in mail.body
    assert db.session.get(Assignment, several["late"]).target_name in mail.body

    freeze(monkeypatch, day + timedelta(days=1))
    send(demo_app)

    assert len(mails_to(head)) == 2


def test_approvals_waiting_join_the_same_digest(demo_app, several, monkeypatch):
    demo_app.config["APPROVAL_MAIL"] = "daily"
    freeze(monkeypatch, DUE + timedelta(days=7))
    waiting = db.session.get(Assignment, several["contract"])
    waiting.status = AssignmentStatus.SUBMITTED
    db.session.commit()

    send(demo_app)

    [mail] = mails_to(user("manager").email)
    assert "期限のお知らせ" in mail.subject and "承認待ちの回答" in mail.subject
    assert "承認を待っています" in mail.body


# --- corrective actions -----------------------------------------------------------------------


def test_an_overdue_action_climbs_from_its_owners_to_the_department_head(demo_app, monkeypatch):
    action = db.session.scalar(
        sa.select(CorrectiveAction)
        .join(OrgUnit, OrgUnit.id == CorrectiveAction.unit_id)
        .where(OrgUnit.name == "納税課", CorrectiveAction.status == "open")
    )
    owners = respondents(action.unit_id)
    db.session.add(
        User(
            username="m-nozei",
            display_name="納税課長",
            email="nozei-head@example.jp",
            role=Role.MANAGER,
            unit_id=action.unit_id,
        )
    )
    db.session.commit()
    key = f"action:{action.id}"

    freeze(monkeypatch, action.due_on + timedelta(days=1))
    assert reminded(key) == owners
    freeze(monkeypatch, action.due_on + timedelta(days=3))
    assert reminded(key) == owners | {"nozei-head@example.jp"}
    freeze(monkeypatch, action.due_on + timedelta(days=7))
    assert reminded(key) == owners | {"nozei-head@example.jp"} | managers_of(KUMIN)


def test_the_action_pages_show_the_step_reached(demo_app, monkeypatch):
    action = db.session.scalar(
        sa.select(CorrectiveAction)
        .join(OrgUnit, OrgUnit.id == CorrectiveAction.unit_id)
        .where(OrgUnit.name == "納税課", CorrectiveAction.status == "open")
    )
    admin = login(demo_app, "admin")

    freeze(monkeypatch, action.due_on + timedelta(days=3))
    page = admin.get(f"/followup/actions/{action.id}").get_data(as_text=True)
    assert "督促段階: 所属長" in page

    freeze(monkeypatch, action.due_on + timedelta(days=7))
    listed = admin.get("/followup/actions/?overdue=y").get_data(as_text=True)
    assert "督促段階: 部局長" in listed


def test_actions_follow_the_offices_defaults(demo_app, monkeypatch):
    action = db.session.scalar(
        sa.select(CorrectiveAction)
        .join(OrgUnit, OrgUnit.id == CorrectiveAction.unit_id)
        .where(OrgUnit.name == "納税課", CorrectiveAction.status == "open")
    )
    db.session.add(
        EscalationDefault(id=1, respondent_days=5, unit_head_days=None, department_head_days=30)
    )
    db.session.commit()

    freeze(monkeypatch, action.due_on + timedelta(days=4))
    assert reminded(f"action:{action.id}") == set()
    freeze(monkeypatch, action.due_on + timedelta(days=29))
    assert reminded(f"action:{action.id}") == respondents(action.unit_id)


# --- the step on the progress page and in the workbook ----------------------------------------


def test_the_progress_page_shows_the_step_reached(demo_app, late, monkeypatch):
    admin = login(demo_app, "admin")

    freeze(monkeypatch, DUE + timedelta(days=3))
    page = admin.get(f"/campaigns/{ANNUAL}/progress").get_data(as_text=True)
    row = page[page.index(late.target_name, page.index("overdue-heading")) :]
    assert "所属長" in row[: row.index("</tr>")]

    freeze(monkeypatch, DUE + timedelta(days=7))
    page = admin.get(f"/campaigns/{ANNUAL}/progress").get_data(as_text=True)
    row = page[page.index(late.target_name, page.index("overdue-heading")) :]
    assert "部局長" in row[: row.index("</tr>")]


def test_the_results_pending_list_shows_the_step_reached(demo_app, late, monkeypatch):
    freeze(monkeypatch, DUE + timedelta(days=7))

    page = (
        login(demo_app, "manager")
        .get(f"/results/{ANNUAL}/respondents?view=pending&dept={late.unit.parent_id}")
        .get_data(as_text=True)
    )

    row = page[page.index(late.target_name, page.index("list-heading")) :]
    assert "部局長" in row[: row.index("</tr>")]
    assert "未到達" in page  # the others are due on the campaign's close


def test_the_summary_workbooks_pending_sheet_has_the_step_on_its_day(demo_app, late, tmp_path):
    out = tmp_path / "summary.xlsx"
    on = datetime.combine(DUE + timedelta(days=7), time(9), tzinfo=ZoneInfo("Asia/Tokyo"))

    with tables.snapshot(db.engine) as conn:
        excel.write_summary(conn, ANNUAL, out, now=on)

    sheet = openpyxl.load_workbook(out)["未提出一覧"]
    header = [c.value for c in sheet[7]]
    column, target = header.index("督促段階"), header.index("対象")
    steps = {
        r[target]: r[column] for r in sheet.iter_rows(min_row=8, values_only=True) if r[target]
    }
    assert steps.pop(late.target_name) == "部局長"
    assert set(steps.values()) == {None}  # due on the campaign's close: no step yet


def test_the_department_head_sees_the_step_on_their_own_scope(demo_app, late, monkeypatch):
    freeze(monkeypatch, DUE + timedelta(days=7))

    mine = login(demo_app, "manager").get(f"/campaigns/{ANNUAL}/progress")
    assert late.target_name in mine.get_data(as_text=True)
    assert "部局長" in mine.get_data(as_text=True)

    other = db.session.scalar(
        sa.select(User).where(User.role == Role.MANAGER, User.unit_id != late.unit.parent_id)
    )
    theirs = login(demo_app, other.username).get(f"/campaigns/{ANNUAL}/progress")
    assert late.target_name not in theirs.get_data(as_text=True)


def test_the_pending_workbook_has_the_step_column(demo_app, late, monkeypatch):
    freeze(monkeypatch, DUE + timedelta(days=7))

    _page, response = job_download(
        login(demo_app, "admin"), f"/campaigns/{ANNUAL}/progress/pending.xlsx"
    )

    sheet = openpyxl.load_workbook(io.BytesIO(response.data))[SHEET]
    header = [c.value for c in sheet[7]]
    column = header.index("督促段階")
    rows = [r for r in sheet.iter_rows(min_row=8, values_only=True) if r[2] == late.target_name]
    assert [r[column] for r in rows] == ["部局長"]
    # Those due on the campaign's close have reached no step yet.
    others = [r[column] for r in sheet.iter_rows(min_row=8, values_only=True) if r[2]]
    assert others.count(None) == len(others) - 1


# --- the office sets the steps ----------------------------------------------------------------


def typed(page: str, name: str) -> str:
    """The value a step's box shows."""
    return re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page).group(1)


def campaign_form(checklist_id: int, **steps) -> dict:
    return {
        "code": "2027-escalation",
        "title": "督促の試験",
        "checklist_id": str(checklist_id),
        "opens_on": "2027-11-01",
        "closes_on": "2027-12-10",
        **steps,
    }


def test_a_new_campaign_starts_from_the_offices_defaults(demo_app):
    admin = login(demo_app, "admin")
    saved = admin.post(
        "/admin/escalation",
        data={
            "remind_respondent_days": "-5",
            "remind_unit_head_days": "2",
            "remind_department_head_days": "",
        },
    )
    assert saved.status_code == 302
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "escalation.defaults")
    )
    assert entry is not None

    form = admin.get("/campaigns/new").get_data(as_text=True)
    assert typed(form, "remind_respondent_days") == "-5"
    assert typed(form, "remind_unit_head_days") == "2"
    assert typed(form, "remind_department_head_days") == ""


def test_the_campaign_form_keeps_the_steps_and_explains_a_wrong_order(demo_app):
    admin = login(demo_app, "admin")
    checklist_id = db.session.scalar(
        sa.select(Campaign.checklist_id).where(Campaign.code == ANNUAL)
    )

    unreadable = admin.post(
        "/campaigns/new",
        data=campaign_form(
            checklist_id,
            remind_respondent_days="-3",
            remind_unit_head_days="3",
            remind_department_head_days="七日",
        ),
    )
    assert unreadable.status_code == 422
    page = unreadable.get_data(as_text=True)
    assert "日数は「-3」「7」のような整数で入力してください" in page
    assert typed(page, "remind_department_head_days") == "七日"

    out_of_order = admin.post(
        "/campaigns/new",
        data=campaign_form(
            checklist_id,
            remind_respondent_days="4",
            remind_unit_head_days="2",
            remind_department_head_days="9",
        ),
    )
    assert out_of_order.status_code == 422
    page = out_of_order.get_data(as_text=True)
    assert "「所属長」は「回答者」（4日）より後の日数にしてください。" in page
    assert (typed(page, "remind_respondent_days"), typed(page, "remind_unit_head_days")) == (
        "4",
        "2",
    )
    assert db.session.scalar(sa.select(Campaign).where(Campaign.code == "2027-escalation")) is None

    created = admin.post(
        "/campaigns/new",
        data=campaign_form(
            checklist_id,
            remind_respondent_days="-2",
            remind_unit_head_days="",
            remind_department_head_days="10",
        ),
    )

    assert created.status_code == 302
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == "2027-escalation"))
    assert (
        campaign.remind_respondent_days,
        campaign.remind_unit_head_days,
        campaign.remind_department_head_days,
    ) == (-2, None, 10)
    detail = admin.get("/campaigns/2027-escalation").get_data(as_text=True)
    assert "回答者 期限の2日前 → 部局長 期限の10日後" in detail


def test_the_defaults_page_refuses_a_step_out_of_range_and_keeps_what_was_typed(demo_app):
    admin = login(demo_app, "admin")

    refused = admin.post(
        "/admin/escalation",
        data={
            "remind_respondent_days": "-3",
            "remind_unit_head_days": "3",
            "remind_department_head_days": "400",
        },
    )

    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "「部局長」の日数は-90 から 90 までの整数で入力してください。" in page
    assert typed(page, "remind_department_head_days") == "400"
    box = re.search(r'<input[^>]*name="remind_department_head_days"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in box and "remind_department_head_days-error" in box
    assert db.session.get(EscalationDefault, 1) is None


def test_the_defaults_page_gives_each_day_count_its_unit_and_says_who_answers_for_a_contract(
    demo_app,
):
    page = login(demo_app, "admin").get("/admin/escalation").get_data(as_text=True)
    assert "この段階に従って" in page
    assert page.count("日（期限からの日数。前はマイナス）") == 3
    assert "委託業務の点検では、回答者は委託事業者の担当者です" in page
    box = re.search(r'<input[^>]*name="remind_respondent_days"[^>]*>', page).group(0)
    assert 'aria-describedby="remind_respondent_days-unit steps-help"' in box


def test_a_running_campaigns_steps_can_change_and_the_next_digest_follows(
    demo_app, late, monkeypatch
):
    admin = login(demo_app, "admin")
    freeze(monkeypatch, DUE + timedelta(days=1))
    assert reminded(f"assignment:{late.id}") == respondents(late.unit_id)
    assert "/escalation" in admin.get(f"/campaigns/{ANNUAL}").get_data(as_text=True)

    refused = admin.post(
        f"/campaigns/{ANNUAL}/escalation",
        data={
            "remind_respondent_days": "-3",
            "remind_unit_head_days": "-3",
            "remind_department_head_days": "1",
        },
    )
    assert refused.status_code == 422
    assert "「所属長」は「回答者」（-3日）より後の日数にしてください。" in refused.get_data(
        as_text=True
    )

    changed = admin.post(
        f"/campaigns/{ANNUAL}/escalation",
        data={
            "remind_respondent_days": "-3",
            "remind_unit_head_days": "0",
            "remind_department_head_days": "1",
        },
    )

    assert changed.status_code == 302
    assert reminded(f"assignment:{late.id}") == (
        respondents(late.unit_id) | {"head@example.jp"} | managers_of(KUMIN)
    )
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "campaign.escalation")
    )
    assert entry is not None and entry.object_id == str(late.campaign_id)
