"""再委託: a contractor asks the owning unit for prior approval to subcontract; the unit approves
(with conditions) or refuses (with the reason); contracts with unapproved subcontracting stand
out in the list."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEntry, Contract, OutgoingMail, Subcontract, SubcontractRequest
from survey.models.evaluations import RequestStatus
from survey.models.registers import Subcontracting
from survey.services import subcontracting
from tests import helpers
from tests.helpers import login

REQUEST = {
    "company_name": "株式会社テスト入力センター",
    "work": "申請書の入力",
    "data_handled": "申請者の氏名・住所・電話番号",
    "staff_count": "5",
}


def contract(code: str) -> Contract:
    return db.session.scalar(sa.select(Contract).where(Contract.code == code))


def pending_on(code: str) -> SubcontractRequest:
    return db.session.scalar(
        sa.select(SubcontractRequest).where(
            SubcontractRequest.contract_id == contract(code).id,
            SubcontractRequest.status == RequestStatus.PENDING,
        )
    )


def file_request(app, code: str = "K28-040") -> SubcontractRequest:
    """The demo contractor (C001) asks on its スポーツ振興課 contract."""
    response = login(app, "contractor").post(
        f"/contractors/contracts/{contract(code).id}/subcontract-requests/new", data=REQUEST
    )
    assert response.status_code == 302
    db.session.expire_all()
    return pending_on(code)


def test_contractor_requests_approval_to_subcontract(demo_app):
    filed = file_request(demo_app)
    assert filed.company_name == REQUEST["company_name"] and filed.staff_count == 5
    assert filed.requested_by.username == "contractor"
    assert filed.contract.subcontracting == Subcontracting.REQUESTED
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "subcontract.request")
    )
    assert entry.object_id == str(filed.id)
    recipients = set(
        db.session.scalars(
            sa.select(OutgoingMail.recipient).where(OutgoingMail.subject.contains("承認申請"))
        )
    )
    unit = filed.contract.unit
    assert f"r-{unit.code.lower()}@example.jp" in recipients  # the owning division
    assert f"m-{unit.parent.code.lower()}@example.jp" in recipients  # and its manager


def test_incomplete_request_is_refused_and_keeps_what_was_typed(demo_app):
    target = contract("K28-040")
    response = login(demo_app, "contractor").post(
        f"/contractors/contracts/{target.id}/subcontract-requests/new",
        data=REQUEST | {"data_handled": "", "staff_count": "0"},
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "再委託先が取り扱う個人情報を入力してください。" in text
    assert "取扱者数は 1 以上の整数で入力してください。" in text
    assert REQUEST["company_name"] in text and REQUEST["work"] in text
    assert pending_on("K28-040") is None


def test_staff_count_must_be_a_number(demo_app):
    target = contract("K28-040")
    response = login(demo_app, "contractor").post(
        f"/contractors/contracts/{target.id}/subcontract-requests/new",
        data=REQUEST | {"staff_count": "五人"},
    )
    assert response.status_code == 422
    assert "取扱者数は 1 以上の整数で入力してください。" in response.get_data(as_text=True)


def test_owning_unit_approves_with_conditions(demo_app):
    filed = file_request(demo_app)
    manager = f"m-{filed.contract.unit.parent.code.lower()}"
    decider = login(demo_app, manager)
    page = decider.get(f"/contractors/subcontract-requests/{filed.id}")
    assert "判断を確定する" in page.get_data(as_text=True)
    response = decider.post(
        f"/contractors/subcontract-requests/{filed.id}",
        data={"decision": "approve", "conditions": "作業場所を限定すること。"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert filed.status == RequestStatus.APPROVED and filed.conditions == "作業場所を限定すること。"
    sub = db.session.get(Subcontract, filed.subcontract_id)
    assert (sub.company_name, sub.staff_count) == (REQUEST["company_name"], 5)
    assert filed.contract.subcontracting == Subcontracting.APPROVED
    assert db.session.scalar(
        sa.select(OutgoingMail).where(
            OutgoingMail.recipient == "contractor@example.jp",
            OutgoingMail.subject.contains("申請結果"),
        )
    ).subject.startswith("【情報セキュリティ自己点検】再委託の申請結果：承認")
    assert db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "subcontract.approve")
    )
    chain = decider.get(f"/contractors/contracts/{filed.contract_id}").get_data(as_text=True)
    assert REQUEST["company_name"] in chain and "取扱者 5人" in chain


def test_refusal_needs_a_reason(demo_app):
    filed = file_request(demo_app)
    admin = login(demo_app, "admin")
    response = admin.post(
        f"/contractors/subcontract-requests/{filed.id}", data={"decision": "reject"}
    )
    assert response.status_code == 422
    assert "不承認の理由を入力してください。" in response.get_data(as_text=True)
    db.session.expire_all()
    assert filed.status == RequestStatus.PENDING


def test_owning_unit_refuses_with_the_reason(demo_app):
    filed = file_request(demo_app)
    response = login(demo_app, "admin").post(
        f"/contractors/subcontract-requests/{filed.id}",
        data={"decision": "reject", "conditions": "在宅での取扱いは認められません。"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert filed.status == RequestStatus.REJECTED and filed.subcontract_id is None
    assert filed.contract.subcontracting == Subcontracting.NONE
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "subcontract.reject"))
    mail = db.session.scalar(
        sa.select(OutgoingMail).where(
            OutgoingMail.recipient == "contractor@example.jp",
            OutgoingMail.subject.contains("申請結果"),
        )
    )
    assert "在宅での取扱いは認められません。" in mail.body


def test_a_decided_request_cannot_be_decided_again(demo_app):
    filed = file_request(demo_app)
    admin = login(demo_app, "admin")
    admin.post(f"/contractors/subcontract-requests/{filed.id}", data={"decision": "approve"})
    again = admin.post(
        f"/contractors/subcontract-requests/{filed.id}",
        data={"decision": "reject", "conditions": "やはり不可"},
    )
    # Told it was decided already, not refused as if the decider had no say.
    assert again.status_code == 302
    assert "この申請はすでに判断されています" in admin.get(again.headers["Location"]).get_data(
        as_text=True
    )
    db.session.expire_all()
    assert filed.status == RequestStatus.APPROVED


def test_contracts_list_flags_unapproved_subcontracting(demo_app):
    admin = login(demo_app, "admin")
    flagged = admin.get("/contractors/contracts?flag=unapproved").get_data(as_text=True)
    unapproved = db.session.scalar(
        sa.select(Contract).join(Subcontract).where(Subcontract.work == "地図データの更新")
    )
    assert unapproved.title in flagged and "未承認の再委託" in flagged
    approved_elsewhere = db.session.scalar(
        sa.select(Contract).where(Contract.subcontracting == Subcontracting.APPROVED)
    )
    assert approved_elsewhere.title not in flagged
    waiting = admin.get("/contractors/contracts?flag=pending").get_data(as_text=True)
    assert pending_on("K28-051").contract.title in waiting and unapproved.title not in waiting


def test_contracts_list_sorts_searches_and_pages(demo_app):
    admin = login(demo_app, "admin")
    first = admin.get("/contractors/contracts").get_data(as_text=True)
    assert "1 / 2 ページ（全74件）" in first
    last = admin.get("/contractors/contracts?sort=code&dir=desc").get_data(as_text=True)
    assert last.index("K28-074") < last.index("K28-073")
    found = admin.get("/contractors/contracts?q=納税コールセンター").get_data(as_text=True)
    assert "（1件）" in found and "K28-051" in found


def test_contractor_lists_only_its_own_contracts(demo_app):
    page = login(demo_app, "contractor").get("/contractors/contracts").get_data(as_text=True)
    own = db.session.scalars(
        sa.select(Contract.code).where(Contract.contractor_id == contract("K28-001").contractor_id)
    ).all()
    assert all(code in page for code in own)
    assert "K28-049" not in page  # C010's


def test_contractor_cannot_open_other_companies_contracts_or_requests(demo_app):
    other = contract("K28-049")  # C010's, at 戸籍住民課
    contractor = login(demo_app, "contractor")
    assert contractor.get(f"/contractors/contracts/{other.id}").status_code == 404
    assert (
        contractor.post(
            f"/contractors/contracts/{other.id}/subcontract-requests/new", data=REQUEST
        ).status_code
        == 404
    )
    theirs = SubcontractRequest(
        contract=other, company_name="他社", work="入力", data_handled="氏名", staff_count=1
    )
    db.session.add(theirs)
    db.session.commit()
    assert contractor.get(f"/contractors/subcontract-requests/{theirs.id}").status_code == 404
    denied = db.session.scalars(
        sa.select(AuditEntry.object_type).where(AuditEntry.action == "access.denied")
    ).all()
    assert {"contract", "subcontract_request"} <= set(denied)


def test_contractor_cannot_decide_its_own_request(demo_app):
    filed = file_request(demo_app)
    response = login(demo_app, "contractor").post(
        f"/contractors/subcontract-requests/{filed.id}", data={"decision": "approve"}
    )
    assert response.status_code == 403


def test_other_units_cannot_decide(demo_app):
    filed = file_request(demo_app)  # スポーツ振興課's contract, outside 区民部
    assert (
        login(demo_app, "respondent")
        .get(f"/contractors/subcontract-requests/{filed.id}")
        .status_code
        == 404
    )
    assert (
        login(demo_app, "manager")
        .post(f"/contractors/subcontract-requests/{filed.id}", data={"decision": "approve"})
        .status_code
        == 404
    )
    response = login(demo_app, "auditor").post(
        f"/contractors/subcontract-requests/{filed.id}", data={"decision": "approve"}
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert filed.status == RequestStatus.PENDING


def test_demo_manager_decides_the_demo_request(demo_app):
    filed = pending_on("K28-051")
    assert filed.requested_by.username == "contractor"
    page = login(demo_app, "manager").get(f"/contractors/contracts/{filed.contract_id}")
    assert "判断する" in page.get_data(as_text=True)


def test_two_deciders_approving_at_once_add_the_subcontractor_once(demo_app):
    filed = file_request(demo_app)
    seen_pending = filed.status  # this decider's page still shows the request as pending
    assert seen_pending == RequestStatus.PENDING
    other = login(demo_app, "admin")
    assert (
        other.post(
            f"/contractors/subcontract-requests/{filed.id}", data={"decision": "approve"}
        ).status_code
        == 302
    )
    with demo_app.test_request_context():
        with pytest.raises(subcontracting.AlreadyDecided, match="すでに判断されています"):
            subcontracting.approve(filed, helpers.user("admin"), "二人目の承認")
        db.session.rollback()
    rows = db.session.scalars(
        sa.select(Subcontract).where(
            Subcontract.contract_id == filed.contract_id,
            Subcontract.company_name == REQUEST["company_name"],
        )
    ).all()
    assert len(rows) == 1
    assert (
        len(
            db.session.scalars(
                sa.select(AuditEntry).where(AuditEntry.action == "subcontract.approve")
            ).all()
        )
        == 1
    )


def test_a_decider_without_a_mail_address_is_not_mailed(demo_app):
    unit = contract("K28-040").unit
    clerk = helpers.user(f"r-{unit.code.lower()}")
    clerk.email = ""
    db.session.commit()
    file_request(demo_app)
    assert (
        db.session.scalars(sa.select(OutgoingMail).where(OutgoingMail.recipient == "")).all() == []
    )
    manager = f"m-{unit.parent.code.lower()}@example.jp"
    assert db.session.scalar(sa.select(OutgoingMail).where(OutgoingMail.recipient == manager))


def test_the_refusal_is_confirmed_in_plain_words(demo_app):
    filed = file_request(demo_app)
    page = login(demo_app, "admin").post(
        f"/contractors/subcontract-requests/{filed.id}",
        data={"decision": "reject", "conditions": "在宅での取扱いは認められません。"},
        follow_redirects=True,
    )
    assert "再委託を不承認としました。" in page.get_data(as_text=True)
