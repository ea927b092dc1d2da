"""A division clerk answers this year's questionnaire, hands it in, and the manager reviews it."""

import re

import pytest
import sqlalchemy as sa

from survey import access
from survey.extensions import db
from survey.models import (
    Answer,
    AnswerHistory,
    Assignment,
    AuditEntry,
    OrgUnit,
)
from tests import helpers
from tests.helpers import assignment_of, form_data, login


def all_answers(assignment, code="yes"):
    return {item.number: code for item in assignment.campaign.checklist.items}


def stored(assignment):
    db.session.expire_all()
    return {
        a.item.number: (a.option.code if a.option else None, a.comment)
        for a in db.session.get(Assignment, assignment.id).answers
    }


@pytest.fixture
def mine(demo_app):
    """The demo respondent's half-answered questionnaire (戸籍住民課, this year's round)."""
    return assignment_of("戸籍住民課")


def test_respondent_saves_a_draft_and_sees_the_counter(demo_app, mine):
    client = login(demo_app, "respondent")
    page = client.get(f"/assignments/{mine.id}").get_data(as_text=True)
    answered_before = len([a for a in mine.answers if a.option])
    assert f"{answered_before}/21" in page
    response = client.post(
        f"/assignments/{mine.id}", data=form_data(mine, {21: "no"}, {21: "来月実施予定"})
    )
    assert response.status_code == 302
    assert stored(mine)[21] == ("no", "来月実施予定")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "下書きを保存しました" in page
    assert f"{answered_before + 1}/21" in page


def test_submit_with_missing_answers_lists_each_item_and_keeps_the_input(demo_app, mine):
    client = login(demo_app, "respondent")
    response = client.post(
        f"/assignments/{mine.id}",
        data=form_data(mine, {20: "no"}, {19: "入力途中のコメント"}, action="submit"),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "確認が必要な項目" in page
    missing = [n for n in range(1, 22) if stored(mine).get(n, (None,))[0] is None]
    for number in missing:
        assert re.search(rf'href="#item-\d+">項目 {number}</a>', page)
    assert "「いいえ」と回答した場合は、コメントを入力してください" in page  # item 20
    assert "入力途中のコメント" in page  # what was typed is still there ...
    assert stored(mine)[19][1] == "入力途中のコメント"  # ... and safe as a draft
    assert db.session.get(Assignment, mine.id).status == "draft"


def test_noncompliant_answer_needs_a_comment_even_from_a_crafted_post(demo_app, mine):
    client = login(demo_app, "respondent")
    data = form_data(mine, all_answers(mine) | {5: "no"}, {5: ""}, action="submit")
    response = client.post(f"/assignments/{mine.id}", data=data)
    assert response.status_code == 422
    assert db.session.get(Assignment, mine.id).status == "draft"


def test_crafted_option_code_is_refused_and_nothing_is_stored(demo_app, mine):
    client = login(demo_app, "respondent")
    before = stored(mine)
    response = client.post(f"/assignments/{mine.id}", data=form_data(mine, {21: "maybe"}))
    assert response.status_code == 422
    assert stored(mine) == before


def test_submit_return_resubmit_approve_then_frozen(demo_app, mine):
    clerk = login(demo_app, "respondent")
    manager = login(demo_app, "manager")
    data = form_data(mine, all_answers(mine), action="submit")
    assert clerk.post(f"/assignments/{mine.id}", data=data).status_code == 302
    assert db.session.get(Assignment, mine.id).status == "submitted"
    assert "承認待ち" in manager.get("/assignments/").get_data(as_text=True)

    # Returning needs a reason; the reason reaches the respondent.
    refused = manager.post(f"/assignments/{mine.id}/review", data={"send_back": "1", "comment": ""})
    assert refused.status_code == 422 and db.session.get(Assignment, mine.id).status == "submitted"
    assert "差し戻す理由を入力してください。" in refused.get_data(as_text=True)
    manager.post(
        f"/assignments/{mine.id}/review",
        data={"send_back": "1", "comment": "項目3の根拠を追記してください"},
    )
    assert db.session.get(Assignment, mine.id).status == "returned"
    page = clerk.get(f"/assignments/{mine.id}").get_data(as_text=True)
    assert "差し戻されました" in page and "項目3の根拠を追記してください" in page

    mine = db.session.get(Assignment, mine.id)
    data = form_data(mine, {3: "yes"}, {3: "施錠管理簿で確認済み"}, action="submit")
    assert clerk.post(f"/assignments/{mine.id}", data=data).status_code == 302
    assert db.session.get(Assignment, mine.id).status == "submitted"
    manager.post(f"/assignments/{mine.id}/review", data={"approve": "1", "comment": ""})
    assert db.session.get(Assignment, mine.id).status == "approved"

    # Approved answers are frozen: no form, and a crafted POST is refused.
    mine = db.session.get(Assignment, mine.id)
    page = clerk.get(f"/assignments/{mine.id}").get_data(as_text=True)
    assert "提出する" not in page
    frozen = clerk.post(f"/assignments/{mine.id}", data=form_data(mine, {3: "no"}))
    assert frozen.status_code == 403
    assert stored(mine)[3] == ("yes", "施錠管理簿で確認済み")

    history = clerk.get(f"/assignments/{mine.id}/history").get_data(as_text=True)
    assert "施錠管理簿で確認済み" in history
    assert "差戻し → " in history or "提出済 → 差戻し" in history
    assert "提出済 → 承認済" in history


def test_refused_review_keeps_what_the_manager_typed_next_to_the_field(demo_app, mine):
    clerk = login(demo_app, "respondent")
    clerk.post(f"/assignments/{mine.id}", data=form_data(mine, all_answers(mine), action="submit"))
    manager = login(demo_app, "manager")
    blank = "\u3000\u3000"  # an IME's full-width spaces: no reason at all
    refused = manager.post(
        f"/assignments/{mine.id}/review", data={"send_back": "1", "comment": blank}
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert re.search(r'<textarea[^>]*aria-invalid="true"[^>]*>\s*' + blank + "</textarea>", page)
    assert 'id="comment-error">差し戻す理由を入力してください。' in page

    too_long = "理由" * 2001  # over the 4000 characters a comment may hold
    for button in ("send_back", "approve"):
        refused = manager.post(
            f"/assignments/{mine.id}/review", data={button: "1", "comment": too_long}
        )
        assert refused.status_code == 422
        assert too_long in refused.get_data(as_text=True)
        assert "コメントは4000文字以内で入力してください。" in refused.get_data(as_text=True)
    assert db.session.get(Assignment, mine.id).status == "submitted"


def test_every_change_is_kept_in_the_history(demo_app, mine):
    client = login(demo_app, "respondent")
    client.post(f"/assignments/{mine.id}", data=form_data(mine, {21: "yes"}))
    mine = db.session.get(Assignment, mine.id)
    client.post(f"/assignments/{mine.id}", data=form_data(mine, {21: "no"}, {21: "未実施"}))
    item = mine.campaign.checklist.items[20]
    rows = db.session.scalars(
        sa.select(AnswerHistory)
        .where(AnswerHistory.assignment_id == mine.id, AnswerHistory.item_id == item.id)
        .order_by(AnswerHistory.id)
    ).all()
    assert [(r.new_option.code, r.new_comment) for r in rows][-2:] == [
        ("yes", ""),
        ("no", "未実施"),
    ]
    assert rows[-1].old_option.code == "yes" and rows[-1].changed_by.username == "respondent"


def test_double_click_or_retry_stores_nothing_twice(demo_app, mine):
    client = login(demo_app, "respondent")
    data = form_data(mine, {21: "yes"})
    first = client.post(f"/assignments/{mine.id}", data=data)
    second = client.post(f"/assignments/{mine.id}", data=data)  # the same form, posted again
    assert first.status_code == second.status_code == 302
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AnswerHistory)
        .where(AnswerHistory.assignment_id == mine.id)
    )
    assert count == 1
    answers = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Answer)
        .where(
            Answer.assignment_id == mine.id, Answer.item_id == mine.campaign.checklist.items[20].id
        )
    )
    assert answers == 1


def test_later_save_from_a_stale_form_is_refused_showing_what_changed(demo_app, mine):
    alice = login(demo_app, "respondent")
    bob = login(demo_app, "r-d04-01")  # a colleague in the same division
    stale = form_data(mine, {21: "yes"})  # Alice's page, loaded before Bob's save
    assert bob.post(f"/assignments/{mine.id}", data=form_data(mine, {20: "na"})).status_code == 302

    response = alice.post(
        f"/assignments/{mine.id}",
        data=stale | {"comment_" + str(mine.campaign.checklist.items[20].id): "アリスの入力"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "ほかの人が回答を更新しました" in page
    assert "戸籍住民課 担当" in page  # who changed it
    assert "アリスの入力" in page  # Alice's input is still on the page
    assert stored(mine)[20][0] == "na" and 21 not in stored(mine)  # nothing of Alice's written

    # The page now carries the new revision: saving again applies Alice's input knowingly.
    revision = re.search(r'name="revision" type="hidden" value="(\d+)"', page) or re.search(
        r'id="revision" name="revision" type="hidden" value="(\d+)"', page
    )
    retry = stale | {"revision": revision.group(1)}
    assert alice.post(f"/assignments/{mine.id}", data=retry).status_code == 302
    assert stored(mine)[21][0] == "yes"


def test_autosave_answers_in_json_and_detects_conflicts(demo_app, mine):
    client = login(demo_app, "respondent")
    loaded_at = mine.revision
    response = client.post(f"/assignments/{mine.id}/autosave", data=form_data(mine, {21: "na"}))
    body = response.get_json()
    assert response.status_code == 200 and body["ok"] and body["revision"] == loaded_at + 1
    stale = client.post(
        f"/assignments/{mine.id}/autosave", data=form_data(mine, {21: "yes"}) | {"revision": "0"}
    )
    assert stale.status_code == 409 and stale.get_json()["conflict"] is True


@pytest.fixture
def conditional(demo_app, tmp_path):
    return helpers.conditional_assignment(tmp_path)


def test_conditional_item_is_required_only_when_its_condition_holds(demo_app, conditional):
    client = login(demo_app, "respondent")
    a = conditional
    skip = form_data(a, {1: "no", 3: "na"}, {1: "未実施"}, action="submit", keep=False)
    response = client.post(f"/assignments/{a.id}", data=skip)
    assert response.status_code == 302  # item 2 was not asked
    assert db.session.get(Assignment, a.id).status == "submitted"


def test_conditional_item_cannot_be_skipped_when_asked(demo_app, conditional):
    client = login(demo_app, "respondent")
    a = conditional
    data = form_data(a, {1: "yes", 3: "na"}, action="submit", keep=False)
    response = client.post(f"/assignments/{a.id}", data=data)
    assert response.status_code == 422
    assert "項目 2</a>: 回答を選んでください" in response.get_data(as_text=True)


def history_of(assignment, number):
    item = assignment.campaign.checklist.items[number - 1]
    return db.session.scalars(
        sa.select(AnswerHistory)
        .where(AnswerHistory.assignment_id == assignment.id, AnswerHistory.item_id == item.id)
        .order_by(AnswerHistory.id)
    ).all()


def test_the_form_cannot_store_an_answer_to_an_item_not_asked(demo_app, conditional):
    client = login(demo_app, "respondent")
    a = conditional
    data = form_data(a, {1: "no", 2: "yes"}, {1: "未実施", 2: "毎月実施"}, keep=False)
    assert client.post(f"/assignments/{a.id}", data=data).status_code == 302
    assert stored(a) == {1: ("no", "未実施")}
    assert not history_of(a, 2)


def test_autosave_cannot_store_an_answer_to_an_item_not_asked(demo_app, conditional):
    client = login(demo_app, "respondent")
    a = conditional
    data = form_data(a, {1: "no", 2: "yes"}, {2: "毎月実施"}, keep=False)
    response = client.post(f"/assignments/{a.id}/autosave", data=data)
    assert response.status_code == 200 and response.get_json()["ok"]
    assert stored(a) == {1: ("no", "")}


def test_changing_the_condition_clears_the_dependent_answer_and_keeps_it_in_the_history(
    demo_app, conditional
):
    client = login(demo_app, "respondent")
    a = conditional
    first = form_data(a, {1: "yes", 2: "no"}, {2: "未実施"}, keep=False)
    assert client.post(f"/assignments/{a.id}", data=first).status_code == 302
    # Item 1 becomes いいえ; the page hides item 2 but still posts what it holds.
    a = db.session.get(Assignment, a.id)
    response = client.post(f"/assignments/{a.id}", data=form_data(a, {1: "no"}))
    page = client.get(response.headers["Location"]).get_data(as_text=True)

    assert "条件により対象外となった項目 1 件の回答を消去しました。" in page
    assert stored(a) == {1: ("no", ""), 2: (None, "")}
    cleared = history_of(a, 2)[-1]
    assert (cleared.old_option.code, cleared.old_comment) == ("no", "未実施")
    assert (cleared.new_option, cleared.new_comment) == (None, "")
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "answer.save").order_by(AuditEntry.id)
    ).all()[-1]
    assert entry.before["answers"]["2"] == {"option": "no", "comment": "未実施"}
    assert entry.after["answers"]["2"] == {"option": None, "comment": ""}

    # Back to はい: item 2 is asked again, and empty; the respondent answers it anew.
    a = db.session.get(Assignment, a.id)
    client.post(f"/assignments/{a.id}", data=form_data(a, {1: "yes"}))
    assert stored(a)[2] == (None, "")
    assert "1/3" in client.get(f"/assignments/{a.id}").get_data(as_text=True)


def test_autosave_says_when_it_cleared_an_answer(demo_app, conditional):
    client = login(demo_app, "respondent")
    a = conditional
    client.post(f"/assignments/{a.id}", data=form_data(a, {1: "yes", 2: "yes"}, keep=False))
    a = db.session.get(Assignment, a.id)
    body = client.post(f"/assignments/{a.id}/autosave", data=form_data(a, {1: "na"})).get_json()
    assert body["ok"]
    assert body["dropped"] == "条件により対象外となった項目 1 件の回答を消去しました。"
    assert (body["answered"], body["asked"]) == (1, 2)


def test_print_view_leaves_out_an_answer_to_an_item_not_asked(demo_app, conditional):
    a = conditional
    helpers.store_directly(a, {1: ("no", ""), 2: ("yes", "古い版で保存された回答")})
    page = login(demo_app, "respondent").get(f"/assignments/{a.id}/print").get_data(as_text=True)
    assert "復元テストをしている" in page
    assert "古い版で保存された回答" not in page
    assert "項目 1 の回答により回答不要" in page


def test_required_evidence_must_be_attached_and_checked_by_content(demo_app, conditional):
    import io

    client = login(demo_app, "respondent")
    a = conditional
    evidence_item = a.campaign.checklist.items[2]
    data = form_data(a, {1: "no", 3: "yes"}, {1: "未実施"}, action="submit", keep=False)
    response = client.post(f"/assignments/{a.id}", data=data)
    assert "証跡ファイルを添付してください" in response.get_data(as_text=True)

    fake = dict(
        form_data(
            db.session.get(Assignment, a.id),
            {1: "no", 3: "yes"},
            {1: "未実施"},
            action="submit",
            keep=False,
        )
    )
    fake[f"evidence_{evidence_item.id}"] = (io.BytesIO(b"MZ not a pdf"), "report.pdf")
    refused = client.post(f"/assignments/{a.id}", data=fake, content_type="multipart/form-data")
    assert "PDF、画像" in refused.get_data(as_text=True)

    real = dict(fake)
    real["revision"] = str(db.session.get(Assignment, a.id).revision)
    real[f"evidence_{evidence_item.id}"] = (io.BytesIO(b"%PDF-1.4 minimal"), "点検記録.pdf")
    ok = client.post(f"/assignments/{a.id}", data=real, content_type="multipart/form-data")
    assert ok.status_code == 302
    assert db.session.get(Assignment, a.id).status == "submitted"
    page = client.get(f"/assignments/{a.id}").get_data(as_text=True)
    link = re.search(r'href="(/assignments/\d+/evidence/\d+)">点検記録.pdf', page).group(1)
    with client.get(link) as download:
        assert download.data == b"%PDF-1.4 minimal"
        assert "attachment" in download.headers["Content-Disposition"]


def test_inbox_lists_overdue_first_with_progress(demo_app, tmp_path):
    checklist = helpers.checklist("emergency-assets")
    unit = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "戸籍住民課"))
    helpers.open_campaign(checklist, [unit], code="late", days_left=-3)
    page = login(demo_app, "respondent").get("/assignments/").get_data(as_text=True)
    assert page.index("期限超過") < page.index("令和8年度 情報資産の取扱状況 自己点検")
    assert "0/21" in page


def test_print_view_shows_every_answer_and_comment(demo_app):
    done = assignment_of("戸籍住民課", "2017-emergency-assets")
    page = login(demo_app, "respondent").get(f"/assignments/{done.id}/print").get_data(as_text=True)
    assert "print.css" in page
    for answer in done.answers:
        assert answer.item.text in page
        if answer.comment:
            assert answer.comment in page


@pytest.mark.parametrize("path", ["", "/history", "/print"])
def test_respondent_cannot_open_another_units_assignment(demo_app, path):
    other = assignment_of("税務課")
    client = login(demo_app, "respondent")
    assert client.get(f"/assignments/{other.id}{path}").status_code == 404


def test_respondent_cannot_write_into_another_units_assignment(demo_app):
    other = assignment_of("税務課")
    client = login(demo_app, "respondent")
    before = stored(other)
    for path in ("", "/autosave", "/review"):
        assert (
            client.post(
                f"/assignments/{other.id}{path}", data=form_data(other, {21: "no"})
            ).status_code
            == 404
        )
    assert stored(other) == before


def test_contractor_cannot_open_a_divisions_assignment(demo_app, mine):
    client = login(demo_app, "contractor")
    assert client.get(f"/assignments/{mine.id}").status_code == 404


def test_manager_reads_but_does_not_answer_and_other_managers_see_nothing(demo_app, mine):
    own = login(demo_app, "manager")  # 区民部, above 戸籍住民課
    assert own.get(f"/assignments/{mine.id}").status_code == 200
    assert own.post(f"/assignments/{mine.id}", data=form_data(mine, {21: "no"})).status_code == 403
    other = login(demo_app, "m-d01")  # 区長室
    assert other.get(f"/assignments/{mine.id}").status_code == 404


def test_respondent_cannot_approve_their_own_answers(demo_app, mine):
    client = login(demo_app, "respondent")
    client.post(f"/assignments/{mine.id}", data=form_data(mine, all_answers(mine), action="submit"))
    assert db.session.get(Assignment, mine.id).status == "submitted"
    assert client.post(f"/assignments/{mine.id}/review", data={"approve": "1"}).status_code == 403


def test_answering_needs_sign_in(client):
    assert client.get("/assignments/").status_code == 302


def noted(assignment):
    """A comment on every item, for checklists that ask for one even on はい."""
    return {item.number: "確認しました。" for item in assignment.campaign.checklist.items}


def test_a_division_cannot_confirm_contract_answers_it_handed_in_itself(demo_app):
    contract = helpers.contract_questionnaire()
    division = login(demo_app, "respondent")
    division.post(
        f"/assignments/{contract.id}",
        data=form_data(contract, all_answers(contract), noted(contract), action="submit"),
    )
    assert db.session.get(Assignment, contract.id).status == "submitted"

    review = division.post(f"/assignments/{contract.id}/review", data={"approve": "1"})

    assert review.status_code == 403
    assert db.session.get(Assignment, contract.id).status == "submitted"
    # Handed in by the contractor instead, the same division confirms it.
    company = helpers.company_account(contract)
    contract.status = "returned"
    db.session.commit()
    login(demo_app, company.username).post(
        f"/assignments/{contract.id}",
        data=form_data(contract, all_answers(contract), noted(contract), action="submit"),
    )
    assert db.session.get(Assignment, contract.id).status == "submitted"
    # Not by the clerk who wrote the answers the company handed in unchanged (four eyes), but
    # by a colleague of the division.
    assert not access.can(helpers.user("respondent"), "review", contract)
    assert access.can(helpers.user("r-d04-01"), "review", contract)


def test_a_save_after_autosave_says_what_is_stored_not_zero(demo_app, mine):
    """The page autosaved every answer already; 下書き保存 then changes nothing, and the message
    counts what is stored rather than 「0 項目を更新」."""
    client = login(demo_app, "respondent")
    data = form_data(mine, {21: "no"}, {21: "来月実施予定"})
    del data["action"]
    assert client.post(f"/assignments/{mine.id}/autosave", data=data).status_code == 200
    mine = db.session.get(Assignment, mine.id)
    response = client.post(
        f"/assignments/{mine.id}", data=form_data(mine, {21: "no"}, {21: "来月実施予定"})
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    answered = len([a for a in db.session.get(Assignment, mine.id).answers if a.option])
    assert f"下書きを保存しました（{answered}/21 項目 回答済み）。" in page
    assert "0 項目を更新" not in page
