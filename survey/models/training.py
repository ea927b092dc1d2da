"""Training with a comprehension test (研修・理解度テスト): a course is a version of material and
a test, sent to units (everyone in them, temporary staff included) and contractors' staff with a
deadline; each person enrolled reads the material and takes the test until they pass."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.checklists import Checklist, Item
from survey.models.files import StoredFile
from survey.models.org import Contractor, OrgUnit, User
from survey.models.types import utcnow


class CourseStatus(enum.StrEnum):
    DRAFT = "draft"  # being prepared: material, test and targets may change
    OPEN = "open"  # people enrolled, taking it
    CLOSED = "closed"  # over: the record stays


class Course(db.Model):
    """One version of a course: what is read (text, or a PDF kept in the database) and the
    published test (a checklist of target `person`) taken after it."""

    __tablename__ = "course"
    __table_args__ = (
        sa.UniqueConstraint("code", "version"),
        sa.CheckConstraint("due_on >= opens_on", name="period_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(sa.String(200))
    material_text: Mapped[str] = mapped_column(sa.Text, default="")
    material_file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_file.id"))
    material_filename: Mapped[str] = mapped_column(sa.String(255), default="")
    test_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist.id"), index=True)
    opens_on: Mapped[date]
    due_on: Mapped[date]
    status: Mapped[str] = mapped_column(sa.String(16), default=CourseStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    test: Mapped[Checklist] = relationship()
    material_file: Mapped[StoredFile | None] = relationship()
    targets: Mapped[list[CourseTarget]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="CourseTarget.id"
    )
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="course")

    @property
    def label(self) -> str:
        return f"{self.code}@{self.version}"


class CourseTarget(db.Model):
    """A unit (with every unit below it) or a contractor company the course is sent to."""

    __tablename__ = "course_target"
    __table_args__ = (
        sa.CheckConstraint("(unit_id IS NULL) <> (contractor_id IS NULL)", name="one_kind"),
        sa.UniqueConstraint("course_id", "unit_id", "contractor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"))
    contractor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contractor.id"))

    course: Mapped[Course] = relationship(back_populates="targets")
    unit: Mapped[OrgUnit | None] = relationship()
    contractor: Mapped[Contractor | None] = relationship()


class Enrolment(db.Model):
    """One person on one course (受講者). The unit or company is the one they belonged to when
    the course opened, which is where their completion counts."""

    __tablename__ = "enrolment"
    __table_args__ = (sa.UniqueConstraint("course_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    contractor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contractor.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Set once, by the attempt that passed: the course is then complete for this person.
    passed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    course: Mapped[Course] = relationship(back_populates="enrolments")
    user: Mapped[User] = relationship()
    unit: Mapped[OrgUnit | None] = relationship()
    contractor: Mapped[Contractor | None] = relationship()
    attempts: Mapped[list[Attempt]] = relationship(
        back_populates="enrolment", order_by="Attempt.number"
    )


class Attempt(db.Model):
    """One sitting of the test: started, then handed in once (score, passed). A failed
    attempt keeps its answers; a retake is a new attempt with none."""

    __tablename__ = "test_attempt"
    __table_args__ = (sa.UniqueConstraint("enrolment_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolment.id"), index=True)
    number: Mapped[int]  # 1 for the first attempt, 2 for the first retake …
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    score: Mapped[int | None]  # items answered right
    total: Mapped[int]  # items of the test
    passed: Mapped[bool | None]

    enrolment: Mapped[Enrolment] = relationship(back_populates="attempts")
    answers: Mapped[list[AttemptAnswer]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan"
    )


class AttemptAnswer(db.Model):
    __tablename__ = "attempt_answer"
    __table_args__ = (sa.UniqueConstraint("attempt_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("test_attempt.id"), index=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("item.id"))
    option_code: Mapped[str] = mapped_column(sa.String(32))
    correct: Mapped[bool]

    attempt: Mapped[Attempt] = relationship(back_populates="answers")
    item: Mapped[Item] = relationship()
