"""Delegation (委任): the 戸籍住民課 respondent hands a category of this year's questionnaire to a
colleague of the division; the colleague sees and answers those items alone, marks them done,
and the respondent reviews and submits. A delegate never sees another category, another
questionnaire or another unit's, never submits, and still never approves what they answered."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from survey import access, clock, demo_training
from survey.extensions import db
from survey.models import (
    Answer,
    Assignment,
    AssignmentEvent,
    AuditEntry,
    Contract,
    Contractor,
    Course,
    Delegation,
    OrgUnit,
    OutgoingMail,
    Role,
    User,
)
from survey.services import (
    accounts,
    answering,
    delegations,
    pledges,
    reminders,
    tokens,
    training,
)
from tests.helpers import (
    assignment_of,
    contract_questionnaire,
    form_data,
    login,
    user,
)

OWN = "戸籍住民課"
CONFIRMED = {"confirm": "1"}  # the box that confirms a withdrawal, or a part done


def demo_delegation() -> Delegation:
    """The demo's: the last unanswered category of 戸籍住民課's questionnaire, to `staff`."""
    return db.session.scalar(
        sa.select(Delegation).where(Delegation.delegate_id == user("staff").id)
    )


def item_ids(delegation: Delegation) -> set[int]:
    return {item.id for category in delegation.categories for item in category.items}


def other_item(delegation: Delegation):
    """An item of the questionnaire not handed over."""
    handed = item_ids(delegation)
    items = delegation.assignment.campaign.checklist.items
    return next(item for item in items if item.id not in handed)


def page(client, assignment) -> tuple[int, str]:
    response = client.get(f"/assignments/{assignment.id}")
    return response.status_code, response.get_data(as_text=True)


def mails_to(address: str) -> list[OutgoingMail]:
    return list(
        db.session.scalars(sa.select(OutgoingMail).where(OutgoingMail.recipient == address))
    )


def trail_actions(prefix: str) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.action.startswith(prefix))
            .order_by(AuditEntry.id)
        )
    )


def events(assignment: Assignment) -> list[str]:
    return [event.action for event in answering.events(assignment)]


def staff_of(unit_name: str, username: str) -> User:
    unit = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == unit_name))
    account = User(
        username=username,
        display_name=f"{unit_name} 職員",
        role=Role.STAFF,
        unit=unit,
        password_hash=user("staff").password_hash,
        email=f"{username}@example.jp",
    )
    db.session.add(account)
    db.session.commit()
    # The demo's staff pledge would stop the new account at its first sign-in (test_pledges).
    pledges.acknowledge(account, [v.id for v in pledges.due(account)])
    db.session.commit()
    return account


def handing_over(assignment: Assignment) -> None:
    """Give the questionnaire a due date a fortnight ahead, whatever day the tests run."""
    assignment.due_on = clock.today() + timedelta(days=14)
    db.session.commit()


def test_the_delegate_sees_only_the_category_handed_to_them(demo_app):
    delegation = demo_delegation()
    assignment = delegation.assignment
    client = login(demo_app, "staff")
    status, html = page(client, assignment)
    assert status == 200
    for item_id in item_ids(delegation):
        assert f'name="item_{item_id}"' in html
    hidden = [i for i in assignment.campaign.checklist.items if i.id not in item_ids(delegation)]
    assert hidden and not any(f'id="item-{item.id}"' in html for item in hidden)
    assert "提出する" not in html  # the delegator hands it in
    assert "あなたに依頼された分類だけが表示されています" in html
    # What holds every item is not theirs: the answer sheet, the print view, the result.
    assert client.get(f"/assignments/{assignment.id}/sheet.xlsx").status_code == 403
    assert client.get(f"/assignments/{assignment.id}/sheet").status_code == 403
    assert client.get(f"/assignments/{assignment.id}/print").status_code == 403
    # The history lists the changes of their items only (the respondent's answers are elsewhere).
    history = client.get(f"/assignments/{assignment.id}/history").get_data(as_text=True)
    assert "回答の依頼（委任）" in history
    answered = db.session.scalars(
        sa.select(Answer).where(Answer.assignment_id == assignment.id)
    ).all()
    assert answered and all(a.item_id not in item_ids(delegation) for a in answered)
    assert not any(f"{a.item.number}. {a.item.text}" in history for a in answered)


def test_the_delegate_sees_no_other_questionnaire_nor_another_unit(demo_app):
    client = login(demo_app, "staff")
    own_contract = contract_questionnaire(OWN)  # the same division's, not handed over
    other_unit = assignment_of("秘書課")
    for assignment in (own_contract, other_unit):
        assert page(client, assignment)[0] == 404
        assert client.get(f"/assignments/{assignment.id}/history").status_code == 404
    # The home page and the inbox list what was handed over, and nothing of their own.
    home = client.get("/").get_data(as_text=True)
    assert "依頼された回答" in home and "担当している点検" not in home
    assert "是正措置" not in home and "委託契約" not in home  # no menu into the unit's lists
    inbox = client.get("/assignments/").get_data(as_text=True)
    assert "依頼された回答" in inbox and "回答する点検" not in inbox
    assert f"/assignments/{demo_delegation().assignment_id}" in inbox
    # No results, registers or API tokens either (the API would hand out whole questionnaires).
    assert client.get("/results/").status_code == 403
    assert client.get("/admin/registers/").status_code == 404
    assert tokens.scopes_for(user("staff")) == []


def test_the_delegate_answers_their_items_and_nothing_else(demo_app):
    delegation = demo_delegation()
    assignment = delegation.assignment
    handed = sorted(item_ids(delegation))
    outside = other_item(delegation)
    before = {
        a.item_id: (a.option_id, a.comment)
        for a in db.session.scalars(sa.select(Answer).where(Answer.assignment_id == assignment.id))
    }
    client = login(demo_app, "staff")
    data = {"revision": str(assignment.revision), "action": "save"}
    for item_id in handed:
        data[f"item_{item_id}"] = "yes"
        data[f"comment_{item_id}"] = "確認済み"
    data[f"item_{outside.id}"] = "no"  # crafted: an item not handed over
    assert client.post(f"/assignments/{assignment.id}", data=data).status_code == 302
    db.session.expire_all()
    stored = {
        a.item_id: (a.option.code if a.option else None, a.answered_by_id)
        for a in db.session.scalars(sa.select(Answer).where(Answer.assignment_id == assignment.id))
    }
    staff = user("staff")
    assert all(stored[item_id] == ("yes", staff.id) for item_id in handed)
    # The respondent's answers stay as they were: the form's empty fields cleared nothing.
    for item_id, (option_id, comment) in before.items():
        answer = db.session.scalar(
            sa.select(Answer).where(
                Answer.assignment_id == assignment.id, Answer.item_id == item_id
            )
        )
        assert (answer.option_id, answer.comment) == (option_id, comment)
    assert outside.id not in stored or stored[outside.id][0] != "no"
    # The autosave reads their items only, under the same revision rules.
    assignment = db.session.get(Assignment, assignment.id)
    stale = str(assignment.revision - 1)
    autosave = client.post(
        f"/assignments/{assignment.id}/autosave",
        data={"revision": stale, f"item_{handed[0]}": "no", f"item_{outside.id}": "no"},
    )
    assert autosave.status_code == 409
    autosave = client.post(
        f"/assignments/{assignment.id}/autosave",
        data={"revision": str(assignment.revision), f"item_{handed[0]}": "no"},
    )
    assert autosave.status_code == 200 and autosave.json["ok"]
    assert autosave.json["asked"] == len(handed)
    # Whatever the path, save() refuses a change outside the part.
    assignment = db.session.get(Assignment, assignment.id)
    with demo_app.test_request_context(), pytest.raises(answering.Invalid) as refused:
        answering.save(
            assignment,
            {outside.id: answering.ItemInput("no", "")},
            staff,
            revision=assignment.revision,
        )
    assert outside.id in refused.value.problems
    db.session.rollback()
    # Submitting is the delegator's.
    assignment = db.session.get(Assignment, assignment.id)
    submit = {"revision": str(assignment.revision), "action": "submit"}
    assert client.post(f"/assignments/{assignment.id}", data=submit).status_code == 403
    assert db.session.get(Assignment, assignment.id).status == "draft"


def test_marked_done_the_delegator_is_told_and_submits(demo_app):
    delegation = demo_delegation()
    assignment = delegation.assignment
    staff = login(demo_app, "staff")
    data = {"revision": str(assignment.revision), "action": "save"}
    for item_id in item_ids(delegation):
        data[f"item_{item_id}"] = "yes"
    assert staff.post(f"/assignments/{assignment.id}", data=data).status_code == 302
    done = f"/assignments/{assignment.id}/delegations/{delegation.id}/done"
    assert staff.post(done, data=CONFIRMED).status_code == 302
    assert staff.post(done, data=CONFIRMED).status_code == 302  # a double click: done once
    db.session.expire_all()
    assert demo_delegation().done_at is not None
    assert events(assignment).count("delegate_done") == 1
    assert trail_actions("delegation.") == ["delegation.done"]
    (mail,) = mails_to("respondent@example.jp")
    assert "委任した回答の完了" in mail.subject and "戸籍 係員" in mail.body
    # Done, the part is read-only for the delegate; the page still shows it.
    status, html = page(staff, assignment)
    assert status == 200 and "回答完了" in html and 'name="action" value="save"' not in html
    assert staff.post(f"/assignments/{assignment.id}", data=data).status_code == 403
    # The delegator sees it done and hands the whole in.
    respondent = login(demo_app, "respondent")
    html = page(respondent, assignment)[1]
    assert "回答完了" in html and "提出する" in html
    assignment = db.session.get(Assignment, assignment.id)
    items = assignment.campaign.checklist.items
    everything = form_data(
        assignment,
        {item.number: "yes" for item in items},
        {item.number: "確認しました。" for item in items},
        action="submit",
    )
    assert respondent.post(f"/assignments/{assignment.id}", data=everything).status_code == 302
    assert db.session.get(Assignment, assignment.id).status == "submitted"


def test_withdrawn_the_delegate_loses_the_questionnaire(demo_app):
    delegation = demo_delegation()
    assignment = delegation.assignment
    staff = login(demo_app, "staff")
    withdraw = f"/assignments/{assignment.id}/delegations/{delegation.id}/withdraw"
    assert staff.post(withdraw, data=CONFIRMED).status_code == 403  # not theirs to take back
    respondent = login(demo_app, "respondent")
    html = page(respondent, assignment)[1]
    assert 'name="confirm"' in html and "戸籍 係員 さんへの依頼を取り消します" in html
    unticked = respondent.post(withdraw, follow_redirects=True)
    assert "確認の欄にチェックを入れてください" in unticked.text
    db.session.expire_all()
    assert demo_delegation().ended_at is None  # the box left unticked withdraws nothing
    assert respondent.post(withdraw, data=CONFIRMED).status_code == 302
    assert respondent.post(withdraw, data=CONFIRMED).status_code == 302  # twice: withdrawn once
    db.session.expire_all()
    delegation = demo_delegation()
    assert delegation.ended_at is not None and delegation.ended_by.username == "respondent"
    assert events(assignment).count("delegate_end") == 1
    assert trail_actions("delegation.") == ["delegation.withdraw"]
    (mail,) = mails_to("staff@example.jp")
    assert "取消し" in mail.subject
    assert page(staff, assignment)[0] == 404
    assert "依頼された回答はありません" in staff.get("/assignments/").get_data(as_text=True)
    assert access.delegated_part(user("staff"), assignment) == frozenset()


def test_a_respondent_hands_categories_to_a_colleague_of_the_unit_only(demo_app):
    assignment = demo_delegation().assignment
    handing_over(assignment)
    colleague = staff_of(OWN, "staff2")
    stranger = staff_of("秘書課", "staff-hisho")
    respondent = user("respondent")
    assert {u.username for u in delegations.candidates(assignment, respondent)} == {
        "staff",
        "staff2",
    }
    client = login(demo_app, "respondent")
    form = client.get(f"/assignments/{assignment.id}/delegate").get_data(as_text=True)
    assert "秘書課 職員" not in form and "戸籍住民課 職員" in form
    taken = demo_delegation().categories[0]
    free = next(c for c in assignment.campaign.checklist.categories if c.id != taken.id)
    due = (clock.today() + timedelta(days=7)).isoformat()

    def post(**data):
        body = {"delegate": colleague.id, "categories": [free.id], "due_on": due, **data}
        return client.post(f"/assignments/{assignment.id}/delegate", data=body)

    refused = post(delegate=stranger.id)  # another unit's staff
    assert refused.status_code == 422 and "依頼する相手を一覧から選んでください" in refused.text
    refused = post(categories=[taken.id])  # handed to `staff` already
    assert refused.status_code == 422 and "すでにほかの人に依頼しています" in refused.text
    late = (assignment.due_on + timedelta(days=1)).isoformat()
    refused = post(due_on=late)
    assert refused.status_code == 422 and "回答期限より後" in refused.text
    assert 'value="' + late + '"' in refused.text  # what was typed is kept
    assert post().status_code == 302
    again = post()  # a double submit hands it over once, and says so
    assert again.status_code == 302
    assert "すでに送っています" in client.get(again.headers["Location"]).text
    db.session.expire_all()
    made = db.session.scalar(sa.select(Delegation).where(Delegation.delegate_id == colleague.id))
    assert [c.id for c in made.categories] == [free.id]
    assert events(assignment)[-1] == "delegate"
    assert trail_actions("delegation.") == ["delegation.create"]
    (mail,) = mails_to("staff2@example.jp")
    assert "回答の依頼（委任）" in mail.subject and free.title in mail.body and due in mail.body
    # Neither the manager nor the office hands parts of it: they do not answer it.
    assert (
        login(demo_app, "manager").get(f"/assignments/{assignment.id}/delegate").status_code == 403
    )
    # The stranger sees nothing of it.
    assert page(login(demo_app, "staff-hisho"), assignment)[0] == 404


def company_delegation() -> Delegation:
    """The demo's: the last category of the C001 contract questionnaire for 秘書課, handed by
    `contractor` to `contractor-staff`, a staff account of the company."""
    return db.session.scalar(
        sa.select(Delegation).where(Delegation.delegate_id == user("contractor-staff").id)
    )


def company_staff(contact: User, username: str) -> User:
    """Another staff account of the contact's company, as the office would make it."""
    account = accounts.add_user(
        username,
        Role.STAFF,
        display_name=f"{contact.contractor.name} 作業員",
        email=f"{username}@example.jp",
        contractor_code=contact.contractor.code,
    )
    account.password_hash = contact.password_hash
    db.session.commit()
    pledges.acknowledge(account, [v.id for v in pledges.due(account)])
    db.session.commit()
    return account


def test_a_contractor_hands_over_to_its_own_company_s_staff_only(demo_app):
    assignment = company_delegation().assignment
    handing_over(assignment)
    contact = user("contractor")
    newcomer = company_staff(contact, "sakura-2")
    # Its company's staff; not its fellow contacts (c-c001 sees the whole company already), not
    # another company's staff, not the division's.
    other_company = db.session.scalar(
        sa.select(User).where(
            User.role == Role.CONTRACTOR, User.contractor_id != contact.contractor_id
        )
    )
    stranger = company_staff(other_company, "other-staff")
    assert {u.username for u in delegations.candidates(assignment, contact)} == {
        "contractor-staff",
        "sakura-2",
    }
    client = login(demo_app, "contractor")
    form = client.get(f"/assignments/{assignment.id}/delegate").text
    assert "自社の担当者に依頼します" in form and "同じ所属の職員" not in form
    assert "自社の担当者に回答を依頼する" in page(client, assignment)[1]
    category = assignment.campaign.checklist.categories[0]
    due = clock.today() + timedelta(days=3)
    with demo_app.test_request_context():
        for refused_id in (user("c-c001").id, stranger.id, user("staff").id):
            with pytest.raises(delegations.Refused) as refused:
                delegations.delegate(assignment, contact, refused_id, [category.id], due)
            assert "delegate" in refused.value.problems
        made = delegations.delegate(assignment, contact, newcomer.id, [category.id], due)
        db.session.commit()
    assert made.delegate.contractor_id == contact.contractor_id
    (mail,) = mails_to("sakura-2@example.jp")
    assert "回答の依頼（委任）" in mail.subject and "終えたことを知らせる" in mail.body


def test_company_staff_sees_only_the_part_handed_to_them(demo_app):
    delegation = company_delegation()
    assignment = delegation.assignment
    client = login(demo_app, "contractor-staff")
    status, html = page(client, assignment)
    assert status == 200 and "あなたに依頼された分類だけが表示されています" in html
    for item_id in item_ids(delegation):
        assert f'name="item_{item_id}"' in html
    assert not any(
        f'id="item-{item.id}"' in html
        for item in assignment.campaign.checklist.items
        if item.id not in item_ids(delegation)
    )
    assert "提出する" not in html and "依頼を取り消す" not in html
    assert "依頼された回答を終えたことを知らせる" in html
    # The company's other contracts' questionnaires, the ward's, and every page of the company's
    # side: not there for them.
    company = delegation.delegator.contractor
    others = db.session.scalars(
        sa.select(Assignment)
        .join(Contract, Contract.id == Assignment.contract_id)
        .where(Contract.contractor_id == company.id, Assignment.id != assignment.id)
    ).all()
    assert others
    for other in others:
        assert page(client, other)[0] == 404
    assert page(client, demo_delegation().assignment)[0] == 404
    contract = assignment.contract
    for path in (
        "/contractors/contracts",
        f"/contractors/contracts/{contract.id}",
        f"/contractors/contracts/{contract.id}/subcontract-requests/new",
        f"/contractors/{company.id}",
        f"/contractors/{company.id}/rounds.csv",
        "/admin/registers/",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get("/contractors/").status_code == 403
    assert client.get("/results/").status_code == 403
    assert tokens.scopes_for(user("contractor-staff")) == []
    home = client.get("/").text
    assert "依頼された回答" in home and "委託契約" not in home and "自社の評価" not in home
    # Named as the company's, not as the ward's employee; no campaign table of its own.
    assert "委託事業者の担当者" in home and "（職員" not in home
    assert "点検の実施状況" not in home
    # Refused, they are sent to their own company and the division, not to the ward's office.
    refused = client.get(f"/assignments/{assignment.id}/delegate")
    assert refused.status_code == 403
    assert "貴社の窓口" in refused.text and "情報政策課にお問い合わせ" not in refused.text
    inbox = client.get("/assignments/").text
    assert f'/assignments/{assignment.id}"' in inbox
    assert not any(f'/assignments/{other.id}"' in inbox for other in others)
    # What holds every item is not theirs.
    assert client.get(f"/assignments/{assignment.id}/print").status_code == 403
    assert client.get(f"/assignments/{assignment.id}/sheet.xlsx").status_code == 403
    # They read the items as the company does, and answer theirs alone.
    assert answering.audience_of(user("contractor-staff")) == "contractor"
    data = {"revision": str(assignment.revision), "action": "save"}
    for item_id in item_ids(delegation):
        data[f"item_{item_id}"] = "yes"
    data[f"item_{other_item(delegation).id}"] = "no"  # crafted: not handed over
    assert client.post(f"/assignments/{assignment.id}", data=data).status_code == 302
    stored = dict(
        db.session.execute(
            sa.select(Answer.item_id, Answer.answered_by_id).where(
                Answer.assignment_id == assignment.id
            )
        ).all()
    )
    assert set(stored) == item_ids(delegation)
    done = f"/assignments/{assignment.id}/delegations/{delegation.id}/done"
    assert client.post(done, data=CONFIRMED).status_code == 302
    (mail,) = mails_to(delegation.delegator.email)
    assert "委任した回答の完了" in mail.subject and "桜 運用" in mail.body
    # Moved to another company, the part stays behind.
    staff = user("contractor-staff")
    staff.contractor_id = db.session.scalar(
        sa.select(Contractor.id).where(Contractor.id != company.id).limit(1)
    )
    db.session.commit()
    assert page(client, assignment)[0] == 404
    assert access.delegated_part(staff, assignment) == frozenset()


def test_the_ward_cannot_withdraw_the_company_s_delegation(demo_app):
    delegation = company_delegation()
    assignment = delegation.assignment
    withdraw = f"/assignments/{assignment.id}/delegations/{delegation.id}/withdraw"
    # 秘書課's respondent answers the contract's questionnaire too, but did not hand this over.
    ward = login(demo_app, "r-d01-01")
    assert "依頼を取り消す" not in page(ward, assignment)[1]
    assert ward.post(withdraw, data=CONFIRMED).status_code == 403
    with demo_app.test_request_context(), pytest.raises(PermissionError):
        delegations.withdraw(delegation, user("r-d01-01"))
    db.session.rollback()
    assert company_delegation().ended_at is None
    # Another contact of the company may: it is the company's to take back.
    colleague = login(demo_app, "c-c001")
    assert "依頼を取り消す" in page(colleague, assignment)[1]
    assert colleague.post(withdraw, data=CONFIRMED).status_code == 302
    db.session.expire_all()
    assert company_delegation().ended_by.username == "c-c001"


def test_the_company_cannot_withdraw_the_ward_s_delegation(demo_app):
    assignment = company_delegation().assignment
    handing_over(assignment)
    clerk = staff_of("秘書課", "hisho-staff")
    category = assignment.campaign.checklist.categories[0]
    with demo_app.test_request_context():
        ward_s = delegations.delegate(
            assignment, user("r-d01-01"), clerk.id, [category.id], clock.today()
        )
        db.session.commit()
    withdraw = f"/assignments/{assignment.id}/delegations/{ward_s.id}/withdraw"
    for contact in ("contractor", "c-c001"):
        client = login(demo_app, contact)
        assert client.post(withdraw, data=CONFIRMED).status_code == 403
    db.session.expire_all()
    assert db.session.get(Delegation, ward_s.id).ended_at is None
    assert login(demo_app, "r-d01-01").post(withdraw, data=CONFIRMED).status_code == 302
    db.session.expire_all()
    assert db.session.get(Delegation, ward_s.id).ended_by.username == "r-d01-01"


def test_a_delegate_s_history_shows_only_their_own_steps(demo_app):
    mine = demo_delegation()
    assignment = mine.assignment
    handing_over(assignment)
    colleague = staff_of(OWN, "staff2")
    free = next(c for c in assignment.campaign.checklist.categories if c not in mine.categories)
    with demo_app.test_request_context():
        theirs = delegations.delegate(
            assignment, user("respondent"), colleague.id, [free.id], clock.today()
        )
        # A return by the approver, its reason for the respondent.
        db.session.add(
            AssignmentEvent(
                assignment_id=assignment.id,
                action="return",
                from_status="submitted",
                to_status="returned",
                comment="規程の改定日を確認してください。",
                user_id=user("manager").id,
            )
        )
        db.session.commit()
        delegations.mark_done(mine, user("staff"))
        db.session.commit()
    steps = {e.action: e.delegation_id for e in answering.events(assignment) if e.delegation_id}
    assert steps == {"delegate": theirs.id, "delegate_done": mine.id}
    history = login(demo_app, "staff").get(f"/assignments/{assignment.id}/history").text
    assert delegations.describe(mine) in history and "依頼された回答の完了" in history
    assert delegations.describe(theirs) not in history
    assert "規程の改定日を確認してください" not in history
    # The delegator's history holds every step.
    whole = login(demo_app, "respondent").get(f"/assignments/{assignment.id}/history").text
    assert delegations.describe(theirs) in whole and "規程の改定日を確認してください" in whole


def test_the_office_makes_company_staff_accounts_and_no_account_of_two_sides(demo_app):
    runner = demo_app.test_cli_runner()
    company = user("contractor").contractor
    made = runner.invoke(
        args=[
            "user",
            "add",
            "sakura-3",
            "--role",
            "staff",
            "--contractor",
            company.code,
            "--password-stdin",
        ],
        input="correct horse battery staple 2026\n",
    )
    assert made.exit_code == 0, made.output
    account = user("sakura-3")
    assert (account.role, account.unit_id, account.contractor_id) == ("staff", None, company.id)
    both = runner.invoke(
        args=[
            "user",
            "add",
            "both",
            "--role",
            "staff",
            "--contractor",
            company.code,
            "--unit",
            "D01-01",
            "--password-stdin",
        ],
        input="correct horse battery staple 2026\n",
    )
    assert both.exit_code != 0 and "どちらか一方" in both.output
    with pytest.raises(accounts.AccountError):
        accounts.add_user(
            "r-company", Role.RESPONDENT, unit_code="D01-01", contractor_code=company.code
        )
    # The database holds the rule whatever the path: a respondent of a company, a staff account
    # of a unit and a company.
    for role, unit_id in (
        (Role.RESPONDENT, user("respondent").unit_id),
        (Role.STAFF, user("respondent").unit_id),
    ):
        db.session.add(
            User(
                username=f"x-{role}",
                display_name="x",
                role=role,
                unit_id=unit_id,
                contractor_id=company.id,
            )
        )
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    # Company staff sign the contractors' pledge, not the ward's; a course for the company
    # teaches them.
    contractors_pledge = {v.pledge.code for v in pledges.due(account)}
    assert contractors_pledge == {"contractors"}
    course = db.session.scalar(sa.select(Course).where(Course.code == demo_training.CODE))
    assert account.id in {row[0] for row in db.session.execute(training.targeted(course))}


def test_four_eyes_hold_for_whoever_answered(demo_app):
    delegation = demo_delegation()
    assignment = delegation.assignment
    staff = user("staff")
    item = next(iter(item_ids(delegation)))
    answering.save(
        assignment, {item: answering.ItemInput("yes", "")}, staff, revision=assignment.revision
    )
    db.session.commit()
    involved = db.session.scalar(
        sa.select(access.involved(staff.id)).where(Assignment.id == assignment.id)
    )
    assert involved
    # A delegate later made a manager of the division's department still may not approve it.
    staff.role, staff.unit_id = Role.MANAGER, assignment.responsible_unit.parent_id
    db.session.commit()
    reviewers = {u.username for u in db.session.scalars(access.reviewers(assignment))}
    assert "staff" not in reviewers and "manager" in reviewers
    assert not access.reviews(staff, assignment)


def test_the_demo_has_a_delegated_questionnaire_on_each_side(demo_app):
    delegation = demo_delegation()
    assert delegation.assignment.responsible_unit.name == OWN
    assert delegation.delegator.username == "respondent" and delegation.done_at is None
    assert events(delegation.assignment).count("delegate") == 1
    company_s = company_delegation()
    assert company_s.delegator.username == "contractor" and company_s.done_at is None
    assert company_s.delegate.contractor_id == company_s.delegator.contractor_id
    assert company_s.assignment.contract.contractor_id == company_s.delegator.contractor_id
    assert [e.delegation_id for e in answering.events(company_s.assignment)] == [company_s.id]
    assert db.session.scalar(sa.select(sa.func.count(Delegation.id))) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AssignmentEvent)) > 1


def test_a_delegate_moved_to_another_unit_leaves_the_part_behind(demo_app):
    delegation = demo_delegation()
    staff = user("staff")
    staff.unit_id = db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.name == "秘書課"))
    db.session.commit()
    client = login(demo_app, "staff")
    assert page(client, delegation.assignment)[0] == 404
    assert access.delegated_items(staff, delegation.assignment) == frozenset()
    assert not access.can(staff, "answer", delegation.assignment)


def test_the_delegate_is_reminded_until_the_part_is_done_and_the_delegator_once_it_is_late(
    demo_app,
):
    delegation = demo_delegation()
    key = f"delegation:{delegation.id}"
    delegate, delegator = delegation.delegate.email, delegation.delegator.email

    def told(day):
        return {
            letter.email
            for letter in reminders.plan(day)
            for reminder in letter.reminders
            if reminder.key == key
        }

    due = delegation.due_on
    assert told(due - timedelta(days=4)) == set()  # before the office's first step (−3)
    assert told(due - timedelta(days=3)) == {delegate}
    assert told(due + timedelta(days=1)) == {delegate, delegator}  # late: the delegator too
    delegation.assignment.campaign.status = "closed"
    db.session.commit()
    assert told(due + timedelta(days=1)) == set()  # the questionnaire takes no answers now
    delegation.assignment.campaign.status = "open"
    delegations.mark_done(delegation, delegation.delegate)
    db.session.commit()
    assert told(due + timedelta(days=1)) == set()


def test_a_part_marked_done_stays_read_only_beside_one_still_open(demo_app):
    first = demo_delegation()
    assignment = first.assignment
    handing_over(assignment)
    second_category = next(
        c
        for c in assignment.campaign.checklist.categories
        if c.id not in delegations.taken(assignment)
    )
    with demo_app.test_request_context():
        delegations.delegate(
            assignment,
            user("respondent"),
            user("staff").id,
            [second_category.id],
            clock.today() + timedelta(days=3),
        )
        db.session.commit()
    staff = login(demo_app, "staff")
    done = f"/assignments/{assignment.id}/delegations/{first.id}/done"
    assert staff.post(done, data=CONFIRMED).status_code == 302
    status, html = page(staff, assignment)
    assert status == 200
    done_items = item_ids(demo_delegation())
    open_items = {item.id for item in second_category.items}
    # The open part takes answers; the part marked done shows its answers and no field.
    assert all(f'name="item_{item_id}"' in html for item_id in open_items)
    assert not any(f'name="item_{item_id}"' in html for item_id in done_items)
    assert "回答の完了を知らせたため、変更できません" in html
    # The save counts the delegate's items, not the whole questionnaire.
    data = {"revision": str(assignment.revision), "action": "save"}
    data.update({f"item_{item_id}": "yes" for item_id in open_items})
    saved = staff.post(f"/assignments/{assignment.id}", data=data)
    assert saved.status_code == 302
    flashed = staff.get(saved.headers["Location"]).text
    assert f"/{len(open_items | done_items)} 項目 回答済み）" in flashed


def test_the_delegate_confirms_before_the_part_is_done_and_is_told_what_is_unanswered(demo_app):
    delegation = demo_delegation()
    assignment = delegation.assignment
    count = len(item_ids(delegation))
    staff = login(demo_app, "staff")
    html = page(staff, assignment)[1]
    assert f"未回答の項目が {count} 件あります" in html
    assert "回答を確定して依頼した人に知らせます（この後は変更できません）" in html
    assert "確認の欄にチェックを入れて「依頼された回答を終えたことを知らせる」を押して" in html
    # Their own page does not list them as the one asked, and shows the date their part is due.
    assert "依頼した相手" not in html
    assert "依頼された分類の期限" in html and delegation.due_on.isoformat() in html
    done = f"/assignments/{assignment.id}/delegations/{delegation.id}/done"
    unticked = staff.post(done)  # one click, the box left empty: nothing ends
    assert unticked.status_code == 302
    assert "確認の欄にチェックを入れてください" in staff.get(unticked.headers["Location"]).text
    db.session.expire_all()
    assert demo_delegation().done_at is None and mails_to("respondent@example.jp") == []
    assert staff.post(done, data=CONFIRMED).status_code == 302
    db.session.expire_all()
    assert demo_delegation().done_at is not None
    html = page(staff, assignment)[1]
    assert "回答の完了を知らせました。直す必要があれば、依頼した人に連絡してください。" in html
    assert "「依頼された回答を終えたことを知らせる」を押して" not in html
    assert "未回答の項目" not in html


def test_the_delegator_sees_in_the_inbox_and_on_each_category_who_answers_it(demo_app):
    delegation = demo_delegation()
    assignment = delegation.assignment
    (category,) = delegation.categories
    respondent = login(demo_app, "respondent")
    inbox = respondent.get("/assignments/").text
    assert f"戸籍 係員 さんに依頼中（{category.code}）" in inbox
    html = page(respondent, assignment)[1]
    assert html.count("戸籍 係員 さんに依頼中") == 1  # beside the category handed over
    heading = html.index(category.title)
    assert html.index("戸籍 係員 さんに依頼中") > heading
    with demo_app.test_request_context():
        delegations.mark_done(delegation, user("staff"))
        db.session.commit()
    assert f"戸籍 係員 さんが回答完了（{category.code}）" in respondent.get("/assignments/").text
    assert "戸籍 係員 さんが回答完了" in page(respondent, assignment)[1]


def test_the_inbox_reads_the_parts_handed_out_in_one_query(demo_app):
    from tests.test_questionnaire_page import statements_of

    read = statements_of(login(demo_app, "respondent"), "GET", "/assignments/")
    assert sum(" FROM delegation " in statement for statement in read) == 2  # out, and to me


def test_the_delegation_form_lists_the_free_categories_as_checkboxes(demo_app):
    assignment = demo_delegation().assignment
    client = login(demo_app, "respondent")
    form = client.get(f"/assignments/{assignment.id}/delegate").text
    assert '<ul class="checks"' in form
    assert "依頼中の分類は表示していません" in form
    assert f"{demo_delegation().categories[0].code} " not in form.split('<ul class="checks"')[1]


def test_with_nobody_to_hand_to_the_form_only_explains(demo_app):
    assignment = demo_delegation().assignment
    user("staff").active = False
    db.session.commit()
    form = login(demo_app, "respondent").get(f"/assignments/{assignment.id}/delegate").text
    assert "同じ所属の職員のアカウントが必要です（情報政策課が作成します）" in form
    assert "依頼する</button>" not in form and 'name="categories"' not in form


def test_the_history_names_the_delegate_the_part_and_its_due_date(demo_app):
    delegation = demo_delegation()
    (category,) = delegation.categories
    assert delegations.describe(delegation) == (
        f"戸籍 係員 さん：{category.code} {category.title}（期限 {delegation.due_on.isoformat()}）"
    )
    office = login(demo_app, "admin").get(f"/campaigns/assignments/{delegation.assignment_id}")
    assert "回答の依頼（委任）" in office.text and "未着手 delegate" not in office.text
