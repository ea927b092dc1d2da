"""Training with a comprehension test (研修・理解度テスト): prepare a course, open it (everyone
in its units and companies enrolled, and told by mail), close it; each person reads the
material and takes the test, as often as needed until they pass; completion per unit.

Every function works in the caller's transaction and records its audit entry there; the views
commit. Status changes go through services/transitions.py, so a double click or two tabs take a
step once. Problems are raised as `TrainingError`, whose `problems` name the form fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload, selectinload
from werkzeug.datastructures import FileStorage

from checklists import scoring
from checklists.schema import TEST_TARGET
from survey import access
from survey.extensions import db
from survey.formatting import format_date
from survey.models import (
    Attempt,
    AttemptAnswer,
    Checklist,
    Contractor,
    Course,
    CourseStatus,
    CourseTarget,
    Enrolment,
    Item,
    OrgUnit,
    Role,
    User,
)
from survey.models.types import utcnow
from survey.services import escalation, files, mail_texts, notify, trail, transitions, uploads
from survey.services.mail_texts import _signature
from survey.services.reminders import Reminder

CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
TITLE_MAX = 200
PDF = b"%PDF-"


class TrainingError(ValueError):
    """The request cannot be carried out; `problems` maps form fields to what is wrong."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


# --- preparing a course -----------------------------------------------------------------------


def tests() -> list[Checklist]:
    """The published comprehension tests a course may use (checklists of target person)."""
    return list(
        db.session.scalars(
            sa.select(Checklist)
            .where(Checklist.target_kind == TEST_TARGET, Checklist.published_at.is_not(None))
            .order_by(Checklist.code, Checklist.version.desc())
        )
    )


@dataclass
class Settings:
    """What the new-course form hands in."""

    code: str
    version: int | None
    title: str
    test_id: int | None
    opens_on: date | None
    due_on: date | None
    material_text: str


def _taken() -> str:
    return _("この研修コードの同じ版がすでにあります。版を上げてください。")


def version_taken(code: str, version: int) -> bool:
    return (
        db.session.scalar(
            sa.select(Course.id).where(Course.code == code, Course.version == version)
        )
        is not None
    )


def _settings_problems(settings: Settings) -> dict[str, str]:
    problems = {}
    if not CODE_RE.fullmatch(settings.code or ""):
        problems["code"] = _("コードは半角英数字・ハイフン・ピリオドで入力してください。")
    if settings.version is None or settings.version < 1:
        problems["version"] = _("版は 1 以上の整数で入力してください。")
    elif CODE_RE.fullmatch(settings.code or "") and version_taken(settings.code, settings.version):
        problems["version"] = _taken()
    if not settings.title.strip() or len(settings.title) > TITLE_MAX:
        problems["title"] = _("研修名を 200 文字以内で入力してください。")
    test = db.session.get(Checklist, settings.test_id) if settings.test_id else None
    if test is None or test.target_kind != TEST_TARGET or not test.is_published:
        problems["test_id"] = _("公開済みの理解度テストを選んでください。")
    if settings.opens_on is None:
        problems["opens_on"] = _("開始日を入力してください。")
    if settings.due_on is None:
        problems["due_on"] = _("受講期限を入力してください。")
    elif settings.opens_on is not None and settings.due_on < settings.opens_on:
        problems["due_on"] = _("受講期限は開始日以降にしてください。")
    return problems


def _store_material(upload: FileStorage) -> tuple[int, str]:
    """A PDF checked by its first bytes (not its name) and stored in the database."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    head = upload.stream.read(files.CHUNK_SIZE)
    if not head.startswith(PDF):
        raise TrainingError({"material_file": _("研修資料は PDF ファイルを選んでください。")})
    try:
        stored = files.store(upload.stream, head=head, limit=limit)
    except files.TooLarge:
        message = _("ファイルが大きすぎます（上限 %(mb)d MB）。", mb=limit // (1024 * 1024))
        raise TrainingError({"material_file": message}) from None
    return stored.id, uploads.clean_filename(upload.filename, "material.pdf")


def create_course(settings: Settings, upload: FileStorage | None, user: User) -> Course:
    """A draft course; its material is the text, a PDF, or both (one at least)."""
    problems = _settings_problems(settings)
    if not settings.material_text.strip() and upload is None:
        problems["material_text"] = _(
            "研修資料の本文を入力するか、PDF ファイルを添付してください。"
        )
    if problems:
        raise TrainingError(problems)
    course = Course(
        code=settings.code,
        version=settings.version,
        title=settings.title.strip(),
        test_id=settings.test_id,
        opens_on=settings.opens_on,
        due_on=settings.due_on,
        material_text=settings.material_text.strip(),
    )
    if upload is not None:
        course.material_file_id, course.material_filename = _store_material(upload)
    try:
        # The check above misses the same version being saved at the same moment (two of the
        # office, a double click): the unique code and version refuse the second.
        with db.session.begin_nested():
            db.session.add(course)
    except IntegrityError:
        raise TrainingError({"version": _taken()}) from None
    trail.record(
        "training.course_create",
        course,
        summary=f"{course.label} {course.title}",
        after={"test": course.test.label, "due_on": course.due_on, "pdf": bool(upload)},
        user=user,
    )
    return course


def set_targets(course: Course, unit_ids: list[int], contractor_ids: list[int], user: User) -> None:
    """The units (each with the units below it) and companies a draft course goes to."""
    if course.status != CourseStatus.DRAFT:
        raise TrainingError({"targets": _("開始した研修の対象は変更できません。")})
    units = db.session.scalars(sa.select(OrgUnit.id).where(OrgUnit.id.in_(unit_ids))).all()
    companies = db.session.scalars(
        sa.select(Contractor.id).where(Contractor.id.in_(contractor_ids))
    ).all()
    before = sorted(_target_names(course))
    course.targets = [CourseTarget(unit_id=unit_id) for unit_id in units] + [
        CourseTarget(contractor_id=company_id) for company_id in companies
    ]
    db.session.flush()
    db.session.expire(course, ["targets"])
    trail.record(
        "training.targets",
        course,
        summary=course.label,
        before=before,
        after=sorted(_target_names(course)),
        user=user,
    )


def _target_names(course: Course) -> list[str]:
    return [t.unit.name if t.unit else t.contractor.name for t in course.targets]


def targeted(course: Course) -> sa.Select:
    """(user id, unit id, company id) of everyone the course's targets hold: the active
    accounts of each unit and every unit below it, temporary staff included, and of each
    company. The security office and the auditors are not taught here."""
    rows = []
    for target in course.targets:
        if target.unit_id is not None:
            rows.append(
                sa.select(
                    User.id, User.unit_id, sa.cast(sa.null(), sa.Integer).label("contractor_id")
                ).where(
                    User.unit_id.in_(access.subtree_ids(target.unit_id, f"t{target.id}")),
                    User.role.in_((Role.MANAGER, Role.RESPONDENT, Role.STAFF)),
                    User.active.is_(True),
                )
            )
        else:
            rows.append(
                sa.select(
                    User.id, sa.cast(sa.null(), sa.Integer).label("unit_id"), User.contractor_id
                ).where(User.contractor_id == target.contractor_id, User.active.is_(True))
            )
    return sa.union(*rows) if rows else None


def open_course(course: Course, user: User) -> int:
    """Enrol everyone the targets hold and tell each by mail; the number enrolled. A second
    click finds the course open already and enrols nobody twice."""
    if not course.targets:
        raise TrainingError({"targets": _("対象の所属または委託事業者を選んでください。")})
    if not transitions.move(course, [CourseStatus.DRAFT], CourseStatus.OPEN):
        raise TrainingError({"status": _("この研修はすでに開始されています。")})
    people = {row[0]: row for row in db.session.execute(targeted(course))}
    db.session.add_all(
        Enrolment(course_id=course.id, user_id=uid, unit_id=unit_id, contractor_id=company_id)
        for uid, unit_id, company_id in people.values()
    )
    db.session.flush()
    enrolled = db.session.scalars(
        sa.select(Enrolment).where(Enrolment.course_id == course.id).order_by(Enrolment.id)
    )
    for enrolment in enrolled:
        person = enrolment.user
        if person.email:
            link = notify.external_url("training.take", enrolment_id=enrolment.id)
            notify.queue_mail(person.email, *_opened_mail(course, person, link))
    trail.record(
        "training.course_open",
        course,
        summary=f"{course.label} {len(people)}",
        after={"enrolled": len(people)},
        user=user,
    )
    return len(people)


def close_course(course: Course, user: User) -> None:
    if not transitions.move(course, [CourseStatus.OPEN], CourseStatus.CLOSED):
        raise TrainingError({"status": _("この研修は実施中ではありません。")})
    trail.record("training.course_close", course, summary=course.label, user=user)


def _opened_mail(course: Course, person: User, link: str) -> tuple[str, str]:
    with force_locale("ja"):
        subject = _("【情報セキュリティ研修】受講のお願い（%(title)s）", title=course.title)
        body = _(
            "%(name)s 様\n\n"
            "次の研修の受講をお願いします。研修資料を読み、理解度テストに合格すると受講完了です。"
            "不合格のときは何度でも受け直せます。\n\n"
            "研修: %(title)s\n"
            "受講期限: %(due)s\n\n"
            "受講画面:\n%(link)s\n",
            name=person.display_name,
            title=course.title,
            due=format_date(course.due_on),
            link=link,
        )
        return subject, body + "\n" + _signature()


# --- taking a course --------------------------------------------------------------------------

# Where a person stands on a course.
NOT_STARTED, READ, IN_PROGRESS, FAILED, PASSED = (
    "not_started",
    "read",
    "in_progress",
    "failed",
    "passed",
)


def state(enrolment: Enrolment) -> str:
    if enrolment.passed_at is not None:
        return PASSED
    last = enrolment.attempts[-1] if enrolment.attempts else None
    if last is not None:
        return IN_PROGRESS if last.submitted_at is None else FAILED
    return READ if enrolment.read_at is not None else NOT_STARTED


def takes_work(enrolment: Enrolment) -> bool:
    """Reading and taking the test are open while the course is (after the deadline too: a
    late pass still counts, and shows as late)."""
    return enrolment.course.status == CourseStatus.OPEN and enrolment.passed_at is None


def mark_read(enrolment: Enrolment) -> bool:
    """The person says they read the material; False when they had said so already."""
    if not takes_work(enrolment):
        raise TrainingError({"status": _("この研修は受講できません。")})
    done = transitions.claim(enrolment, Enrolment.read_at.is_(None), read_at=utcnow())
    if done:
        trail.record("training.read", enrolment, summary=enrolment.course.label)
    return done


def current_attempt(enrolment: Enrolment) -> Attempt | None:
    """The attempt started and not handed in, if any."""
    last = enrolment.attempts[-1] if enrolment.attempts else None
    return last if last is not None and last.submitted_at is None else None


def start_attempt(enrolment: Enrolment) -> Attempt:
    """An attempt to answer: the one under way, or a new one with no answers (a retake starts
    afresh). Only after reading, never after passing."""
    if not takes_work(enrolment):
        raise TrainingError({"status": _("この研修は受講できません。")})
    if enrolment.read_at is None:
        raise TrainingError({"status": _("先に研修資料を読んでください。")})
    found = current_attempt(enrolment)
    if found is not None:
        return found
    number = len(enrolment.attempts) + 1
    attempt = Attempt(
        enrolment_id=enrolment.id, number=number, total=len(enrolment.course.test.items)
    )
    try:
        with db.session.begin_nested():  # two tabs at once: the unique number lets one in
            db.session.add(attempt)
    except IntegrityError:
        db.session.expire(enrolment, ["attempts"])
        return current_attempt(enrolment) or enrolment.attempts[-1]
    db.session.expire(enrolment, ["attempts"])
    trail.record("training.attempt_start", attempt, summary=f"{enrolment.course.label} #{number}")
    return attempt


def unanswered(test: Checklist, answers: dict[int, str]) -> list[Item]:
    """The items of the test without a valid answer among `answers` {item id: option code}."""
    return [
        item
        for item in test.items
        if answers.get(item.id) not in {option.code for option in item.scale.options}
    ]


@dataclass(frozen=True)
class Marked:
    attempt: Attempt
    taken: bool  # False: this attempt had been handed in already (a double submit)


def submit_attempt(attempt: Attempt, answers: dict[int, str]) -> Marked:
    """Mark the answers {item id: option code}, every item answered; the first hand-in of an
    attempt counts, a repeat stores nothing. A pass completes the course."""
    enrolment = attempt.enrolment
    test = enrolment.course.test
    if attempt.submitted_at is not None:
        return Marked(attempt, False)
    if enrolment.course.status != CourseStatus.OPEN:
        raise TrainingError({"status": _("この研修は受講できません。")})
    missing = unanswered(test, answers)
    if missing:
        numbers = "、".join(str(item.number) for item in missing)
        raise TrainingError({"answers": _("未回答の問題があります: %(n)s", n=numbers)})
    right = {item.key: item.correct for item in test.items}
    given = {item.key: answers[item.id] for item in test.items}
    score, passed = scoring.marked(given, right, test.pass_mark)
    now = utcnow()
    if not transitions.claim(
        attempt, Attempt.submitted_at.is_(None), submitted_at=now, score=score, passed=passed
    ):
        db.session.refresh(attempt)
        return Marked(attempt, False)
    db.session.add_all(
        AttemptAnswer(
            attempt_id=attempt.id,
            item_id=item.id,
            option_code=answers[item.id],
            correct=answers[item.id] == item.correct,
        )
        for item in test.items
    )
    if passed:
        transitions.claim(enrolment, Enrolment.passed_at.is_(None), passed_at=now)
    trail.record(
        "training.attempt_submit",
        attempt,
        summary=f"{enrolment.course.label} #{attempt.number} {score}/{attempt.total}",
        after={"score": score, "total": attempt.total, "passed": passed},
    )
    return Marked(attempt, True)


def chosen(attempt: Attempt) -> dict[int, str]:
    """A handed-in attempt's answers {item id: option code}."""
    return {answer.item_id: answer.option_code for answer in attempt.answers}


# --- completion -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitRow:
    """Completion of one unit or company on a course."""

    unit_id: int | None
    contractor_id: int | None
    name: str
    department: str
    enrolled: int
    temporary: int  # of them, temporary staff
    read: int
    attempted: int
    passed: int

    @property
    def percent(self) -> float:
        return round(100 * self.passed / self.enrolled, 1) if self.enrolled else 0.0


def _attempted() -> sa.ScalarSelect:
    return (
        sa.select(sa.func.count(Attempt.id))
        .where(Attempt.enrolment_id == Enrolment.id)
        .correlate(Enrolment)
        .scalar_subquery()
    )


def completion(course: Course, user: User) -> list[UnitRow]:
    """Per unit (and company), in the user's scope: enrolled, read, tried, passed — one GROUP
    BY; units in the order of the tree, companies after them."""
    parent = aliased(OrgUnit)
    stmt = access.scope_enrolments(
        user,
        sa.select(
            Enrolment.unit_id,
            Enrolment.contractor_id,
            sa.func.coalesce(OrgUnit.name, Contractor.name),
            sa.func.coalesce(parent.name, ""),
            sa.func.count(Enrolment.id),
            sa.func.count(Enrolment.id).filter(User.temporary.is_(True)),
            sa.func.count(Enrolment.read_at),
            sa.func.count(Enrolment.id).filter(_attempted() > 0),
            sa.func.count(Enrolment.passed_at),
        )
        .join(User, User.id == Enrolment.user_id)
        .outerjoin(OrgUnit, OrgUnit.id == Enrolment.unit_id)
        .outerjoin(parent, parent.id == OrgUnit.parent_id)
        .outerjoin(Contractor, Contractor.id == Enrolment.contractor_id)
        .where(Enrolment.course_id == course.id)
        .group_by(
            Enrolment.unit_id,
            Enrolment.contractor_id,
            OrgUnit.name,
            OrgUnit.code,
            Contractor.name,
            Contractor.code,
            parent.name,
        )
        .order_by(Enrolment.contractor_id.is_not(None), OrgUnit.code, Contractor.code),
    )
    return [UnitRow(*row) for row in db.session.execute(stmt)]


def totals(rows: Iterable[UnitRow]) -> UnitRow:
    rows = list(rows)
    return UnitRow(
        None,
        None,
        _("合計"),
        "",
        *(sum(getattr(r, name) for r in rows) for name in ("enrolled", "temporary", "read")),
        sum(r.attempted for r in rows),
        sum(r.passed for r in rows),
    )


@dataclass(frozen=True)
class PersonRow:
    enrolment: Enrolment
    state: str
    attempts: int
    best: int | None  # the highest score handed in
    total: int


def people(course: Course, user: User, unit_id: int | None = None, company_id: int | None = None):
    """Each person of one unit or company (in the user's scope) and where they stand."""
    stmt = access.scope_enrolments(
        user,
        sa.select(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.course_id == course.id)
        .options(selectinload(Enrolment.attempts), joinedload(Enrolment.user)),
    )
    if unit_id is not None:
        stmt = stmt.where(Enrolment.unit_id == unit_id)
    if company_id is not None:
        stmt = stmt.where(Enrolment.contractor_id == company_id)
    total = len(course.test.items)
    found = []
    for enrolment in db.session.scalars(stmt.order_by(User.username)):
        scores = [a.score for a in enrolment.attempts if a.score is not None]
        handed_in = sum(1 for a in enrolment.attempts if a.submitted_at is not None)
        found.append(
            PersonRow(enrolment, state(enrolment), handed_in, max(scores, default=None), total)
        )
    return found


def my_enrolments(user: User) -> list[Enrolment]:
    """The user's own courses, open ones first, the nearest deadline first."""
    return list(
        db.session.scalars(
            sa.select(Enrolment)
            .join(Course)
            .where(Enrolment.user_id == user.id, Course.status != CourseStatus.DRAFT)
            .order_by(Course.status != CourseStatus.OPEN, Course.due_on, Course.id)
        )
    )


def courses(user: User) -> list[Course]:
    """The courses whose completion the user follows: every one for the office, those with
    someone of their subtree enrolled for a manager."""
    stmt = sa.select(Course).order_by(Course.opens_on.desc(), Course.code, Course.version.desc())
    if user.role not in access.SEE_ALL:
        enrolled = access.scope_enrolments(user, sa.select(Enrolment.course_id))
        stmt = stmt.where(Course.id.in_(enrolled))
    return list(db.session.scalars(stmt))


# --- reminders (survey/services/reminders.py) -----------------------------------------------


def reminders(today: date, steps: escalation.Steps) -> Iterable[Reminder]:
    """Everyone enrolled on an open course who has not passed, from the first of the office's
    escalation steps until they pass, as for a late questionnaire: the person first, then the
    head of their unit and the head above it from the later steps (services/escalation.py),
    each with a line in the same daily digest. A head's line leads to the course's completion
    page, never to the person's own."""
    enabled = steps.enabled()
    if not enabled:
        return
    soon = today - timedelta(days=enabled[0][1])
    stmt = (
        sa.select(Enrolment)
        .join(Course)
        .join(User, User.id == Enrolment.user_id)
        .where(
            Course.status == CourseStatus.OPEN,
            Course.opens_on <= today,
            Course.due_on <= soon,
            Enrolment.passed_at.is_(None),
            User.active.is_(True),
        )
        .order_by(Enrolment.id)
    )
    for enrolment in db.session.scalars(stmt):
        due = enrolment.course.due_on
        own = notify.external_url("training.take", enrolment_id=enrolment.id)
        course = notify.external_url("training.course", course_id=enrolment.course_id)
        for user, step in escalation.personal(steps, due, today, enrolment.user, enrolment.unit):
            yield Reminder(
                user.email.strip(),
                user.display_name,
                f"training:{enrolment.id}",
                mail_texts.training_reminder_line(enrolment, today, course if step else own, step),
                due,
            )
