"""Training with a comprehension test: a course sent to units (temporary staff included) and a
contractor's staff; each person reads, takes the test, fails, retakes, passes; completion per
unit for the office and each manager's subtree; each person's attempts their own alone."""

from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from checklists import scoring
from survey.demo_training import CODE
from survey.extensions import db
from survey.models import (
    Attempt,
    AttemptAnswer,
    Checklist,
    Contractor,
    Course,
    CourseStatus,
    Enrolment,
    OrgUnit,
    OutgoingMail,
    StoredFile,
    User,
)
from survey.services import reminders, training
from tests.helpers import login, user

# The shipped test: 10 items, right answers in this order, 80% to pass.
RIGHT = ["wrong", "right", "wrong", "right", "wrong", "right", "right", "wrong", "right", "wrong"]


def course() -> Course:
    return db.session.scalar(sa.select(Course).where(Course.code == CODE))


def enrolment_of(username: str, on: Course | None = None) -> Enrolment:
    on = on or course()
    return db.session.scalar(
        sa.select(Enrolment).where(
            Enrolment.course_id == on.id, Enrolment.user_id == user(username).id
        )
    )


def answers(test: Checklist, wrong: int) -> dict[str, str]:
    """The form's fields: the first `wrong` items answered wrongly, the rest right."""
    flip = {"right": "wrong", "wrong": "right"}
    return {
        f"item-{item.id}": flip[item.correct] if index < wrong else item.correct
        for index, item in enumerate(test.items)
    }


def unit(name: str) -> OrgUnit:
    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == name))


# --- marking ---------------------------------------------------------------------------------


def test_the_pass_mark_is_a_percentage_of_the_items_answered_right():
    right = {f"q{n}": code for n, code in enumerate(RIGHT)}
    eight = dict(right) | {"q0": "right", "q1": "wrong"}
    seven = eight | {"q2": "right"}
    assert scoring.marked(right, right, 80) == (10, True)
    assert scoring.marked(eight, right, 80) == (8, True)  # exactly the pass mark passes
    assert scoring.marked(seven, right, 80) == (7, False)
    assert scoring.marked({}, right, 80) == (0, False)  # an unanswered item is wrong
    assert scoring.marked(seven, right, 70) == (7, True)


def test_the_shipped_test_is_stored_with_its_right_answers_and_pass_mark(demo_app):
    test = course().test
    assert test.target_kind == "person" and test.pass_mark == 80
    assert [item.correct for item in test.items] == RIGHT


# --- one person's course -----------------------------------------------------------------------


def test_an_employee_reads_fails_retakes_and_passes(demo_app):
    client = login(demo_app, "respondent")
    mine = enrolment_of("respondent")
    test = course().test
    page = client.get(f"/training/my/{mine.id}")
    assert page.status_code == 200 and "個人情報の取扱い" in page.text
    # The test waits for the material to be read.
    client.post(f"/training/my/{mine.id}/start")
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Attempt.id)).where(Attempt.enrolment_id == mine.id)
        )
        == 0
    )
    client.post(f"/training/my/{mine.id}/read")
    first = client.post(f"/training/my/{mine.id}/start")
    attempt_url = first.headers["Location"]

    # Unanswered items are refused, and what was chosen stays chosen.
    partial = dict(list(answers(test, 0).items())[:9])
    refused = client.post(attempt_url, data=partial)
    assert refused.status_code == 422 and "未回答の問題があります: 10" in refused.text
    assert refused.text.count(" checked") == 9

    client.post(attempt_url, data=answers(test, 3))  # 7 of 10: below 80%
    db.session.expire_all()
    failed = mine.attempts[0]
    assert (failed.score, failed.total, failed.passed) == (7, 10, False)
    assert failed.submitted_at is not None and mine.passed_at is None
    assert training.state(mine) == training.FAILED
    kept = db.session.scalar(
        sa.select(sa.func.count(AttemptAnswer.id)).where(AttemptAnswer.attempt_id == failed.id)
    )
    assert kept == 10  # the failed attempt's answers are kept

    retake = client.post(f"/training/my/{mine.id}/start").headers["Location"]
    assert retake != attempt_url
    form = client.get(retake)
    assert " checked" not in form.text  # a retake starts afresh
    client.post(retake, data=answers(test, 1))
    db.session.expire_all()
    assert [(a.number, a.score, a.passed) for a in mine.attempts] == [
        (1, 7, False),
        (2, 9, True),
    ]
    assert mine.passed_at == mine.attempts[1].submitted_at
    assert training.state(mine) == training.PASSED
    # After passing the course is complete: no further attempt.
    again = client.post(f"/training/my/{mine.id}/start", follow_redirects=True)
    assert "この研修は受講できません。" in again.text
    assert len(mine.attempts) == 2


def test_a_double_submit_marks_the_attempt_once(demo_app):
    client = login(demo_app, "respondent")
    mine = enrolment_of("respondent")
    client.post(f"/training/my/{mine.id}/read")
    url = client.post(f"/training/my/{mine.id}/start").headers["Location"]
    # Two clicks on 受験する give the same attempt.
    assert client.post(f"/training/my/{mine.id}/start").headers["Location"] == url
    data = answers(course().test, 4)
    client.post(url, data=data)
    client.post(url, data=answers(course().test, 0))  # the page was open in another tab
    db.session.expire_all()
    assert [(a.score, a.passed) for a in mine.attempts] == [(6, False)]
    assert len(mine.attempts[0].answers) == 10


def test_a_closed_course_takes_no_attempt(demo_app):
    found = course()
    training.close_course(found, user("admin"))
    db.session.commit()
    mine = enrolment_of("respondent")
    with demo_app.test_request_context(), pytest.raises(training.TrainingError):
        training.mark_read(mine)


def test_the_office_closes_a_course_only_after_ticking_that_the_unfinished_are_shut_out(demo_app):
    admin = login(demo_app, "admin")
    found = course()
    unfinished = sum(1 for e in found.enrolments if e.passed_at is None)
    page = admin.get(f"/training/courses/{found.id}").text
    assert f"研修を終了します。未完了の {unfinished} 人は受講・受験できなくなります" in page

    refused = admin.post(f"/training/courses/{found.id}/close")
    assert refused.status_code == 422
    assert "研修を終了する場合は、確認の欄にチェックを入れてください。" in refused.text
    db.session.expire_all()
    assert course().status == CourseStatus.OPEN

    closed = admin.post(f"/training/courses/{found.id}/close", data={"confirm": "1"})
    assert closed.status_code == 302
    db.session.expire_all()
    assert course().status == CourseStatus.CLOSED
    # Posted again from a tab opened before, it is told the course is no longer running.
    again = admin.post(f"/training/courses/{found.id}/close")
    assert again.status_code == 302
    assert "この研修は実施中ではありません" in admin.get(again.headers["Location"]).text


def test_the_lists_write_versions_and_tell_a_failed_person_to_retake(demo_app):
    office = login(demo_app, "admin").get("/training/").text
    assert "第1版" in office and course().label not in office
    about = login(demo_app, "admin").get(f"/training/courses/{course().id}").text
    assert f"{course().test.title}（第1版）" in about
    failed = next(e for e in course().enrolments if training.state(e) == training.FAILED)
    person = login(demo_app, failed.user.username)
    assert "不合格（再受験してください）" in person.get("/training/").text
    assert "Not passed — please retake" in person.get("/training/?lang=en").text


def test_the_material_and_the_test_tell_contractors_whom_to_tell(demo_app):
    whom = "貴社の責任者と契約を担当する区の担当課へ"
    assert course().material_text.count(whom) == 2
    items = {item.key: item for item in course().test.items}
    for key in ("suspicious-mail", "report-loss"):
        assert whom in items[key].text and items[key].correct == "right", key
    assert "同じ課の職員" not in items["password-share"].text


# --- preparing and opening a course ------------------------------------------------------------


def _new_course(code: str = "2027-training") -> Course:
    settings = training.Settings(
        code=code,
        version=1,
        title="新任者研修",
        test_id=course().test.id,
        opens_on=date(2026, 12, 1),
        due_on=date(2026, 12, 25),
        material_text="資料",
    )
    return training.create_course(settings, None, user("admin"))


def test_opening_a_course_enrols_everyone_of_its_units_temporary_staff_and_contractor_staff(
    demo_app,
):
    with demo_app.test_request_context():
        _opens_for_everyone()


def _opens_for_everyone():
    new = _new_course()
    c001 = db.session.scalar(sa.select(Contractor.id).where(Contractor.code == "C001"))
    training.set_targets(new, [unit("区民部").id], [c001], user("admin"))
    enrolled = training.open_course(new, user("admin"))
    db.session.commit()
    names = {e.user.username for e in new.enrolments}
    assert {"respondent", "manager", "t-hoken-1", "t-hoken-2", "contractor", "c-c001"} <= names
    assert "t-kiki-1" not in names and "admin" not in names  # another department; the office
    assert enrolled == len(names)
    assert enrolment_of("t-hoken-1", new).unit.name == "保険医療課"
    assert enrolment_of("contractor", new).contractor_id == c001
    mails = db.session.scalars(sa.select(OutgoingMail.recipient)).all()
    assert "t-hoken-1@example.jp" in mails and "contractor@example.jp" in mails
    # Opening twice enrols nobody twice.
    with pytest.raises(training.TrainingError):
        training.open_course(new, user("admin"))


def test_a_course_needs_a_published_test_and_material(demo_app):
    with demo_app.test_request_context():
        _refused_settings()


def _refused_settings():
    settings = training.Settings("x", 1, "研修", None, date(2026, 12, 1), date(2026, 11, 1), "")
    with pytest.raises(training.TrainingError) as refused:
        training.create_course(settings, None, user("admin"))
    assert set(refused.value.problems) == {"test_id", "due_on", "material_text"}
    questionnaire = db.session.scalar(sa.select(Checklist).where(Checklist.target_kind == "unit"))
    settings.test_id, settings.due_on, settings.material_text = questionnaire.id, None, "x"
    with pytest.raises(training.TrainingError) as refused:
        training.create_course(settings, None, user("admin"))
    assert set(refused.value.problems) == {"test_id", "due_on"}


def test_the_office_uploads_a_pdf_as_the_material(demo_app):
    client = login(demo_app, "admin")
    form = {
        "code": "pdf-course",
        "version": "1",
        "title": "PDF の研修",
        "test_id": str(course().test.id),
        "opens_on": "2026-12-01",
        "due_on": "2026-12-20",
    }
    not_pdf = client.post(
        "/training/courses/new",
        data=form | {"material_file": (io.BytesIO(b"PK\x03\x04"), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert not_pdf.status_code == 422 and "PDF ファイルを選んでください" in not_pdf.text
    assert 'value="PDF の研修"' in not_pdf.text  # what was typed is kept
    made = client.post(
        "/training/courses/new",
        data=form | {"material_file": (io.BytesIO(b"%PDF-1.4 material"), "資料.pdf")},
        content_type="multipart/form-data",
    )
    assert made.status_code == 302
    stored = db.session.scalar(sa.select(Course).where(Course.code == "pdf-course"))
    assert stored.material_filename == "資料.pdf" and stored.material_file.size == 17
    pdf = client.get(f"/training/courses/{stored.id}/material")
    assert pdf.status_code == 200 and pdf.data == b"%PDF-1.4 material"


def test_two_of_the_office_saving_the_same_course_at_once_get_the_form_back(demo_app, monkeypatch):
    """The other click took the version between this one's check and its save: the database
    refuses the twin and the form comes back, with the material and nothing else stored."""
    taken = course()
    monkeypatch.setattr(training, "version_taken", lambda code, version: False)
    files = db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile))
    refused = login(demo_app, "admin").post(
        "/training/courses/new",
        data={
            "code": taken.code,
            "version": str(taken.version),
            "title": "同時に保存した研修",
            "test_id": str(taken.test.id),
            "opens_on": "2026-12-01",
            "due_on": "2026-12-20",
            "material_file": (io.BytesIO(b"%PDF-1.4 twin"), "資料.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "この研修コードの同じ版がすでにあります。版を上げてください。" in refused.text
    assert 'value="同時に保存した研修"' in refused.text
    same = sa.select(sa.func.count()).where(
        Course.code == taken.code, Course.version == taken.version
    )
    assert db.session.scalar(same) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == files


# --- completion ----------------------------------------------------------------------------------


def test_completion_per_unit_counts_enrolled_temporary_read_tried_and_passed(demo_app):
    rows = {row.name: row for row in training.completion(course(), user("admin"))}
    hoken = rows["保険医療課"]
    # its respondent and two temporary staff (one passed on a retake, one not started)
    people = {e.user.username: e for e in course().enrolments if e.unit_id == unit("保険医療課").id}
    assert hoken.enrolled == len(people) and hoken.temporary == 2
    assert hoken.passed == sum(1 for e in people.values() if e.passed_at is not None)
    assert hoken.read == sum(1 for e in people.values() if e.read_at is not None)
    assert rows["株式会社さくら情報サービス"].contractor_id is not None
    with demo_app.test_request_context():
        total = training.totals(rows.values())
    assert total.enrolled == len(course().enrolments)


def test_a_manager_follows_their_subtree_only(demo_app):
    mine = training.completion(course(), user("manager"))
    assert {row.name for row in mine} <= {u.name for u in unit("区民部").children} | {"区民部"}
    assert "秘書課" not in {row.name for row in mine}
    client = login(demo_app, "manager")
    page = client.get(f"/training/courses/{course().id}")
    assert page.status_code == 200 and "戸籍住民課" in page.text and "秘書課" not in page.text
    people = client.get(f"/training/courses/{course().id}/people")
    assert "保険 臨時一" in people.text and "危機管理 臨時一" not in people.text


def test_the_completion_workbook_lists_units_and_people_in_scope(demo_app):
    client = login(demo_app, "manager")
    response = client.get(f"/training/courses/{course().id}/completion.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["所属別", "受講者"]
    units = [row[1] for row in book["所属別"].iter_rows(min_row=8, values_only=True)]
    assert "戸籍住民課" in units and "秘書課" not in units and units[-1] == "合計"
    names = [row[2] for row in book["受講者"].iter_rows(min_row=8, values_only=True)]
    assert "保険 臨時一" in names and "危機管理 臨時一" not in names


# --- scope ---------------------------------------------------------------------------------


def test_a_person_sees_only_their_own_attempts(demo_app):
    theirs = enrolment_of("r-d01-01")  # 秘書課: failed once, retaking
    assert len(theirs.attempts) == 2
    for username in ("respondent", "contractor", "manager", "admin"):
        client = login(demo_app, username)
        assert client.get(f"/training/my/{theirs.id}").status_code == 404
        assert client.get(f"/training/attempts/{theirs.attempts[0].id}").status_code == 404
    own = login(demo_app, "r-d01-01")
    assert own.get(f"/training/attempts/{theirs.attempts[0].id}").status_code == 200


def test_contractor_staff_see_their_own_course_and_no_completion(demo_app):
    client = login(demo_app, "contractor")
    index = client.get("/training/")
    assert course().title in index.text and "研修の受講状況" not in index.text
    assert client.get(f"/training/courses/{course().id}").status_code == 404
    assert client.get(f"/training/courses/{course().id}/completion.xlsx").status_code == 404


# --- reminders -----------------------------------------------------------------------------


def test_the_daily_reminder_lists_the_course_until_it_is_passed(demo_app):
    due = course().due_on
    keyed = {
        reminder.key: letter.email
        for letter in reminders.plan(due)
        for reminder in letter.reminders
        if reminder.key.startswith("training:")
    }
    passed = enrolment_of("manager")
    waiting = enrolment_of("respondent")
    assert keyed[f"training:{waiting.id}"] == "respondent@example.jp"
    assert f"training:{passed.id}" not in keyed
    early = {
        reminder.key
        for letter in reminders.plan(date(2026, 11, 20))
        for reminder in letter.reminders
    }
    assert not any(key.startswith("training:") for key in early)  # not yet within the window


def test_a_course_not_passed_climbs_to_the_heads_as_a_late_questionnaire_does(demo_app):
    waiting = enrolment_of("respondent")  # 戸籍住民課, under 区民部
    key = f"training:{waiting.id}"

    def lines(day):
        return {
            letter.email: reminder.line
            for letter in reminders.plan(day)
            for reminder in letter.reminders
            if reminder.key == key
        }

    due = course().due_on
    assert set(lines(due)) == {"respondent@example.jp"}  # the person alone until the due date
    late = lines(due + timedelta(days=7))  # the office's steps: department head at +7
    head = user("manager")  # 区民部's head
    assert {"respondent@example.jp", head.email} <= set(late)
    told = late[head.email]
    assert waiting.user.display_name in told and "部局長" in told
    assert f"/training/courses/{waiting.course_id}" in told  # never the person's own page
    assert f"/training/my/{waiting.id}" in late["respondent@example.jp"]


def test_a_course_without_its_test_published_is_not_offered(demo_app):
    assert [test.code for test in training.tests()] == ["security-training-test"]
    assert course().status == CourseStatus.OPEN
    assert db.session.get(User, enrolment_of("t-hoken-1").user_id).temporary


def test_the_users_register_marks_temporary_staff(demo_app):
    from survey.services import registers
    from tests.register_helpers import csv_bytes

    with demo_app.test_request_context():
        header = registers.headers("users")
        rows = registers.export_rows("users")
        column = header.index("臨時・会計年度任用")
        marked = {row[0]: row[column] for row in rows}
        assert marked["t-hoken-1"] == "あり" and marked["respondent"] == "なし"
        for row in rows:
            if row[0] == "respondent":
                row[column] = "あり"
        result = registers.preview("users", csv_bytes([header, *rows]))
        assert result.ok, [p.render() for p in result.problems]
        assert [change.key for change in result.changed] == ["respondent"]
        registers.apply(result)
        db.session.commit()
    assert user("respondent").temporary and user("t-hoken-1").temporary


def test_the_office_previews_a_test_with_its_right_answers(demo_app):
    client = login(demo_app, "admin")
    page = client.get("/admin/checklists/security-training-test/1")
    assert page.status_code == 200
    assert page.text.count("<dt>正解</dt>") == 10
    # The people taking it never see them.
    mine = enrolment_of("respondent")
    taker = login(demo_app, "respondent")
    taker.post(f"/training/my/{mine.id}/read")
    test_page = taker.get(taker.post(f"/training/my/{mine.id}/start").headers["Location"])
    assert "<dt>正解</dt>" not in test_page.text and test_page.text.count('type="radio"') == 20
