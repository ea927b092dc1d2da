"""The security office manages checklist versions in the browser: uploads a file, previews the
questionnaire, publishes, compares two versions, copies a version into a new draft, and
downloads a version to edit offline and upload again. Auditors read; nobody else sees it."""

from __future__ import annotations

import io
import re
from html import unescape

import openpyxl
import pytest
import sqlalchemy as sa

from checklists import messages
from checklists.loader import ChecklistFileError, load_file
from survey.extensions import db
from survey.models import AuditEntry, Campaign, Checklist
from survey.services import checklist_versions
from survey.services import checklists as checklist_files
from survey.services.accounts import add_user
from tests.helpers import login

GOOD = """\
code: sample
version: 1
title: 試行チェックリスト
target: unit
categories:
  - code: A
    title: 管理体制
    items:
      - number: 1
        key: ledger
        text: 情報資産の台帳を整備している
        help: 年度当初の状況で判断してください。
      - number: 2
        key: review
        text: 台帳を年1回以上見直している
        condition: {item: 1, answers: [yes]}
        comment: always
        evidence: noncompliant
      - number: 3
        key: training
        text: 全職員が研修を受けている
"""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def admin(demo_app):
    return login(demo_app, "admin")


def upload(client, name: str, data: bytes | str, **query):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return client.post(
        "/admin/checklists/upload",
        query_string=query,
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def text_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def stored(code: str) -> list[Checklist]:
    return list(
        db.session.scalars(
            sa.select(Checklist).where(Checklist.code == code).order_by(Checklist.version)
        )
    )


def audit_actions(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def loader_messages(tmp_path, name: str, data: bytes, lang: str = "ja", **kwargs) -> list[str]:
    """What the checklist reader says about the file, as the CLI would print it."""
    path = tmp_path / ("copy" + name[name.rfind(".") :])
    path.write_bytes(data)
    with pytest.raises(ChecklistFileError) as error:
        load_file(path, name=name, **kwargs)
    return [problem.render(lang) for problem in error.value.problems]


# --- the list -------------------------------------------------------------------------------


def test_admin_sees_every_checklist_with_its_versions_counts_and_campaigns(admin):
    page = text_of(admin.get("/admin/checklists/"))
    for checklist in db.session.scalars(sa.select(Checklist)):
        used = db.session.scalar(
            sa.select(sa.func.count(Campaign.id)).where(Campaign.checklist_id == checklist.id)
        )
        row = re.search(
            rf"<td>{re.escape(checklist.title)}</td>.*?</tr>", page, flags=re.DOTALL
        ).group(0)
        assert "公開済" in row
        assert f'<td class="num">{len(checklist.items)}</td>' in row
        assert f'<td class="num">{used}</td>' in row
        assert "令和" in row  # the published date in 和暦
    assert "チェックリストをアップロード" in page


def test_list_is_searched_by_code_or_title_and_filtered_by_target(admin):
    page = text_of(admin.get("/admin/checklists/", query_string={"q": "システム"}))
    assert "emergency-systems" in page and "emergency-assets" not in page
    page = text_of(admin.get("/admin/checklists/", query_string={"q": "CONTRACTS"}))
    assert "emergency-contracts" in page and "emergency-systems" not in page
    page = text_of(admin.get("/admin/checklists/", query_string={"target": "unit"}))
    assert "emergency-assets" in page and "emergency-contracts" not in page


def test_list_sorts_by_title_and_by_most_recent_change(admin):
    titles = sorted(c.title for c in db.session.scalars(sa.select(Checklist)))
    page = text_of(admin.get("/admin/checklists/", query_string={"sort": "title"}))
    assert sorted(titles, key=page.index) == titles
    upload(admin, "sample.yaml", GOOD)
    page = text_of(admin.get("/admin/checklists/", query_string={"sort": "updated"}))
    first_code = re.search(r'<th scope="rowgroup"[^>]*>(\S+)', page).group(1)
    assert first_code == "sample"


def test_a_search_without_result_says_so_and_offers_to_clear_it(admin):
    page = text_of(admin.get("/admin/checklists/", query_string={"q": "存在しない名称"}))
    assert "条件に合うチェックリストはありません。" in page
    assert "条件をクリア" in page


def test_without_any_checklist_the_admin_is_told_how_to_start(app):
    password = "sakura-kanri-2026-seisaku"
    add_user("office", "admin", password=password)
    db.session.commit()
    client = app.test_client()
    client.post("/auth/login", data={"username": "office", "password": password})
    page = text_of(client.get("/admin/checklists/"))
    assert "チェックリストはまだ登録されていません。" in page
    assert 'href="/admin/checklists/upload"' in page


# --- upload ---------------------------------------------------------------------------------


def test_uploaded_file_becomes_a_draft_shown_with_its_preview(admin):
    response = upload(admin, "試行.yaml", GOOD)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/checklists/sample/1")
    (draft,) = stored("sample")
    assert not draft.is_published and draft.source_name == "試行.yaml"
    assert [e.summary for e in audit_actions("checklist.import")][-1] == "sample@1: created"
    page = text_of(admin.get(response.headers["Location"]))
    assert "第1版を下書きとして登録しました。" in page
    assert "下書き" in page and "公開する" in page


def test_the_file_is_named_without_its_folder_and_a_long_name_is_shortened(admin):
    upload(admin, "点検/2026/点検票.yaml", GOOD)
    assert stored("sample")[0].source_name == "点検票.yaml"
    long_name = "点" * 300 + ".yaml"
    response = upload(admin, long_name, GOOD.replace("全職員が", "臨時職員を含む全職員が"))
    assert response.status_code == 302
    name = stored("sample")[0].source_name
    assert len(name) == 200 and name.endswith(".yaml")


def test_uploading_a_draft_again_replaces_it_and_the_same_content_changes_nothing(admin):
    upload(admin, "sample.yaml", GOOD)
    response = upload(admin, "sample.yaml", GOOD.replace("全職員が", "臨時職員を含む全職員が"))
    assert response.status_code == 302
    assert "置き換えました" in text_of(admin.get(response.headers["Location"]))
    assert "臨時職員を含む全職員が" in stored("sample")[0].items[2].text
    response = upload(admin, "sample.yaml", GOOD.replace("全職員が", "臨時職員を含む全職員が"))
    page = text_of(admin.get(response.headers["Location"]))
    assert "下書きは、アップロードした内容と同じです。変更はありません。" in page
    assert len(stored("sample")) == 1


def test_uploading_a_published_version_unchanged_says_so(admin):
    definition = checklist_files.to_schema(stored("emergency-assets")[0])
    from checklists.writer import dump_yaml

    response = upload(admin, "assets.yaml", dump_yaml(definition))
    page = text_of(admin.get(response.headers["Location"]))
    assert "第1版は公開済みで、アップロードした内容と同じです。変更はありません。" in page


BAD = {
    "yaml-syntax": ("sample.yaml", GOOD.replace("title: 管理体制", "title: [管理体制").encode()),
    "missing-key": ("sample.yaml", GOOD.replace("title: 試行チェックリスト\n", "").encode()),
    "not-a-workbook": ("sample.xlsx", b"code: sample\nversion: 1\n"),
    "cp932": ("sample.yaml", GOOD.encode("cp932")),
    "unknown-type": ("sample.txt", GOOD.encode()),
    "later-condition": (
        "sample.yaml",
        GOOD.replace("condition: {item: 1,", "condition: {item: 3,").encode(),
    ),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_file_is_refused_with_the_readers_located_messages_and_nothing_stored(
    admin, tmp_path, kind
):
    name, data = BAD[kind]
    before = db.session.scalar(sa.select(sa.func.count(Checklist.id)))
    response = upload(admin, name, data)
    assert response.status_code == 422
    page = text_of(response)
    assert f"{name} を取り込めませんでした。何も登録していません。" in page
    expected = loader_messages(tmp_path, name, data)
    assert expected
    for message in expected:
        place, _, what = message.partition(": ")
        assert f'<td class="code nowrap">{place}</td><td>{what}</td>' in page
    assert db.session.scalar(sa.select(sa.func.count(Checklist.id))) == before


def test_messages_name_the_line_of_a_yaml_syntax_error(admin):
    name, data = BAD["yaml-syntax"]
    page = text_of(upload(admin, name, data))
    assert '<td class="code nowrap">sample.yaml:8</td>' in page
    assert "YAML の書き方に誤りがあります" in page


def test_problems_are_in_english_when_the_interface_is(admin, tmp_path):
    admin.get("/admin/checklists/", query_string={"lang": "en"})
    name, data = BAD["missing-key"]
    page = text_of(upload(admin, name, data))
    (expected,) = loader_messages(tmp_path, name, data, lang="en")
    assert expected.partition(": ")[2] in page
    assert "The required key 'title' is missing." in page


def test_oversized_file_is_refused_with_the_limit(admin, demo_app, tmp_path):
    demo_app.config["CHECKLIST_MAX_BYTES"] = 1024
    data = (GOOD + "# " + "あ" * 600 + "\n").encode()
    response = upload(admin, "big.yaml", data)
    assert response.status_code == 422
    (expected,) = loader_messages(tmp_path, "big.yaml", data, max_bytes=1024)
    assert expected.partition(": ")[2] in text_of(response)
    assert "上限は 1 KB です" in text_of(response)
    assert stored("sample") == []


def test_changed_content_of_a_published_version_is_refused(admin):
    upload(admin, "sample.yaml", GOOD)
    admin.post("/admin/checklists/sample/1/publish")
    response = upload(admin, "sample-edited.yaml", GOOD.replace("台帳を年1回", "台帳を年2回"))
    assert response.status_code == 422
    assert messages.text("published_version_changed", code="sample", version=1) in text_of(response)
    assert "台帳を年1回" in stored("sample")[0].items[1].text


def test_choosing_no_file_keeps_the_form_with_a_message(admin):
    response = admin.post("/admin/checklists/upload", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "ファイルを選んでください。" in text_of(response)


# --- preview --------------------------------------------------------------------------------


def test_preview_shows_every_item_as_respondents_see_it_but_cannot_be_posted(admin):
    checklist = stored("emergency-systems")[0]
    page = text_of(admin.get("/admin/checklists/emergency-systems/1"))
    assert page.count('<fieldset class="item') == len(checklist.items)
    for item in checklist.items:
        assert f'<span class="number">{item.number}</span> {item.text}</legend>' in page
        for option in item.scale.options:
            assert f'value="{option.code}"' in page
    radios = re.findall(r"<input[^>]*type=\"radio\"[^>]*>", page)
    assert radios and all("disabled" in radio for radio in radios)
    assert all("disabled" in area for area in re.findall(r"<textarea[^>]*>", page))
    preview = page[page.index('id="preview"') :]
    assert "<form" not in preview
    assert "下書き保存" not in page and "提出する" not in page


def test_preview_shows_conditions_and_comment_and_evidence_rules(admin):
    upload(admin, "sample.yaml", GOOD)
    page = text_of(admin.get("/admin/checklists/sample/1"))
    assert "項目 1 の回答が「はい」の場合に回答してください。" in page
    rules = re.search(r'id="item-\d+"\s+data-condition-item="1".*?</fieldset>', page, re.DOTALL)
    block = rules.group(0)
    assert "<dt>コメント</dt><dd>常に必須</dd>" in block
    assert "<dt>証跡ファイル</dt><dd>「いいえ」などの場合は必須</dd>" in block
    (file_input,) = re.findall(r'<input[^>]*type="file"[^>]*>', block)
    assert "disabled" in file_input


def test_the_answering_page_still_renders_its_questions_from_the_shared_macro(demo_app):
    from tests.helpers import assignment_of

    respondent = login(demo_app, "respondent")
    assignment = assignment_of("戸籍住民課")
    page = text_of(respondent.get(f"/assignments/{assignment.id}"))
    assert page.count('<fieldset class="item') == len(assignment.campaign.checklist.items)
    radios = re.findall(r"<input[^>]*type=\"radio\"[^>]*>", page)
    assert radios and not any("disabled" in radio for radio in radios)
    assert "提出する" in page


# --- publish --------------------------------------------------------------------------------


def test_publishing_asks_for_confirmation_then_freezes_the_version(admin):
    upload(admin, "sample.yaml", GOOD)
    confirm = admin.get("/admin/checklists/sample/1/publish")
    assert confirm.status_code == 200
    assert "試行チェックリスト（第1版）を公開しますか" in text_of(confirm)
    assert stored("sample")[0].published_at is None

    response = admin.post("/admin/checklists/sample/1/publish")
    assert response.status_code == 302
    assert stored("sample")[0].published_at is not None
    (entry,) = audit_actions("checklist.publish")
    assert entry.summary == "sample@1: published"
    page = text_of(admin.get("/admin/checklists/sample/1"))
    assert "sample@1 を公開しました。" in page
    assert "公開済" in page and 'href="/admin/checklists/sample/1/publish"' not in page


def test_a_published_version_cannot_be_published_again(admin):
    response = admin.post("/admin/checklists/emergency-assets/1/publish")
    assert response.status_code == 302
    assert "公開済みの版は変更できません" in text_of(admin.get(response.headers["Location"]))
    assert audit_actions("checklist.publish") == []


def test_confirmation_tells_what_changed_since_the_published_version(admin):
    admin.post("/admin/checklists/emergency-assets/1/copy")
    page = text_of(admin.get("/admin/checklists/emergency-assets/2/publish"))
    assert "第1版と同じ内容です。" in page
    assert "追加 0 件、削除 0 件、変更 0 件" in page


# --- compare --------------------------------------------------------------------------------

V2 = (
    GOOD.replace("version: 1", "version: 2")
    .replace("台帳を年1回以上見直している", "台帳を半年に1回以上見直している")
    .replace(
        "      - number: 3\n        key: training\n        text: 全職員が研修を受けている\n",
        "      - number: 3\n        key: disposal\n        text: 復元できない方法で廃棄している\n"
        "        scale: yes_no\n",
    )
)


def test_comparing_two_versions_lists_added_removed_and_changed_items(admin):
    upload(admin, "v1.yaml", GOOD)
    admin.post("/admin/checklists/sample/1/publish")
    assert upload(admin, "v2.yaml", V2).status_code == 302
    page = text_of(admin.get("/admin/checklists/sample/compare?old=1&new=2"))
    assert "追加された項目: 1 件" in page
    assert "削除された項目: 1 件" in page
    assert "変更された項目: 1 件" in page
    assert "変更のない項目: 1 件" in page
    changed = page[page.index('id="key-review"') :]
    assert '<td class="diff-old">台帳を年1回以上見直している</td>' in changed
    assert '<td class="diff-new">台帳を半年に1回以上見直している</td>' in changed
    assert "復元できない方法で廃棄している" in page[page.index('id="key-disposal"') :]
    assert "全職員が研修を受けている" in page[page.index('id="key-training"') :]


def test_compare_defaults_to_the_newest_two_versions_and_the_same_version_has_no_difference(
    admin,
):
    upload(admin, "v1.yaml", GOOD)
    admin.post("/admin/checklists/sample/1/publish")
    upload(admin, "v2.yaml", V2)
    page = text_of(admin.get("/admin/checklists/sample/compare"))
    assert '<option selected value="1">' in page and '<option selected value="2">' in page
    same = text_of(admin.get("/admin/checklists/sample/compare?old=2&new=2"))
    assert "2 つの版の内容に違いはありません。" in same


def test_comparing_an_unknown_version_or_code_is_not_found(admin):
    assert admin.get("/admin/checklists/emergency-assets/compare?old=1&new=9").status_code == 404
    assert admin.get("/admin/checklists/nothing/compare").status_code == 404
    assert admin.get("/admin/checklists/emergency-assets/9").status_code == 404


# --- copy -----------------------------------------------------------------------------------


def test_copying_a_version_starts_the_next_version_as_a_draft_with_the_same_content(admin):
    response = admin.post("/admin/checklists/emergency-assets/1/copy")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/checklists/emergency-assets/2")
    source, draft = stored("emergency-assets")
    assert not draft.is_published
    assert checklist_files.to_schema(draft).categories == (
        checklist_files.to_schema(source).categories
    )
    (entry,) = audit_actions("checklist.copy")
    assert entry.summary == "emergency-assets@1 -> emergency-assets@2"


def test_a_second_copy_is_refused_and_points_to_the_existing_draft(admin):
    admin.post("/admin/checklists/emergency-assets/1/copy")
    response = admin.post("/admin/checklists/emergency-assets/1/copy")
    assert response.headers["Location"].endswith("/admin/checklists/emergency-assets/2")
    assert "下書きの第2版があります" in text_of(admin.get(response.headers["Location"]))
    assert len(stored("emergency-assets")) == 2
    page = text_of(admin.get("/admin/checklists/emergency-assets/1"))
    assert 'href="/admin/checklists/emergency-assets/2"' in page
    assert "/copy" not in page


def test_a_new_version_is_refused_while_another_draft_is_open(admin):
    upload(admin, "sample.yaml", GOOD)
    response = upload(admin, "sample-v2.yaml", GOOD.replace("version: 1", "version: 2"))
    assert response.status_code == 422
    text = text_of(response)
    assert messages.text("draft_exists", code="sample", version=2, draft=1) in text
    assert "sample-v2.yaml" in text
    assert [c.version for c in stored("sample")] == [1]


def test_a_version_below_the_stored_ones_is_refused_with_the_next_number(admin):
    upload(admin, "sample.yaml", GOOD.replace("version: 1", "version: 3"))
    admin.post("/admin/checklists/sample/3/publish")
    response = upload(admin, "sample-v2.yaml", GOOD.replace("version: 1", "version: 2"))
    assert response.status_code == 422
    expected = messages.text("version_not_newer", code="sample", version=2, newest=3, next=4)
    assert expected in text_of(response)
    assert [c.version for c in stored("sample")] == [3]


def test_deleting_a_draft_asks_first_then_removes_it_and_records_who(admin):
    upload(admin, "sample.yaml", GOOD)
    version_page = text_of(admin.get("/admin/checklists/sample/1"))
    assert 'href="/admin/checklists/sample/1/delete"' in version_page
    confirm = admin.get("/admin/checklists/sample/1/delete")
    assert confirm.status_code == 200 and "元に戻せません" in text_of(confirm)
    assert stored("sample")  # asking deletes nothing
    response = admin.post("/admin/checklists/sample/1/delete")
    assert response.headers["Location"].endswith("/admin/checklists/")
    assert stored("sample") == []
    (entry,) = audit_actions("checklist.discard")
    assert entry.summary == "sample@1: draft deleted" and entry.username == "admin"
    assert "sample@1 の下書きを削除しました。" in text_of(admin.get("/admin/checklists/"))
    again = admin.post("/admin/checklists/sample/1/delete")  # the second click
    assert again.headers["Location"].endswith("/admin/checklists/")
    assert "この下書きは削除済みです。" in text_of(admin.get("/admin/checklists/"))
    assert admin.get("/admin/checklists/sample/1/delete").status_code == 404


def test_after_deleting_the_next_versions_draft_the_published_one_can_be_copied_again(admin):
    admin.post("/admin/checklists/emergency-assets/1/copy")
    response = admin.post("/admin/checklists/emergency-assets/2/delete")
    assert response.headers["Location"].endswith("/admin/checklists/emergency-assets/1")
    assert [c.version for c in stored("emergency-assets")] == [1]
    assert "/copy" in text_of(admin.get("/admin/checklists/emergency-assets/1"))


def test_a_published_version_is_never_deleted(admin):
    page = text_of(admin.get("/admin/checklists/emergency-assets/1"))
    assert "/delete" not in page
    response = admin.post("/admin/checklists/emergency-assets/1/delete")
    assert response.headers["Location"].endswith("/admin/checklists/emergency-assets/1")
    assert "公開済みの版は削除できません。" in text_of(admin.get(response.headers["Location"]))
    assert [c.version for c in stored("emergency-assets")] == [1]


def test_a_draft_published_meanwhile_is_not_deleted(admin):
    upload(admin, "sample.yaml", GOOD)
    draft = stored("sample")[0]
    # Another admin publishes between this admin's page and the row lock.
    db.session.execute(
        sa.update(Checklist).where(Checklist.id == draft.id).values(published_at=sa.func.now())
    )
    assert not checklist_versions.discard_draft(draft)
    db.session.rollback()
    assert stored("sample")


# --- download and upload again --------------------------------------------------------------


def test_a_downloaded_yaml_uploads_back_unchanged(admin):
    response = admin.get("/admin/checklists/emergency-systems/1/download.yaml")
    assert response.status_code == 200
    assert "emergency-systems-v1.yaml" in response.headers["Content-Disposition"]
    (entry,) = audit_actions("download.checklist")
    assert entry.summary == "emergency-systems@1 (yaml)"
    again = upload(admin, "emergency-systems-v1.yaml", response.data)
    assert "変更はありません" in text_of(admin.get(again.headers["Location"]))
    assert len(stored("emergency-systems")) == 1


def test_a_draft_is_edited_offline_in_excel_and_uploaded_again(admin):
    admin.post("/admin/checklists/emergency-contracts/1/copy")
    response = admin.get("/admin/checklists/emergency-contracts/2/download.xlsx")
    assert response.mimetype == XLSX
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = workbook["項目"]
    text_column = [cell.value for cell in sheet[1]].index("項目") + 1
    sheet.cell(2, text_column).value = "委託契約書に情報セキュリティの条項を必ず盛り込んでいる"
    edited = io.BytesIO()
    workbook.save(edited)

    again = upload(admin, "契約-v2.xlsx", edited.getvalue())
    assert again.status_code == 302
    assert "置き換えました" in text_of(admin.get(again.headers["Location"]))
    draft = stored("emergency-contracts")[1]
    assert draft.items[0].text == "委託契約書に情報セキュリティの条項を必ず盛り込んでいる"
    page = text_of(admin.get("/admin/checklists/emergency-contracts/compare?old=1&new=2"))
    assert "変更された項目: 1 件" in page
    assert "委託契約書に情報セキュリティの条項を必ず盛り込んでいる" in page


def test_unknown_download_format_is_not_found(admin):
    assert admin.get("/admin/checklists/emergency-assets/1/download.csv").status_code == 404


# --- who may -------------------------------------------------------------------------------


def test_auditor_reads_every_page_but_changes_nothing(demo_app):
    auditor = login(demo_app, "auditor")
    for path in (
        "/admin/checklists/",
        "/admin/checklists/emergency-assets/1",
        "/admin/checklists/emergency-assets/compare",
        "/admin/checklists/emergency-assets/1/download.xlsx",
    ):
        assert auditor.get(path).status_code == 200, path
    page = text_of(auditor.get("/admin/checklists/emergency-assets/1"))
    assert "/copy" not in page and "アップロード" not in page
    assert auditor.get("/admin/checklists/upload").status_code == 403
    assert upload(auditor, "sample.yaml", GOOD).status_code == 403
    assert auditor.post("/admin/checklists/emergency-assets/1/copy").status_code == 403
    assert stored("sample") == [] and len(stored("emergency-assets")) == 1


def test_auditor_cannot_publish_a_draft(demo_app, admin):
    upload(admin, "sample.yaml", GOOD)
    auditor = login(demo_app, "auditor")
    assert auditor.get("/admin/checklists/sample/1/publish").status_code == 403
    assert auditor.post("/admin/checklists/sample/1/publish").status_code == 403
    assert stored("sample")[0].published_at is None


@pytest.mark.parametrize("role", ["manager", "respondent", "contractor"])
def test_other_roles_do_not_see_checklists_and_the_attempt_is_recorded(demo_app, role):
    client = login(demo_app, role)
    assert "/admin/checklists/" not in text_of(client.get("/"))
    for path in (
        "/admin/checklists/",
        "/admin/checklists/emergency-assets/1",
        "/admin/checklists/emergency-assets/1/download.yaml",
        "/admin/checklists/upload",
    ):
        assert client.get(path).status_code == 404, path
    assert client.post("/admin/checklists/emergency-assets/1/copy").status_code == 404
    denied = [e for e in audit_actions("access.denied") if e.object_type == "checklist"]
    assert len(denied) == 5 and {e.username for e in denied} == {role}
    assert len(stored("emergency-assets")) == 1


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_the_menu_links_checklists_for_the_office_and_auditors(demo_app, role):
    page = text_of(login(demo_app, role).get("/"))
    assert '<a href="/admin/checklists/">チェックリスト</a>' in page
