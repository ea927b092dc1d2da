"""Pledges (誓約書): a person signs the latest version of each pledge that concerns them when
they sign in — at their first sign-in, again after a new version, and a year later for a yearly
pledge — and can do nothing else until they have; the office follows who has signed, per unit.

The demo has the staff pledge's second version signed by everyone but the divisions of 環境部
and 都市基盤部 and 環境部's head (m-d10), and the contractors' pledge (yearly) required of C001
and C002, signed by C001's two accounts (survey/demo_pledges.py)."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from survey import clock, demo
from survey.extensions import db
from survey.models import AuditEntry, Contractor, OrgUnit, OutgoingMail, ReminderLog, Role, User
from survey.models.pledges import Pledge, PledgeAcknowledgement, PledgeVersion
from survey.passwords import hash_password
from survey.services import pledges, reminders
from tests.api.helpers import bearer, token_for
from tests.helpers import login, signed_in, user

PASSWORD = demo.DEMO_PASSWORD


def pledge(code: str) -> Pledge:
    return db.session.scalar(sa.select(Pledge).where(Pledge.code == code))


def acknowledgements(username: str) -> list[tuple[str, int]]:
    rows = db.session.execute(
        sa.select(Pledge.code, PledgeVersion.version)
        .join(PledgeVersion, PledgeVersion.pledge_id == Pledge.id)
        .join(PledgeAcknowledgement, PledgeAcknowledgement.version_id == PledgeVersion.id)
        .join(User, User.id == PledgeAcknowledgement.user_id)
        .where(User.username == username)
        .order_by(Pledge.code, PledgeVersion.version, PledgeAcknowledgement.id)
    )
    return [tuple(row) for row in rows]


def entries(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def mails_to(address: str) -> list[OutgoingMail]:
    return list(
        db.session.scalars(sa.select(OutgoingMail).where(OutgoingMail.recipient == address))
    )


def sign_in(app, username: str, password: str = PASSWORD):
    client = app.test_client()
    response = client.post("/auth/login", data={"username": username, "password": password})
    assert response.status_code == 302
    return client, response.headers["Location"]


def new_account(username: str, unit_name: str = "戸籍住民課") -> User:
    unit = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == unit_name))
    account = User(
        username=username,
        display_name="新任 一郎",
        role=Role.RESPONDENT,
        unit=unit,
        password_hash=hash_password(PASSWORD),
    )
    db.session.add(account)
    db.session.commit()
    return account


# --- no pledge, no gate -----------------------------------------------------------------------


def test_without_a_published_pledge_everyone_signs_in_as_before(app):
    unit = OrgUnit(code="D01", name="総務課")
    db.session.add_all(
        [
            unit,
            User(
                username="somebody",
                display_name="誰か",
                role=Role.RESPONDENT,
                unit=unit,
                password_hash=hash_password(PASSWORD),
            ),
        ]
    )
    db.session.commit()
    client, went = sign_in(app, "somebody")
    assert went == "/"
    assert signed_in(client)
    # A draft asks nobody.
    pledges.create("staff", "誓約書", "staff", "version", "守ります。")
    db.session.commit()
    client, went = sign_in(app, "somebody")
    assert went == "/"


# --- the gate ----------------------------------------------------------------------------------


def test_a_new_account_signs_the_pledge_before_anything_else(demo_app):
    new_account("r-new")
    client, went = sign_in(demo_app, "r-new")
    assert went == "/auth/pledge"
    assert not signed_in(client)
    # Nothing but the pledge page, sign-out and static files.
    for path in ("/", "/assignments/", "/auth/account", "/pledges/mine", "/auth/login"):
        response = client.get(path)
        assert (response.status_code, response.headers.get("Location")) == (
            302,
            "/auth/pledge",
        ), path
    with client.get("/static/css/tenken.css") as static:
        assert static.status_code == 200
    page = client.get("/auth/pledge").get_data(as_text=True)
    assert "情報セキュリティに関する誓約書（職員用）" in page and "第2版" in page
    assert "住民の記録は、事務の処理に必要な場合に限り照会します" in page

    # Not ticked: refused, still waiting.
    version = pledge("staff").versions[-1]
    refused = client.post("/auth/pledge", data={"versions": str(version.id)})
    assert refused.status_code == 422
    assert "誓約する場合はチェックを入れてください。" in refused.get_data(as_text=True)
    assert acknowledgements("r-new") == []

    agreed = client.post("/auth/pledge", data={"versions": str(version.id), "agree": "y"})
    assert (agreed.status_code, agreed.headers["Location"]) == (302, "/")
    assert signed_in(client)
    assert client.get("/").status_code == 200
    assert acknowledgements("r-new") == [("staff", 2)]
    (entry,) = [e for e in entries("pledge.acknowledge") if e.username == "r-new"]
    assert entry.after == {"pledge": "staff", "version": 2}

    # A second click stores nothing more.
    again = client.post("/auth/pledge", data={"versions": str(version.id), "agree": "y"})
    assert again.status_code == 302
    assert acknowledgements("r-new") == [("staff", 2)]
    # And the next sign-in goes straight in.
    assert sign_in(demo_app, "r-new")[1] == "/"


def test_a_directory_account_made_at_its_first_sign_in_signs_the_pledge_first(directory, demo_app):
    client, went = sign_in(demo_app, "yamada", "yamada-directory-pw")
    assert went == "/auth/pledge"
    assert not signed_in(client)
    assert user("yamada").directory_dn


def test_the_page_asked_for_before_the_pledge_is_where_the_sign_in_ends(demo_app):
    client = demo_app.test_client()
    response = client.post(
        "/auth/login?next=/assignments/",
        data={"username": "r-d10-01", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/auth/pledge"
    version = pledge("staff").versions[-1]
    agreed = client.post("/auth/pledge", data={"versions": str(version.id), "agree": "y"})
    assert agreed.headers["Location"] == "/assignments/"


def test_signing_out_instead_of_signing_the_pledge_ends_the_session(demo_app):
    client, _went = sign_in(demo_app, "m-d10")
    assert client.post("/auth/logout").status_code == 302
    assert client.get("/auth/pledge").headers["Location"] == "/auth/login"
    assert acknowledgements("m-d10") == [("staff", 1)]


def test_a_version_published_while_the_page_was_open_must_be_read_first(demo_app):
    client, _went = sign_in(demo_app, "r-d10-01")
    shown = pledge("staff").versions[-1]
    staff = pledge("staff")
    pledges.save_draft(staff, "第3版の本文")
    pledges.publish(staff, user("admin"))
    db.session.commit()
    refused = client.post("/auth/pledge", data={"versions": str(shown.id), "agree": "y"})
    assert refused.headers["Location"] == "/auth/pledge"
    assert acknowledgements("r-d10-01") == [("staff", 1)]
    assert "第3版の本文" in client.get("/auth/pledge").get_data(as_text=True)


def test_the_api_takes_tokens_whatever_pledge_is_due(demo_app):
    secret = token_for("r-d10-01")
    client = demo_app.test_client()
    assert client.get("/api/v1/assignments", headers=bearer(secret)).status_code == 200


def test_the_demo_accounts_start_on_the_home_page(demo_app):
    for username in demo.DEMO_LOGINS:
        assert sign_in(demo_app, username)[1] == "/", username


# --- new versions and yearly renewal ----------------------------------------------------------


def test_a_new_version_is_asked_again_of_those_who_signed_the_last(demo_app):
    admin = login(demo_app, "admin")
    assert admin.get("/pledges/staff/draft").status_code == 200
    draft = admin.get("/pledges/staff/draft").get_data(as_text=True)
    assert "住民の記録は、事務の処理に必要な場合に限り照会します" in draft  # from version 2
    saved = admin.post("/pledges/staff/draft", data={"body": "令和9年度の誓約書"})
    assert saved.status_code == 302
    shown = admin.get("/pledges/staff").get_data(as_text=True)
    assert "第3版（下書き）" in shown and "令和9年度の誓約書" in shown
    assert "Publish this version" in admin.get("/pledges/staff?lang=en").get_data(as_text=True)
    admin.get("/pledges/staff?lang=ja")
    assert "第3版を公開します。対象の全員に、次回のログイン時に同意を求めます" in shown
    # A draft asks nobody yet.
    assert sign_in(demo_app, "respondent")[1] == "/"
    # Everyone will be asked again: without the tick that says so, nothing is published.
    unticked = admin.post("/pledges/staff/publish")
    assert unticked.status_code == 422
    assert "公開する場合は、確認の欄にチェックを入れてください。" in unticked.get_data(as_text=True)
    assert entries("pledge.publish") == []
    assert pledge("staff").versions[-1].published_at is None
    for _click in range(2):
        assert admin.post("/pledges/staff/publish", data={"confirm": "y"}).status_code == 302
    assert [e.after for e in entries("pledge.publish")] == [{"pledge": "staff", "version": 3}]
    staff = pledge("staff")
    assert [v.version for v in staff.versions if v.published_at] == [1, 2, 3]

    client, went = sign_in(demo_app, "respondent")
    assert went == "/auth/pledge"
    page = client.get("/auth/pledge").get_data(as_text=True)
    assert "令和9年度の誓約書" in page and "第3版" in page
    newest = staff.versions[-1]
    client.post("/auth/pledge", data={"versions": str(newest.id), "agree": "y"})
    assert acknowledgements("respondent") == [("staff", 1), ("staff", 2), ("staff", 3)]
    # The old versions are kept as they were, for reading only.
    assert "住民の記録は" in admin.get("/pledges/staff").get_data(as_text=True)


def test_a_yearly_pledge_is_asked_again_a_year_after_it_was_signed(demo_app, monkeypatch):
    contractor = user("contractor")
    (signed,) = db.session.scalars(
        sa.select(PledgeAcknowledgement).where(PledgeAcknowledgement.user_id == contractor.id)
    )
    signed.acknowledged_on = date(2026, 10, 20)
    db.session.commit()
    assert pledges.due(contractor, today=date(2027, 10, 19)) == []
    assert [v.pledge.code for v in pledges.due(contractor, today=date(2027, 10, 20))] == [
        "contractors"
    ]

    monkeypatch.setattr(clock, "today", lambda: date(2027, 10, 19))
    assert sign_in(demo_app, "contractor")[1] == "/"
    monkeypatch.setattr(clock, "today", lambda: date(2027, 10, 20))
    client, went = sign_in(demo_app, "contractor")
    assert went == "/auth/pledge"
    version = pledge("contractors").versions[-1]
    client.post("/auth/pledge", data={"versions": str(version.id), "agree": "y"})
    assert acknowledgements("contractor") == [("contractors", 1), ("contractors", 1)]
    # The staff pledge is no contractor's business, whatever its versions.
    assert [v.pledge.code for v in pledges.due(contractor)] == []


def test_a_yearly_signature_on_29_february_holds_until_1_march():
    assert pledges.renewal_due(date(2028, 2, 29)) == date(2029, 3, 1)
    assert pledges.renewal_cutoff(date(2029, 2, 28)) == date(2028, 2, 28)  # 2028-02-29 holds
    assert pledges.renewal_cutoff(date(2029, 3, 1)) == date(2028, 3, 1)  # and no longer


def test_contractors_sign_only_where_a_contract_requires_it(demo_app):
    assert sign_in(demo_app, "c-c002")[1] == "/auth/pledge"  # C002's contracts require it
    assert sign_in(demo_app, "c-c028")[1] == "/"  # C028's do not


def test_a_companys_printed_copy_names_the_company(demo_app):
    client, _went = sign_in(demo_app, "c-c002")
    owed = pledges.due(user("c-c002"))
    client.post("/auth/pledge", data={"versions": [str(v.id) for v in owed], "agree": "y"})
    (ack,) = db.session.scalars(
        sa.select(PledgeAcknowledgement).where(PledgeAcknowledgement.user_id == user("c-c002").id)
    ).all()
    printed = client.get(f"/pledges/acknowledgements/{ack.id}/print").get_data(as_text=True)
    assert f"<th>所属</th><td>{user('c-c002').contractor.name}</td>" in printed


def test_a_company_is_greeted_with_sama_and_the_wards_staff_with_san(demo_app):
    company, _went = sign_in(demo_app, "c-c002")
    page = company.get("/auth/pledge").get_data(as_text=True)
    assert f"{user('c-c002').display_name}様、利用を始める前に" in page
    assert "さん、利用を始める前に" not in page
    new_account("r-new")
    staff, _went = sign_in(demo_app, "r-new")
    greeting = staff.get("/auth/pledge").get_data(as_text=True)
    assert f"{user('r-new').display_name}さん、利用を始める前に" in greeting


# --- completion per unit, on the user's scope --------------------------------------------------


def test_the_office_sees_who_has_not_signed_in_every_unit(demo_app):
    page = login(demo_app, "admin").get("/pledges/staff/completion").get_data(as_text=True)
    assert "環境部" in page and "都市基盤部" in page
    found = pledges.completion(pledge("staff"), sa.select(User))
    missing = {m.username for m in found.missing}
    environment = db.session.scalars(
        sa.select(User.username)
        .join(OrgUnit, OrgUnit.id == User.unit_id)
        .where(OrgUnit.parent.has(OrgUnit.code.in_(("D10", "D11"))))
    ).all()
    assert missing == {*environment, "m-d10"} and len(missing) == 9
    assert "m-d10" in page
    by_unit = {row.name: (row.people, row.acknowledged) for row in found.rows}
    assert by_unit["戸籍住民課"] == (3, 3)  # respondent, r-d04-01 and the 職員 staff
    assert by_unit["区民部"] == (2, 2)  # its heads: manager and m-d04
    total = found.total
    assert total.people - total.acknowledged == 9


def test_an_account_of_no_unit_is_counted_on_a_row_of_its_own(demo_app):
    db.session.add(
        User(
            username="breakglass",
            display_name="緊急用 管理者",
            role=Role.ADMIN,
            unit=None,
            password_hash=hash_password(PASSWORD),
        )
    )
    db.session.commit()
    office = login(demo_app, "admin")
    page = office.get("/pledges/staff/completion")
    assert page.status_code == 200 and "緊急用 管理者" in page.get_data(as_text=True)
    with office.get("/pledges/staff/completion.xlsx") as workbook:
        assert workbook.status_code == 200
    with demo_app.test_request_context():
        found = pledges.completion(pledge("staff"), sa.select(User))
        assert found.rows[-1].name == "所属なし" and found.rows[-1].people == 1


def test_a_manager_sees_their_own_subtree_only(demo_app):
    manager = login(demo_app, "manager")  # 区民部
    page = manager.get("/pledges/staff/completion").get_data(as_text=True)
    assert "戸籍住民課" in page and "環境部" not in page and "m-d10" not in page
    with manager.get("/pledges/staff/completion.xlsx") as response:
        book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames == ["所属別", "未提出者"]
    rows = list(book["所属別"].iter_rows(values_only=True))
    header = rows.index(("部局", "所属", "対象者", "提出済み", "未提出", "提出率"))
    body = [r for r in rows[header + 1 :] if r[0] and r[0] != "合計"]
    assert body and {r[0] for r in body} == {"区民部"}
    assert rows[-1][0] == "合計" and rows[-1][4] == 0
    # The companies' pledge is the office's to follow.
    assert manager.get("/pledges/contractors/completion").status_code == 404
    assert "/pledges/contractors" not in manager.get("/pledges/").get_data(as_text=True)
    assert entries("export.pledge_completion")


def test_the_office_workbook_lists_those_who_have_not_signed(demo_app):
    admin = login(demo_app, "admin")
    with admin.get("/pledges/contractors/completion.xlsx") as response:
        assert response.status_code == 200
        book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    units = list(book["所属別"].iter_rows(values_only=True))
    header = units.index(("委託事業者", "事業者名", "対象者", "提出済み", "未提出", "提出率"))
    counts = {r[1]: (r[2], r[3]) for r in units[header + 1 : -1]}
    second = db.session.scalar(sa.select(Contractor.name).where(Contractor.code == "C002"))
    # さくら: its two contacts and its staff account (contractor-staff), all signed.
    assert counts == {"株式会社さくら情報サービス": (3, 3), second: (1, 0)}
    missing = list(book["未提出者"].iter_rows(values_only=True))
    assert any(row and row[3] == "c-c002" for row in missing)


# --- one's own acknowledgements ----------------------------------------------------------------


def test_a_person_sees_and_prints_only_their_own_acknowledgements(demo_app):
    client = login(demo_app, "respondent")
    page = client.get("/pledges/mine").get_data(as_text=True)
    assert "<h1>自分の誓約書</h1>" in page
    assert "第1版" in page and "第2版" in page
    english = client.get("/pledges/mine?lang=en").get_data(as_text=True)
    assert '<th scope="col">Pledge</th>' in english
    client.get("/pledges/mine?lang=ja")
    own = db.session.scalars(
        sa.select(PledgeAcknowledgement.id).where(
            PledgeAcknowledgement.user_id == user("respondent").id
        )
    ).all()
    printed = client.get(f"/pledges/acknowledgements/{own[-1]}/print").get_data(as_text=True)
    assert "住民 記録" in printed and "respondent" in printed
    assert "令和" in printed and "(2026-" in printed  # 和暦 and the Western date
    # The version's line gives the day in 和暦 alone; the signer's unit has a row of its own.
    assert re.search(r"第\d版（令和\d+年\d+月\d+日公開）", printed)
    assert f"<th>所属</th><td>{user('respondent').unit.name}</td>" in printed
    assert "自分の誓約書へ戻る" in printed
    assert "print.css" in printed
    other = db.session.scalar(
        sa.select(PledgeAcknowledgement.id).where(
            PledgeAcknowledgement.user_id == user("r-d04-01").id
        )
    )
    for who in ("respondent", "admin", "manager"):
        got = login(demo_app, who).get(f"/pledges/acknowledgements/{other}/print")
        assert got.status_code == 404, who


# --- the office's side ------------------------------------------------------------------------


def test_the_office_creates_a_pledge_as_a_draft_and_a_wrong_form_keeps_what_was_typed(demo_app):
    admin = login(demo_app, "admin")
    refused = admin.post(
        "/pledges/new",
        data={
            "code": "new",
            "title": "臨時職員用",
            "audience": "staff",
            "renewal": "yearly",
            "body": "守ります。",
        },
    )
    assert refused.status_code == 422
    assert "臨時職員用" in refused.get_data(as_text=True)
    made = admin.post(
        "/pledges/new",
        data={
            "code": "temporary",
            "title": "臨時職員用",
            "audience": "staff",
            "renewal": "yearly",
            "body": "守ります。",
        },
    )
    assert made.headers["Location"] == "/pledges/temporary"
    assert pledge("temporary").versions[0].published_at is None
    assert entries("pledge.create")


@pytest.mark.parametrize("role", ["auditor", "manager"])
def test_only_the_office_writes_and_publishes(demo_app, role):
    client = login(demo_app, role)
    assert client.post("/pledges/staff/draft", data={"body": "x"}).status_code == 403
    assert client.post("/pledges/staff/publish").status_code == 403
    assert [v.version for v in pledge("staff").versions] == [1, 2]


def test_two_of_the_office_creating_the_same_code_at_once_get_the_form_back(demo_app, monkeypatch):
    """The other click saved the code between this one's check and its save: the database
    refuses the twin, and the form comes back with what was typed and the code's error."""
    monkeypatch.setattr(pledges, "code_taken", lambda code: False)
    refused = login(demo_app, "admin").post(
        "/pledges/new",
        data={
            "code": "staff",
            "title": "同時に作成した誓約書",
            "audience": "staff",
            "renewal": "yearly",
            "body": "守ります。",
        },
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "このコードの誓約書は既にあります。" in page and "同時に作成した誓約書" in page
    assert db.session.scalar(sa.select(sa.func.count()).where(Pledge.code == "staff")) == 1
    assert entries("pledge.create") == []


# --- the menu ---------------------------------------------------------------------------------


def test_the_menu_leads_the_office_and_heads_to_the_pledges_and_a_person_to_their_own(demo_app):
    for who in ("admin", "auditor", "manager"):
        home = login(demo_app, who).get("/").get_data(as_text=True)
        assert 'href="/pledges/"' in home, who
    home = login(demo_app, "respondent").get("/").get_data(as_text=True)
    assert 'href="/pledges/mine"' in home and 'href="/pledges/"' not in home
    # A company whose contracts ask for no pledge has none to see.
    home = login(demo_app, "c-c028").get("/").get_data(as_text=True)
    assert "/pledges/" not in home


# --- the daily digest -------------------------------------------------------------------------

# This year's staff pledge (第2版) was published on 2026-10-01; 環境部's divisions have no heads
# of their own, so their unit-head step reaches nobody and m-d10, 環境部's head (who has not
# signed either), is their department head.
PUBLISHED = date(2026, 10, 1)


def freeze(monkeypatch, day: date) -> None:
    monkeypatch.setattr(clock, "today", lambda: day)


def told(key: str) -> dict[str, str]:
    """Who today's run (on the frozen clock) reminds of `key`, with the line each gets."""
    letters = reminders.plan(clock.today(), reminders.sources())
    return {letter.email: r.line for letter in letters for r in letter.reminders if r.key == key}


def key_of(username: str, code: str = "staff") -> str:
    return f"pledge:{pledge(code).versions[-1].id}:{user(username).id}"


def test_whoever_has_not_signed_in_since_a_new_version_is_reminded_until_they_sign(
    demo_app, monkeypatch
):
    freeze(monkeypatch, PUBLISHED + timedelta(days=1))
    line = told(key_of("r-d10-01"))["r-d10-01@example.jp"]
    assert "■ 誓約書: 情報セキュリティに関する誓約書（職員用） 第2版" in line
    assert "（1日経過）" in line
    assert "ログインすると誓約書が表示されます" in line and line.endswith("/auth/login")
    assert told(key_of("respondent")) == {}  # signed already
    assert set(told(key_of("m-d10"))) == {"m-d10@example.jp"}  # their own, as anyone

    client, _went = sign_in(demo_app, "r-d10-01")
    version = pledge("staff").versions[-1]
    client.post("/auth/pledge", data={"versions": str(version.id), "agree": "y"})
    assert told(key_of("r-d10-01")) == {}


def test_a_pledge_not_given_climbs_to_the_heads_as_a_course_does(demo_app, monkeypatch):
    division = user("r-d10-01").unit  # 環境政策課, under 環境部
    head = User(
        username="m-head",
        display_name="環境政策課長",
        email="head@example.jp",
        role=Role.MANAGER,
        unit=division,
    )
    db.session.add(head)
    db.session.commit()
    pledges.acknowledge(head, [v.id for v in pledges.due(head)])
    db.session.commit()
    key = key_of("r-d10-01")

    freeze(monkeypatch, PUBLISHED + timedelta(days=2))
    assert set(told(key)) == {"r-d10-01@example.jp"}  # the person alone at first
    freeze(monkeypatch, PUBLISHED + timedelta(days=3))
    assert set(told(key)) == {"r-d10-01@example.jp", "head@example.jp"}
    freeze(monkeypatch, PUBLISHED + timedelta(days=7))
    late = told(key)
    assert set(late) == {"r-d10-01@example.jp", "head@example.jp", "m-d10@example.jp"}
    to_head = late["m-d10@example.jp"]
    assert "職員: " + user("r-d10-01").display_name + "（未提出）" in to_head
    assert "督促段階: 部局長（担当所属: 環境政策課）" in to_head
    assert to_head.endswith("/pledges/staff/completion")  # never the person's sign-in
    assert late["r-d10-01@example.jp"].endswith("/auth/login")


def test_one_digest_a_day_holds_with_the_pledges_in_it(demo_app, monkeypatch):
    """m-d10 owes the pledge and heads the divisions that owe it: their own line and one per
    person of theirs, in the day's one mail, whichever run comes again that day."""
    day = PUBLISHED + timedelta(days=7)
    freeze(monkeypatch, day)
    runner = demo_app.test_cli_runner()
    for again in ([], [], ["--again"]):
        assert runner.invoke(args=["reminders", "send", *again]).exit_code == 0

    [mail] = mails_to("m-d10@example.jp")
    keys = db.session.scalars(
        sa.select(ReminderLog.key).where(ReminderLog.recipient == "m-d10@example.jp")
    ).all()
    assert len(keys) == len(set(keys))
    owed = {key_of(name) for name in ("m-d10", "r-d10-01", "r-d10-02", "r-d10-03")}
    assert owed <= set(keys)
    assert mail.body.count("■ 誓約書:") == 4

    freeze(monkeypatch, day + timedelta(days=1))
    runner.invoke(args=["reminders", "send"])
    assert len(mails_to("m-d10@example.jp")) == 2


def test_a_lapsed_yearly_pledge_is_reminded_from_its_anniversary_to_the_company_alone(
    demo_app, monkeypatch
):
    contractor = user("contractor")
    (signed,) = db.session.scalars(
        sa.select(PledgeAcknowledgement).where(PledgeAcknowledgement.user_id == contractor.id)
    )
    signed.acknowledged_on = date(2026, 10, 20)
    db.session.commit()
    key = key_of("contractor", "contractors")

    freeze(monkeypatch, date(2027, 10, 19))
    assert told(key) == {}
    freeze(monkeypatch, date(2027, 10, 20))
    assert "（本日）" in told(key)[contractor.email]
    freeze(monkeypatch, date(2027, 10, 30))  # past every step: a company has no unit heads
    assert set(told(key)) == {contractor.email}


def test_a_new_account_is_reminded_from_the_day_it_was_made(demo_app, monkeypatch):
    account = new_account("r-new")
    account.email = "r-new@example.jp"
    account.created_at = datetime(2026, 11, 2, 0, 30, tzinfo=UTC)  # 09:30 in Tokyo
    db.session.commit()
    key = key_of("r-new")

    freeze(monkeypatch, date(2026, 11, 1))
    assert told(key) == {}
    freeze(monkeypatch, date(2026, 11, 2))
    assert "（本日）" in told(key)["r-new@example.jp"]
