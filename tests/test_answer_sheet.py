"""People who collect answers on paper or offline download the questionnaire as an Excel sheet,
fill it in, and upload it as a draft; a sheet that is wrong in any way is refused cell by cell,
and then nothing at all is stored."""

from __future__ import annotations

import html
import io
import re
from urllib.parse import quote

import openpyxl
import pytest
import sqlalchemy as sa
from openpyxl.worksheet.formula import ArrayFormula

from survey.extensions import db
from survey.models import (
    Answer,
    AnswerHistory,
    Assignment,
    AssignmentStatus,
    AuditEntry,
    Campaign,
    OrgUnit,
    User,
)
from survey.services import answer_sheet, answering
from tests import helpers

CAMPAIGN = "2026-annual-assets"
LABELS = {"yes": "はい", "no": "いいえ", "na": "対象外"}
CHOOSE = "「はい」「いいえ」「対象外」のいずれかを選んでください"


def assignment_of(unit_name: str) -> Assignment:
    return db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .join(OrgUnit, Assignment.responsible_unit_id == OrgUnit.id)
        .where(Campaign.code == CAMPAIGN, OrgUnit.name == unit_name)
    )


@pytest.fixture
def own(demo_app) -> Assignment:
    """The demo respondent's half-answered draft (戸籍住民課)."""
    assignment = assignment_of("戸籍住民課")
    assert assignment.status == AssignmentStatus.DRAFT
    return assignment


def download(client, assignment_id: int):
    return client.get(f"/assignments/{assignment_id}/sheet.xlsx")


def open_sheet(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def saved(workbook: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rows(workbook) -> dict[int, int]:
    """Item number -> row of the answer sheet."""
    sheet = workbook["回答"]
    return {
        sheet.cell(row, 1).value: row
        for row in range(answer_sheet.FIRST_ITEM_ROW, sheet.max_row + 1)
        if sheet.cell(row, 1).value is not None
    }


def hidden(workbook) -> dict:
    return {key: value for key, value in workbook["tenken"].iter_rows(max_col=2, values_only=True)}


def upload(client, assignment_id: int, data: bytes, filename: str = "回答シート.xlsx"):
    return client.post(
        f"/assignments/{assignment_id}/sheet",
        data={"sheet": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def stored(assignment_id: int) -> dict[int, tuple[str | None, str]]:
    """Item number -> (option code, comment) of the stored answers."""
    db.session.expire_all()
    answers = db.session.scalars(sa.select(Answer).where(Answer.assignment_id == assignment_id))
    return {a.item.number: (a.option.code if a.option else None, a.comment) for a in answers}


def everything(assignment_id: int):
    """All that an import could change: answers, history, status and revision."""
    db.session.expire_all()
    assignment = db.session.get(Assignment, assignment_id)
    history = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AnswerHistory)
        .where(AnswerHistory.assignment_id == assignment_id)
    )
    answers = sorted(
        db.session.execute(
            sa.select(Answer.item_id, Answer.option_id, Answer.comment, Answer.version).where(
                Answer.assignment_id == assignment_id
            )
        ).all()
    )
    return answers, history, assignment.status, assignment.revision


def flashes(client) -> list[str]:
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def first_unanswered(assignment_id: int, workbook) -> int:
    return min(set(rows(workbook)) - set(stored(assignment_id)))


# --- download -------------------------------------------------------------------------------


def test_respondent_downloads_their_questionnaire_with_the_current_answers(auth, demo_client, own):
    auth.login("respondent")
    response = download(demo_client, own.id)

    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    disposition = response.headers["Content-Disposition"]
    name = f"回答シート_{CAMPAIGN}_{own.id}.xlsx"
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(name)}" in disposition
    assert f'filename="answer-sheet_{CAMPAIGN}_{own.id}.xlsx"' in disposition

    workbook = open_sheet(response.data)
    assert workbook.sheetnames == ["回答", "tenken"]
    assert workbook["tenken"].sheet_state == "veryHidden"
    identity = hidden(workbook)
    assert identity["assignment_id"] == own.id
    assert identity["campaign"] == CAMPAIGN
    assert (identity["checklist"], identity["checklist_version"]) == ("emergency-assets", 1)
    assert identity["revision"] == own.revision

    sheet = workbook["回答"]
    title_block = [sheet.cell(row, 3).value for row in range(2, answer_sheet.HEADER_ROW)]
    assert "令和8年度 情報資産の取扱状況 自己点検" in title_block
    assert "戸籍住民課" in title_block
    assert "情報資産の取扱状況（第1版）" in title_block

    numbers = rows(workbook)
    assert sorted(numbers) == list(range(1, 22))
    (dropdown,) = sheet.data_validations.dataValidation
    assert dropdown.type == "list"
    assert dropdown.formula1 == '"はい,いいえ,対象外"'
    assert {str(cell) for cell in dropdown.sqref.ranges} == {f"E{row}" for row in numbers.values()}

    answers = stored(own.id)
    assert 3 <= len(answers) < 21  # half answered: both kinds of row are checked below
    for number, row in numbers.items():
        code, comment = answers.get(number, (None, ""))
        assert sheet.cell(row, 5).value == (LABELS[code] if code else None)
        assert (sheet.cell(row, 6).value or "") == comment

    assert sheet.protection.sheet is True
    row = numbers[1]
    assert sheet.cell(row, 5).protection.locked is False  # the answer
    assert sheet.cell(row, 6).protection.locked is False  # the comment
    assert all(sheet.cell(row, column).protection.locked for column in (1, 2, 3, 4))
    assert sheet.cell(2, 3).protection.locked
    assert int(sheet.page_setup.paperSize) == 9  # A4
    assert sheet.page_setup.orientation == "landscape"


def test_a_sheet_uploaded_unchanged_changes_nothing(auth, demo_client, own):
    auth.login("respondent")
    before = everything(own.id)

    response = upload(demo_client, own.id, download(demo_client, own.id).data)

    assert response.status_code == 302
    assert everything(own.id) == before
    assert flashes(demo_client) == [
        "回答シートを取り込みました。変更された回答はありませんでした。"
    ]


def test_a_stored_comment_comes_back_unchanged_even_if_it_looks_like_a_formula(
    auth, demo_client, own
):
    # Typed in the browser: it starts with "=" and has the browser's line breaks.
    comment = "=== 要確認 ===\r\n来週までに対応します。"
    item = own.campaign.checklist.items[0]
    answering.save(
        own,
        {item.id: answering.ItemInput("no", comment)},
        db.session.scalar(sa.select(User).filter_by(username="respondent")),
        revision=own.revision,
    )
    db.session.commit()
    auth.login("respondent")
    data = download(demo_client, own.id).data
    workbook = open_sheet(data)
    assert workbook["回答"].cell(rows(workbook)[1], 6).value == comment.replace("\r\n", "\n")
    before = everything(own.id)

    response = upload(demo_client, own.id, data)

    assert response.status_code == 302
    assert everything(own.id) == before
    assert stored(own.id)[1] == ("no", comment)


# --- upload ---------------------------------------------------------------------------------


def test_upload_page_explains_what_happens(auth, demo_client, own):
    auth.login("respondent")
    page = demo_client.get(f"/assignments/{own.id}/sheet").get_data(as_text=True)
    assert 'type="file"' in page and 'enctype="multipart/form-data"' in page
    assert "下書きとして保存されます" in page
    assert f"/assignments/{own.id}/sheet.xlsx" in page


def test_a_filled_sheet_is_saved_as_a_draft_with_its_history(auth, demo_client, own):
    auth.login("respondent")
    workbook = open_sheet(download(demo_client, own.id).data)
    before = stored(own.id)
    sheet = workbook["回答"]
    numbers = rows(workbook)
    for number, row in numbers.items():
        if number not in before:
            sheet.cell(row, 5).value = "はい"
    sheet.cell(numbers[1], 5).value = "いいえ"
    sheet.cell(numbers[1], 6).value = "未受講の職員が2名います。\n12月中に受講させます。"
    revision = own.revision

    response = upload(demo_client, own.id, saved(workbook))

    assert response.status_code == 302
    assert response.headers["Location"] == f"/assignments/{own.id}"
    after = stored(own.id)
    assert len(after) == 21
    assert after[1] == ("no", "未受講の職員が2名います。\n12月中に受講させます。")
    for number in set(numbers) - set(before):
        assert after[number] == ("yes", "")
    changed = (21 - len(before)) + (before.get(1) != after[1])
    history = db.session.scalars(
        sa.select(AnswerHistory).where(
            AnswerHistory.assignment_id == own.id, AnswerHistory.revision > revision
        )
    ).all()
    assert len(history) == changed
    assert {h.source for h in history} == {"sheet"}
    assert {h.changed_by.username for h in history} == {"respondent"}
    assignment = db.session.get(Assignment, own.id)
    assert assignment.status == AssignmentStatus.DRAFT
    assert assignment.revision == revision + 1
    assert flashes(demo_client) == [
        f"回答シートを取り込み、{changed} 項目の回答を下書きとして保存しました。"
        "内容を確認して提出してください。"
    ]


def test_an_emptied_answer_cell_means_not_answered(auth, demo_client, own):
    auth.login("respondent")
    workbook = open_sheet(download(demo_client, own.id).data)
    answered = min(stored(own.id))
    workbook["回答"].cell(rows(workbook)[answered], 5).value = None

    assert upload(demo_client, own.id, saved(workbook)).status_code == 302
    assert stored(own.id)[answered][0] is None


def changed_in_the_browser(own: Assignment, changes: dict[int, tuple[str, str]]) -> None:
    items = {item.number: item for item in own.campaign.checklist.items}
    db.session.refresh(own)
    answering.save(
        own,
        {items[n].id: answering.ItemInput(*value) for n, value in changes.items()},
        db.session.scalar(sa.select(User).filter_by(username="respondent")),
        revision=own.revision,
    )
    db.session.commit()


def confirmation(page: str) -> str:
    return re.search(r'name="confirm" type="hidden" value="([0-9a-f]+)"', page).group(1)


def upload_confirmed(client, assignment_id: int, data: bytes, token: str):
    return client.post(
        f"/assignments/{assignment_id}/sheet",
        data={"sheet": (io.BytesIO(data), "回答シート.xlsx"), "confirm": token},
        content_type="multipart/form-data",
    )


@pytest.fixture
def stale_sheet(auth, demo_client, own):
    """A sheet downloaded before two answers changed in the browser; it agrees with the second
    change only. -> (workbook bytes, the two item numbers, the answers at download)"""
    auth.login("respondent")
    workbook = open_sheet(download(demo_client, own.id).data)
    downloaded = stored(own.id)
    first, second = sorted(downloaded)[:2]
    changed_in_the_browser(own, {first: ("na", "窓口がないため"), second: ("na", "")})
    workbook["回答"].cell(rows(workbook)[second], 5).value = "対象外"
    workbook["回答"].cell(rows(workbook)[second], 6).value = None
    return saved(workbook), (first, second), downloaded


def test_a_stale_sheet_does_not_overwrite_newer_answers_and_shows_the_differences(
    demo_client, own, stale_sheet
):
    data, (first, second), downloaded = stale_sheet
    before = everything(own.id)

    response = upload(demo_client, own.id, data)

    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 409
    assert everything(own.id) == before  # nothing of the sheet was stored
    assert "この回答シートの作成後に、画面で回答が変更されています" in page
    differences = page[page.index('id="differences"') : page.index("</table>")]
    item = next(i for i in own.campaign.checklist.items if i.number == first)
    assert f"{first}. {item.text}" in differences
    assert LABELS[downloaded[first][0]] in differences  # the sheet's value
    assert "窓口がないため" in differences  # the current one
    assert helpers.user("respondent").display_name in differences  # who changed it
    assert f"{second}. " not in differences  # the sheet agrees with that change
    assert "上書きして取り込む" in page


def test_confirming_a_stale_sheet_overwrites_and_is_recorded(demo_client, own, stale_sheet):
    data, (first, second), downloaded = stale_sheet
    token = confirmation(upload(demo_client, own.id, data).get_data(as_text=True))

    response = upload_confirmed(demo_client, own.id, data, token)

    assert response.status_code == 302
    assert stored(own.id)[first] == downloaded[first]  # the sheet's value won
    assert stored(own.id)[second] == ("na", "")
    last = db.session.scalars(
        sa.select(AnswerHistory)
        .where(AnswerHistory.assignment_id == own.id)
        .order_by(AnswerHistory.id.desc())
    ).first()
    assert last.source == "sheet" and last.new_comment == downloaded[first][1]
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "answer.sheet_overwrite"
    assert entry.before["answers"][str(first)] == {"option": "na", "comment": "窓口がないため"}
    assert flashes(demo_client) == [
        "回答シートを取り込み、1 項目の回答を下書きとして保存しました。"
        "内容を確認して提出してください。",
        "回答シートのダウンロード後に画面で変更された 1 項目の回答を、回答シートの内容で"
        "上書きしました。以前の回答は変更履歴で確認できます。",
    ]


def test_a_confirmation_does_not_cover_answers_changed_after_it(demo_client, own, stale_sheet):
    data, (first, second), _downloaded = stale_sheet
    token = confirmation(upload(demo_client, own.id, data).get_data(as_text=True))
    third = sorted(stored(own.id))[2]
    changed_in_the_browser(own, {third: ("no", "その後の変更")})
    before = everything(own.id)

    response = upload_confirmed(demo_client, own.id, data, token)

    assert response.status_code == 409
    assert everything(own.id) == before
    assert "その後の変更" in html.unescape(response.get_data(as_text=True))


def test_a_stale_sheet_that_agrees_with_the_newer_answers_imports_directly(auth, demo_client, own):
    auth.login("respondent")
    workbook = open_sheet(download(demo_client, own.id).data)
    number = first_unanswered(own.id, workbook)
    changed_in_the_browser(own, {number: ("yes", "")})
    workbook["回答"].cell(rows(workbook)[number], 5).value = "はい"
    other = sorted(set(rows(workbook)) - set(stored(own.id)))[0]
    workbook["回答"].cell(rows(workbook)[other], 5).value = "いいえ"
    workbook["回答"].cell(rows(workbook)[other], 6).value = "未実施"

    assert upload(demo_client, own.id, saved(workbook)).status_code == 302
    assert stored(own.id)[other] == ("no", "未実施")


def test_a_sheet_cannot_store_an_answer_to_an_item_not_asked(auth, demo_client, tmp_path):
    conditional = helpers.conditional_assignment(tmp_path)
    auth.login("respondent")
    workbook = open_sheet(download(demo_client, conditional.id).data)
    sheet = workbook["回答"]
    sheet.cell(rows(workbook)[1], 5).value = "いいえ"
    sheet.cell(rows(workbook)[2], 5).value = "はい"
    sheet.cell(rows(workbook)[2], 6).value = "毎月実施"

    assert upload(demo_client, conditional.id, saved(workbook)).status_code == 302
    assert stored(conditional.id) == {1: ("no", "")}


def test_a_sheet_clears_an_answer_its_condition_no_longer_asks(auth, demo_client, tmp_path):
    conditional = helpers.conditional_assignment(tmp_path)
    changed_in_the_browser(conditional, {1: ("yes", ""), 2: ("no", "未実施")})
    auth.login("respondent")
    workbook = open_sheet(download(demo_client, conditional.id).data)
    workbook["回答"].cell(rows(workbook)[1], 5).value = "対象外"  # item 2 left as it was

    assert upload(demo_client, conditional.id, saved(workbook)).status_code == 302
    assert stored(conditional.id) == {1: ("na", ""), 2: (None, "")}
    assert "条件により対象外となった項目 1 件の回答を消去しました。" in flashes(demo_client)


def test_the_sheet_shows_no_answer_to_an_item_not_asked(auth, demo_client, tmp_path):
    conditional = helpers.conditional_assignment(tmp_path)
    helpers.store_directly(conditional, {1: ("no", ""), 2: ("yes", "古い版で保存された回答")})
    auth.login("respondent")
    workbook = open_sheet(download(demo_client, conditional.id).data)
    row = rows(workbook)[2]
    assert workbook["回答"].cell(row, 5).value is None
    assert workbook["回答"].cell(row, 6).value is None


# --- refused uploads: nothing is stored -----------------------------------------------------


def refused(client, assignment_id: int, data: bytes, *messages: str, filename="回答.xlsx"):
    before = everything(assignment_id)
    response = upload(client, assignment_id, data, filename)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in messages:
        assert message in page
    assert everything(assignment_id) == before
    return page


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


@pytest.mark.parametrize(
    "data", [b"number,answer\n1,yes\n", PNG, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)]
)
def test_a_file_that_is_not_a_workbook_is_refused(auth, demo_client, own, data):
    auth.login("respondent")
    refused(demo_client, own.id, data, "Excel のブック（.xlsx）ではありません")


def test_a_truncated_workbook_is_refused(auth, demo_client, own):
    auth.login("respondent")
    data = download(demo_client, own.id).data
    refused(demo_client, own.id, data[: len(data) // 2], "ファイルが壊れているため読み込めません")


def test_an_oversized_file_is_refused_before_it_is_read(auth, demo_client, own):
    auth.login("respondent")
    data = b"PK\x03\x04" + bytes(answer_sheet.MAX_SHEET_BYTES)
    # Encoded by hand: the test client spools a large upload to a file it never closes.
    boundary = "tenken-sheet-boundary"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="sheet"; filename="big.xlsx"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    before = everything(own.id)

    response = demo_client.post(
        f"/assignments/{own.id}/sheet",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )

    assert response.status_code == 422
    assert "ファイルが大きすぎます（上限 2 MB）" in response.get_data(as_text=True)
    assert everything(own.id) == before


def test_only_xlsx_files_can_be_chosen(auth, demo_client, own):
    auth.login("respondent")
    data = download(demo_client, own.id).data
    refused(demo_client, own.id, data, "Excel のブック（.xlsx）を選んでください", filename="a.csv")
    before = everything(own.id)
    response = demo_client.post(f"/assignments/{own.id}/sheet", data={})
    assert response.status_code == 422
    assert "ファイルを選んでください" in response.get_data(as_text=True)
    assert everything(own.id) == before


def test_a_sheet_of_another_division_is_refused(auth, demo_client, own):
    auth.login("r-d04-02")  # 税務課 downloads its own sheet, and sends it to the wrong office
    other = assignment_of("税務課")
    data = download(demo_client, other.id).data
    auth.logout()
    auth.login("respondent")
    refused(
        demo_client,
        own.id,
        data,
        f"別の点検の回答シートです（{CAMPAIGN} #{other.id}）",
    )


def test_a_sheet_of_another_checklist_version_is_refused(auth, demo_client, own):
    auth.login("respondent")
    workbook = open_sheet(download(demo_client, own.id).data)
    sheet = workbook["tenken"]
    row = next(
        r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "checklist_version"
    )
    sheet.cell(row, 2).value = 2
    refused(
        demo_client,
        own.id,
        saved(workbook),
        "チェックリストの版が違います"
        "（回答シート: emergency-assets@2、この点検: emergency-assets@1）",
    )


def test_a_workbook_without_the_identifying_sheet_is_refused(auth, demo_client, own):
    auth.login("respondent")
    workbook = open_sheet(download(demo_client, own.id).data)
    del workbook["tenken"]
    refused(demo_client, own.id, saved(workbook), "tenken の回答シートではありません")


def test_an_answer_not_in_the_dropdown_is_refused_by_cell(auth, demo_client, own):
    auth.login("respondent")
    workbook = open_sheet(download(demo_client, own.id).data)
    numbers = rows(workbook)
    sheet = workbook["回答"]
    sheet.cell(numbers[first_unanswered(own.id, workbook)], 5).value = "はい"  # a good change
    sheet.cell(numbers[2], 5).value = "たぶん"

    refused(demo_client, own.id, saved(workbook), f"回答!E{numbers[2]}: {CHOOSE}")


def test_rows_deleted_or_renumbered_after_unprotecting_are_refused(auth, demo_client, own):
    auth.login("respondent")
    workbook = open_sheet(download(demo_client, own.id).data)
    numbers = rows(workbook)
    sheet = workbook["回答"]
    sheet.protection.sheet = False  # no password: anyone can, but the upload still checks
    sheet.cell(numbers[5], 1).value = 4  # twice
    sheet.cell(numbers[6], 1).value = 99  # no such item
    sheet.delete_rows(numbers[3])

    refused(
        demo_client,
        own.id,
        saved(workbook),
        f"回答!A{numbers[5] - 1}: 項目番号が正しくありません。",
        f"回答!A{numbers[6] - 1}: 項目番号が正しくありません。",
        "回答: 項目 3 の行がありません。",
        "回答: 項目 5 の行がありません。",
        "回答: 項目 6 の行がありません。",
    )


@pytest.mark.parametrize("column", [5, 6], ids=["answer", "comment"])
@pytest.mark.parametrize("kind", ["formula", "array formula", "text starting with ="])
def test_a_formula_is_refused_and_never_stored(auth, demo_client, own, column, kind):
    auth.login("respondent")
    workbook = open_sheet(download(demo_client, own.id).data)
    numbers = rows(workbook)
    sheet = workbook["回答"]
    sheet.cell(numbers[first_unanswered(own.id, workbook)], 5).value = "はい"  # a good change
    cell = sheet.cell(numbers[4], column)
    formula = '=IF(TRUE,"はい","いいえ")'
    if kind == "array formula":
        cell.value = ArrayFormula(cell.coordinate, formula)
    else:
        cell.value = formula
        cell.data_type = "f" if kind == "formula" else "s"  # text becomes a formula once edited
    letter = "EF"[column - 5]

    page = refused(
        demo_client,
        own.id,
        saved(workbook),
        f"回答!{letter}{numbers[4]}: 数式は使えません。値を直接入力してください。",
    )
    assert "=IF(" not in page


def test_every_problem_is_reported_at_once(auth, demo_client, own):
    auth.login("respondent")
    workbook = open_sheet(download(demo_client, own.id).data)
    numbers = rows(workbook)
    sheet = workbook["回答"]
    sheet.cell(numbers[2], 5).value = "たぶん"
    sheet.cell(numbers[3], 5).value = "=1+1"
    sheet.cell(numbers[5], 6).value = '=HYPERLINK("https://evil.example/")'
    sheet.cell(numbers[7], 6).value = "あ" * (answering.COMMENT_MAX + 1)

    refused(
        demo_client,
        own.id,
        saved(workbook),
        f"回答!E{numbers[2]}: {CHOOSE}",
        f"回答!E{numbers[3]}: 数式は使えません",
        f"回答!F{numbers[5]}: 数式は使えません",
        f"回答!F{numbers[7]}: コメントは{answering.COMMENT_MAX}文字以内で入力してください。",
    )


def test_someone_saving_during_the_import_stops_it(auth, demo_client, own, monkeypatch):
    auth.login("respondent")
    workbook = open_sheet(download(demo_client, own.id).data)
    workbook["回答"].cell(rows(workbook)[first_unanswered(own.id, workbook)], 5).value = "はい"
    read = answer_sheet.read_sheet

    def read_then_someone_saves(assignment, stream):
        inputs = read(assignment, stream)
        db.session.execute(
            sa.update(Assignment)
            .where(Assignment.id == assignment.id)
            .values(revision=Assignment.revision + 1)
            .execution_options(synchronize_session=False)
        )
        return inputs

    monkeypatch.setattr(answer_sheet, "read_sheet", read_then_someone_saves)
    before = everything(own.id)

    response = upload(demo_client, own.id, saved(workbook))

    assert response.status_code == 409
    assert "ほかの人がこの点検の回答を保存しました" in response.get_data(as_text=True)
    assert everything(own.id) == before


# --- who may -------------------------------------------------------------------------------


def test_another_division_cannot_see_or_fill_this_sheet(auth, demo_client, own):
    auth.login("r-d04-02")
    assert download(demo_client, own.id).status_code == 404
    assert demo_client.get(f"/assignments/{own.id}/sheet").status_code == 404
    assert upload(demo_client, own.id, b"PK\x03\x04").status_code == 404


def test_a_contractor_cannot_download_a_divisions_sheet(auth, demo_client, own):
    auth.login("contractor")
    assert download(demo_client, own.id).status_code == 404


def test_an_approved_questionnaire_cannot_be_changed_by_sheet(auth, demo_client, demo_app):
    approved = db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .where(Campaign.code == CAMPAIGN, Assignment.status == AssignmentStatus.APPROVED)
        .order_by(Assignment.id)
    )
    auth.login(f"r-{approved.responsible_unit.code.lower()}")
    response = download(demo_client, approved.id)
    assert response.status_code == 200  # still readable
    before = everything(approved.id)
    assert demo_client.get(f"/assignments/{approved.id}/sheet").status_code == 403
    assert upload(demo_client, approved.id, response.data).status_code == 403
    assert everything(approved.id) == before


def test_the_manager_reads_the_sheet_but_does_not_fill_it_in(auth, demo_client, own):
    auth.login("manager")  # 区民部, above 戸籍住民課
    assert download(demo_client, own.id).status_code == 200
    assert demo_client.get(f"/assignments/{own.id}/sheet").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(demo_client, own):
    response = download(demo_client, own.id)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_an_english_sheet_offers_english_answers_and_either_language_comes_back(
    auth, demo_client, own
):
    auth.login("respondent")
    workbook = open_sheet(demo_client.get(f"/assignments/{own.id}/sheet.xlsx?lang=en").data)
    sheet = workbook["回答"]
    (dropdown,) = sheet.data_validations.dataValidation
    assert dropdown.formula1 == '"Yes,No,Not applicable"'
    numbers = rows(workbook)
    notes = [sheet.cell(row, answer_sheet.COL["help"]).value or "" for row in numbers.values()]
    assert any(note.endswith("※ Comment (required for answers such as “No”)") for note in notes)
    answered = {number: code for number, (code, _) in stored(own.id).items() if code}
    some = next(iter(answered))
    english = {"yes": "Yes", "no": "No", "na": "Not applicable"}
    assert sheet.cell(numbers[some], 5).value == english[answered[some]]
    first, second = sorted(set(numbers) - set(answered))[:2]
    sheet.cell(numbers[first], 5).value = "Not applicable"
    sheet.cell(numbers[second], 5).value = "対象外"  # typed by someone reading Japanese
    assert upload(demo_client, own.id, saved(workbook)).status_code == 302
    assert stored(own.id)[first][0] == stored(own.id)[second][0] == "na"
    wrong = open_sheet(download(demo_client, own.id).data)
    wrong["回答"].cell(numbers[first], 5).value = "Maybe"
    response = demo_client.post(
        f"/assignments/{own.id}/sheet?lang=en",
        data={"sheet": (io.BytesIO(saved(wrong)), "sheet.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert 'Choose one of: "Yes", "No", "Not applicable".' in html.unescape(response.text)


def test_an_approved_questionnaires_sheet_is_a_record_not_a_form_to_fill_in(auth, demo_client):
    approved = db.session.scalar(
        sa.select(Assignment)
        .join(Campaign)
        .where(Campaign.code == CAMPAIGN, Assignment.status == AssignmentStatus.APPROVED)
        .limit(1)
    )
    auth.login("admin")
    sheet = open_sheet(download(demo_client, approved.id).data)["回答"]
    title_block = " ".join(
        str(sheet.cell(row, 3).value) for row in range(2, answer_sheet.HEADER_ROW)
    )
    assert "「承認済」です。この回答シートは記録用" in title_block
    assert "アップロードしてください" not in title_block
