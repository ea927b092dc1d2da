"""A checklist run as written: the questionnaire, the office's preview, the print view and the
answer sheet carry its descriptions (paragraphs and lists, never markup), headings, category
notes, marks and examples; a contractor reads the contractor's wording and the division its
own; English pages use the file's English; options meant for one kind of reader stay theirs."""

from __future__ import annotations

import io
import re
from html import unescape

import openpyxl
import pytest
import sqlalchemy as sa

from checklists import load_file
from checklists.writer import write_xlsx
from survey.extensions import db
from survey.models import Answer, Assignment, Checklist, Contract, OrgUnit, User
from survey.services import answering, checklist_versions
from survey.services.answer_sheet import ANSWER_SHEET, FIRST_ITEM_ROW, HEADER_ROW
from survey.services.checklists import import_files, to_schema
from tests.helpers import import_checklist, login, open_campaign
from tests.rich_checklist import RICH


@pytest.fixture
def contract(demo_app, tmp_path) -> Assignment:
    """An open questionnaire of the rich checklist on a contract of 戸籍住民課 (the division of
    the demo's `respondent`), whose company has an account of its own."""
    checklist = import_checklist(tmp_path, RICH)
    unit = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "戸籍住民課"))
    found = db.session.scalar(
        sa.select(Contract).where(Contract.unit_id == unit.id).order_by(Contract.id).limit(1)
    )
    return open_campaign(checklist, [found], code="rich-test")[0]


def company_account(assignment: Assignment) -> str:
    return db.session.scalar(
        sa.select(User.username)
        .where(User.contractor_id == assignment.contract.contractor_id)
        .order_by(User.id)
        .limit(1)
    )


def page(client, assignment: Assignment, lang: str = "") -> str:
    query = f"?lang={lang}" if lang else ""
    response = client.get(f"/assignments/{assignment.id}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def item_id(assignment: Assignment, number: int) -> int:
    return next(i.id for i in assignment.campaign.checklist.items if i.number == number)


def fieldset(html: str, assignment: Assignment, number: int) -> str:
    start = html.index(f'id="item-{item_id(assignment, number)}"')
    return html[start : html.index("</fieldset>", start)]


def test_the_division_reads_descriptions_headings_and_marks_with_markup_escaped(demo_app, contract):
    html = page(login(demo_app, "respondent"), contract)
    # The description: two paragraphs (a line break kept), a list of both kinds of bullet.
    assert (
        "<p>委託業務（契約）ごとに1件回答してください。<br>回答は所管課が確認します。</p>" in html
    )
    assert "<ul><li>契約書・仕様書</li><li>事業者からの報告書</li></ul>" in html
    # What looks like markup in the file is text on the page.
    assert "&lt;script&gt;alert(&#34;description&#34;)&lt;/script&gt;" in html
    assert "<script>alert" not in html and "<b>太字" not in html
    assert "&lt;b&gt;太字にはなりません&lt;/b&gt;" in html
    # The category's description, and the condition the whole of category B is asked under.
    assert '<div class="category-description"><p>事業者の管理体制を確認します。<br>' in html
    assert "この分類は、項目 2 の回答が「はい」の場合に回答してください。" in html
    # Headings open their runs of items; importance is marked; examples are folded.
    assert '<h3 class="item-heading">基本方針</h3>' in html
    assert '<h3 class="item-heading">再委託</h3>' in html
    first = fieldset(html, contract, 1)
    assert "事業者の情報セキュリティ方針を確認している" in first and "貴社" not in first
    assert '<span class="importance importance-required">必須事項</span>' in first
    assert '<div class="help" id="help-' in first and "方針の写しで確認してください。" in first
    assert (
        '<details class="examples"><summary>確認方法の例</summary><ul><li>ISMS認証の登録証</li>'
        in first
    )
    assert "推奨事項" in fieldset(html, contract, 2)
    # Item 3 is asked under its category's condition (said once, above); item 4 has its own.
    assert "の場合に回答してください" not in fieldset(html, contract, 3)
    assert "項目 3 の回答が「実施している」の場合に回答してください。" in fieldset(
        html, contract, 4
    )


def test_defaults_of_the_file_apply_to_the_items(demo_app, contract):
    html = page(login(demo_app, "respondent"), contract)
    first, second, third = (fieldset(html, contract, n) for n in (1, 2, 3))
    # Item 1 takes the file's defaults: yes/no, no comment required, evidence for a いいえ.
    assert re.findall(r'type="radio" value="(\w+)"', first) == ["yes", "no"]
    assert "必須" not in first.split('class="comment-label"')[1].split("</label>")[0]
    assert f'name="evidence_{item_id(contract, 1)}"' in first
    # Item 2 gives its own scale and comment rule.
    assert re.findall(r'type="radio" value="(\w+)"', second) == ["yes", "no", "na"]
    assert "「いいえ」などの場合は必須" in second
    assert f'name="evidence_{item_id(contract, 3)}"' in third


def test_the_contractor_reads_the_contractor_wording_and_options(demo_app, contract):
    company = login(demo_app, company_account(contract))
    html = page(company, contract)
    assert "貴社が受託している業務について回答してください。" in html
    assert "委託業務（契約）ごとに1件回答してください。" not in html
    first = fieldset(html, contract, 1)
    assert "貴社は情報セキュリティ方針を定めていますか" in first
    assert "方針の写しを所管課に提出できるようにしてください。" in first
    assert "事業者の情報セキュリティ方針を確認している" not in first
    # Item 3's options: the contractor's own, not the one kept for staff.
    third = fieldset(html, contract, 3)
    assert 'value="nowork"' in third and 'value="asking"' not in third
    # The division, drawn after the contractor from the same cache, keeps its own.
    division = page(login(demo_app, "respondent"), contract)
    assert "事業者の情報セキュリティ方針を確認している" in fieldset(division, contract, 1)
    assert 'value="asking"' in fieldset(division, contract, 3)
    assert 'value="nowork"' not in fieldset(division, contract, 3)


def test_english_pages_use_the_files_english(demo_app, contract):
    staff = page(login(demo_app, "respondent"), contract, "en")
    assert "<p>Answer once for each contract.</p>" in staff
    assert "<ul><li>the contract</li><li>the contractor&#39;s reports</li></ul>" in staff
    assert "A. Organisation</h2>" in staff and "B. Subcontractors</h2>" in staff
    assert "The contractor&#39;s organisation." in staff
    assert '<h3 class="item-heading">Policy</h3>' in staff
    first = fieldset(staff, contract, 1)
    assert "The contractor&#39;s security policy has been checked" in first
    assert "Check a copy of the policy." in first and "An ISMS certificate" in first
    assert "Mandatory" in first
    assert "> In place</label>" in fieldset(staff, contract, 3)
    assert "Self-inspection of outsourced work" in staff
    # No English in the file: the Japanese, as written.
    assert "再委託がある" in fieldset(staff, contract, 2)
    assert '<h3 class="item-heading">再委託</h3>' in staff

    company = page(login(demo_app, company_account(contract)), contract, "en")
    assert "Answer for the work your company does for the ward." in company
    assert "Does your company have a security policy?" in fieldset(company, contract, 1)
    assert "Keep a copy of the policy ready for the division." in fieldset(company, contract, 1)
    # Item 2 has a contractor's wording in Japanese only: it beats the staff's Japanese.
    assert "貴社は業務の一部を再委託していますか" in fieldset(company, contract, 2)


def post(client, assignment: Assignment, answers: dict[int, str]) -> object:
    """The form as posted with these answers (an item left out is posted unanswered)."""
    db.session.refresh(assignment)
    data = {"revision": str(assignment.revision), "action": "save"}
    for number, code in answers.items():
        data[f"item_{item_id(assignment, number)}"] = code
    return client.post(f"/assignments/{assignment.id}", data=data)


def stored_code(assignment: Assignment, number: int) -> str | None:
    db.session.expire_all()
    answer = db.session.scalar(
        sa.select(Answer).where(
            Answer.assignment_id == assignment.id, Answer.item_id == item_id(assignment, number)
        )
    )
    return answer.option.code if answer and answer.option else None


def test_an_option_for_one_kind_of_reader_is_refused_to_the_other(demo_app, contract):
    company = login(demo_app, company_account(contract))
    division = login(demo_app, "respondent")

    refused = post(company, contract, {2: "yes", 3: "asking"})
    assert refused.status_code == 422
    assert "「委託先に確認中」は職員だけが選べる選択肢です。" in refused.get_data(as_text=True)
    assert stored_code(contract, 3) is None

    refused = post(division, contract, {2: "yes", 3: "nowork"})
    assert refused.status_code == 422
    assert "「該当業務なし」は委託先だけが選べる選択肢です。" in unescape(
        refused.get_data(as_text=True)
    )

    assert post(company, contract, {2: "yes", 3: "nowork"}).status_code == 302
    assert stored_code(contract, 3) == "nowork"
    # The division sees the contractor's answer checked and keeps it when it saves the page.
    shown = fieldset(page(division, contract), contract, 3)
    assert re.search(r'value="nowork" checked', shown)
    assert post(division, contract, {2: "yes", 3: "nowork", 1: "yes"}).status_code == 302
    assert (stored_code(contract, 3), stored_code(contract, 1)) == ("nowork", "yes")


def test_a_category_condition_leaves_its_items_unasked(demo_app, contract):
    division = login(demo_app, "respondent")
    assert post(division, contract, {1: "yes", 2: "no"}).status_code == 302
    assert answering.progress(contract) == (2, 2)
    assert post(division, contract, {1: "yes", 2: "yes"}).status_code == 302
    assert answering.progress(contract) == (2, 3)  # item 3 asked; item 4 waits for item 3
    assert post(division, contract, {1: "yes", 2: "yes", 3: "done"}).status_code == 302
    assert answering.progress(contract) == (3, 4)


def test_the_print_view_carries_the_description_headings_and_notes(demo_app, contract):
    html = login(demo_app, "respondent").get(f"/assignments/{contract.id}/print")
    text = html.get_data(as_text=True)
    assert '<div class="description"><p>委託業務（契約）ごとに1件回答してください。<br>' in text
    assert "<ul><li>契約書・仕様書</li><li>事業者からの報告書</li></ul>" in text
    assert "&lt;script&gt;" in text and "<script>alert" not in text
    assert '<tr class="heading"><th colspan="4">基本方針</th></tr>' in text
    assert "この分類は、項目 2 の回答が「はい」の場合に回答してください。" in text
    assert "（必須事項）" in text
    company = login(demo_app, company_account(contract)).get(f"/assignments/{contract.id}/print")
    assert "貴社は情報セキュリティ方針を定めていますか" in company.get_data(as_text=True)


def sheet_of(client, assignment: Assignment):
    response = client.get(f"/assignments/{assignment.id}/sheet.xlsx")
    assert response.status_code == 200
    return openpyxl.load_workbook(io.BytesIO(response.data))[ANSWER_SHEET]


def test_the_answer_sheet_carries_the_description_headings_and_the_readers_wording(
    demo_app, contract
):
    sheet = sheet_of(login(demo_app, "respondent"), contract)
    title_block = {sheet.cell(row, 1).value: sheet.cell(row, 3).value for row in range(2, 9)}
    assert title_block["説明"] == (
        "委託業務（契約）ごとに1件回答してください。\n回答は所管課が確認します。\n\n"
        "確認に使う資料:\n\n・契約書・仕様書\n・事業者からの報告書\n\n"
        '<script>alert("description")</script>'
    )
    rows = [
        [sheet.cell(row, column).value for column in range(1, 7)]
        for row in range(FIRST_ITEM_ROW, sheet.max_row + 1)
    ]
    assert rows[0][:3] == [
        None,
        "管理体制",
        "事業者の管理体制を確認します。\n<b>太字にはなりません</b>",
    ]
    assert rows[1][:3] == [None, "基本方針", None]
    assert rows[2][0] == 1 and rows[2][2] == "事業者の情報セキュリティ方針を確認している"
    assert "確認方法の例:\n・ISMS認証の登録証" in rows[2][3] and "必須事項" in rows[2][3]
    category_b = next(row for row in rows if row[1] == "再委託先の管理" and row[0] is None)
    assert "この分類は、項目 2 の回答が「はい」の場合に回答してください。" in category_b[2]
    assert [row[0] for row in rows if row[0] is not None] == [1, 2, 3, 4]
    assert sheet.cell(HEADER_ROW, 1).value == "番号"

    company = sheet_of(login(demo_app, company_account(contract)), contract)
    texts = [company.cell(row, 3).value for row in range(FIRST_ITEM_ROW, company.max_row + 1)]
    assert "貴社は情報セキュリティ方針を定めていますか" in texts
    lists = {v.formula1 for v in company.data_validations.dataValidation}
    assert '"実施している,実施していない,該当業務なし"' in lists
    assert all("委託先に確認中" not in formula for formula in lists)


def test_a_sheet_with_headings_uploads_back_as_answered(demo_app, contract):
    division = login(demo_app, "respondent")
    workbook = openpyxl.load_workbook(
        io.BytesIO(division.get(f"/assignments/{contract.id}/sheet.xlsx").data)
    )
    sheet = workbook[ANSWER_SHEET]
    row_of = {
        sheet.cell(row, 1).value: row
        for row in range(FIRST_ITEM_ROW, sheet.max_row + 1)
        if sheet.cell(row, 1).value is not None
    }
    sheet.cell(row_of[1], 5).value = "はい"
    sheet.cell(row_of[2], 5).value = "はい"
    sheet.cell(row_of[3], 5).value = "委託先に確認中"
    out = io.BytesIO()
    workbook.save(out)
    response = division.post(
        f"/assignments/{contract.id}/sheet",
        data={"sheet": (io.BytesIO(out.getvalue()), "sheet.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert [stored_code(contract, n) for n in (1, 2, 3)] == ["yes", "yes", "asking"]


def test_the_office_preview_shows_every_option_and_both_wordings(demo_app, contract):
    html = login(demo_app, "admin").get("/admin/checklists/rich/1").get_data(as_text=True)
    assert "委託業務（契約）ごとに1件回答してください。<br>" in html
    assert "委託先のアカウントに表示する説明文" in html
    assert "貴社が受託している業務について回答してください。" in html
    assert '<h3 class="item-heading">基本方針</h3>' in html
    assert '委託先に確認中 <small class="audience">（職員のみ）</small>' in html
    assert '該当業務なし <small class="audience">（委託先のみ）</small>' in html
    assert "<dt>委託先向けの文言</dt><dd>貴社は情報セキュリティ方針を定めていますか</dd>" in html
    assert "&lt;script&gt;" in html and "<script>alert" not in html


def test_both_forms_import_to_the_same_version_and_export_back(demo_app, contract, tmp_path):
    stored = db.session.scalar(sa.select(Checklist).where(Checklist.code == "rich"))
    original = load_file(tmp_path / "checklist.yaml")
    assert to_schema(stored) == original
    write_xlsx(original, tmp_path / "rich.xlsx")
    outcomes, problems = import_files([tmp_path / "rich.xlsx"])
    assert problems == [] and outcomes[0].action == "unchanged"
    for fmt in ("yaml", "xlsx"):
        (tmp_path / f"export.{fmt}").write_bytes(checklist_versions.export(stored, fmt))
        assert load_file(tmp_path / f"export.{fmt}") == original


def test_a_malformed_new_key_uploaded_names_its_place_and_stores_nothing(demo_app):
    admin = login(demo_app, "admin")
    before = db.session.scalar(sa.select(sa.func.count(Checklist.id)))
    bad = RICH.replace("importance: required", "importance: must")
    response = admin.post(
        "/admin/checklists/upload",
        data={"file": (io.BytesIO(bad.encode()), "rich.yaml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    line = RICH.splitlines().index("        importance: required") + 1
    shown = unescape(response.get_data(as_text=True))
    assert f'<td class="code nowrap">rich.yaml:{line}</td>' in shown
    assert "重要度「must」は使えません。required, recommended のいずれかを指定するか" in shown
    assert db.session.scalar(sa.select(sa.func.count(Checklist.id))) == before


def test_the_comparison_of_two_versions_names_the_new_fields(demo_app, contract, tmp_path):
    second = RICH.replace("version: 1", "version: 2").replace(
        "importance: required", "importance: recommended"
    )
    (tmp_path / "v2.yaml").write_text(second, encoding="utf-8")
    outcomes, problems = import_files([tmp_path / "v2.yaml"])
    assert problems == []
    html = unescape(
        login(demo_app, "admin")
        .get("/admin/checklists/rich/compare?old=1&new=2")
        .get_data(as_text=True)
    )
    assert '<th scope="row">重要度</th><td class="diff-old">必須事項</td>' in html
    assert '<td class="diff-new">推奨事項</td>' in html


def test_the_results_mark_required_and_recommended_items(demo_app, contract):
    html = login(demo_app, "admin").get("/results/rich-test").get_data(as_text=True)
    assert '<span class="importance importance-required">必須事項</span>' in html
    assert '<span class="importance importance-recommended">推奨事項</span>' in html
    assert html.count('class="importance ') == 2
