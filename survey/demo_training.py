"""Demo training: this year's information security course under way, with its comprehension
test — some people passed (one on a retake), some failed and not yet back, one retaking it now,
some who only read the material, and the demo respondent not started (the browser journey takes
it). Temporary staff of 保険医療課 and 危機管理課 are on it like everyone. Deterministic: fixed
dates, people taken in username order."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from survey.demo_data import office_time
from survey.extensions import db
from survey.models import (
    Attempt,
    AttemptAnswer,
    Checklist,
    Contractor,
    Course,
    CourseStatus,
    CourseTarget,
    Enrolment,
    OrgUnit,
    Role,
    User,
)
from survey.services import training

CODE = "2026-security-training"
TEST = "security-training-test"
OPENS, DUE = date(2026, 11, 16), date(2026, 12, 18)
MATERIAL = "\n".join(
    [
        "この研修では、区の職員（臨時職員・会計年度任用職員を含む）と委託事業者の従事者が、"
        "個人情報を扱うときに守ることを確かめます。"
        "読み終えたら「資料を読みました」を押し、"
        "理解度テスト（10 問、8 問以上の正解で合格）を受けてください。",
        "",
        "個人情報の取扱い",
        "- 住民の個人情報は、業務に必要な範囲でだけ照会・利用します。"
        "興味本位の照会は、記録が残るかどうかにかかわらず禁止です。",
        "- 個人情報を含む書類や媒体を庁外へ持ち出すときは、所属長の許可を得て、"
        "持出し簿に記録します。"
        "委託事業者の方は、契約で認められた場合に限り、貴社の責任者の許可を得て持ち出します。"
        "私物の USB メモリは使いません。",
        "- 離席するときは書類を机に出したままにせず、施錠できる場所にしまいます。"
        "廃棄はシュレッダーか溶解処理で行います。",
        "",
        "情報システムの利用",
        "- パスワードは他人と共有しません。端末から離れるときは、短時間でも画面をロックします。",
        "- 心当たりのない添付ファイル付きメールは開かず、情報政策課へ連絡します。"
        "委託事業者の方は、貴社の責任者と契約を担当する区の担当課へ連絡してください。",
        "- 業務の資料を、許可されていない外部のサービス（無料のオンラインストレージなど）に"
        "置きません。",
        "",
        "事故のときの対応",
        "- 紛失・誤送付・誤送信に気づいたら、見つかるのを待たずに、すぐ所属長へ報告します。"
        "相手に削除を頼んだ場合も報告は必要です。"
        "委託事業者の方は、貴社の責任者と契約を担当する区の担当課へ報告してください。",
        "",
    ]
)
TEMPORARY = [
    ("t-hoken-1", "保険 臨時一", "保険医療課"),
    ("t-hoken-2", "保険 臨時二", "保険医療課"),
    ("t-kiki-1", "危機管理 臨時一", "危機管理課"),
]
# What each person has done, by username (the rest of the people: see `_plan`).
PLANS = {
    "respondent": "none",  # the browser journey reads, fails, retakes and passes
    "manager": "passed",
    "r-d01-01": "retaking",  # 秘書課: failed once, the retake under way
    "t-hoken-1": "passed_on_retake",
    "t-hoken-2": "none",
    "contractor": "read",
    "c-c001": "passed",
}
CYCLE = ["passed", "read", "failed", "passed", "none", "passed_on_retake"]


def load() -> None:
    password_hash = db.session.scalar(
        sa.select(User.password_hash).where(User.username == "respondent")
    )
    for username, name, unit in TEMPORARY:
        db.session.add(
            User(
                username=username,
                display_name=name,
                role=Role.RESPONDENT,
                unit_id=_unit(unit).id,
                email=f"{username}@example.jp",
                password_hash=password_hash,
                temporary=True,
            )
        )
    test = db.session.scalar(sa.select(Checklist).where(Checklist.code == TEST))
    course = Course(
        code=CODE,
        version=1,
        title="令和8年度 情報セキュリティ研修（個人情報の取扱い）",
        material_text=MATERIAL,
        test=test,
        opens_on=OPENS,
        due_on=DUE,
        status=CourseStatus.OPEN,
        created_at=office_time(OPENS - timedelta(days=3), 10),
    )
    course.targets = [
        CourseTarget(unit_id=_unit("区長室").id),
        CourseTarget(unit_id=_unit("区民部").id),
        CourseTarget(
            contractor_id=db.session.scalar(
                sa.select(Contractor.id).where(Contractor.code == "C001")
            )
        ),
    ]
    db.session.add(course)
    db.session.flush()
    people = sorted(db.session.execute(training.targeted(course)), key=lambda row: row[0])
    users = {u.id: u for u in db.session.scalars(sa.select(User))}
    for n, (user_id, unit_id, company_id) in enumerate(people):
        enrolment = Enrolment(
            course=course,
            user_id=user_id,
            unit_id=unit_id,
            contractor_id=company_id,
            created_at=office_time(OPENS, 9),
        )
        db.session.add(enrolment)
        _act(enrolment, PLANS.get(users[user_id].username, CYCLE[n % len(CYCLE)]), n, test)
    db.session.flush()


def _unit(name: str) -> OrgUnit:
    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == name))


def _act(enrolment: Enrolment, plan: str, n: int, test: Checklist) -> None:
    """Read the material, and sit the test as `plan` says, on days after the opening."""
    if plan == "none":
        return
    day = OPENS + timedelta(days=1 + n % 10)
    enrolment.read_at = office_time(day, 9, n % 60)
    sittings = {
        "read": [],
        "passed": [True],
        "failed": [False],
        "passed_on_retake": [False, True],
        "retaking": [False, None],
    }[plan]
    for number, passes in enumerate(sittings, start=1):
        at = office_time(day + timedelta(days=number - 1), 10, n % 60)
        attempt = Attempt(enrolment=enrolment, number=number, total=len(test.items), started_at=at)
        db.session.add(attempt)
        if passes is None:
            continue  # still answering
        wrong = 1 if passes else 4  # of ten: 9 passes, 6 does not (the pass mark is 80%)
        attempt.submitted_at = at + timedelta(minutes=12)
        attempt.score, attempt.passed = len(test.items) - wrong, passes
        for index, item in enumerate(test.items):
            right = index >= wrong
            other = next(o.code for o in item.scale.options if o.code != item.correct)
            attempt.answers.append(
                AttemptAnswer(
                    item_id=item.id, option_code=item.correct if right else other, correct=right
                )
            )
        if passes:
            enrolment.passed_at = attempt.submitted_at
