"""Each bad input to the campaign pages gets a Japanese message and loses nothing; each role is
refused what it must not do; retired records are never offered; the reopening rule of
access.can holds exactly as long as its window."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from survey import access, clock
from survey.extensions import db
from survey.models import (
    Assignment,
    AssignmentEvent,
    Campaign,
    Checklist,
    Contract,
    Contractor,
    InformationSystem,
    OrgUnit,
    OutgoingMail,
)
from survey.models.campaigns import AssignmentStatus, CampaignStatus
from survey.models.evaluations import EVALUATION_CHECKLIST
from survey.services import campaigns as service
from survey.services.checklists import import_files
from tests import helpers
from tests.helpers import ANNUAL, login

# The office's day (SURVEY_TIMEZONE's default), as the pages count overdue days.
TODAY = datetime.now(ZoneInfo("Asia/Tokyo")).date()


def settings(code="draft-1", checklist=None, opens=TODAY, closes=None) -> dict:
    checklist = checklist or helpers.checklist("emergency-assets")
    return {
        "code": code,
        "title": "テストの点検",
        "checklist_id": str(checklist.id),
        "opens_on": opens.isoformat(),
        "closes_on": (closes or TODAY + timedelta(days=20)).isoformat(),
    }


def campaign(code: str) -> Campaign | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Campaign).where(Campaign.code == code))


def unit(name: str) -> OrgUnit:
    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == name))


@pytest.fixture
def admin(demo_app):
    return login(demo_app, "admin")


@pytest.fixture
def draft(demo_app, admin):
    assert admin.post("/campaigns/new", data=settings()).status_code == 302
    return campaign("draft-1")


# --- creating and editing -------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        ({"code": ""}, "点検コードを入力してください。"),
        ({"code": "令和9年度"}, "点検コードは64文字以内の半角英数字と記号"),
        ({"code": ANNUAL.upper()}, f"点検コード「{ANNUAL.upper()}」は既に使われています。"),
        ({"title": "  "}, "点検名を入力してください。"),
        ({"checklist_id": ""}, "チェックリストを選んでください。"),
        ({"opens_on": "2027/13/40"}, "日付は「2026-12-11」の形で入力してください。"),
        ({"closes_on": ""}, "締切日を入力してください。"),
        (
            {"opens_on": "2027-02-01", "closes_on": "2027-01-31"},
            "締切日（令和9年1月31日 (2027-01-31)）は開始日（令和9年2月1日 (2027-02-01)）以降",
        ),
    ],
)
def test_bad_settings_are_named_and_what_was_typed_stays(demo_app, admin, change, message):
    data = settings(code="kept-code") | change
    response = admin.post("/campaigns/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert 'value="テストの点検"' in page or change.get("title")
    if "code" not in change:
        assert 'value="kept-code"' in page
    assert db.session.scalar(sa.select(sa.func.count()).where(Campaign.status == "draft")) == 0


def test_an_unpublished_checklist_cannot_be_sent_out(demo_app, admin, tmp_path):
    path = tmp_path / "draft.yaml"
    path.write_text(
        "code: unpublished\nversion: 1\ntitle: 下書き\ntarget: unit\ncategories:\n"
        "  - code: A\n    title: A\n    items:\n      - number: 1\n        text: 項目\n",
        encoding="utf-8",
    )
    outcomes, problems = import_files([path], publish=False)
    assert not problems
    db.session.commit()
    checklist = outcomes[0].checklist
    response = admin.post("/campaigns/new", data=settings(checklist=checklist))
    assert response.status_code == 422
    assert "公開されていないチェックリストでは点検を作成できません" in response.get_data(
        as_text=True
    )
    assert campaign("draft-1") is None


def test_a_draft_can_be_edited_and_deleted_after_confirmation(demo_app, admin, draft):
    edited = admin.post(
        f"/campaigns/{draft.code}/edit", data=settings(code="draft-2") | {"title": "改名"}
    )
    assert edited.status_code == 302
    assert campaign("draft-2").title == "改名"
    confirm = admin.get("/campaigns/draft-2/delete")
    assert "元に戻せません" in confirm.get_data(as_text=True)
    assert campaign("draft-2") is not None  # the GET only asks
    assert admin.post("/campaigns/draft-2/delete").status_code == 302
    assert campaign("draft-2") is None


def test_an_open_or_closed_campaign_cannot_be_deleted_or_edited(demo_app, admin):
    for code in (ANNUAL, "2017-emergency-assets"):
        refused = admin.post(f"/campaigns/{code}/delete", follow_redirects=True)
        assert "準備中の点検だけが対象です" in refused.get_data(as_text=True)
        assert admin.post(f"/campaigns/{code}/edit", data=settings(code="x")).status_code == 302
        assert campaign(code) is not None and campaign(code).code == code


# --- targets --------------------------------------------------------------------------------


def test_retired_records_are_never_offered_nor_added(demo_app, admin, draft):
    retired = unit("税務課")
    retired.active = False
    db.session.commit()
    page = admin.get(f"/campaigns/{draft.code}/targets?q=税務").get_data(as_text=True)
    assert "税務課" not in page
    kumin = unit("区民部")
    admin.post(
        f"/campaigns/{draft.code}/targets/filter",
        data={"filter": "departments", "department": str(kumin.id)},
    )
    crafted = admin.post(
        f"/campaigns/{draft.code}/targets/pick",
        data={"shown": [str(retired.id)], "target": [str(retired.id)]},
    )
    assert crafted.status_code == 302
    chosen = service.target_ids(campaign(draft.code))
    assert chosen and retired.id not in chosen


def test_ticking_boxes_adds_and_unticking_removes_only_what_was_shown(demo_app, admin, draft):
    one, two, three = (unit(n) for n in ("秘書課", "広報広聴課", "危機管理課"))
    admin.post(
        f"/campaigns/{draft.code}/targets/pick",
        data={"shown": [str(one.id), str(two.id)], "target": [str(one.id), str(two.id)]},
    )
    assert service.target_ids(campaign(draft.code)) == {one.id, two.id}
    admin.post(
        f"/campaigns/{draft.code}/targets/pick",
        data={"shown": [str(two.id), str(three.id)], "target": [str(three.id)]},
    )
    assert service.target_ids(campaign(draft.code)) == {one.id, three.id}
    admin.post(f"/campaigns/{draft.code}/targets/clear")
    assert service.target_ids(campaign(draft.code)) == set()


def test_a_filter_without_a_department_says_so(demo_app, admin, draft):
    response = admin.post(
        f"/campaigns/{draft.code}/targets/filter",
        data={"filter": "departments"},
        follow_redirects=True,
    )
    assert "部局を1つ以上選んでください。" in response.get_data(as_text=True)


def _import(tmp_path, code: str, target: str) -> Checklist:
    return helpers.import_checklist(
        tmp_path,
        f"code: {code}\nversion: 1\ntitle: {code}\ntarget: {target}\ncategories:\n"
        "  - code: A\n    title: A\n    items:\n      - number: 1\n        text: 項目\n",
    )


def test_system_contract_and_company_filters_pick_what_the_registers_say(demo_app, admin, tmp_path):
    checks = {
        "system": (
            {"filter": "system_kind", "system_kind": "基幹系"},
            sa.select(InformationSystem.id).where(
                InformationSystem.kind == "基幹系", InformationSystem.active.is_(True)
            ),
        ),
        "contract": (
            {"filter": "personal_data"},
            sa.select(Contract.id).where(
                Contract.handles_personal_data.is_(True), Contract.active.is_(True)
            ),
        ),
        "contractor": (
            {"filter": "all_active"},
            sa.select(Contractor.id).where(Contractor.active.is_(True)),
        ),
    }
    # One company retired, one contract not handling personal data: both must be left out.
    db.session.scalars(sa.select(Contractor).order_by(Contractor.id.desc())).first().active = False
    db.session.scalars(
        sa.select(Contract).order_by(Contract.id)
    ).first().handles_personal_data = False
    db.session.commit()
    for kind, (form, expected) in checks.items():
        checklist = _import(tmp_path, f"t-{kind}", kind)
        code = f"pick-{kind}"
        admin.post("/campaigns/new", data=settings(code=code, checklist=checklist))
        assert admin.post(f"/campaigns/{code}/targets/filter", data=form).status_code == 302
        assert service.target_ids(campaign(code)) == set(db.session.scalars(expected)), kind


def test_opening_a_company_campaign_makes_the_security_office_responsible(
    demo_app, admin, tmp_path
):
    checklist = _import(tmp_path, "company", "contractor")
    admin.post("/campaigns/new", data=settings(code="companies", checklist=checklist))
    admin.post("/campaigns/companies/targets/filter", data={"filter": "all_active"})
    assert admin.post("/campaigns/companies/open").status_code == 302
    office = helpers.user("admin").unit_id
    made = campaign("companies").assignments
    assert made and {a.responsible_unit_id for a in made} == {office}
    # The company's own accounts are told too: they answer for it.
    assert db.session.scalar(
        sa.select(sa.func.count()).where(OutgoingMail.recipient == "contractor@example.jp")
    )


# --- opening, extending, closing: refused states and bad input ------------------------------


def test_opening_without_targets_or_after_the_close_date_is_refused(demo_app, admin, draft):
    response = admin.post(f"/campaigns/{draft.code}/open", follow_redirects=True)
    assert "対象が選ばれていません" in response.get_data(as_text=True)
    late = settings(code="late", opens=TODAY - timedelta(days=9), closes=TODAY - timedelta(days=1))
    admin.post("/campaigns/new", data=late)
    response = admin.post("/campaigns/late/open", follow_redirects=True)
    assert "締切日（" in response.get_data(as_text=True)
    assert "が過ぎています" in response.get_data(as_text=True)
    assert campaign("late").status == CampaignStatus.DRAFT
    assert not campaign("late").assignments


@pytest.mark.parametrize(
    "data, message",
    [
        ({"closes_on": "2026-12-01", "reason": "理由"}, "現在の締切日（令和8年12月11日"),
        ({"closes_on": "2027-01-15", "reason": " "}, "理由を入力してください。"),
        ({"closes_on": "", "reason": "理由"}, "新しい締切日を入力してください。"),
        ({"closes_on": "あした", "reason": "理由"}, "日付は「2026-12-11」の形で"),
    ],
)
def test_bad_extensions_are_refused_and_change_nothing(demo_app, admin, data, message):
    response = admin.post(f"/campaigns/{ANNUAL}/extend", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert campaign(ANNUAL).closes_on == date(2026, 12, 11)


def mails_since(last_id: int) -> list[OutgoingMail]:
    return list(
        db.session.scalars(
            sa.select(OutgoingMail).where(OutgoingMail.id > last_id).order_by(OutgoingMail.id)
        )
    )


def newest_mail_id() -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(OutgoingMail.id), 0)))


def test_extending_a_campaign_mails_each_person_whose_due_date_moved_once(demo_app, admin):
    open_work = helpers.assignment_of("戸籍住民課", ANNUAL)
    handed_in = db.session.scalars(
        sa.select(Assignment).where(
            Assignment.campaign_id == campaign(ANNUAL).id,
            Assignment.status.not_in(access.EDITABLE),
        )
    ).first()
    assert open_work.status in access.EDITABLE and handed_in is not None
    last = newest_mail_id()
    later = date(2027, 1, 15)
    response = admin.post(
        f"/campaigns/{ANNUAL}/extend", data={"closes_on": later.isoformat(), "reason": "年末のため"}
    )
    assert response.status_code == 302
    mails = mails_since(last)
    recipients = [m.recipient for m in mails]
    assert mails and len(recipients) == len(set(recipients))  # one mail per person
    respondent = helpers.user("respondent")
    (mine,) = [m for m in mails if m.recipient == respondent.email]
    assert "回答期限の延長" in mine.subject
    assert "令和9年1月15日" in mine.body and "理由: 年末のため" in mine.body
    assert f"/assignments/{open_work.id}" in mine.body
    told_of = " ".join(m.body for m in mails)
    assert f"/assignments/{handed_in.id}\n" not in told_of + "\n"  # its date did not move
    page = admin.get(f"/campaigns/{ANNUAL}/progress").get_data(as_text=True)
    assert f"{len(mails)}人にメールで知らせます" in page
    again = admin.post(
        f"/campaigns/{ANNUAL}/extend", data={"closes_on": later.isoformat(), "reason": "年末のため"}
    )
    assert again.status_code == 422 and mails_since(last) == mails  # a second click: no mail


def test_one_assignment_can_be_given_more_time_past_the_close(demo_app, admin):
    target = helpers.assignment_of("税務課")
    assert target.status in access.EDITABLE
    later = date(2027, 1, 20)
    response = admin.post(
        f"/campaigns/assignments/{target.id}/extend",
        data={"extend-due_on": later.isoformat(), "extend-reason": "システム更新のため"},
    )
    assert response.status_code == 302
    target = db.session.get(Assignment, target.id)
    assert (target.due_on, target.open_until) == (later, later)
    told = [m for m in db.session.scalars(sa.select(OutgoingMail)) if "令和9年1月20日" in m.body]
    assert told and all("システム更新のため" in m.body for m in told)
    refused = admin.post(
        f"/campaigns/assignments/{target.id}/extend",
        data={"extend-due_on": "2026-12-01", "extend-reason": "短縮"},
    )
    assert refused.status_code == 422
    assert "現在の期限" in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"reopen-due_on": "2030-01-10", "reopen-reason": ""}, "理由を入力してください。"),
        ({"reopen-due_on": "2020-01-10", "reopen-reason": "誤り"}, "今日（"),
        ({"reopen-due_on": "", "reopen-reason": "誤り"}, "新しい回答期限を入力してください。"),
    ],
)
def test_bad_reopenings_are_refused_and_change_nothing(demo_app, admin, data, message):
    target = helpers.assignment_of("秘書課", campaign="2017-emergency-assets")
    response = admin.post(f"/campaigns/assignments/{target.id}/reopen", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Assignment, target.id).status == AssignmentStatus.APPROVED


# --- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["respondent", "contractor"])
def test_respondents_and_contractors_cannot_follow_progress(demo_app, role):
    client = login(demo_app, role)
    for path in ("/campaigns/", f"/campaigns/{ANNUAL}/progress"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/campaigns/{ANNUAL}/progress/pending.xlsx").status_code == 403
    assert "/campaigns/" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("role", ["manager", "auditor"])
def test_only_the_office_changes_a_campaign(demo_app, role):
    client = login(demo_app, role)
    target = helpers.assignment_of("戸籍住民課")
    assert client.post(f"/campaigns/{ANNUAL}/close").status_code == 403
    assert (
        client.post(
            f"/campaigns/assignments/{target.id}/reopen",
            data={"reopen-due_on": "2030-01-10", "reopen-reason": "x"},
        ).status_code
        == 403
    )
    assert campaign(ANNUAL).status == CampaignStatus.OPEN


def test_a_manager_sees_the_progress_of_their_own_departments_only(demo_app):
    kumin = login(demo_app, "manager")  # 区民部
    page = kumin.get(f"/campaigns/{ANNUAL}/progress").get_data(as_text=True)
    assert "区民部" in page and "福祉部" not in page
    # Overdue work of another department never shows, nor do its people.
    other = helpers.assignment_of("障害福祉課")
    mine = helpers.assignment_of("税務課")
    for a in (other, mine):
        a.status = AssignmentStatus.DRAFT
        a.due_on = TODAY - timedelta(days=3)
    db.session.commit()
    page = kumin.get(f"/campaigns/{ANNUAL}/progress").get_data(as_text=True)
    assert "税務課" in page and "r-d04-02@example.jp" in page
    assert "障害福祉課" not in page
    everyone = login(demo_app, "admin").get(f"/campaigns/{ANNUAL}/progress").get_data(as_text=True)
    assert "障害福祉課" in everyone and "3日超過" in everyone


def test_a_manager_outside_a_campaign_learns_nothing_about_it(demo_app, tmp_path):
    admin = login(demo_app, "admin")
    admin.post("/campaigns/new", data=settings(code="kucho"))
    admin.post(
        "/campaigns/kucho/targets/filter",
        data={"filter": "departments", "department": str(unit("区長室").id)},
    )
    admin.post("/campaigns/kucho/open")
    assert login(demo_app, "manager").get("/campaigns/kucho/progress").status_code == 404
    assert login(demo_app, "m-d01").get("/campaigns/kucho/progress").status_code == 200


# --- the reopening rule of access.can ---------------------------------------------------------


def test_a_reopened_assignment_takes_answers_until_its_day_and_not_after(demo_app):
    clerk = helpers.user("respondent")
    target = helpers.assignment_of("戸籍住民課", campaign="2017-emergency-assets")
    target.status = AssignmentStatus.RETURNED
    db.session.commit()
    assert target.campaign.status == CampaignStatus.CLOSED
    assert not access.can(clerk, "answer", target)
    target.open_until = date(2027, 1, 10)
    assert access.can(clerk, "answer", target)
    assert access.accepts_work(target, today=date(2027, 1, 10))
    assert not access.accepts_work(target, today=date(2027, 1, 11))
    target.open_until = TODAY - timedelta(days=1)
    assert not access.can(clerk, "answer", target)
    # A stranger gains nothing from the window.
    assert not access.can(helpers.user("r-d01-01"), "answer", target)
    db.session.rollback()


def test_the_service_function_for_follow_up_reopens_with_a_mail(demo_app):
    target = helpers.assignment_of("戸籍住民課", campaign="2017-emergency-assets")
    with demo_app.test_request_context():
        service.reopen_assignment(
            target, helpers.user("admin"), "是正後の再確認", TODAY + timedelta(days=10)
        )
        db.session.commit()
        with pytest.raises(service.CampaignError):
            service.reopen_assignment(
                target, helpers.user("manager"), "権限なし", TODAY + timedelta(days=10)
            )
    target = db.session.get(Assignment, target.id)
    assert target.status == AssignmentStatus.RETURNED
    assert access.can(helpers.user("respondent"), "answer", target)
    mail = db.session.scalar(
        sa.select(OutgoingMail).where(OutgoingMail.recipient == "respondent@example.jp")
    )
    assert "是正後の再確認" in mail.body and f"/assignments/{target.id}" in mail.body


def test_a_copy_suggests_next_years_code_title_and_dates_and_never_a_taken_code(demo_app, admin):
    source = campaign(ANNUAL)
    suggested = service.suggested_copy(source)
    assert suggested.code == "2027-annual-assets"
    assert suggested.title == "令和9年度 情報資産の取扱状況 自己点検"
    assert (suggested.opens_on, suggested.closes_on) == (date(2027, 11, 2), date(2027, 12, 11))
    form = {
        "code": suggested.code,
        "title": suggested.title,
        "checklist_id": str(suggested.checklist_id),
        "opens_on": suggested.opens_on.isoformat(),
        "closes_on": suggested.closes_on.isoformat(),
    }
    assert admin.post(f"/campaigns/{ANNUAL}/copy", data=form).status_code == 302
    assert service.suggested_copy(campaign(ANNUAL)).code == "2027-annual-assets-2"
    # The copy starts from the round's assignments: the same divisions, all still active.
    assert service.target_count(campaign("2027-annual-assets")) == len(source.assignments)
    taken = admin.post(f"/campaigns/{ANNUAL}/copy", data=form)
    assert taken.status_code == 422
    assert "既に使われています" in taken.get_data(as_text=True)


# --- review fixes: what the campaign pages offer and mail ------------------------------------


def test_the_contractor_evaluation_is_not_offered_for_an_ordinary_campaign(demo_app, admin):
    page = admin.get("/campaigns/new").get_data(as_text=True)
    evaluation = helpers.checklist(EVALUATION_CHECKLIST)
    assert evaluation is not None and evaluation.is_published
    assert f'value="{evaluation.id}"' not in page
    assert f'value="{helpers.checklist("emergency-assets").id}"' in page
    crafted = admin.post("/campaigns/new", data=settings(code="crafted-eval", checklist=evaluation))
    assert crafted.status_code == 422
    assert "委託先評価票は通常の点検には使えません" in crafted.get_data(as_text=True)
    assert campaign("crafted-eval") is None


def _open_contract_campaign(admin, code: str) -> Campaign:
    company = helpers.user("contractor").contractor_id
    ids = db.session.scalars(
        sa.select(Contract.id).where(Contract.contractor_id == company, Contract.active)
    ).all()
    assert ids
    contracts = helpers.checklist("emergency-contracts")
    assert admin.post("/campaigns/new", data=settings(code=code, checklist=contracts)).status_code
    draft = campaign(code)
    service.change_targets(draft, add=list(ids))
    db.session.commit()
    assert admin.post(f"/campaigns/{code}/open").status_code == 302
    return campaign(code)


def test_a_company_is_told_its_answers_go_to_the_owning_division_not_a_section_chief(
    demo_app, admin
):
    opened = _open_contract_campaign(admin, "contract-mail")
    assert opened.status == CampaignStatus.OPEN
    mails = db.session.scalars(
        sa.select(OutgoingMail).where(OutgoingMail.subject.contains(opened.title))
    )
    by_address = {m.recipient: m.body for m in mails}
    company_mail = by_address["contractor@example.jp"]
    assert "担当部署の承認に回ります" in company_mail and "所属長" not in company_mail
    clerks = [body for address, body in by_address.items() if address.startswith("r-")]
    assert clerks and all("所属長の承認に回ります" in body for body in clerks)


def test_mail_links_use_the_configured_address_not_the_requests_host(demo_app):
    admin = demo_app.test_client()
    admin.post(
        "/auth/login",
        data={"username": "admin", "password": helpers.DEMO_PASSWORD},
        base_url="http://attacker.example",
    )
    code = "host-header"
    target = unit("戸籍住民課")
    assert (
        admin.post(
            "/campaigns/new", data=settings(code=code), base_url="http://attacker.example"
        ).status_code
        == 302
    )
    service.change_targets(campaign(code), add=[target.id])
    db.session.commit()
    opened = admin.post(f"/campaigns/{code}/open", base_url="http://attacker.example")
    assert opened.status_code == 302
    mail = db.session.scalar(
        sa.select(OutgoingMail).where(OutgoingMail.recipient == "respondent@example.jp")
    )
    base = demo_app.config["SURVEY_BASE_URL"]
    assert f"{base}/assignments/" in mail.body
    assert "attacker.example" not in mail.body


def test_reopening_twice_with_the_same_form_records_and_mails_once(demo_app, admin):
    target = helpers.assignment_of("戸籍住民課", campaign="2017-emergency-assets")
    due = TODAY + timedelta(days=10)
    form = {"reopen-due_on": due.isoformat(), "reopen-reason": "是正後の再確認"}
    first = admin.post(f"/campaigns/assignments/{target.id}/reopen", data=form)
    assert first.status_code == 302
    mails = db.session.scalar(sa.select(sa.func.count(OutgoingMail.id)))
    again = admin.post(
        f"/campaigns/assignments/{target.id}/reopen", data=form, follow_redirects=True
    )
    assert "すでにその期限まで再開しています" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(OutgoingMail.id))) == mails
    events = db.session.scalars(
        sa.select(AssignmentEvent).where(
            AssignmentEvent.assignment_id == target.id, AssignmentEvent.action == "reopen"
        )
    ).all()
    assert len(events) == 1
    # A later day is a new decision: it is recorded and mailed.
    later = {**form, "reopen-due_on": (due + timedelta(days=5)).isoformat()}
    assert admin.post(f"/campaigns/assignments/{target.id}/reopen", data=later).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(OutgoingMail.id))) > mails


def test_reopening_a_companys_evaluation_never_mails_the_company(demo_app):
    from survey.services import evaluations

    admin = helpers.user("admin")
    company = db.session.get(Contractor, helpers.user("contractor").contractor_id)
    with demo_app.test_request_context():
        evaluation = evaluations.start(company, admin.unit, admin, clock.today())
        db.session.commit()
        assert service.reopen_assignment(
            evaluation, admin, "評価のやり直し", TODAY + timedelta(days=10)
        )
        db.session.commit()
    company_mail = db.session.scalars(
        sa.select(OutgoingMail).where(OutgoingMail.recipient == "contractor@example.jp")
    ).all()
    assert not [m for m in company_mail if "評価のやり直し" in m.body]
