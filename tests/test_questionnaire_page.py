"""The questionnaire page is drawn from a cached view of the checklist version, not from WTForms
fields (docs/performance.md): what it shows must still post back as the same answers, and its
cost must not grow with the answers given."""

import html
import re

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from survey.extensions import db
from survey.models import AnswerHistory
from survey.respond import page
from survey.respond.forms import questionnaire_view, version_key
from survey.services import answering
from survey.services.answering import ItemInput
from tests.helpers import assignment_of, form_data, login


@pytest.fixture
def mine(demo_app):
    return assignment_of("戸籍住民課")


def posted_back(page: str) -> dict[str, str]:
    """What a browser would send for the page as shown: checked radios, text areas, hidden."""
    data = {}
    for tag in re.findall(r"<input [^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]+)"', tag).group(1)
        if name and (kind == "hidden" or (kind == "radio" and " checked" in tag)):
            data[name.group(1)] = html.unescape(value.group(1))
    for name, text in re.findall(
        r'<textarea [^>]*name="([^"]+)"[^>]*>\n?(.*?)</textarea>', page, re.S
    ):
        data[name] = html.unescape(text)
    return data


def test_the_page_posted_back_as_shown_changes_nothing(demo_app, mine):
    client = login(demo_app, "respondent")
    # Comments with what must be escaped and kept: quotes, markup, a line break.
    client.post(
        f"/assignments/{mine.id}",
        data=form_data(mine, {1: "no"}, {1: '"引用" <b>太字</b> & 改行\n二行目'}),
    )
    history_before = db.session.scalar(sa.select(sa.func.count(AnswerHistory.id)))
    page = client.get(f"/assignments/{mine.id}").get_data(as_text=True)
    data = posted_back(page)
    assert data["comment_" + str(mine.campaign.checklist.items[0].id)].endswith("二行目")
    response = client.post(f"/assignments/{mine.id}/autosave", data=data)
    assert response.status_code == 200 and response.json["ok"]
    assert db.session.scalar(sa.select(sa.func.count(AnswerHistory.id))) == history_before


def test_each_stored_answer_is_shown_checked_once(demo_app, mine):
    client = login(demo_app, "respondent")
    page = client.get(f"/assignments/{mine.id}").get_data(as_text=True)
    for answer in mine.answers:
        radios = re.findall(rf'<input [^>]*name="item_{answer.item_id}"[^>]*>', page)
        checked = [tag for tag in radios if " checked" in tag]
        if answer.option:
            assert len(checked) == 1 and f'value="{answer.option.code}"' in checked[0]
        else:
            assert checked == []


def test_the_page_in_english_shows_the_english_option_labels(demo_app, mine):
    client = login(demo_app, "respondent")
    japanese = client.get(f"/assignments/{mine.id}").get_data(as_text=True)
    english = client.get(f"/assignments/{mine.id}?lang=en").get_data(as_text=True)
    option = mine.campaign.checklist.items[0].scale.options[0]
    assert f"> {option.label}</label>" in japanese
    assert f"> {option.label_en}</label>" in english


def statements(client, path: str) -> int:
    count = 0

    def counted(*_args):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)
    return count


def test_the_page_reads_as_many_rows_with_every_item_answered_as_with_few(demo_app, mine):
    client = login(demo_app, "respondent")
    path = f"/assignments/{mine.id}"
    few = statements(client, path)
    everything = {item.number: "yes" for item in mine.campaign.checklist.items}
    assert client.post(path, data=form_data(mine, everything)).status_code == 302
    assert statements(client, path) == few


def test_autosave_refuses_an_unknown_option_and_a_long_comment_and_keeps_the_answers(
    demo_app, mine
):
    client = login(demo_app, "respondent")
    before = db.session.scalar(sa.select(sa.func.count(AnswerHistory.id)))
    path = f"/assignments/{mine.id}/autosave"
    for bad in (form_data(mine, {1: "perhaps"}), form_data(mine, {}, {1: "長" * 4001})):
        response = client.post(path, data=bad)
        assert response.status_code == 422
        assert response.json == {"ok": False, "message": "入力内容を確認してください。"}
    assert db.session.scalar(sa.select(sa.func.count(AnswerHistory.id))) == before


@pytest.mark.parametrize("revision", [None, "", "三"])
def test_autosave_without_a_revision_is_a_bad_request(demo_app, mine, revision):
    client = login(demo_app, "respondent")
    data = form_data(mine, {1: "yes"})
    if revision is None:
        del data["revision"]
    else:
        data["revision"] = revision
    assert client.post(f"/assignments/{mine.id}/autosave", data=data).status_code == 400


def test_autosave_without_the_csrf_token_changes_nothing(demo_app, mine):
    client = login(demo_app, "respondent")
    before = db.session.scalar(sa.select(sa.func.count(AnswerHistory.id)))
    demo_app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"/assignments/{mine.id}/autosave", data=form_data(mine, {1: "no"}))
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(AnswerHistory.id))) == before


@pytest.mark.parametrize(
    "value",
    [
        None,
        ItemInput(None, ""),
        ItemInput("yes", ""),
        ItemInput("no", '"引用" <b>太字</b> & 改行\n二行目'),
        ItemInput(None, "コメントだけ"),
        ItemInput('"><script>', ""),  # a crafted post shown back: no option matches
    ],
)
def test_the_reused_markup_of_an_item_is_what_the_macro_renders(demo_app, mine, value):
    checklist = mine.campaign.checklist
    with demo_app.test_request_context():
        for category in questionnaire_view(checklist):
            for item in category.items:
                fresh = page._macro()(item, value, {}, {}, True, None)
                assert page.item_html(version_key(checklist), item, value) == fresh


def test_autosave_counts_progress_as_the_page_does(demo_app, mine):
    client = login(demo_app, "respondent")
    unanswered = [n for n, (code, _c) in enumerate(_stored_codes(mine), 1) if code is None]
    response = client.post(
        f"/assignments/{mine.id}/autosave", data=form_data(mine, {unanswered[0]: "yes"})
    )
    db.session.expire_all()
    assert (response.json["answered"], response.json["asked"]) == answering.progress(mine)
    page = client.get(f"/assignments/{mine.id}").get_data(as_text=True)
    assert f"{response.json['answered']}/{response.json['asked']}" in page


def _stored_codes(assignment):
    stored = answering.stored_inputs(assignment)
    return [
        (stored[item.id].option if item.id in stored else None, None)
        for item in assignment.campaign.checklist.items
    ]


def test_an_item_with_a_problem_is_named_and_explained_to_screen_readers(demo_app, mine):
    client = login(demo_app, "respondent")
    items = {item.number: item for item in mine.campaign.checklist.items}
    refused = client.post(
        f"/assignments/{mine.id}",
        data=form_data(mine, {5: "no"}, {5: ""}, action="submit"),
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    fine = 0
    for number, item in items.items():
        block = re.search(rf'<fieldset [^>]*id="item-{item.id}".*?</fieldset>', page, re.S)[0]
        assert f'<legend id="legend-{item.id}">' in block
        assert f'role="radiogroup" aria-labelledby="legend-{item.id}"' in block
        radios = re.findall(r'<input [^>]*type="radio"[^>]*>', block)
        described = {
            frozenset(found[1].split())
            if (found := re.search(r'aria-describedby="([^"]*)"', tag))
            else frozenset()
            for tag in radios
        }
        textarea = re.search(r"<textarea [^>]*>", block)[0]
        expected = {f"help-{item.id}"} if item.help else set()
        if 'class="item has-error"' in block:
            expected.add(f"error-{item.id}")
            assert f'id="error-{item.id}"' in block
            assert f'aria-describedby="error-{item.id}"' in textarea
        else:
            assert number != 5  # the いいえ without its comment
            assert "aria-describedby" not in textarea
            fine += 1
        assert radios and described == {frozenset(expected)}
    assert fine  # items without a problem say nothing of one


def statements_of(client, method: str, path: str, **kwargs) -> list[str]:
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.open(path, method=method, **kwargs)
        assert response.status_code in (200, 302), response.status_code
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return seen


def test_the_page_reads_the_user_the_questionnaire_its_answers_and_files_and_nothing_else(
    demo_app, mine
):
    client = login(demo_app, "respondent")
    read = statements_of(client, "GET", f"/assignments/{mine.id}")
    tables = [re.search(r"\bFROM (\w+)", statement).group(1) for statement in read]
    # The assignment comes with its campaign, checklist and target in one query (access.py);
    # its delegations come with their people, then the categories they hand over; the menu
    # asks once whether the user has a log review to answer or explain, and once whether they
    # are on a course (研修).
    assert tables == [
        "user_account",
        "assignment",
        "answer",
        "attachment",
        "delegation",
        "delegation_category",
        "review_sheet",
        "enrolment",
    ]


def test_an_autosave_writes_the_changed_answer_once_and_reads_no_item(demo_app, mine):
    client = login(demo_app, "respondent")
    path = f"/assignments/{mine.id}/autosave"
    assert client.post(path, data=form_data(mine, {1: "yes"})).json["ok"]
    db.session.expire_all()
    written = statements_of(client, "POST", path, data=form_data(mine, {1: "no"}))
    assert sum(s.startswith("UPDATE answer ") for s in written) == 1
    assert sum(s.startswith("INSERT INTO answer_history") for s in written) == 1
    # The audit entry names the item and options from what the save already knows.
    assert not [s for s in written if re.search(r"\bFROM (item|scale_option|answer_history)\b", s)]
    assert sum(s.startswith("UPDATE assignment ") for s in written) == 1
